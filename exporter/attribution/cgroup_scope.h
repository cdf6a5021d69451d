// The part of the host the exporter counts (`scope:`): a cgroup subtree, or everything. A process
// is inside when the path select_cgroup_path() picks from its /proc/<pid>/cgroup lies at or below
// the scope's path: the same path for cgroup v1 and v2, as both come from that one choice.
//
// Also: the pod cgroup of a process (for `scope: own_pod`), and the pids a subtree holds now (its
// cgroup.procs files), which finds processes moved into the scope without an event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace procevents::attribution {

class CgroupScope {
 public:
  /// The whole host.
  CgroupScope() = default;
  /// The subtree at `path` ("/system.slice/nginx.service"); "/" is the whole host.
  explicit CgroupScope(std::string_view path);

  bool whole_host() const noexcept { return path_.empty(); }
  /// "/" for the whole host.
  std::string path() const { return path_.empty() ? std::string("/") : path_; }
  /// Whether a process in cgroup `cgroup` is inside.
  bool contains(std::string_view cgroup) const noexcept;

 private:
  std::string path_;  // without a trailing '/'; empty: the whole host
};

/// The cgroup of the Kubernetes pod that a process whose /proc/<pid>/cgroup reads `text` belongs to:
/// the path down to the pod's own directory (kubepods layouts of the systemd and cgroupfs drivers,
/// v1 and v2). Nullopt, with the reason in `why`, when it is in no pod.
std::optional<std::string> pod_cgroup_of(std::string_view text, std::string& why);

/// The directory of `scope` in the cgroup file systems `mountinfo` (/proc/self/mountinfo text)
/// lists: the first that exists of `<mount point><path>`, cgroup2 mounts first, then v1's
/// name=systemd, then the other v1 hierarchies (select_cgroup_path()'s order). Empty if none.
std::string scope_directory(const CgroupScope& scope, std::string_view mountinfo);

/// Appends the pids in cgroup directory `dir` and its descendants (their cgroup.procs files);
/// false when `dir` cannot be read.
bool list_cgroup_tree_pids(const std::string& dir, std::vector<std::int32_t>& out);

}  // namespace procevents::attribution
