// The bookkeeping behind the live + finished usage counters (procfs::UsageCounter: CPU, faults,
// storage, context switches): per tracked process, how much of its usage is counted already and
// what its exited threads used; per group, the finished part (GroupCounters::usage). A scrape adds
// each live process's reading over its `counted` (live::LiveCollector), so that every unit of usage
// is counted once, in the group the process was in when it used it (to the resolution of the /proc
// reads at exec and rename), and a process alive at start-up counts from its first reading.
//
//   event                                   ledger
//   fork (a new process has used nothing)   counted = 0, exited_tasks = 0
//   first seen alive (seed, resync, audit)  counted = usage then, exited_tasks = what its threads
//                                           that had exited by then used (counted from there)
//   exec or rename into another group       old group += usage read then - counted; counted = it
//   a thread's exit record                  exited_tasks += the record (the process's readings
//                                           include its exited threads)
//   the process's exit (own record)         group += exited_tasks + record - counted
//   a record of a process not tracked       group += the record
//
// Exit records are sent before the task's teardown (exit_mm() and the rest), so they miss the CPU
// it costs: up to 10 % of a 1 ms program, more for a big address space. The parent's stat says
// what its reaped children used after their teardown (cutime/cstime, as getrusage(RUSAGE_CHILDREN)
// counts it). So when a tracked process exits, its parent's books take what was charged for it
// and its reaped descendants, the parent's stat is read, and the rest (CPU its reaped children used
// that no record carried) goes to the exiting child's group: exact in total for every tracked
// parent, and per group wherever a parent reaps a child before the next one exits (shells, make);
// a parent that is not tracked, or never reaps, leaves that CPU uncounted (see the README).
//
// A slot per tracked process, in a slab reserved once for max_processes: memory grows with the
// live processes, not the table's capacity, and nothing is allocated per event.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "aggregator/process_table.h"
#include "aggregator/snapshot.h"
#include "procfs/process_usage.h"
#include "taskstats/exit_record.h"

namespace procevents::aggregator {

/// A finished task's usage as its exit record gives it (the context switches: every task's own).
procfs::UsageVector usage_of(const taskstats::ExitRecord& record);

class UsageLedger {
 public:
  explicit UsageLedger(std::size_t max_processes);

  /// Starts the books of a newly tracked process: forked (both null: it has used nothing) or first
  /// seen alive (its usage then, and what its exited threads used).
  void open(ProcessEntry& entry, const procfs::UsageVector* seen = nullptr,
            const procfs::UsageVector* exited_tasks = nullptr);
  /// Closes the books of a process leaving the table without an exit to charge (evicted, or its pid
  /// reused while we missed the exit): what it used since the last settlement is not counted.
  void close(ProcessEntry& entry);
  /// Before `entry` moves from group `from` after a /proc read: what it used until `now` (CPU and
  /// faults: the stat read) stays with `from`.
  void settle(ProcessEntry& entry, const procfs::StatUsage& now, GroupCounters* from);
  /// A thread of tracked process `entry` exited with `record`.
  void thread_exited(const ProcessEntry& entry, const taskstats::ExitRecord& record);
  /// Process `entry` left the table (its exit, with its own record if it came; or found gone):
  /// the rest of its usage goes to `group`, and its slot is freed.
  void process_exited(ProcessEntry& entry, const taskstats::ExitRecord* record, GroupCounters* group);
  /// A finished task whose process is not tracked: its whole record goes to `group`.
  static void charge_untracked(const taskstats::ExitRecord& record, GroupCounters* group);

  /// CPU in microseconds by mode (user, system).
  using Cpu = std::array<std::uint64_t, 2>;
  /// What process `entry` and its reaped descendants were charged, for its parent's books: read
  /// before process_exited() frees the slot.
  Cpu charged_for_parent(const ProcessEntry& entry, const taskstats::ExitRecord* record) const;
  /// Parent `parent` reaped a child charged `child` in all: what its stat `now` (null: not read)
  /// says its reaped children used beyond what was charged for them goes to `child_group`'s system
  /// CPU (the teardown the records miss, and what their tick sampling missed). Returns that CPU in
  /// microseconds, never below 0.
  std::int64_t reaped(ProcessEntry& parent, const Cpu& child, const procfs::StatUsage* now, GroupCounters* child_group);
  /// Remembers the reaped children's CPU the first reading of `entry` showed (counted from there).
  void set_reaped_base(const ProcessEntry& entry, const procfs::StatUsage& first);

  /// Appends every tracked process to `out` (pid, group, counted); `started_by` gives the latest
  /// start tick of an entry (see LiveProcess).
  template <class StartedBy>
  void fill(const ProcessTable& table, StartedBy&& started_by, std::vector<LiveProcess>& out) const {
    out.clear();
    for (const Slot& slot : slots_) {
      if (slot.pid == 0) continue;
      const ProcessEntry* entry = table.find(slot.pid);
      if (!entry || entry->group == kIgnoredGroup || entry->group == kOutOfScopeGroup) continue;  // counted nowhere
      out.push_back({.pid = slot.pid, .group = entry->group, .started_by_ticks = started_by(*entry, slot.start_ticks),
                     .counted = slot.counted});
    }
  }
  /// Remembers the start time (clock ticks after boot) /proc gave for `entry`.
  void set_start_ticks(const ProcessEntry& entry, std::uint64_t ticks);
  std::size_t open_count() const noexcept { return slots_.size() - free_.size(); }

 private:
  struct Slot {
    std::int32_t pid = 0;  // 0: free
    std::uint64_t start_ticks = 0;  // from /proc, 0 = unknown
    procfs::UsageVector counted{};
    procfs::UsageVector exited_tasks{};
    Cpu reaped_base{};     // its reaped children's CPU when first read (0 when forked while we run)
    Cpu reaped_charged{};  // charged since then for its reaped children and theirs, residues included
  };
  Slot* slot_of(const ProcessEntry& entry) noexcept;

  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t capacity_;
};

}  // namespace procevents::aggregator
