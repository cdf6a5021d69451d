#include "aggregator/aggregator.h"

#include <algorithm>

#include "naming/group_namer.h"

namespace procevents::aggregator {

using connector::Event;
using connector::EventType;

namespace {
// Held execs at most (like waiting records, bounded by the connector's backlog); past it the
// oldest is settled at once (fallback naming).
constexpr std::size_t kMaxHeldExecs = 16384;

GroupRegistryOptions registry_options(const AggregatorOptions& options) {
  return {.max_groups = options.max_groups,
          .lifetime_buckets = options.lifetime_bounds.size() + 1,
          .peak_rss_buckets = options.peak_rss_bounds.size() + 1,
          .attribution = options.attribution,
          .attribution_limits = options.attribution_limits};
}

ExitJoinOptions join_options(const AggregatorOptions& options) {
  return {.records_expected = options.exit_records_expected,
          .timeout = options.join_timeout,
          .max_waiting_records = options.max_waiting_records,
          .max_held_execs = kMaxHeldExecs,
          .peak_rss_bounds = options.peak_rss_bounds};
}

std::uint64_t steady_ns(std::chrono::steady_clock::time_point t) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}
}  // namespace

Aggregator::Aggregator(AggregatorOptions options, std::shared_ptr<const naming::GroupNamer> namer,
                       procfs::ProcessInspector& inspector)
    : options_(std::move(options)),
      inspector_(inspector),
      table_(options_.max_processes),
      usage_(options_.max_processes),
      groups_(registry_options(options_)),
      identifier_(inspector, groups_, table_, namer, options_.read_cgroup, options_.kubelet),
      join_(join_options(options_), table_, groups_, identifier_, usage_),
      audit_(options_.audit_interval, inspector,
             {.forget_gone = [this](const ProcessEntry& entry) { forget_gone(entry); },
              .adopt_live = [this](const std::vector<std::int32_t>& pids) { adopt_live(pids); }}),
      scope_watch_(options_.scope_directory, options_.scope_recheck_interval,
                   [this](const std::vector<std::int32_t>& pids) { recheck_scope(pids); }) {
  identifier_.set_scope(options_.scope);
  if (namer) {
    for (const std::string& name : namer->predeclared_groups()) groups_.named(name);
  }
  inspector_.set_usage_parts(options_.first_sight_parts);
}

Aggregator::~Aggregator() = default;

void Aggregator::set_namer(std::shared_ptr<const naming::GroupNamer> namer,
                           const std::vector<std::string>& predeclared) {
  identifier_.set_namer(std::move(namer));
  for (const std::string& name : predeclared) groups_.named(name);
}

// ---- identification --------------------------------------------------------------------------

Identification Aggregator::identify_uncounted(std::int32_t pid, std::uint64_t expected_start_ns,
                                              std::string_view comm_override) {
  Identification id = identifier_.read(pid, expected_start_ns, comm_override);
  // An exiting process was labelled with its parent's cgroup, read just now: the parent may have
  // moved since we last read it (a shell that put itself into a service's cgroup), and its later
  // children inherit what we learn here even if neither can be read then.
  if (id.relabel_parent > 0) {
    if (ProcessEntry* parent = table_.find(id.relabel_parent)) groups_.relabel(*parent, *id.cgroup);
  }
  if (id.read) identifier_.name(pid, id);
  return id;
}

Identification Aggregator::identify(std::int32_t pid, std::uint64_t expected_start_ns, std::string_view comm_override) {
  Identification id = identify_uncounted(pid, expected_start_ns, comm_override);
  if (!id.group) identifier_.count_failure(id.failure);
  return id;
}

GroupId Aggregator::unplaced() {
  // With a scope, a process nothing places may be another tenant's: it is counted nowhere.
  return options_.scope.whole_host() ? groups_.named(GroupRegistry::kUnknown) : kOutOfScopeGroup;
}

GroupId Aggregator::group_of(std::int32_t tgid) {
  if (tgid <= 0) return unplaced();
  if (const ProcessEntry* entry = table_.find(tgid)) return entry->group;
  const Identification id = identify(tgid, 0);
  if (!id.group) return unplaced();
  // An exiting process is not adopted: its exit event has been handled or is on its way (a thread's
  // exit after its leader's finds the leader a zombie), and counting it live would count it forever.
  if (!id.exiting) track_seen(tgid, id);
  return *id.group;
}

// ---- the process table -----------------------------------------------------------------------

ProcessEntry* Aggregator::track(std::int32_t pid, GroupId group, std::uint64_t start_ns, std::int32_t ppid,
                                const procfs::UsageVector* seen, const procfs::UsageVector* exited_tasks) {
  if (ProcessEntry* existing = table_.find(pid)) {
    // The pid was reused while we missed the old process's exit: forget the old one.
    groups_.drop_live(existing->group);
    ProcessEntry old_entry = *existing;
    table_.erase(pid);
    usage_.close(old_entry);
    if (old_entry.pending_execs > 0) join_.settle_execs(old_entry, nullptr);
  }
  ProcessEntry evicted;
  if (table_.upsert({pid, group, start_ns, 0, ppid}, &evicted)) {
    ++table_evictions_;
    groups_.drop_live(evicted.group);
    usage_.close(evicted);
    if (evicted.pending_execs > 0) join_.settle_execs(evicted, nullptr);
  }
  groups_.add_live(group);
  ProcessEntry* entry = table_.find(pid);
  if (entry) usage_.open(*entry, seen, exited_tasks);
  return entry;
}

ProcessEntry* Aggregator::track_seen(std::int32_t pid, const Identification& id) {
  procfs::UsageVector seen{}, exited_tasks{};
  // A process counted nowhere (ignored, outside the scope) is never read for its usage.
  const bool counted = *id.group != kIgnoredGroup && *id.group != kOutOfScopeGroup;
  const bool read = counted && inspector_.first_sight_usage(pid, seen, exited_tasks);
  ProcessEntry* entry = track(pid, *id.group, 0, id.ppid, read ? &seen : nullptr, read ? &exited_tasks : nullptr);
  if (entry) {
    usage_.set_start_ticks(*entry, id.usage.start_time_ticks);
    usage_.set_reaped_base(*entry, id.usage);
  }
  return entry;
}

void Aggregator::move_after_read(ProcessEntry& entry, GroupId to, const Identification& id) {
  if (entry.group == to) return;
  if (id.read) {
    usage_.settle(entry, id.usage, groups_.counters(entry.group));
    usage_.set_start_ticks(entry, id.usage.start_time_ticks);
  }
  groups_.move(entry, to);
}

void Aggregator::forget_gone(const ProcessEntry& entry) {
  groups_.drop_live(entry.group);
  ProcessEntry gone = entry;
  usage_.process_exited(gone, nullptr, groups_.counters(entry.group));
  join_.settle_gone(entry);
}

void Aggregator::seed() {
  inspector_.list_processes(pid_scratch_);
  adopt_live(pid_scratch_);
}

void Aggregator::adopt_live(const std::vector<std::int32_t>& pids) {
  orphan_scratch_.clear();
  for (const std::int32_t pid : pids) {
    if (table_.find(pid)) continue;
    const Identification id = identify(pid, 0);
    // A zombie, or a process already exiting, has sent (or is sending) its exit event: counting it
    // live would count it forever.
    if (!id.group || id.exiting) continue;
    track_seen(pid, id);
    if (!groups_.is_named(*id.group) && *id.group != kOutOfScopeGroup) orphan_scratch_.push_back(pid);
  }
  // Children that no entry names join a named parent's group (process-exporter's -children); a
  // parent listed after its child (pids wrap) is found by repeating until nothing changes.
  if (!identifier_.unmatched_join_parent()) return;
  for (bool changed = true; changed;) {
    changed = false;
    for (std::int32_t& pid : orphan_scratch_) {
      ProcessEntry* entry = pid ? table_.find(pid) : nullptr;
      if (!entry) continue;
      if (const std::optional<GroupId> parent = tracked_group(table_, entry->ppid);
          identifier_.takes_unmatched_child(parent)) {
        groups_.move(*entry, *parent);
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

void Aggregator::audit(std::chrono::steady_clock::time_point now) {
  audit_.run(now, table_, table_evictions_);
  scope_watch_.run(now, table_);
}

void Aggregator::recheck_scope(const std::vector<std::int32_t>& pids) {
  pid_scratch_.clear();
  for (const std::int32_t pid : pids) {
    ProcessEntry* entry = table_.find(pid);
    if (!entry) {
      pid_scratch_.push_back(pid);
      continue;
    }
    // Only a crossing moves it: a fork keeps its parent's group until exec, and an exiting
    // process is counted where its exit event finds it.
    const bool was_out = entry->group == kOutOfScopeGroup;
    const Identification id = identify_uncounted(pid, entry->start_ns);
    if (!id.group || id.exiting || (*id.group == kOutOfScopeGroup) == was_out) continue;
    groups_.move(*entry, *id.group);
  }
  adopt_live(pid_scratch_);
}

// ---- events ----------------------------------------------------------------------------------

void Aggregator::handle(const Event& event) {
  ++events_processed_;
  const auto count = [&](auto&& fn) { groups_.count(group_of(event.tgid), fn); };
  switch (event.type) {
    case EventType::kFork: on_fork(event); break;
    case EventType::kExec: on_exec(event); break;
    case EventType::kComm: on_comm(event); break;
    case EventType::kExit: on_exit(event); break;
    case EventType::kUid:
      count([&](GroupCounters& c) { ++(event.effective_id == 0 ? c.uid_changes_to_root : c.uid_changes_to_nonroot); });
      break;
    case EventType::kGid: count([](GroupCounters& c) { ++c.gid_changes; }); break;
    case EventType::kSid: count([](GroupCounters& c) { ++c.sid_changes; }); break;
    case EventType::kPtrace:
      count([&](GroupCounters& c) { ++(event.is_ptrace_attach() ? c.ptrace_attach : c.ptrace_detach); });
      break;
    case EventType::kCoredump: count([](GroupCounters& c) { ++c.coredumps; }); break;
    case EventType::kAck:
    case EventType::kUnknown: break;
  }
}

void Aggregator::handle(const taskstats::ExitRecord& record) { join_.store(record); }

void Aggregator::on_fork(const Event& event) {
  if (event.is_thread()) {
    // For CLONE_THREAD the kernel reports the process's parent as "parent": the creator is tgid.
    const GroupId group = group_of(event.tgid);
    count_rate(RateEvent::kFork, group);
    groups_.count(group, [](GroupCounters& c) { ++c.forks_thread; });
    return;
  }
  const GroupId parent = group_of(event.parent_tgid);
  count_rate(RateEvent::kFork, parent);
  groups_.count(parent, [](GroupCounters& c) { ++c.forks_process; });
  track(event.tgid, parent, event.timestamp_ns, event.parent_tgid);  // the child keeps its parent's identity until exec
}

void Aggregator::on_exec(const Event& event) {
  // Identification never changes the table's layout (it moves entries between groups at most), so
  // the entry found here stays valid.
  ProcessEntry* entry = table_.find(event.tgid);
  if (!entry) {
    track(event.tgid, groups_.named(GroupRegistry::kUnknown), 0);
    entry = table_.find(event.tgid);
  }
  Identification id = identify_uncounted(event.tgid, entry ? entry->start_ns : 0);
  if (!id.group && id.failure == EnrichmentFailure::kGone && entry && join_.records_expected()) {
    // Already gone: its exit record names it. The record may even be here first (see Receiver).
    const taskstats::ExitRecord* record = join_.waiting(event.tgid);
    if (!record) {
      join_.hold(*entry);
      count_rate(RateEvent::kExec, entry->group);
      return;
    }
    id.group = join_.group_from_record(*record, entry->group);
    join_.count_named_from_record();
  } else if (!id.group) {
    identifier_.count_failure(id.failure);
  }
  const GroupId target = id.group.value_or(entry ? entry->group : groups_.named(GroupRegistry::kUnknown));
  if (entry) move_after_read(*entry, target, id);
  count_rate(RateEvent::kExec, target);
  groups_.count(target, [](GroupCounters& c) { ++c.execs; });
}

void Aggregator::on_comm(const Event& event) {
  groups_.count(group_of(event.tgid), [](GroupCounters& c) { ++c.comm_changes; });
  if (event.is_thread()) return;  // a thread's name does not name its process
  ProcessEntry* entry = table_.find(event.tgid);
  const Identification id = identify(event.tgid, entry ? entry->start_ns : 0, event.comm_view());
  if (id.group && entry) move_after_read(*entry, *id.group, id);
}

void Aggregator::on_exit(const Event& event) {
  const std::optional<taskstats::ExitRecord> record = join_.claim(event.pid);
  if (event.is_thread()) {
    // A thread's exit is not a process exit, but what it cost belongs to its process.
    const GroupId group = group_of(event.tgid);
    count_rate(RateEvent::kExit, group);
    if (!record) return;
    join_.charge(group, *record);
    if (const ProcessEntry* process = table_.find(event.tgid)) {
      usage_.thread_exited(*process, *record);
    } else {
      UsageLedger::charge_untracked(*record, groups_.counters(group));
    }
    return;
  }
  ProcessEntry entry;
  GroupId group;
  if (table_.erase(event.tgid, &entry)) {
    group = entry.group;
    groups_.drop_live(group);
    if (entry.pending_execs > 0) group = join_.settle_execs(entry, record ? &*record : nullptr);
  } else {
    entry = {};
    group = group_of_unseen(event, record);
  }
  count_rate(RateEvent::kExit, group);
  count_exit(group, event, entry.start_ns);
  if (record) join_.charge(group, *record);
  const UsageLedger::Cpu charged = usage_.charged_for_parent(entry, record ? &*record : nullptr);
  // Untracked (entry without books): its record alone.
  usage_.process_exited(entry, record ? &*record : nullptr, groups_.counters(group));
  charge_teardown(event.tgid, event.parent_tgid, charged, group);
}

void Aggregator::charge_teardown(std::int32_t pid, std::int32_t parent_pid, const UsageLedger::Cpu& charged,
                                 GroupId group) {
  // The parent's stat tells what its reaped children used after their records (UsageLedger): one
  // read per exit of a tracked parent's child, once the child is reaped (a zombie is not in the
  // parent's stat yet), only where records are charged at all.
  ProcessEntry* parent = parent_pid > 0 ? table_.find(parent_pid) : nullptr;
  if (!parent || !join_.records_expected()) return;
  procfs::StatUsage now;
  const bool read = !inspector_.exists(pid) && inspector_.read_usage(parent_pid, now) == procfs::ReadError::kNone;
  teardown_cpu_us_ += usage_.reaped(*parent, charged, read ? &now : nullptr, groups_.counters(group));
}

GroupId Aggregator::group_of_unseen(const Event& exit, const std::optional<taskstats::ExitRecord>& record) {
  if (const Identification id = identify(exit.tgid, 0); id.group) return *id.group;
  if (record) return join_.group_from_record(*record, groups_.named(GroupRegistry::kUnknown));
  if (exit.parent_tgid > 0) {
    if (const std::optional<GroupId> parent = tracked_group(table_, exit.parent_tgid)) return *parent;
  }
  return unplaced();
}

void Aggregator::count_exit(GroupId group, const Event& event, std::uint64_t start_ns) {
  const connector::ExitStatus status = connector::decode_exit_status(event.exit_code);
  groups_.count(group, [&](GroupCounters& c) {
    if (status.kind == connector::ExitStatus::Kind::kSignaled) {
      ++c.exits[static_cast<std::size_t>(ExitOutcome::kSignal)];
      if (status.signal > 0 && status.signal <= static_cast<int>(kMaxSignal)) ++c.signal_exits[status.signal];
    } else {
      ++c.exits[static_cast<std::size_t>(status.code == 0 ? ExitOutcome::kSuccess : ExitOutcome::kFailure)];
    }
    if (start_ns != 0 && event.timestamp_ns >= start_ns) {
      c.lifetime.observe(options_.lifetime_bounds, static_cast<double>(event.timestamp_ns - start_ns) / 1e9);
    }
  });
}

// ---- time and snapshots ----------------------------------------------------------------------

void Aggregator::tick(std::chrono::steady_clock::time_point now) {
  join_.expire(steady_ns(now));
  rates_.advance(now);
}

std::optional<std::chrono::steady_clock::time_point> Aggregator::next_tick_due() const {
  // The self-audit's next pass: every audit_interval, or a second later to confirm a difference.
  std::optional<std::chrono::steady_clock::time_point> due = audit_.next_due();
  if (const auto recheck = scope_watch_.next_due(); recheck && (!due || *recheck < *due)) due = recheck;
  if (const std::optional<std::uint64_t> expiry_ns = join_.next_expiry_ns()) {
    const std::chrono::steady_clock::time_point expiry{std::chrono::nanoseconds(*expiry_ns)};
    if (!due || expiry < *due) due = expiry;
  }
  return due;
}

void Aggregator::fill_snapshot(Snapshot& out) const {
  out.lifetime_bounds = options_.lifetime_bounds;
  out.peak_rss_bounds = options_.peak_rss_bounds;
  out.attribution_enabled = options_.attribution;
  groups_.fill(out);
  out.rates = rates_.rates();
  out.events_processed = events_processed_;
  out.tracked_processes = table_.size();
  out.table_evictions = table_evictions_;
  out.enrichment_failures = identifier_.failures();
  out.resyncs = resyncs_;
  out.audit = audit_.stats();
  out.exit_records_processed = join_.records_processed();
  out.exit_join = join_.stats();
  out.teardown_cpu_us = teardown_cpu_us_;
  // A start time /proc gave, else the fork's (monotonic, to boot time and ticks), with the second of
  // slack the identification's pid-reuse check allows.
  const double tick = inspector_.seconds_per_tick();
  const double boot_offset = inspector_.boot_offset_seconds();
  usage_.fill(table_, [&](const ProcessEntry& entry, std::uint64_t start_ticks) {
    if (start_ticks != 0) return start_ticks;
    if (entry.start_ns == 0 || tick <= 0) return procfs::UsageReader::kAnyStart;
    return static_cast<std::uint64_t>((static_cast<double>(entry.start_ns) / 1e9 + boot_offset + 1.0) / tick);
  }, out.live);
}

}  // namespace procevents::aggregator
