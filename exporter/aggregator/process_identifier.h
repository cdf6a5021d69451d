// Names processes: reads /proc for a pid (what the naming rules and attribution labels use, no
// more), checks the pid still belongs to the process expected, and turns the identity into a
// group. Also names a process known only from its exit record (the binary's path learned from
// earlier reads, the parent's cgroup). Counts why /proc could not tell.
//
// The identifier reads the process table (a parent's group and pid) but never changes it: moving a
// parent whose cgroup it read to its new labels is the caller's step (Identification::parent_cgroup).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aggregator/exe_paths.h"
#include "aggregator/group_registry.h"
#include "aggregator/process_table.h"
#include "aggregator/snapshot.h"
#include "attribution/cgroup_scope.h"
#include "attribution/kubelet_names.h"
#include "procfs/procfs.h"
#include "procfs/procfs_inspector.h"
#include "taskstats/exit_record.h"

namespace procevents::naming {
class GroupNamer;
struct ProcessIdentity;
}
namespace procevents::attribution {
class CgroupCache;
struct CgroupIdentity;
}

namespace procevents::aggregator {

/// What read() found out about a process; name() then gives its group.
struct Identification {
  /// Empty when /proc could not tell (`failure` says why); set by name() otherwise.
  std::optional<GroupId> group;
  bool read = false;  // /proc told: name() may be called
  EnrichmentFailure failure = EnrichmentFailure::kOther;
  bool exiting = false;   // a zombie or exiting process: its exit event has come or is coming
  std::int32_t ppid = 0;  // as /proc says (0 late in an exit)
  /// The cgroup the process is labelled with: its own, or for an exiting one (shown in the root
  /// cgroup) its parent's. Null when cgroups are not read.
  const attribution::CgroupIdentity* cgroup = nullptr;
  /// The parent whose cgroup was read (an exiting process), else 0: the caller moves the parent's
  /// table entry to `cgroup`, as the parent may have moved since we last read it.
  std::int32_t relabel_parent = 0;
  bool out_of_scope = false;  // name() gives kOutOfScopeGroup; nothing else may have been read
  /// What the process had used when read (with `read`): where its usage is settled at exec.
  procfs::StatUsage usage;
};

class ProcessIdentifier {
 public:
  /// `read_cgroup` forces cgroup reads on (the namer or attribution labels may too); `kubelet` is
  /// where the namespace, pod and container labels are looked up, when enabled.
  ProcessIdentifier(procfs::ProcessInspector& inspector, GroupRegistry& groups, const ProcessTable& table,
                    std::shared_ptr<const naming::GroupNamer> namer, bool read_cgroup,
                    attribution::KubeletDirectories kubelet = {});
  ~ProcessIdentifier();
  ProcessIdentifier(const ProcessIdentifier&) = delete;
  ProcessIdentifier& operator=(const ProcessIdentifier&) = delete;

  /// Swaps the naming rules and decides what identification reads from /proc: the one place.
  void set_namer(std::shared_ptr<const naming::GroupNamer> namer);
  const naming::GroupNamer* namer() const noexcept { return namer_.get(); }
  bool reads_cgroup() const noexcept { return cgroups_ != nullptr; }
  /// Counts only processes inside `scope` (the others are named kOutOfScopeGroup); a scope other
  /// than the whole host turns cgroup reads on, and read() reads the cgroup first.
  void set_scope(attribution::CgroupScope scope);
  /// Whether a process in `cgroup` lies outside the scope (never when the cgroup is unknown).
  bool outside_scope(const attribution::CgroupIdentity* cgroup) const noexcept;
  /// `group` for a process whose parent is in `parent_cgroup` now: out of scope with it, and back
  /// in ("unknown" until named) when it moved in.
  GroupId scoped(GroupId group, const attribution::CgroupIdentity& parent_cgroup);
  /// Whether a process no entry names joins its parent's group `parent` (process-exporter's
  /// -children; `parent` a group an entry named).
  bool takes_unmatched_child(std::optional<GroupId> parent) const noexcept;
  bool unmatched_join_parent() const noexcept;

  /// Reads /proc for `pid`; `expected_start_ns` (0: any) tells a reused pid; a non-empty
  /// `comm_override` replaces the name read (a COMM event's).
  Identification read(std::int32_t pid, std::uint64_t expected_start_ns, std::string_view comm_override);
  /// The group of the process the last read() read (which succeeded), into `id.group`.
  void name(std::int32_t pid, Identification& id);
  /// The group an exit record names, with the attribution labels of `inherited` and, when given,
  /// the cgroup-sourced ones of `parent_cgroup`.
  GroupId name_from_record(const taskstats::ExitRecord& record, GroupId inherited,
                           const attribution::CgroupIdentity* parent_cgroup);
  /// The current cgroup of process `pid`; null when unreadable or cgroups are not read. Valid
  /// until the next cgroup read.
  const attribution::CgroupIdentity* read_cgroup(std::int32_t pid);

  void count_failure(EnrichmentFailure failure, std::uint64_t n = 1) noexcept {
    failures_[static_cast<std::size_t>(failure)] += n;
  }
  const std::array<std::uint64_t, kEnrichmentFailureCount>& failures() const noexcept { return failures_; }

 private:
  /// The parent of the process just read (late in an exit the kernel reports none: then the one its
  /// fork event named, in the table).
  std::int32_t parent_of(std::int32_t pid) const noexcept;
  /// With a scope: reads only the cgroup of `pid`, which tells a process outside it (then
  /// `id.out_of_scope`) or, unless it is "/" (exiting, or the host's root), gives `cgroup_path`.
  /// False when the process is out of scope or could not be read (`id.failure`).
  bool read_scope_first(std::int32_t pid, Identification& id, std::string_view& cgroup_path);
  /// Whether the pid read names a process started after `expected_start_ns`.
  bool reused(std::uint64_t expected_start_ns) const;
  /// A command line of argv[0] alone (the exe path, else comm), for processes whose argv is gone.
  std::span<const std::string> program_only_cmdline(std::string_view exe, std::string_view comm);
  /// The group of `identity`, or where a process no entry names goes: its parent's group
  /// (takes_unmatched_child), nowhere (`unmatched: ignore`), or "other". `parent()` gives the
  /// parent's group, `labels()` the attribution labels of a group of its own: asked only if needed.
  template <class Parent, class Labels>
  GroupId group_for(const naming::ProcessIdentity& identity, Parent&& parent, Labels&& labels);

  procfs::ProcessInspector& inspector_;
  GroupRegistry& groups_;
  const ProcessTable& table_;
  std::shared_ptr<const naming::GroupNamer> namer_;
  bool read_cgroup_forced_;
  attribution::KubeletDirectories kubelet_;
  std::unique_ptr<attribution::CgroupCache> cgroups_;  // present while cgroups are read
  attribution::CgroupScope scope_;
  procfs::ReadParts read_parts_;
  procfs::ProcessInfo scratch_;  // the last read(); reused: keeps string capacity
  double tick_ = 0;              // seconds per clock tick, as of the last read()
  std::string cgroup_scratch_;
  std::vector<std::string> cmdline_scratch_;
  ExePaths exe_paths_{4096};
  std::array<std::uint64_t, kEnrichmentFailureCount> failures_{};
};

}  // namespace procevents::aggregator
