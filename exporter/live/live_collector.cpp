#include "live/live_collector.h"

#include <unistd.h>

#include <algorithm>

namespace procevents::live {

using procfs::kUsageCounterCount;
using procfs::ReadError;
using procfs::UsageCounter;

namespace {

/// The unit a counter is exported in: CPU in seconds (counted in microseconds), the rest as is.
double exported(std::size_t counter, double value) {
  const bool cpu = counter == procfs::index(UsageCounter::kCpuUser) || counter == procfs::index(UsageCounter::kCpuSystem);
  return cpu ? value / 1e6 : value;
}

std::uint64_t page_bytes() {
  static const std::uint64_t bytes = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  return bytes;
}

}  // namespace

procfs::UsageParts usage_parts(const config::GroupDetails& per_group, bool process_exporter_names) {
  using config::GroupDetail;
  const auto wanted = [&](GroupDetail detail) { return process_exporter_names || per_group.has(detail); };
  return {.status = wanted(GroupDetail::kMemory) || wanted(GroupDetail::kContextSwitches),
          .io = wanted(GroupDetail::kStorage),
          .fds = wanted(GroupDetail::kFds)};
}

LiveCollector::LiveCollector(LiveOptions options)
    : options_(std::move(options)),
      seconds_per_tick_([] {
        const long ticks = procfs::ProcReader::clock_ticks_per_second();
        return ticks > 0 ? 1.0 / static_cast<double>(ticks) : 0.01;
      }()),
      reader_(options_.proc_root) {}

void LiveCollector::collect(aggregator::Snapshot& snapshot) {
  std::lock_guard lock(mutex_);
  // The finished part first, then each live process's part on top.
  for (aggregator::GroupSnapshot& group : snapshot.groups) {
    group.live = {};
    for (std::size_t u = 0; u < kUsageCounterCount; ++u) group.live.usage[u] = static_cast<double>(group.counters.usage[u]);
  }
  for (const aggregator::LiveProcess& process : snapshot.live) read_one(process, snapshot);

  if (reported_.size() < snapshot.groups.size()) reported_.resize(snapshot.groups.size());
  for (std::size_t g = 0; g < snapshot.groups.size(); ++g) {
    for (std::size_t u = 0; u < kUsageCounterCount; ++u) {
      double& reported = reported_[g][u];
      reported = std::max(reported, exported(u, snapshot.groups[g].live.usage[u]));
      snapshot.groups[g].live.usage[u] = reported;
    }
  }
  snapshot.live_read = true;
  snapshot.live_read_failures = read_failures_;
}

void LiveCollector::read_one(const aggregator::LiveProcess& process, aggregator::Snapshot& snapshot) {
  using aggregator::LiveReadFailure;
  if (process.group >= snapshot.groups.size()) return;
  const ReadError error = reader_.read(process.pid, process.started_by_ticks, options_.parts, usage_);
  // Gone since the snapshot: its exit record brings the rest. Anything else is a failure to say.
  if (error == ReadError::kGone) return;
  if (error != ReadError::kNone) {
    count_failure(LiveReadFailure::kProcess);
    return;
  }
  if (usage_.unreadable & procfs::ProcessUsage::kUnreadableStatus) count_failure(LiveReadFailure::kStatus);
  if (usage_.unreadable & procfs::ProcessUsage::kUnreadableIo) count_failure(LiveReadFailure::kIo);
  if (usage_.unreadable & procfs::ProcessUsage::kUnreadableFds) count_failure(LiveReadFailure::kFds);

  aggregator::LiveFigures& group = snapshot.groups[process.group].live;
  const procfs::UsageVector now = procfs::usage_vector(usage_.stat, usage_.io, usage_.status);
  for (std::size_t u = 0; u < kUsageCounterCount; ++u) {
    // A part not read (or unreadable) stays as counted; a reading below what is counted (a tick's
    // rounding) adds nothing.
    if (now[u] > process.counted[u]) group.usage[u] += static_cast<double>(now[u] - process.counted[u]);
  }
  ++group.processes_read;
  group.threads += usage_.stat.threads;
  group.resident_bytes += static_cast<std::uint64_t>(std::max<std::int64_t>(usage_.stat.rss_pages, 0)) * page_bytes();
  group.virtual_bytes += usage_.stat.vsize_bytes;
  if (usage_.status) group.swapped_bytes += usage_.status->swapped_bytes;
  if (usage_.fds) {
    group.open_fds += usage_.fds->open;
    if (usage_.fds->limit > 0) {
      group.worst_fd_ratio =
          std::max(group.worst_fd_ratio, static_cast<double>(usage_.fds->open) / static_cast<double>(usage_.fds->limit));
    }
  }
  const double started = options_.boot_time_seconds + static_cast<double>(usage_.stat.start_time_ticks) * seconds_per_tick_;
  if (group.oldest_start_seconds == 0 || started < group.oldest_start_seconds) group.oldest_start_seconds = started;
  ++group.states[static_cast<std::size_t>(procfs::process_state(usage_.stat.state))];
}

}  // namespace procevents::live
