// Process identity -> group name, by the config's matchers and templates.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace procevents::config {

/// What is known about a process when it is named; any field may be empty.
struct ProcessIdentity {
  std::string_view comm;
  std::string_view exe;                  // full path of the executable
  std::span<const std::string> cmdline;  // argv
  std::string_view username;
  std::string_view cgroup, unit, container_id, pod_uid;
};

/// Immutable after construction; safe to share between threads.
class GroupNamer {
 public:
  explicit GroupNamer(const Config& config);

  /// The group name, or nullopt when nothing matched and `unmatched: ignore`. Unmatched with
  /// `unmatched: other` is "other". An empty rendered name falls back to comm, then "unknown".
  std::optional<std::string> name_for(const ProcessIdentity& identity) const;

  bool uses_cgroup() const { return uses_cgroup_; }
  /// Names of matchers whose name has no template variables: exported with zeros from the start.
  std::vector<std::string> predeclared_groups() const;

 private:
  std::vector<Matcher> matchers_;  // empty: one group per comm
  Unmatched unmatched_;
  bool uses_cgroup_ = false;
};

}  // namespace procevents::config
