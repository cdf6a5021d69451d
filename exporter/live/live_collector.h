// The live per-group figures, read at scrape time on the scrape thread: what the processes the
// aggregator tracks use now (memory, threads, fds, states) and the live + finished usage counters,
// into the snapshot's groups (GroupSnapshot::live).
//
// No /proc walk: the snapshot lists the live processes (pid, group, what is counted already), and
// only what the enabled families need is read, one read() per file. The aggregator keeps draining
// events meanwhile. Counters never go down: each group's value is at least the last one reported
// (a live reading in clock ticks and a finished one from exit records in microseconds can differ
// by a tick, and a process gone between the snapshot and its read loses its live part until its
// exit record lands).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "aggregator/snapshot.h"
#include "config/group_detail.h"
#include "procfs/process_usage.h"

namespace procevents::live {

/// What the live families of this configuration read besides stat: status for swapped memory and
/// context switches, io for storage, the fd table for fds (all of them with process-exporter's
/// names, which serve every family). The one place that decides it: the aggregator's first-sight
/// reads and the scrape's reads both take it.
procfs::UsageParts usage_parts(const config::GroupDetails& per_group, bool process_exporter_names);

struct LiveOptions {
  std::string proc_root = "/proc";
  procfs::UsageParts parts;
  double boot_time_seconds = 0;  // /proc/stat btime, for start times since the epoch
};

class LiveCollector {
 public:
  explicit LiveCollector(LiveOptions options);
  /// Reads every live process `snapshot` lists into its groups' figures. Safe from several scrape
  /// threads (one at a time).
  void collect(aggregator::Snapshot& snapshot);

 private:
  void read_one(const aggregator::LiveProcess& process, aggregator::Snapshot& snapshot);
  void count_failure(aggregator::LiveReadFailure failure) { ++read_failures_[static_cast<std::size_t>(failure)]; }

  LiveOptions options_;
  double seconds_per_tick_;
  std::mutex mutex_;
  procfs::UsageReader reader_;
  procfs::ProcessUsage usage_;  // reused between reads
  std::array<std::uint64_t, aggregator::kLiveReadFailureCount> read_failures_{};
  std::vector<std::array<double, procfs::kUsageCounterCount>> reported_;  // per group: never less
};

}  // namespace procevents::live
