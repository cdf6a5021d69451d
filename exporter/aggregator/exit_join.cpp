#include "aggregator/exit_join.h"

#include <algorithm>

namespace procevents::aggregator {

ExitJoin::ExitJoin(ExitJoinOptions options, ProcessTable& table, GroupRegistry& groups, ProcessIdentifier& identifier,
                   UsageLedger& usage)
    : options_(std::move(options)),
      table_(table),
      groups_(groups),
      identifier_(identifier),
      usage_(usage),
      records_(options_.max_waiting_records),
      held_(options_.max_held_execs) {}

std::uint64_t ExitJoin::timeout_ns() const noexcept {
  return static_cast<std::uint64_t>(std::chrono::nanoseconds(options_.timeout).count());
}

void ExitJoin::store(const taskstats::ExitRecord& record) {
  ++records_processed_;
  // The thread-group aggregate sums only delay accounting at exit; the per-task records carry
  // everything, each task once.
  if (record.scope != taskstats::RecordScope::kTask || record.pid <= 0) return;
  // The pid's previous record was never claimed: settle it before the pid is reused.
  if (const std::optional<taskstats::ExitRecord> stale = take(record.pid)) settle_unclaimed(*stale);
  WaitingRecord evicted;
  if (records_.upsert({record.pid, now_ns_, record}, &evicted)) settle_unclaimed(evicted.record);
}

std::optional<taskstats::ExitRecord> ExitJoin::take(std::int32_t pid) {
  WaitingRecord waiting;
  if (!records_.erase(pid, &waiting)) return std::nullopt;
  return waiting.record;
}

std::optional<taskstats::ExitRecord> ExitJoin::claim(std::int32_t pid) {
  WaitingRecord waiting;
  if (records_.erase(pid, &waiting)) {
    ++stats_.joined;
    return waiting.record;
  }
  if (options_.records_expected) ++stats_.exits_without_record;
  return std::nullopt;
}

const taskstats::ExitRecord* ExitJoin::waiting(std::int32_t pid) const {
  const WaitingRecord* waiting = records_.find(pid);
  return waiting ? &waiting->record : nullptr;
}

void ExitJoin::relabel_parent(std::int32_t ppid, const attribution::CgroupIdentity& cgroup) {
  if (ProcessEntry* parent = table_.find(ppid)) groups_.relabel(*parent, cgroup);
}

void ExitJoin::hold(ProcessEntry& entry) {
  // Its parent is most likely still alive now, waiting for it: look at its cgroup while it is
  // (moving entries between groups never changes the table's layout, so `entry` stays valid).
  if (const attribution::CgroupIdentity* cgroup = identifier_.read_cgroup(entry.ppid)) {
    relabel_parent(entry.ppid, *cgroup);
    groups_.relabel(entry, *cgroup);
    groups_.move(entry, identifier_.scoped(entry.group, *cgroup));
  }
  ++entry.pending_execs;
  ++stats_.pending_execs;
  // Full: the oldest waits no longer.
  if (const std::optional<HeldExec> oldest = held_.push({entry.pid, entry.start_ns, now_ns_ + timeout_ns()})) {
    release(*oldest);
  }
}

void ExitJoin::release(const HeldExec& held) {
  // Still held (its exit has not settled it, and the pid is still that process): count it where it is.
  if (ProcessEntry* entry = table_.find(held.tgid);
      entry && entry->start_ns == held.start_ns && entry->pending_execs > 0) {
    settle_execs(*entry, nullptr);
    entry->pending_execs = 0;
  }
}

GroupId ExitJoin::settle_execs(const ProcessEntry& entry, const taskstats::ExitRecord* record) {
  GroupId group = entry.group;
  if (record) {
    // hold() already took the parent's cgroup into entry.group: no second read.
    group = identifier_.name_from_record(*record, entry.group, nullptr);
    stats_.named_from_record += entry.pending_execs;
  } else {
    identifier_.count_failure(EnrichmentFailure::kGone, entry.pending_execs);
  }
  groups_.count(group, [&](GroupCounters& c) { c.execs += entry.pending_execs; });
  stats_.pending_execs -= std::min<std::uint64_t>(stats_.pending_execs, entry.pending_execs);
  return group;
}

void ExitJoin::settle_gone(const ProcessEntry& entry) {
  if (entry.pending_execs == 0) return;
  const std::optional<taskstats::ExitRecord> record = take(entry.pid);
  settle_execs(entry, record ? &*record : nullptr);
}

GroupId ExitJoin::group_from_record(const taskstats::ExitRecord& record, GroupId inherited) {
  // Attribution: a child starts in its parent's cgroup, and the parent usually outlives it, so the
  // parent's cgroup now is the best guess; failing that, the group the child inherited at fork.
  const attribution::CgroupIdentity* cgroup = identifier_.read_cgroup(record.ppid);
  // The parent may have moved since we last read it (a shell that put itself into a service's
  // cgroup): its later children inherit what we learn here even if neither can be read then.
  if (cgroup) relabel_parent(record.ppid, *cgroup);
  return identifier_.name_from_record(record, inherited, cgroup);
}

void ExitJoin::charge(GroupId group, const taskstats::ExitRecord& record) {
  const bool process_exit = record.tgid == 0 || record.tgid == record.pid;
  groups_.count(group, [&](GroupCounters& c) {
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

void ExitJoin::settle_unclaimed(const taskstats::ExitRecord& record) {
  if (options_.records_expected) ++stats_.records_without_exit;
  const ProcessEntry* entry = table_.find(record.tgid > 0 ? record.tgid : record.pid);
  const GroupId group = entry ? entry->group : group_from_record(record, groups_.named(GroupRegistry::kUnknown));
  charge(group, record);
  // A tracked process keeps it on its books (its exit, or the audit finding it gone, settles them).
  if (entry) {
    usage_.thread_exited(*entry, record);
  } else {
    UsageLedger::charge_untracked(record, groups_.counters(group));
  }
}

void ExitJoin::expire(std::uint64_t now_ns) {
  now_ns_ = now_ns;
  if (now_ns - last_expiry_ns_ < kExpiryIntervalNs) return;
  last_expiry_ns_ = now_ns;
  // Held execs whose process never exited in time (its exit event was lost, or /proc hid a live
  // process): count them where they are.
  while (const std::optional<HeldExec> held = held_.pop_expired(now_ns)) release(*held);
  // Records no connector exit claimed (lost exit events, or exits not subscribed): their cost
  // still counts, in the process's group.
  if (records_.size() == 0) return;
  records_.erase_if([&](const WaitingRecord& waiting) {
    if (waiting.arrived_ns + timeout_ns() > now_ns) return false;
    settle_unclaimed(waiting.record);
    return true;
  });
}

std::optional<std::uint64_t> ExitJoin::next_expiry_ns() const noexcept {
  // Settled holds leave stale FIFO slots behind (dropped at a later expiry): count live holds.
  if (stats_.pending_execs == 0 && records_.size() == 0) return std::nullopt;
  return last_expiry_ns_ + kExpiryIntervalNs;
}

}  // namespace procevents::aggregator
