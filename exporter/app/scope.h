// The `scope:` setting made concrete at start-up: `own_pod` becomes the exporter's own pod cgroup,
// and the scope's cgroup directory is found for the re-check of processes moved in without an exec.
#pragma once

#include <optional>
#include <string>

#include "attribution/cgroup_scope.h"
#include "config/config.h"

namespace procevents::app {

struct ResolvedScope {
  attribution::CgroupScope scope;  // the whole host for `host`
  std::string directory;           // its cgroup directory; empty when not found (no re-check)
};

/// Resolves `cfg.scope` from `proc_root`'s self/cgroup and self/mountinfo; nullopt after logging
/// why (`own_pod` outside a pod).
std::optional<ResolvedScope> resolve_scope(const config::Config& cfg, const std::string& proc_root);

}  // namespace procevents::app
