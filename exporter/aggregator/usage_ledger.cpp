#include "aggregator/usage_ledger.h"

namespace procevents::aggregator {

using procfs::index;
using procfs::UsageCounter;
using procfs::UsageVector;

procfs::UsageVector usage_of(const taskstats::ExitRecord& record) {
  UsageVector usage{};
  usage[index(UsageCounter::kCpuUser)] = record.user_cpu_us;
  usage[index(UsageCounter::kCpuSystem)] = record.system_cpu_us;
  usage[index(UsageCounter::kMinorFaults)] = record.minor_faults;
  usage[index(UsageCounter::kMajorFaults)] = record.major_faults;
  usage[index(UsageCounter::kReadBytes)] = record.read_bytes;
  usage[index(UsageCounter::kWriteBytes)] = record.write_bytes;
  usage[index(UsageCounter::kVoluntarySwitches)] = record.voluntary_switches;
  usage[index(UsageCounter::kInvoluntarySwitches)] = record.involuntary_switches;
  return usage;
}

namespace {

void add(GroupCounters* group, const UsageVector& plus, const UsageVector& minus) {
  if (!group) return;
  for (std::size_t u = 0; u < procfs::kUsageCounterCount; ++u) {
    group->usage[u] += static_cast<std::int64_t>(plus[u]) - static_cast<std::int64_t>(minus[u]);
  }
}

}  // namespace

UsageLedger::UsageLedger(std::size_t max_processes) : capacity_(max_processes == 0 ? 1 : max_processes) {
  // Reserved, not touched: pages are used as processes are.
  slots_.reserve(capacity_);
  free_.reserve(capacity_);
}

UsageLedger::Slot* UsageLedger::slot_of(const ProcessEntry& entry) noexcept {
  if (entry.usage_slot >= slots_.size()) return nullptr;
  Slot& slot = slots_[entry.usage_slot];
  return slot.pid == entry.pid ? &slot : nullptr;
}

void UsageLedger::open(ProcessEntry& entry, const UsageVector* seen, const UsageVector* exited_tasks) {
  entry.usage_slot = kNoUsageSlot;
  std::uint32_t at;
  if (!free_.empty()) {
    at = free_.back();
    free_.pop_back();
  } else if (slots_.size() < capacity_) {
    at = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    return;  // more processes than the table holds: the table evicts before this happens
  }
  Slot& slot = slots_[at];
  slot = Slot{.pid = entry.pid};
  if (seen) slot.counted = *seen;
  if (exited_tasks) slot.exited_tasks = *exited_tasks;
  entry.usage_slot = at;
}

void UsageLedger::close(ProcessEntry& entry) {
  if (Slot* slot = slot_of(entry)) {
    slot->pid = 0;
    free_.push_back(entry.usage_slot);
  }
  entry.usage_slot = kNoUsageSlot;
}

void UsageLedger::settle(ProcessEntry& entry, const procfs::StatUsage& now, GroupCounters* from) {
  Slot* slot = slot_of(entry);
  if (!slot) return;
  // Only what stat tells: storage and context switches are not read at exec; they stay counted
  // from the last reading and go, unsettled, to the new group.
  const UsageVector read = procfs::usage_vector(now);
  for (const UsageCounter counter : {UsageCounter::kCpuUser, UsageCounter::kCpuSystem, UsageCounter::kMinorFaults,
                                     UsageCounter::kMajorFaults}) {
    const std::size_t u = index(counter);
    if (read[u] <= slot->counted[u]) continue;  // a tick's rounding: nothing new
    if (from) from->usage[u] += static_cast<std::int64_t>(read[u] - slot->counted[u]);
    slot->counted[u] = read[u];
  }
}

void UsageLedger::thread_exited(const ProcessEntry& entry, const taskstats::ExitRecord& record) {
  Slot* slot = slot_of(entry);
  if (!slot) return;
  const UsageVector usage = usage_of(record);
  for (std::size_t u = 0; u < procfs::kUsageCounterCount; ++u) slot->exited_tasks[u] += usage[u];
}

void UsageLedger::process_exited(ProcessEntry& entry, const taskstats::ExitRecord* record, GroupCounters* group) {
  Slot* slot = slot_of(entry);
  if (!slot) {
    if (record) charge_untracked(*record, group);
    return;
  }
  UsageVector total = slot->exited_tasks;
  if (record) {
    const UsageVector own = usage_of(*record);
    for (std::size_t u = 0; u < procfs::kUsageCounterCount; ++u) total[u] += own[u];
  }
  add(group, total, slot->counted);
  close(entry);
}

void UsageLedger::charge_untracked(const taskstats::ExitRecord& record, GroupCounters* group) {
  add(group, usage_of(record), UsageVector{});
}

UsageLedger::Cpu UsageLedger::charged_for_parent(const ProcessEntry& entry, const taskstats::ExitRecord* record) const {
  Cpu total{};
  if (record) total = {record->user_cpu_us, record->system_cpu_us};
  if (entry.usage_slot >= slots_.size() || slots_[entry.usage_slot].pid != entry.pid) return total;
  const Slot& slot = slots_[entry.usage_slot];
  total[0] += slot.exited_tasks[index(UsageCounter::kCpuUser)] + slot.reaped_charged[0];
  total[1] += slot.exited_tasks[index(UsageCounter::kCpuSystem)] + slot.reaped_charged[1];
  return total;
}

std::int64_t UsageLedger::reaped(ProcessEntry& parent, const Cpu& child, const procfs::StatUsage* now,
                                 GroupCounters* child_group) {
  Slot* slot = slot_of(parent);
  if (!slot) return 0;
  for (std::size_t mode = 0; mode < 2; ++mode) slot->reaped_charged[mode] += child[mode];
  if (!now) return 0;
  const UsageVector children = procfs::usage_vector(
      procfs::StatUsage{.utime_ticks = now->children_utime_ticks, .stime_ticks = now->children_stime_ticks});
  const Cpu reaped{children[index(UsageCounter::kCpuUser)], children[index(UsageCounter::kCpuSystem)]};
  // On the total: the kernel splits getrusage's CPU between the modes in proportion (cputime_adjust),
  // not as the records sampled it; the teardown itself is system time. Below what was charged: a
  // sibling that has exited is charged but not reaped yet (make -j), or the records' tick sampling
  // overshot; nothing is taken back (the group it would come from may have been reported already,
  // and counters never go down), and a later reap charges what the parent's stat then shows beyond.
  const std::uint64_t charged =
      slot->reaped_base[0] + slot->reaped_base[1] + slot->reaped_charged[0] + slot->reaped_charged[1];
  if (reaped[0] + reaped[1] <= charged) return 0;
  const auto residue = static_cast<std::int64_t>(reaped[0] + reaped[1] - charged);
  slot->reaped_charged[1] += static_cast<std::uint64_t>(residue);
  if (child_group) child_group->usage[index(UsageCounter::kCpuSystem)] += residue;
  return residue;
}

void UsageLedger::set_reaped_base(const ProcessEntry& entry, const procfs::StatUsage& first) {
  Slot* slot = slot_of(entry);
  if (!slot) return;
  const UsageVector children = procfs::usage_vector(
      procfs::StatUsage{.utime_ticks = first.children_utime_ticks, .stime_ticks = first.children_stime_ticks});
  slot->reaped_base = {children[index(UsageCounter::kCpuUser)], children[index(UsageCounter::kCpuSystem)]};
}

void UsageLedger::set_start_ticks(const ProcessEntry& entry, std::uint64_t ticks) {
  if (Slot* slot = slot_of(entry)) slot->start_ticks = ticks;
}

}  // namespace procevents::aggregator
