// A consistent copy of the aggregator's state, taken for one scrape. Plain data, no behaviour:
// the metrics layer turns it into Prometheus families.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace procevents::aggregator {

inline constexpr std::size_t kMaxSignal = 64;  // signal numbers 1..64
inline constexpr std::size_t kAttributionLabelCount = 4;
/// Label names of the optional attribution dimensions, in storage order.
inline constexpr std::array<const char*, kAttributionLabelCount> kAttributionLabels = {"unit", "container",
                                                                                        "pod_uid", "user"};

enum class ExitOutcome : std::uint8_t { kSuccess, kFailure, kSignal };
inline constexpr std::size_t kExitOutcomeCount = 3;

enum class RateEvent : std::uint8_t { kFork, kExec, kExit };
inline constexpr std::size_t kRateEventCount = 3;
inline constexpr std::size_t kRateWindowCount = 3;  // 1m, 5m, 15m

enum class EnrichmentFailure : std::uint8_t {
  kGone,        // the process exited before /proc could be read
  kPidReused,   // /proc/<pid> belongs to a later process than the event's
  kPermission,  // /proc refused us (hidepid, ptrace checks)
  kOther,
};
inline constexpr std::size_t kEnrichmentFailureCount = 4;

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
  // Process lifetime histogram: per-bucket (non-cumulative) counts, last entry = +Inf.
  std::vector<std::uint64_t> lifetime_buckets;
  double lifetime_sum_seconds = 0;
  std::uint64_t lifetime_count = 0;
};

struct GroupSnapshot {
  std::string name;
  std::array<std::string, kAttributionLabelCount> attribution;  // empty = label not enabled
  std::int64_t live_processes = 0;
  GroupCounters counters;
};

struct Snapshot {
  std::vector<double> lifetime_bounds;  // upper bounds (seconds), strictly increasing, without +Inf
  std::array<bool, kAttributionLabelCount> attribution_enabled{};
  std::vector<GroupSnapshot> groups;
  std::array<std::array<double, kRateWindowCount>, kRateEventCount> rates{};  // events/s
  std::uint64_t events_processed = 0;
  std::uint64_t tracked_processes = 0;
  std::uint64_t table_evictions = 0;
  std::uint64_t group_overflows = 0;
  std::array<std::uint64_t, kAttributionLabelCount> attribution_overflows{};
  std::array<std::uint64_t, kEnrichmentFailureCount> enrichment_failures{};
  std::uint64_t resyncs = 0;
};

}  // namespace procevents::aggregator
