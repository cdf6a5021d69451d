// A consistent copy of the aggregator's state, taken for one scrape, and what the live layer reads
// of the live processes it lists. Plain data, no behaviour: the metrics layer turns it into
// Prometheus families. Each enum's label values stand next to it.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aggregator/native_histogram.h"
#include "attribution/labels.h"
#include "procfs/process_usage.h"

namespace procevents::aggregator {

inline constexpr std::size_t kMaxSignal = 64;  // signal numbers 1..64
/// Attribution dimensions, in the order of attribution::kLabels.
inline constexpr std::size_t kAttributionLabelCount = attribution::kLabelCount;

enum class ExitOutcome : std::uint8_t { kSuccess, kFailure, kSignal };
inline constexpr std::array<const char*, 3> kExitOutcomeNames = {"success", "failure", "signal"};
inline constexpr std::size_t kExitOutcomeCount = kExitOutcomeNames.size();
static_assert(static_cast<std::size_t>(ExitOutcome::kSignal) + 1 == kExitOutcomeCount);

enum class RateEvent : std::uint8_t { kFork, kExec, kExit };
inline constexpr std::array<const char*, 3> kRateEventNames = {"fork", "exec", "exit"};
inline constexpr std::size_t kRateEventCount = kRateEventNames.size();
static_assert(static_cast<std::size_t>(RateEvent::kExit) + 1 == kRateEventCount);
inline constexpr std::array<const char*, 3> kRateWindowNames = {"1m", "5m", "15m"};
inline constexpr std::array<double, 3> kRateWindowSeconds = {60, 300, 900};
inline constexpr std::size_t kRateWindowCount = kRateWindowNames.size();

enum class EnrichmentFailure : std::uint8_t {
  kGone,        // the process exited before /proc could be read, and no exit record named it
  kPidReused,   // /proc/<pid> belongs to a later process than the event's
  kPermission,  // /proc refused us (hidepid, ptrace checks)
  kOther,
};
inline constexpr std::array<const char*, 4> kEnrichmentFailureNames = {"gone", "pid_reused", "permission", "other"};
inline constexpr std::size_t kEnrichmentFailureCount = kEnrichmentFailureNames.size();
static_assert(static_cast<std::size_t>(EnrichmentFailure::kOther) + 1 == kEnrichmentFailureCount);

/// Per-bucket (non-cumulative) counts against a shared list of upper bounds; last entry = +Inf. The same
/// samples in native (exponential) buckets ride along for scrapers that negotiate protobuf.
struct Histogram {
  std::vector<std::uint64_t> buckets;
  double sum = 0;
  std::uint64_t count = 0;
  NativeHistogram native;

  void observe(const std::vector<double>& bounds, double value) {
    const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
    ++buckets[static_cast<std::size_t>(bucket)];
    sum += value;
    ++count;
    native.observe(value);
  }
  /// Adds another histogram over the same bounds (bucket by bucket).
  void add(const Histogram& other) {
    if (buckets.size() < other.buckets.size()) buckets.resize(other.buckets.size());
    for (std::size_t b = 0; b < other.buckets.size(); ++b) buckets[b] += other.buckets[b];
    sum += other.sum;
    count += other.count;
    native.add(other.native);
  }
};

struct GroupCounters {
  std::uint64_t forks_process = 0;
  std::uint64_t forks_thread = 0;
  std::uint64_t execs = 0;
  std::array<std::uint64_t, kExitOutcomeCount> exits{};
  std::array<std::uint64_t, kMaxSignal + 1> signal_exits{};  // index = signal number
  std::uint64_t coredumps = 0;
  std::uint64_t comm_changes = 0;
  std::uint64_t uid_changes_to_root = 0;
  std::uint64_t uid_changes_to_nonroot = 0;
  std::uint64_t gid_changes = 0;
  std::uint64_t sid_changes = 0;
  std::uint64_t ptrace_attach = 0;
  std::uint64_t ptrace_detach = 0;
  Histogram lifetime;  // seconds, fork to exit

  // What finished tasks cost, from taskstats exit records: every task (thread) once, in the group
  // of its process.
  std::uint64_t cpu_user_us = 0;
  std::uint64_t cpu_system_us = 0;
  std::uint64_t storage_read_bytes = 0;
  std::uint64_t storage_write_bytes = 0;
  std::uint64_t voluntary_switches = 0;
  std::uint64_t involuntary_switches = 0;
  std::uint64_t cpu_delay_ns = 0;    // waiting for a CPU (delay accounting)
  std::uint64_t blkio_delay_ns = 0;  // waiting for block I/O (delay accounting)
  Histogram peak_rss;                // bytes, one observation per exited process

  // The finished part of the live + finished usage counters (procfs::UsageCounter): what the group's
  // processes used up to their exit or their exec into another group, since counting began for
  // them. Signed: an exit record of a thread alive at start-up carries CPU from before, which the
  // process's live part (reading - counted) gives back until the process exits.
  std::array<std::int64_t, procfs::kUsageCounterCount> usage{};

  /// Adds another group's counters (the host's totals are the sum over groups).
  void add(const GroupCounters& other) {
    forks_process += other.forks_process;
    forks_thread += other.forks_thread;
    execs += other.execs;
    for (std::size_t o = 0; o < kExitOutcomeCount; ++o) exits[o] += other.exits[o];
    for (std::size_t s = 0; s <= kMaxSignal; ++s) signal_exits[s] += other.signal_exits[s];
    coredumps += other.coredumps;
    comm_changes += other.comm_changes;
    uid_changes_to_root += other.uid_changes_to_root;
    uid_changes_to_nonroot += other.uid_changes_to_nonroot;
    gid_changes += other.gid_changes;
    sid_changes += other.sid_changes;
    ptrace_attach += other.ptrace_attach;
    ptrace_detach += other.ptrace_detach;
    lifetime.add(other.lifetime);
    cpu_user_us += other.cpu_user_us;
    cpu_system_us += other.cpu_system_us;
    storage_read_bytes += other.storage_read_bytes;
    storage_write_bytes += other.storage_write_bytes;
    voluntary_switches += other.voluntary_switches;
    involuntary_switches += other.involuntary_switches;
    cpu_delay_ns += other.cpu_delay_ns;
    blkio_delay_ns += other.blkio_delay_ns;
    peak_rss.add(other.peak_rss);
    for (std::size_t u = 0; u < procfs::kUsageCounterCount; ++u) usage[u] += other.usage[u];
  }
};

/// What a group's live processes use now, and its usage counters live + finished: filled at scrape
/// time by the live layer (live::LiveCollector), which reads the processes `Snapshot::live` lists.
struct LiveFigures {
  std::array<double, procfs::kUsageCounterCount> usage{};  // CPU in seconds, the rest as counted
  std::uint64_t processes_read = 0;
  std::uint64_t threads = 0;
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t swapped_bytes = 0;  // read with status
  std::uint64_t open_fds = 0;       // read with the fd table
  double worst_fd_ratio = 0;        // the highest open/limit of its processes
  double oldest_start_seconds = 0;  // since the epoch; 0 without live processes
  std::array<std::uint64_t, procfs::kProcessStateCount> states{};

  /// Adds another group's figures (the host's are over all groups).
  void add(const LiveFigures& other) {
    for (std::size_t u = 0; u < usage.size(); ++u) usage[u] += other.usage[u];
    processes_read += other.processes_read;
    threads += other.threads;
    resident_bytes += other.resident_bytes;
    virtual_bytes += other.virtual_bytes;
    swapped_bytes += other.swapped_bytes;
    open_fds += other.open_fds;
    worst_fd_ratio = std::max(worst_fd_ratio, other.worst_fd_ratio);
    if (other.oldest_start_seconds != 0 && (oldest_start_seconds == 0 || other.oldest_start_seconds < oldest_start_seconds)) {
      oldest_start_seconds = other.oldest_start_seconds;
    }
    for (std::size_t s = 0; s < states.size(); ++s) states[s] += other.states[s];
  }
};

/// Why a live process's figures could not be read (cumulative, like process-exporter's
/// namedprocess_scrape_procread_errors and _partial_errors).
enum class LiveReadFailure : std::uint8_t { kProcess, kStatus, kIo, kFds };
inline constexpr std::array<const char*, 4> kLiveReadFailureNames = {"process", "status", "io", "fds"};
inline constexpr std::size_t kLiveReadFailureCount = kLiveReadFailureNames.size();
static_assert(static_cast<std::size_t>(LiveReadFailure::kFds) + 1 == kLiveReadFailureCount);

struct GroupSnapshot {
  std::string name;
  std::array<std::string, kAttributionLabelCount> attribution;  // empty = label not enabled
  std::int64_t live_processes = 0;
  GroupCounters counters;
  LiveFigures live;  // with a live layer (else zeros)
};

/// How the two sources met: taskstats exit records and the connector's exit events.
struct ExitJoinStats {
  std::uint64_t joined = 0;                // task exits seen by both sources
  std::uint64_t exits_without_record = 0;  // connector exits for which no exit record arrived
  std::uint64_t records_without_exit = 0;  // exit records no connector exit claimed in time
  std::uint64_t named_from_record = 0;     // execs named from the exit record (/proc was gone)
  std::uint64_t pending_execs = 0;         // gauge: execs waiting for their exit record
};

/// The self-audit of the process table against /proc (Aggregator::audit).
enum class DriftKind : std::uint8_t {
  kStale,    // tracked, but the process is gone (an exit the table never saw)
  kMissing,  // alive in /proc, but not tracked (a fork the table never saw)
};
inline constexpr std::array<const char*, 2> kDriftKindNames = {"stale", "missing"};
inline constexpr std::size_t kDriftKindCount = kDriftKindNames.size();
static_assert(static_cast<std::size_t>(DriftKind::kMissing) + 1 == kDriftKindCount);

struct TableAuditStats {
  std::uint64_t audits = 0;                          // passes over /proc's process list
  std::array<std::uint64_t, kDriftKindCount> drift{};  // table entries found wrong, by kind
  std::uint64_t corrected = 0;                       // of those, entries put right (removed or added)
};

/// A live process for the scrape to read (live::LiveCollector): where its usage counts, and how much
/// of it is counted already (in its group's `usage`, or from before counting began for it).
struct LiveProcess {
  std::int32_t pid = 0;
  std::uint32_t group = 0;  // index into Snapshot::groups
  /// It started no later than this (clock ticks after boot): a later start means the pid was reused.
  std::uint64_t started_by_ticks = procfs::UsageReader::kAnyStart;
  procfs::UsageVector counted{};
};

struct Snapshot {
  std::vector<double> lifetime_bounds;  // upper bounds (seconds), strictly increasing, without +Inf
  std::vector<double> peak_rss_bounds;  // upper bounds (bytes)
  std::array<bool, kAttributionLabelCount> attribution_enabled{};
  std::vector<GroupSnapshot> groups;
  std::vector<LiveProcess> live;  // every tracked process, in no particular order
  bool live_read = false;         // the live layer read them: GroupSnapshot::live is filled
  std::array<std::uint64_t, kLiveReadFailureCount> live_read_failures{};
  std::array<std::array<double, kRateWindowCount>, kRateEventCount> rates{};  // events/s
  std::uint64_t events_processed = 0;
  std::uint64_t exit_records_processed = 0;
  std::uint64_t tracked_processes = 0;
  std::uint64_t table_evictions = 0;
  std::uint64_t group_overflows = 0;
  std::array<std::uint64_t, kAttributionLabelCount> attribution_overflows{};
  std::array<std::uint64_t, kEnrichmentFailureCount> enrichment_failures{};
  std::uint64_t resyncs = 0;
  TableAuditStats audit;
  ExitJoinStats exit_join;
  /// CPU the exited processes' teardown cost beyond their exit records, net of the records' tick
  /// sampling, charged to their groups from their parents' stat (UsageLedger), in microseconds.
  std::int64_t teardown_cpu_us = 0;
};

}  // namespace procevents::aggregator
