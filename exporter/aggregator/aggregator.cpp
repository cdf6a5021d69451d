#include "aggregator/aggregator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attribution/cgroup.h"
#include "naming/group_namer.h"

namespace procevents::aggregator {

using connector::Event;
using connector::EventType;

namespace {
// Held execs at most (like waiting records, bounded by the connector's backlog); past it the
// oldest is settled at once (fallback naming).
constexpr std::size_t kMaxHeldExecs = 16384;
constexpr std::uint64_t kExpiryIntervalNs = 1'000'000'000;
constexpr std::string_view kOtherGroup = "other";
constexpr std::string_view kUnknownGroup = "unknown";
const attribution::CgroupIdentity kNoCgroup;  // a process whose cgroup is not read

EnrichmentFailure failure_of(procfs::ReadError error) {
  switch (error) {
    case procfs::ReadError::kGone: return EnrichmentFailure::kGone;
    case procfs::ReadError::kPermission: return EnrichmentFailure::kPermission;
    default: return EnrichmentFailure::kOther;
  }
}
}  // namespace

// ---- Aggregator ------------------------------------------------------------------------------

struct Aggregator::Group {
  std::string name;
  std::array<std::string, kAttributionLabelCount> attribution;
  std::int64_t live = 0;
  GroupCounters counters;
};

Aggregator::Aggregator(AggregatorOptions options, std::shared_ptr<const naming::GroupNamer> namer,
                       procfs::ProcessInspector& inspector)
    : options_(std::move(options)),
      namer_(std::move(namer)),
      inspector_(inspector),
      table_(options_.max_processes),
      records_(options_.max_waiting_records),
      held_execs_(kMaxHeldExecs) {
  bool cgroup_labels = false;
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    cgroup_labels |= options_.attribution[i] && attribution::kLabels[i].source == attribution::LabelSource::kCgroup;
  }
  if (options_.read_cgroup || cgroup_labels) enable_cgroups();
  if (namer_ && namer_->uses_cgroup()) enable_cgroups();
  configure_reads();
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (options_.attribution[i]) {
      limiters_[i] = std::make_unique<attribution::LabelLimiter>(options_.attribution_limits[i]);
    }
  }
  group_index_.reserve(options_.max_groups * 2 + 8);
  groups_.reserve(options_.max_groups + 2);
  if (namer_) {
    for (const std::string& name : namer_->predeclared_groups()) named_group(name);
  }
}

Aggregator::~Aggregator() = default;

Aggregator::Group* Aggregator::group_at(std::uint32_t index) noexcept {
  return index < groups_.size() ? &groups_[index] : nullptr;
}

template <class Fn>
void Aggregator::count(std::uint32_t group, Fn&& fn) {
  if (Group* g = group_at(group)) fn(g->counters);
}

std::uint32_t Aggregator::group_index(std::string_view name,
                                      const std::array<std::string_view, kAttributionLabelCount>& attribution) {
  // Key: the name and every enabled attribution value, separated by a byte that cannot occur in them.
  key_scratch_.assign(name);
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (!options_.attribution[i]) continue;
    key_scratch_.push_back('\x1f');
    key_scratch_.append(attribution[i]);
  }
  if (auto it = group_index_.find(key_scratch_); it != group_index_.end()) return it->second;

  const bool is_other = name == kOtherGroup;
  if (!is_other && named_groups_ >= options_.max_groups) {
    ++group_overflows_;
    if (other_group_ == kIgnored) {
      other_group_ = group_index(kOtherGroup, {});
    }
    return other_group_;
  }
  const auto index = static_cast<std::uint32_t>(groups_.size());
  Group& group = groups_.emplace_back();
  group.name.assign(name);
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (options_.attribution[i]) group.attribution[i].assign(attribution[i]);
  }
  group.counters.lifetime.buckets.assign(options_.lifetime_bounds.size() + 1, 0);
  group.counters.peak_rss.buckets.assign(options_.peak_rss_bounds.size() + 1, 0);
  group_index_.emplace(key_scratch_, index);
  if (!is_other) ++named_groups_;
  if (is_other && other_group_ == kIgnored) other_group_ = index;
  return index;
}

std::uint32_t Aggregator::named_group(std::string_view name) { return group_index(name, {}); }

std::optional<std::uint32_t> Aggregator::identify(std::int32_t pid, std::uint64_t expected_start_ns,
                                                  std::string_view comm_override) {
  EnrichmentFailure failure{};
  const std::optional<std::uint32_t> group = try_identify(pid, expected_start_ns, comm_override, failure);
  if (!group) ++enrichment_failures_[static_cast<std::size_t>(failure)];
  return group;
}

std::optional<std::uint32_t> Aggregator::try_identify(std::int32_t pid, std::uint64_t expected_start_ns,
                                                      std::string_view comm_override, EnrichmentFailure& failure) {
  const procfs::ReadError error = inspector_.inspect(pid, options_.read_cgroup, scratch_);
  if (error != procfs::ReadError::kNone) {
    failure = failure_of(error);
    return std::nullopt;
  }
  // A pid read after its process died may already name a newer process.
  const double tick = inspector_.seconds_per_tick();
  if (expected_start_ns != 0 && tick > 0 && scratch_.start_time_ticks != 0) {
    const double started = static_cast<double>(scratch_.start_time_ticks) * tick - inspector_.boot_offset_seconds();
    const double expected = static_cast<double>(expected_start_ns) / 1e9;
    if (started - expected > 1.0) {
      failure = EnrichmentFailure::kPidReused;
      return std::nullopt;
    }
  }
  if (!comm_override.empty()) scratch_.comm.assign(comm_override);
  exe_paths_.learn(scratch_.exe_device, scratch_.exe_inode, scratch_.exe);
  // An exiting task shows the root cgroup; it started in its parent's, which has not reaped it yet.
  // (Late in its exit the kernel no longer reports the parent: the fork event told us.) Without the
  // parent's cgroup, /proc could not tell: the caller falls back as for a process that is gone.
  const attribution::CgroupIdentity* cgroup = &kNoCgroup;
  if (options_.read_cgroup && cgroups_) {
    if (scratch_.exiting) {
      cgroup = parent_cgroup(parent_of(pid));
      if (!cgroup) {
        failure = EnrichmentFailure::kGone;
        return std::nullopt;
      }
    } else {
      cgroup = &cgroups_->classify(attribution::select_cgroup_path(scratch_.cgroup));
    }
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
  set_cgroup(identity, *cgroup);
  identity.pid = pid;
  if (tick > 0 && scratch_.start_time_ticks != 0) {
    identity.start_time_ns = inspector_.boot_time_seconds() * 1'000'000'000 +
                             std::llround(static_cast<double>(scratch_.start_time_ticks) * tick * 1e9);
  }
  std::optional<std::string> name = namer_ ? namer_->name_for(identity) : std::optional<std::string>(scratch_.comm);
  if (!name) {
    if (const std::optional<std::uint32_t> placed = place_unmatched(tracked_group(parent_of(pid)), name)) return *placed;
  }
  return group_index(*name, attribution_labels(kIgnored, cgroup, identity.username));
}

std::int32_t Aggregator::parent_of(std::int32_t pid) const noexcept {
  if (scratch_.ppid > 0) return scratch_.ppid;
  const ProcessEntry* entry = table_.find(pid);
  return entry ? entry->ppid : 0;
}

std::optional<std::uint32_t> Aggregator::place_unmatched(std::uint32_t parent_group, std::optional<std::string>& name) {
  if (adopts_children(parent_group)) return parent_group;
  if (namer_->unmatched() == naming::Unmatched::kIgnore) return kIgnored;
  name.emplace(kOtherGroup);
  return std::nullopt;
}

bool Aggregator::names_its_children(std::uint32_t group) const noexcept {
  if (group >= groups_.size()) return false;  // kIgnored
  const std::string& name = groups_[group].name;
  return name != kOtherGroup && name != kUnknownGroup;
}

bool Aggregator::adopts_children(std::uint32_t group) const noexcept {
  return namer_ && namer_->children() && names_its_children(group);
}

std::uint32_t Aggregator::tracked_group(std::int32_t pid) const noexcept {
  const ProcessEntry* entry = table_.find(pid);
  return entry ? entry->group : kIgnored;
}

void Aggregator::set_cgroup(naming::ProcessIdentity& identity, const attribution::CgroupIdentity& cgroup) {
  identity.cgroup = cgroup.path;
  identity.unit = cgroup.unit;
  identity.container_id = cgroup.container_id;
  identity.pod_uid = cgroup.pod_uid;
}

std::array<std::string_view, kAttributionLabelCount> Aggregator::attribution_labels(
    std::uint32_t base, const attribution::CgroupIdentity* cgroup, std::optional<std::string_view> user) {
  const Group* from = group_at(base);
  std::array<std::string_view, kAttributionLabelCount> labels{};
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    label_scratch_[i].assign(from ? std::string_view(from->attribution[i]) : std::string_view());
    labels[i] = label_scratch_[i];
    if (!limiters_[i]) continue;
    // Valid UTF-8 already: see classify_cgroup_path, UserNames.
    const bool from_cgroup = attribution::kLabels[i].source == attribution::LabelSource::kCgroup;
    if (from_cgroup ? cgroup != nullptr : user.has_value()) {
      labels[i] = limiters_[i]->admit(attribution::label_value(i, cgroup ? *cgroup : kNoCgroup, user.value_or("")));
    }
  }
  return labels;
}

void Aggregator::track(std::int32_t pid, std::uint32_t group, std::uint64_t start_ns, std::int32_t ppid) {
  if (ProcessEntry* existing = table_.find(pid)) {
    // The pid was reused while we missed the old process's exit: forget the old one.
    if (Group* old = group_at(existing->group)) --old->live;
    const ProcessEntry old_entry = *existing;
    table_.erase(pid);
    if (old_entry.pending_execs > 0) settle_execs(old_entry, nullptr);
  }
  ProcessEntry evicted;
  if (table_.upsert({pid, group, start_ns, 0, ppid}, &evicted)) {
    ++table_evictions_;
    if (Group* old = group_at(evicted.group)) --old->live;
    if (evicted.pending_execs > 0) settle_execs(evicted, nullptr);
  }
  if (Group* g = group_at(group)) ++g->live;
}

void Aggregator::move(ProcessEntry& entry, std::uint32_t to_group) {
  if (entry.group == to_group) return;
  if (Group* old = group_at(entry.group)) --old->live;
  if (Group* now = group_at(to_group)) ++now->live;
  entry.group = to_group;
}

std::uint32_t Aggregator::group_of(std::int32_t tgid) {
  if (tgid <= 0) return named_group(kUnknownGroup);
  if (const ProcessEntry* entry = table_.find(tgid)) return entry->group;
  const std::optional<std::uint32_t> group = identify(tgid, 0, {});
  if (!group) return named_group(kUnknownGroup);
  // An exiting process is not adopted: its exit event has been handled or is on its way (a thread's
  // exit after its leader's finds the leader a zombie), and counting it live would count it forever.
  if (!scratch_.exiting) track(tgid, *group, 0);
  return *group;
}

void Aggregator::seed() {
  inspector_.list_processes(pid_scratch_);
  adopt_live(pid_scratch_);
}

void Aggregator::adopt_live(const std::vector<std::int32_t>& pids) {
  orphan_scratch_.clear();
  for (const std::int32_t pid : pids) {
    if (table_.find(pid)) continue;
    const std::optional<std::uint32_t> group = identify(pid, 0, {});
    // A zombie, or a process already exiting, has sent (or is sending) its exit event: counting it
    // live would count it forever.
    if (!group || scratch_.exiting) continue;
    track(pid, *group, 0, scratch_.ppid);
    if (!names_its_children(*group)) orphan_scratch_.push_back(pid);
  }
  // Children that no entry names join a named parent's group (process-exporter's -children); a
  // parent listed after its child (pids wrap) is found by repeating until nothing changes.
  if (!namer_ || !namer_->children()) return;
  for (bool changed = true; changed;) {
    changed = false;
    for (std::int32_t& pid : orphan_scratch_) {
      ProcessEntry* entry = pid ? table_.find(pid) : nullptr;
      if (!entry) continue;
      if (const std::uint32_t parent_group = tracked_group(entry->ppid); adopts_children(parent_group)) {
        move(*entry, parent_group);
        pid = 0;
        changed = true;
      }
    }
  }
}

void Aggregator::resync() {
  ++resyncs_;
  inspector_.list_processes(pid_scratch_);
  std::sort(pid_scratch_.begin(), pid_scratch_.end());
  table_.erase_if([&](const ProcessEntry& entry) {
    if (std::binary_search(pid_scratch_.begin(), pid_scratch_.end(), entry.pid)) return false;
    forget_gone(entry);
    return true;
  });
  adopt_live(pid_scratch_);
}

void Aggregator::forget_gone(const ProcessEntry& entry) {
  if (Group* g = group_at(entry.group)) --g->live;
  if (entry.pending_execs > 0) {
    const std::optional<taskstats::ExitRecord> record = take_record(entry.pid);
    settle_execs(entry, record ? &*record : nullptr);
  }
}

void Aggregator::audit(std::chrono::steady_clock::time_point now) {
  if (options_.audit_interval.count() <= 0 || now < next_audit_) return;
  ++audit_.audits;
  inspector_.list_processes(pid_scratch_);
  std::sort(pid_scratch_.begin(), pid_scratch_.end());
  const auto listed = [&](std::int32_t pid) { return std::binary_search(pid_scratch_.begin(), pid_scratch_.end(), pid); };
  const auto suspected = [](const std::vector<std::int32_t>& suspects, std::int32_t pid) {
    return std::binary_search(suspects.begin(), suspects.end(), pid);
  };

  // Tracked but gone: drift when the last pass saw it too; otherwise a suspect for the next one.
  audit_scratch_.clear();
  table_.for_each([&](const ProcessEntry& entry) {
    if (!listed(entry.pid) && !inspector_.exists(entry.pid)) audit_scratch_.push_back(entry.pid);
  });
  std::sort(audit_scratch_.begin(), audit_scratch_.end());
  std::vector<std::int32_t> next_stale;
  for (const std::int32_t pid : audit_scratch_) {
    if (!suspected(suspect_stale_, pid)) {
      next_stale.push_back(pid);
      continue;
    }
    ++audit_.drift[static_cast<std::size_t>(DriftKind::kStale)];
    ProcessEntry gone;
    if (table_.erase(pid, &gone)) {
      forget_gone(gone);
      ++audit_.corrected;
    }
  }
  suspect_stale_ = std::move(next_stale);

  // Alive but untracked (not drift while evictions explain it). Zombies and exiting processes are
  // listed after their exit event: not drift either.
  const bool evicting = table_.size() >= table_.max_entries() || table_evictions_ != evictions_at_last_audit_;
  evictions_at_last_audit_ = table_evictions_;
  std::vector<std::int32_t> next_missing;
  audit_scratch_.clear();  // confirmed missing
  for (const std::int32_t pid : pid_scratch_) {
    if (evicting) break;
    if (table_.find(pid)) continue;
    if (!suspected(suspect_missing_, pid)) {
      next_missing.push_back(pid);
      continue;
    }
    if (inspector_.inspect(pid, false, scratch_) != procfs::ReadError::kNone || scratch_.exiting) continue;
    ++audit_.drift[static_cast<std::size_t>(DriftKind::kMissing)];
    audit_scratch_.push_back(pid);
  }
  suspect_missing_ = std::move(next_missing);
  adopt_live(audit_scratch_);  // as at start-up: children join a named parent's group
  for (const std::int32_t pid : audit_scratch_) {
    if (table_.find(pid)) ++audit_.corrected;
  }

  const bool suspects = !suspect_stale_.empty() || !suspect_missing_.empty();
  next_audit_ = now + (suspects ? std::chrono::duration_cast<std::chrono::milliseconds>(kAuditConfirmDelay)
                                : options_.audit_interval);
}

void Aggregator::on_fork(const Event& event) {
  ++rate_pending_[static_cast<std::size_t>(RateEvent::kFork)];
  if (event.is_thread()) {
    // For CLONE_THREAD the kernel reports the process's parent as "parent": the creator is tgid.
    count(group_of(event.tgid), [](GroupCounters& c) { ++c.forks_thread; });
    return;
  }
  const std::uint32_t parent = group_of(event.parent_tgid);
  count(parent, [](GroupCounters& c) { ++c.forks_process; });
  track(event.tgid, parent, event.timestamp_ns, event.parent_tgid);  // the child keeps its parent's identity until exec
}

void Aggregator::on_exec(const Event& event) {
  ++rate_pending_[static_cast<std::size_t>(RateEvent::kExec)];
  ProcessEntry* entry = table_.find(event.tgid);
  if (!entry) {
    track(event.tgid, named_group(kUnknownGroup), 0);
    entry = table_.find(event.tgid);
  }
  const std::uint64_t start_ns = entry ? entry->start_ns : 0;
  EnrichmentFailure failure{};
  std::optional<std::uint32_t> group = try_identify(event.tgid, start_ns, {}, failure);
  // Re-find: identification may have created groups but never touches the table.
  entry = table_.find(event.tgid);
  if (!group && failure == EnrichmentFailure::kGone && entry && options_.exit_records_expected) {
    // Already gone: its exit record names it. The record may even be here first (see Receiver).
    if (const WaitingRecord* waiting = records_.find(event.tgid)) {
      group = group_from_record(waiting->record, entry->group);
      ++exit_join_.named_from_record;
      entry = table_.find(event.tgid);
    } else {
      hold_exec(*entry);
      return;
    }
  } else if (!group) {
    ++enrichment_failures_[static_cast<std::size_t>(failure)];
  }
  const std::uint32_t target = group.value_or(entry ? entry->group : named_group(kUnknownGroup));
  if (entry) move(*entry, target);
  count(target, [](GroupCounters& c) { ++c.execs; });
}

void Aggregator::hold_exec(ProcessEntry& entry) {
  // Its parent is most likely still alive now, waiting for it: look at its cgroup while it is
  // (moving entries between groups never changes the table's layout, so `entry` stays valid).
  if (const attribution::CgroupIdentity* cgroup = parent_cgroup(entry.ppid)) {
    move(entry, with_cgroup_labels(entry.group, *cgroup));
  }
  ++entry.pending_execs;
  ++exit_join_.pending_execs;
  if (held_count_ == held_execs_.size()) release_oldest_held();  // full: the oldest waits no longer
  const auto timeout = static_cast<std::uint64_t>(std::chrono::nanoseconds(options_.join_timeout).count());
  held_execs_[(held_head_ + held_count_) % held_execs_.size()] = {entry.pid, entry.start_ns, now_ns_ + timeout};
  ++held_count_;
}

void Aggregator::release_oldest_held() {
  const HeldExec oldest = held_execs_[held_head_];
  held_head_ = (held_head_ + 1) % held_execs_.size();
  --held_count_;
  // Still held (its exit has not settled it, and the pid is still that process): count it where it is.
  if (ProcessEntry* entry = table_.find(oldest.tgid);
      entry && entry->start_ns == oldest.start_ns && entry->pending_execs > 0) {
    settle_execs(*entry, nullptr);
    entry->pending_execs = 0;
  }
}

std::uint32_t Aggregator::settle_execs(const ProcessEntry& entry, const taskstats::ExitRecord* record) {
  std::uint32_t group = entry.group;
  if (record) {
    // hold_exec() already took the parent's cgroup into entry.group: no second read.
    group = group_from_record(*record, entry.group, false);
    exit_join_.named_from_record += entry.pending_execs;
  } else {
    enrichment_failures_[static_cast<std::size_t>(EnrichmentFailure::kGone)] += entry.pending_execs;
  }
  count(group, [&](GroupCounters& c) { c.execs += entry.pending_execs; });
  exit_join_.pending_execs -= std::min<std::uint64_t>(exit_join_.pending_execs, entry.pending_execs);
  return group;
}

std::uint32_t Aggregator::group_from_record(const taskstats::ExitRecord& record, std::uint32_t inherited,
                                            bool read_parent) {
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
  const attribution::CgroupIdentity* cgroup = read_parent ? parent_cgroup(record.ppid) : nullptr;
  if (cgroup) set_cgroup(identity, *cgroup);
  // parent_cgroup() may have added groups: label views are taken after it.
  const std::array<std::string_view, kAttributionLabelCount> labels = attribution_labels(inherited, cgroup, identity.username);
  std::optional<std::string> name =
      namer_ ? namer_->name_for(identity) : std::optional<std::string>(std::string(identity.comm));
  if (!name) {
    // No entry names it: as for a live process, the group it inherited from its parent may take it.
    if (const std::optional<std::uint32_t> placed = place_unmatched(inherited, name)) return *placed;
  }
  return group_index(*name, labels);
}

std::uint32_t Aggregator::with_cgroup_labels(std::uint32_t group, const attribution::CgroupIdentity& cgroup) {
  const Group* from = group_at(group);
  if (!from) return group;
  name_scratch_.assign(from->name);
  return group_index(name_scratch_, attribution_labels(group, &cgroup, std::nullopt));
}

const attribution::CgroupIdentity* Aggregator::parent_cgroup(std::int32_t ppid) {
  if (!options_.read_cgroup || !cgroups_ || ppid <= 0) return nullptr;
  if (inspector_.inspect_cgroup(ppid, cgroup_scratch_) != procfs::ReadError::kNone) return nullptr;
  const attribution::CgroupIdentity& cgroup = cgroups_->classify(attribution::select_cgroup_path(cgroup_scratch_));
  // The parent may have moved since we last read it (a shell that put itself into a service's
  // cgroup): its later children inherit what we learn here even if neither can be read then.
  if (ProcessEntry* parent = table_.find(ppid)) move(*parent, with_cgroup_labels(parent->group, cgroup));
  return &cgroup;
}

std::span<const std::string> Aggregator::program_only_cmdline(std::string_view exe, std::string_view comm) {
  // The arguments are unknown, not empty: argv[0] alone lets catch-all patterns (process-exporter's
  // `cmdline: ['.+']`) match, while patterns on arguments do not.
  cmdline_scratch_.resize(1);
  cmdline_scratch_[0].assign(exe.empty() ? comm : exe);
  return cmdline_scratch_;
}

std::optional<taskstats::ExitRecord> Aggregator::take_record(std::int32_t pid) {
  WaitingRecord waiting;
  if (!records_.erase(pid, &waiting)) return std::nullopt;
  return waiting.record;
}

void Aggregator::charge(std::uint32_t group, const taskstats::ExitRecord& record) {
  const bool process_exit = record.tgid == 0 || record.tgid == record.pid;
  count(group, [&](GroupCounters& c) {
    c.cpu_user_us += record.user_cpu_us;
    c.cpu_system_us += record.system_cpu_us;
    c.storage_read_bytes += record.read_bytes;
    c.storage_write_bytes += record.write_bytes;
    c.voluntary_switches += record.voluntary_switches;
    c.involuntary_switches += record.involuntary_switches;
    c.cpu_delay_ns += record.cpu_delay_ns;
    c.blkio_delay_ns += record.blkio_delay_ns;
    // Peak memory belongs to the address space: observe it once, with the process's own record.
    if (process_exit && record.has(taskstats::present::kMemory)) {
      c.peak_rss.observe(options_.peak_rss_bounds, static_cast<double>(record.peak_rss_kib) * 1024.0);
    }
  });
}

void Aggregator::handle(const taskstats::ExitRecord& record) {
  ++exit_records_processed_;
  // The thread-group aggregate sums only delay accounting at exit; the per-task records carry
  // everything, each task once.
  if (record.scope != taskstats::RecordScope::kTask || record.pid <= 0) return;
  // The pid's previous record was never claimed: settle it before the pid is reused.
  if (const std::optional<taskstats::ExitRecord> stale = take_record(record.pid)) settle_unclaimed(*stale);
  WaitingRecord evicted;
  if (records_.upsert({record.pid, now_ns_, record}, &evicted)) settle_unclaimed(evicted.record);
}

void Aggregator::settle_unclaimed(const taskstats::ExitRecord& record) {
  if (options_.exit_records_expected) ++exit_join_.records_without_exit;
  const ProcessEntry* entry = table_.find(record.tgid > 0 ? record.tgid : record.pid);
  charge(entry ? entry->group : group_from_record(record, named_group(kUnknownGroup)), record);
}

void Aggregator::expire_waiting(std::uint64_t now_ns) {
  if (now_ns - last_expiry_ns_ < kExpiryIntervalNs) return;
  last_expiry_ns_ = now_ns;
  // Held execs whose process never exited in time (its exit event was lost, or /proc hid a live
  // process): count them where they are.
  while (held_count_ > 0 && held_execs_[held_head_].deadline_ns <= now_ns) release_oldest_held();
  // Records no connector exit claimed (lost exit events, or exits not subscribed): their cost
  // still counts, in the process's group.
  if (records_.size() == 0) return;
  const auto timeout = static_cast<std::uint64_t>(std::chrono::nanoseconds(options_.join_timeout).count());
  records_.erase_if([&](const WaitingRecord& waiting) {
    if (waiting.arrived_ns + timeout > now_ns) return false;
    settle_unclaimed(waiting.record);
    return true;
  });
}

void Aggregator::on_comm(const Event& event) {
  const std::uint32_t current = group_of(event.tgid);
  count(current, [](GroupCounters& c) { ++c.comm_changes; });
  if (event.is_thread()) return;  // a thread's name does not name its process
  ProcessEntry* entry = table_.find(event.tgid);
  const std::optional<std::uint32_t> group = identify(event.tgid, entry ? entry->start_ns : 0, event.comm_view());
  entry = table_.find(event.tgid);
  if (group && entry) move(*entry, *group);
}

void Aggregator::on_exit(const Event& event) {
  ++rate_pending_[static_cast<std::size_t>(RateEvent::kExit)];
  const std::optional<taskstats::ExitRecord> record = take_record(event.pid);
  if (record) {
    ++exit_join_.joined;
  } else if (options_.exit_records_expected) {
    ++exit_join_.exits_without_record;
  }
  if (event.is_thread()) {
    // A thread's exit is not a process exit, but what it cost belongs to its process.
    if (record) charge(group_of(event.tgid), *record);
    return;
  }

  ProcessEntry entry;
  std::uint32_t group;
  if (table_.erase(event.tgid, &entry)) {
    group = entry.group;
    if (Group* g = group_at(group)) --g->live;
    if (entry.pending_execs > 0) group = settle_execs(entry, record ? &*record : nullptr);
  } else {
    // Never seen (started before a loss, or evicted): a zombie may still be readable, else its exit
    // record names it, else ask the parent.
    entry = {};
    const std::optional<std::uint32_t> identified = identify(event.tgid, 0, {});
    if (identified) {
      group = *identified;
    } else if (record) {
      group = group_from_record(*record, named_group(kUnknownGroup));
    } else if (event.parent_tgid > 0 && table_.find(event.parent_tgid)) {
      group = table_.find(event.parent_tgid)->group;
    } else {
      group = named_group(kUnknownGroup);
    }
  }

  const connector::ExitStatus status = connector::decode_exit_status(event.exit_code);
  count(group, [&](GroupCounters& c) {
    if (status.kind == connector::ExitStatus::Kind::kSignaled) {
      ++c.exits[static_cast<std::size_t>(ExitOutcome::kSignal)];
      if (status.signal > 0 && status.signal <= static_cast<int>(kMaxSignal)) ++c.signal_exits[status.signal];
    } else {
      ++c.exits[static_cast<std::size_t>(status.code == 0 ? ExitOutcome::kSuccess : ExitOutcome::kFailure)];
    }
    if (entry.start_ns != 0 && event.timestamp_ns >= entry.start_ns) {
      c.lifetime.observe(options_.lifetime_bounds, static_cast<double>(event.timestamp_ns - entry.start_ns) / 1e9);
    }
  });
  if (record) charge(group, *record);
}

void Aggregator::handle(const Event& event) {
  ++events_processed_;
  switch (event.type) {
    case EventType::kFork: on_fork(event); break;
    case EventType::kExec: on_exec(event); break;
    case EventType::kComm: on_comm(event); break;
    case EventType::kExit: on_exit(event); break;
    case EventType::kUid:
      count(group_of(event.tgid), [&](GroupCounters& c) {
        ++(event.effective_id == 0 ? c.uid_changes_to_root : c.uid_changes_to_nonroot);
      });
      break;
    case EventType::kGid: count(group_of(event.tgid), [](GroupCounters& c) { ++c.gid_changes; }); break;
    case EventType::kSid: count(group_of(event.tgid), [](GroupCounters& c) { ++c.sid_changes; }); break;
    case EventType::kPtrace:
      count(group_of(event.tgid), [&](GroupCounters& c) {
        ++(event.is_ptrace_attach() ? c.ptrace_attach : c.ptrace_detach);
      });
      break;
    case EventType::kCoredump: count(group_of(event.tgid), [](GroupCounters& c) { ++c.coredumps; }); break;
    case EventType::kAck:
    case EventType::kUnknown: break;
  }
}

void Aggregator::tick(std::chrono::steady_clock::time_point now) {
  now_ns_ = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
  expire_waiting(now_ns_);
  if (!last_tick_) {
    last_tick_ = now;
    return;
  }
  // Events counted since the previous call happened by now.
  if (const std::uint64_t pending = std::accumulate(rate_pending_.begin(), rate_pending_.end(), std::uint64_t{0});
      pending != pending_seen_) {
    pending_seen_ = pending;
    last_counted_ = now;
  }
  const double elapsed = std::chrono::duration<double>(now - *last_tick_).count();
  if (elapsed < std::chrono::duration<double>(kRateTick).count() * 0.9) return;
  // The pending events were counted between the last update and last_counted_: their rate over that
  // span, then decay alone for the quiet rest (at rest, the next scrape catches up in one step).
  const double busy = last_counted_ > *last_tick_ ? std::chrono::duration<double>(last_counted_ - *last_tick_).count() : 0;
  last_tick_ = now;
  pending_seen_ = 0;
  for (std::size_t e = 0; e < kRateEventCount; ++e) {
    const auto pending = static_cast<double>(rate_pending_[e]);
    rate_pending_[e] = 0;
    for (std::size_t w = 0; w < kRateWindowCount; ++w) {
      // Like the load average: weight of the old value decays with the window's time constant.
      const double window = kRateWindowSeconds[w];
      double rate = rates_[e][w];
      if (busy > 0) rate = rate * std::exp(-busy / window) - pending / busy * std::expm1(-busy / window);
      rates_[e][w] = rate * std::exp(-(elapsed - busy) / window);
    }
  }
}

std::optional<std::chrono::steady_clock::time_point> Aggregator::next_tick_due() const {
  std::optional<std::chrono::steady_clock::time_point> due;
  // The self-audit's next pass: every audit_interval, or a second later to confirm a difference.
  if (options_.audit_interval.count() > 0) due = next_audit_;
  // Settled holds leave stale FIFO slots behind (dropped at a later expiry): count live holds.
  if (exit_join_.pending_execs != 0 || records_.size() != 0) {
    const std::chrono::steady_clock::time_point expiry(std::chrono::nanoseconds(last_expiry_ns_ + kExpiryIntervalNs));
    if (!due || expiry < *due) due = expiry;
  }
  return due;
}

void Aggregator::enable_cgroups() {
  options_.read_cgroup = true;
  if (!cgroups_) cgroups_ = std::make_unique<attribution::CgroupCache>(4096);
}

void Aggregator::set_namer(std::shared_ptr<const naming::GroupNamer> namer,
                           const std::vector<std::string>& predeclared) {
  namer_ = std::move(namer);
  if (namer_ && namer_->uses_cgroup()) enable_cgroups();
  configure_reads();
  for (const std::string& name : predeclared) named_group(name);
}

void Aggregator::configure_reads() {
  // Names want what the namer uses; the user label wants the uid. The binary's identity serves
  // only exe rules, for processes named from their exit record. Without a namer, names are comm.
  bool user_label = false;
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    user_label |= options_.attribution[i] && attribution::kLabels[i].source == attribution::LabelSource::kUser;
  }
  read_parts_.cmdline = namer_ && namer_->uses_cmdline();
  read_parts_.exe = namer_ && namer_->uses_exe();
  read_parts_.exe_identity = read_parts_.exe;
  read_parts_.uids = user_label || (namer_ && namer_->uses_username());
  inspector_.set_parts(read_parts_);
}

void Aggregator::fill_snapshot(Snapshot& out) const {
  out.lifetime_bounds = options_.lifetime_bounds;
  out.peak_rss_bounds = options_.peak_rss_bounds;
  out.attribution_enabled = options_.attribution;
  out.groups.resize(groups_.size());
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    out.groups[i].name = groups_[i].name;
    out.groups[i].attribution = groups_[i].attribution;
    out.groups[i].live_processes = groups_[i].live;
    out.groups[i].counters = groups_[i].counters;
  }
  out.rates = rates_;
  out.events_processed = events_processed_;
  out.tracked_processes = table_.size();
  out.table_evictions = table_evictions_;
  out.group_overflows = group_overflows_;
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    out.attribution_overflows[i] = limiters_[i] ? limiters_[i]->overflows() : 0;
  }
  out.enrichment_failures = enrichment_failures_;
  out.resyncs = resyncs_;
  out.audit = audit_;
  out.exit_records_processed = exit_records_processed_;
  out.exit_join = exit_join_;
}

}  // namespace procevents::aggregator
