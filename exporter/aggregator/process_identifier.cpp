#include "aggregator/process_identifier.h"

#include <cmath>

#include "attribution/cgroup.h"
#include "naming/group_namer.h"

namespace procevents::aggregator {

namespace {
const attribution::CgroupIdentity kNoCgroup;  // a process whose cgroup is not read

EnrichmentFailure failure_of(procfs::ReadError error) {
  switch (error) {
    case procfs::ReadError::kGone: return EnrichmentFailure::kGone;
    case procfs::ReadError::kPermission: return EnrichmentFailure::kPermission;
    default: return EnrichmentFailure::kOther;
  }
}

void set_cgroup(naming::ProcessIdentity& identity, const attribution::CgroupIdentity& cgroup) {
  identity.cgroup = cgroup.path;
  identity.unit = cgroup.unit;
  identity.container_id = cgroup.container_id;
  identity.pod_uid = cgroup.pod_uid;
}

bool uses_label_from(const GroupRegistry& groups, attribution::LabelSource source) {
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (groups.attribution_enabled(i) && attribution::kLabels[i].source == source) return true;
  }
  return false;
}
/// The kubelet's names, when a label wants them (the labels enabled are fixed at start).
std::unique_ptr<attribution::KubeletNames> kubelet_names(const GroupRegistry& groups,
                                                         const attribution::KubeletDirectories& directories) {
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (groups.attribution_enabled(i) && attribution::is_kubelet_name(i)) {
      return std::make_unique<attribution::KubeletNames>(directories);
    }
  }
  return nullptr;
}

}  // namespace

ProcessIdentifier::ProcessIdentifier(procfs::ProcessInspector& inspector, GroupRegistry& groups,
                                     const ProcessTable& table, std::shared_ptr<const naming::GroupNamer> namer,
                                     bool read_cgroup, attribution::KubeletDirectories kubelet)
    : inspector_(inspector), groups_(groups), table_(table), read_cgroup_forced_(read_cgroup),
      kubelet_(std::move(kubelet)) {
  set_namer(std::move(namer));
}

ProcessIdentifier::~ProcessIdentifier() = default;

void ProcessIdentifier::set_namer(std::shared_ptr<const naming::GroupNamer> namer) {
  namer_ = std::move(namer);
  // Cgroups are read for cgroup-sourced labels and names that use them; once read, always (a
  // reload keeps the cache). Names want what the namer uses; the user label wants the uid. The
  // binary's identity serves only exe rules, for processes named from their exit record. Without
  // a namer, names are comm.
  const bool cgroup = read_cgroup_forced_ || !scope_.whole_host() || uses_label_from(groups_, attribution::LabelSource::kCgroup) ||
                      (namer_ && namer_->uses_cgroup());
  if (cgroup && !cgroups_) cgroups_ = std::make_unique<attribution::CgroupCache>(4096, kubelet_names(groups_, kubelet_));
  read_parts_.cmdline = namer_ && namer_->uses_cmdline();
  read_parts_.exe = namer_ && namer_->uses_exe();
  read_parts_.exe_identity = read_parts_.exe;
  read_parts_.uids = uses_label_from(groups_, attribution::LabelSource::kUser) || (namer_ && namer_->uses_username());
  inspector_.set_parts(read_parts_);
}

void ProcessIdentifier::set_scope(attribution::CgroupScope scope) {
  scope_ = std::move(scope);
  if (!scope_.whole_host() && !cgroups_) cgroups_ = std::make_unique<attribution::CgroupCache>(4096);
}

bool ProcessIdentifier::outside_scope(const attribution::CgroupIdentity* cgroup) const noexcept {
  return cgroup && !scope_.contains(cgroup->path);
}

GroupId ProcessIdentifier::scoped(GroupId group, const attribution::CgroupIdentity& parent_cgroup) {
  if (outside_scope(&parent_cgroup)) return kOutOfScopeGroup;
  return group == kOutOfScopeGroup ? groups_.named(GroupRegistry::kUnknown) : group;
}

bool ProcessIdentifier::unmatched_join_parent() const noexcept { return namer_ && namer_->unmatched_join_parent(); }

bool ProcessIdentifier::takes_unmatched_child(std::optional<GroupId> parent) const noexcept {
  return unmatched_join_parent() && parent && groups_.is_named(*parent);
}

bool ProcessIdentifier::reused(std::uint64_t expected_start_ns) const {
  if (expected_start_ns == 0 || tick_ <= 0 || scratch_.start_time_ticks == 0) return false;
  const double started = static_cast<double>(scratch_.start_time_ticks) * tick_ - inspector_.boot_offset_seconds();
  const double expected = static_cast<double>(expected_start_ns) / 1e9;
  return started - expected > 1.0;
}

bool ProcessIdentifier::read_scope_first(std::int32_t pid, Identification& id, std::string_view& cgroup_path) {
  // kGone also says "exiting" (its cgroup reads "/"): the full read then takes its parent's cgroup.
  if (const procfs::ReadError error = inspector_.inspect_cgroup(pid, cgroup_scratch_); error == procfs::ReadError::kGone) {
    return true;
  } else if (error != procfs::ReadError::kNone) {
    id.failure = failure_of(error);
    return false;
  }
  const std::string_view path = attribution::select_cgroup_path(cgroup_scratch_);
  // "/" is an exiting process's (its parent's cgroup tells, below) or one of the host's root.
  if (path == "/") return true;
  if (!scope_.contains(path)) {
    id.read = true;
    id.out_of_scope = true;
    return false;
  }
  cgroup_path = path;
  return true;
}

Identification ProcessIdentifier::read(std::int32_t pid, std::uint64_t expected_start_ns,
                                       std::string_view comm_override) {
  Identification id;
  // With a scope the cgroup decides first: a process outside it costs that one read, no more.
  std::string_view scoped_cgroup;  // the cgroup read first, inside the scope (in cgroup_scratch_)
  if (!scope_.whole_host() && !read_scope_first(pid, id, scoped_cgroup)) return id;
  const bool with_cgroup = cgroups_ != nullptr && scoped_cgroup.empty();
  if (const procfs::ReadError error = inspector_.inspect(pid, with_cgroup, scratch_); error != procfs::ReadError::kNone) {
    id.failure = failure_of(error);
    return id;
  }
  tick_ = inspector_.seconds_per_tick();
  id.exiting = scratch_.exiting;
  id.ppid = scratch_.ppid;
  // A pid read after its process died may already name a newer process.
  if (reused(expected_start_ns)) {
    id.failure = EnrichmentFailure::kPidReused;
    return id;
  }
  if (!comm_override.empty()) scratch_.comm.assign(comm_override);
  exe_paths_.learn(scratch_.exe_device, scratch_.exe_inode, scratch_.exe);
  // An exiting task shows the root cgroup; it started in its parent's, which has not reaped it yet.
  // (Late in its exit the kernel no longer reports the parent: the fork event told us.) Without the
  // parent's cgroup, /proc could not tell: the caller falls back as for a process that is gone.
  if (cgroups_ && scratch_.exiting) {
    const std::int32_t parent = parent_of(pid);
    id.cgroup = read_cgroup(parent);
    if (!id.cgroup) {
      id.failure = EnrichmentFailure::kGone;
      return id;
    }
    id.relabel_parent = parent;
  } else if (cgroups_) {
    id.cgroup = &cgroups_->classify(scoped_cgroup.empty() ? attribution::select_cgroup_path(scratch_.cgroup) : scoped_cgroup);
  }
  id.out_of_scope = outside_scope(id.cgroup);
  id.usage = scratch_.usage;
  id.read = true;
  return id;
}

void ProcessIdentifier::name(std::int32_t pid, Identification& id) {
  if (id.out_of_scope) {
    id.group = kOutOfScopeGroup;
    return;
  }
  naming::ProcessIdentity identity;
  identity.comm = scratch_.comm;
  identity.cmdline = scratch_.cmdline;
  // A process seen as its program alone (see program_only_cmdline()): an exiting one, whose argv is
  // gone with its memory, and one whose argv was not read because names only ask whether there is
  // one (the catch-all '.+'). A kernel thread has none.
  if (scratch_.cmdline.empty() && !scratch_.kernel_thread && (scratch_.exiting || !read_parts_.cmdline)) {
    identity.cmdline = program_only_cmdline(scratch_.exe, scratch_.comm);
  }
  // process-exporter's {{.Username}} is the euid
  if (read_parts_.uids) identity.username = inspector_.user_name(scratch_.euid);
  set_cgroup(identity, id.cgroup ? *id.cgroup : kNoCgroup);
  identity.pid = pid;
  if (tick_ > 0 && scratch_.start_time_ticks != 0) {
    identity.start_time_ns = inspector_.boot_time_seconds() * 1'000'000'000 +
                             std::llround(static_cast<double>(scratch_.start_time_ticks) * tick_ * 1e9);
  }
  // Labels only for a group of its own: a process that joins its parent's leaves the limiters alone.
  id.group = group_for(identity, [&] { return tracked_group(table_, parent_of(pid)); }, [&] {
    return groups_.attribution_labels(std::nullopt, id.cgroup ? id.cgroup : &kNoCgroup, identity.username);
  });
}

std::int32_t ProcessIdentifier::parent_of(std::int32_t pid) const noexcept {
  if (scratch_.ppid > 0) return scratch_.ppid;
  const ProcessEntry* entry = table_.find(pid);
  return entry ? entry->ppid : 0;
}

template <class Parent, class Labels>
GroupId ProcessIdentifier::group_for(const naming::ProcessIdentity& identity, Parent&& parent, Labels&& labels) {
  const std::optional<std::string> name =
      namer_ ? namer_->name_for(identity) : std::optional<std::string>(std::string(identity.comm));
  if (name) return groups_.find_or_add(*name, labels());
  if (const std::optional<GroupId> parent_group = parent(); takes_unmatched_child(parent_group)) return *parent_group;
  if (namer_->unmatched() == naming::Unmatched::kIgnore) return kIgnoredGroup;
  return groups_.find_or_add(GroupRegistry::kOther, labels());
}

GroupId ProcessIdentifier::name_from_record(const taskstats::ExitRecord& record, GroupId inherited,
                                            const attribution::CgroupIdentity* parent_cgroup) {
  // Placed by its parent's cgroup now, else by what it inherited at fork.
  if (outside_scope(parent_cgroup) || (!parent_cgroup && inherited == kOutOfScopeGroup)) return kOutOfScopeGroup;
  naming::ProcessIdentity identity;
  identity.comm = record.comm_view();
  if (read_parts_.uids) identity.username = inspector_.user_name(record.uid);  // the real uid: the record has no euid
  identity.pid = record.tgid > 0 ? record.tgid : record.pid;
  // A kernel thread has no binary (the record says so from version 12) and no command line.
  const bool kernel_thread = record.has(taskstats::present::kExe) && record.exe_inode == 0;
  const std::string_view exe =
      record.has(taskstats::present::kExe) ? exe_paths_.find(record.exe_dev, record.exe_inode) : std::string_view();
  if (!kernel_thread) identity.cmdline = program_only_cmdline(exe, identity.comm);
  // Attribution: a child starts in its parent's cgroup, and the parent usually outlives it, so the
  // parent's cgroup now is the best guess; failing that, the group the child inherited at fork.
  if (parent_cgroup) set_cgroup(identity, *parent_cgroup);
  // Labels first (unlike a live process's): the limiters see every record's values.
  const AttributionViews labels = groups_.attribution_labels(inherited, parent_cgroup, identity.username);
  // No entry names it: as for a live process, the group it inherited from its parent may take it.
  return group_for(identity, [&] { return std::optional<GroupId>(inherited); }, [&] { return labels; });
}

const attribution::CgroupIdentity* ProcessIdentifier::read_cgroup(std::int32_t pid) {
  if (!cgroups_ || pid <= 0) return nullptr;
  if (inspector_.inspect_cgroup(pid, cgroup_scratch_) != procfs::ReadError::kNone) return nullptr;
  return &cgroups_->classify(attribution::select_cgroup_path(cgroup_scratch_));
}

std::span<const std::string> ProcessIdentifier::program_only_cmdline(std::string_view exe, std::string_view comm) {
  // The arguments are unknown, not empty: argv[0] alone lets catch-all patterns (process-exporter's
  // `cmdline: ['.+']`) match, while patterns on arguments do not.
  cmdline_scratch_.resize(1);
  cmdline_scratch_[0].assign(exe.empty() ? comm : exe);
  return cmdline_scratch_;
}

}  // namespace procevents::aggregator
