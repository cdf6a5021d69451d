// The live per-group figures, read at scrape time on the scrape thread: what the processes the
// aggregator tracks use now (memory, threads, fds, states) and the live + finished usage counters.
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
#include "procfs/process_usage.h"

namespace procevents::live {

/// What a group's live processes use now, and its usage counters (live + finished).
struct GroupLive {
  std::array<double, procfs::kUsageCounterCount> usage{};  // CPU in seconds, the rest as counted
  std::uint64_t processes_read = 0;
  std::uint64_t threads = 0;
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t swapped_bytes = 0;   // with parts.status
  std::uint64_t open_fds = 0;        // with parts.fds
  double worst_fd_ratio = 0;         // the highest open/limit of its processes (with parts.fds)
  double oldest_start_seconds = 0;   // since the epoch; 0 without live processes
  std::array<std::uint64_t, procfs::kProcessStateCount> states{};
};

/// Why a live process's figures could not be read (cumulative, like process-exporter's
/// namedprocess_scrape_procread_errors and _partial_errors).
enum class ReadFailure : std::uint8_t { kProcess, kStatus, kIo, kFds };
inline constexpr std::array<const char*, 4> kReadFailureNames = {"process", "status", "io", "fds"};
inline constexpr std::size_t kReadFailureCount = kReadFailureNames.size();
static_assert(static_cast<std::size_t>(ReadFailure::kFds) + 1 == kReadFailureCount);

struct LiveUsage {
  std::vector<GroupLive> groups;  // by snapshot group index
  std::array<std::uint64_t, kReadFailureCount> read_failures{};
};

struct LiveOptions {
  std::string proc_root = "/proc";
  procfs::UsageParts parts;
  double boot_time_seconds = 0;  // /proc/stat btime, for start times since the epoch
};

class LiveCollector {
 public:
  explicit LiveCollector(LiveOptions options);
  /// Reads every live process of `snapshot`. Safe from several scrape threads (one at a time).
  LiveUsage collect(const aggregator::Snapshot& snapshot);

 private:
  void read_one(const aggregator::LiveProcess& process, LiveUsage& out);

  LiveOptions options_;
  double seconds_per_tick_;
  std::mutex mutex_;
  procfs::UsageReader reader_;
  procfs::ProcessUsage usage_;  // reused between reads
  std::array<std::uint64_t, kReadFailureCount> read_failures_{};
  std::vector<std::array<double, procfs::kUsageCounterCount>> reported_;  // per group: never less
};

}  // namespace procevents::live
