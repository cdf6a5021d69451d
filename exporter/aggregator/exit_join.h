// The join of taskstats exit records with the connector's exit events (and execs /proc could not
// name with the exit records that name them).
//
// Exit records arrive before the connector exit of the same task (see Receiver) and wait here,
// keyed by task id, until that exit claims them; past the join timeout (or the table's bound) one
// no exit claimed is charged to its process's group anyway. An exec whose process is gone when
// /proc is read is held (not counted) until the process's exit, then counted under the name its
// exit record gives, or under the inherited group if no record came in time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "aggregator/group_registry.h"
#include "aggregator/held_execs.h"
#include "aggregator/process_identifier.h"
#include "aggregator/process_table.h"
#include "aggregator/snapshot.h"
#include "aggregator/usage_ledger.h"
#include "taskstats/exit_record.h"

namespace procevents::aggregator {

struct ExitJoinOptions {
  /// Exit records will arrive for connector exits: held execs wait for them, missing ones count.
  bool records_expected = false;
  std::chrono::milliseconds timeout{3000};  // how long held execs and waiting records wait
  std::size_t max_waiting_records = 16384;
  std::size_t max_held_execs = 16384;
  std::vector<double> peak_rss_bounds;
};

class ExitJoin {
 public:
  static constexpr std::uint64_t kExpiryIntervalNs = 1'000'000'000;

  ExitJoin(ExitJoinOptions options, ProcessTable& table, GroupRegistry& groups, ProcessIdentifier& identifier,
           UsageLedger& usage);

  /// Stores an exit record until its connector exit claims it.
  void store(const taskstats::ExitRecord& record);
  /// Removes and returns the exit record of the task whose connector exit this is; counts the join.
  std::optional<taskstats::ExitRecord> claim(std::int32_t pid);
  /// The exit record waiting for task `pid`, if any (it stays).
  const taskstats::ExitRecord* waiting(std::int32_t pid) const;
  std::size_t waiting_count() const noexcept { return records_.size(); }
  bool records_expected() const noexcept { return options_.records_expected; }

  /// Holds `entry`'s exec until its exit record or the timeout; `entry` (and its parent) take the
  /// parent's current cgroup labels first, while the parent is most likely still alive.
  void hold(ProcessEntry& entry);
  /// Counts the execs `entry` held, in the group `record` names (or, without one, the inherited
  /// group as a /proc failure); returns that group.
  GroupId settle_execs(const ProcessEntry& entry, const taskstats::ExitRecord* record);
  /// Settles what a process found gone without its exit event (resync, audit) held.
  void settle_gone(const ProcessEntry& entry);
  /// The group an exit record names, with the attribution of `inherited` and the parent's current
  /// cgroup (the parent, if tracked, is re-labelled with it).
  GroupId group_from_record(const taskstats::ExitRecord& record, GroupId inherited);
  void count_named_from_record() noexcept { ++stats_.named_from_record; }
  /// Adds a finished task's cost to `group`; a process's own record also observes its peak memory.
  void charge(GroupId group, const taskstats::ExitRecord& record);

  /// Takes the time (the deadline of execs held from now on) and settles held execs and unclaimed
  /// records whose time is up (at most once per kExpiryIntervalNs).
  void expire(std::uint64_t now_ns);
  /// When expire() must next run: while anything waits, one expiry interval after the last.
  std::optional<std::uint64_t> next_expiry_ns() const noexcept;

  const ExitJoinStats& stats() const noexcept { return stats_; }
  std::uint64_t records_processed() const noexcept { return records_processed_; }

 private:
  struct WaitingRecord {
    std::int32_t pid = 0;  // task id
    std::uint64_t arrived_ns = 0;
    taskstats::ExitRecord record;
  };
  std::optional<taskstats::ExitRecord> take(std::int32_t pid);
  /// Charges an exit record no connector exit claimed to its process's group (named from the record
  /// when the process is unknown) and counts it as seen by taskstats only.
  void settle_unclaimed(const taskstats::ExitRecord& record);
  /// Counts a held exec that waits no longer in its current group, if its process still holds it.
  void release(const HeldExec& held);
  void relabel_parent(std::int32_t ppid, const attribution::CgroupIdentity& cgroup);
  std::uint64_t timeout_ns() const noexcept;

  ExitJoinOptions options_;
  ProcessTable& table_;
  GroupRegistry& groups_;
  ProcessIdentifier& identifier_;
  UsageLedger& usage_;
  PidTable<WaitingRecord> records_;
  HeldExecs held_;
  std::uint64_t now_ns_ = 0;  // steady clock at the last expire()
  std::uint64_t last_expiry_ns_ = 0;
  ExitJoinStats stats_;
  std::uint64_t records_processed_ = 0;
};

}  // namespace procevents::aggregator
