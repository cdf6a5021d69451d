// The per-group detail options (config key `per_group`): families that are exported once per host
// by default and once per group on request. A live family that needs a /proc read beyond stat
// (status, io, the fd table) is read, and exported per group, only when its option is on. One row per option, read by the config loader (names),
// the metrics layer (which families each moves) and the landing page. The series budget this buys
// is in the README ("Series budget").
//
// Every event is counted in exactly one series of its family: its group's, or the host's (no
// groupname label). So `sum by (instance, ...)` gives the same answer whichever options are on.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace procevents::config {

enum class GroupDetail : std::uint8_t {
  kThreads,          // procevents_forks_total{kind="thread"}, procevents_threads
  kIdentity,         // procevents_{comm,uid,gid,sid}_changes_total, procevents_ptrace_total
  kCoredumps,        // procevents_coredumps_total
  kLifetimeBuckets,  // procevents_process_lifetime_seconds (the histogram; sum and count are always per group)
  kPeakMemory,       // procevents_exited_peak_resident_memory_bytes
  kStorage,          // procevents_exited_storage_{read,written}_bytes_total; procevents_storage_* (reads io)
  kContextSwitches,  // procevents_exited_context_switches_total; procevents_context_switches_total (reads status)
  kDelays,           // procevents_exited_{cpu,blkio}_delay_seconds_total
  kMemory,           // procevents_memory_bytes{memtype="virtual"}; {memtype="swapped"} (reads status)
  kFaults,           // procevents_page_faults_total
  kStates,           // procevents_process_states, procevents_oldest_start_time_seconds
  kFds,              // procevents_open_fds, procevents_worst_fd_ratio (reads the fd table and limits)
};

struct GroupDetailOption {
  GroupDetail detail;
  const char* name;  // as written in `per_group:`
};

inline constexpr std::array<GroupDetailOption, 12> kGroupDetails = {{
    {GroupDetail::kThreads, "threads"},
    {GroupDetail::kIdentity, "identity"},
    {GroupDetail::kCoredumps, "coredumps"},
    {GroupDetail::kLifetimeBuckets, "lifetime_buckets"},
    {GroupDetail::kPeakMemory, "peak_memory"},
    {GroupDetail::kStorage, "storage"},
    {GroupDetail::kContextSwitches, "context_switches"},
    {GroupDetail::kDelays, "delays"},
    {GroupDetail::kMemory, "memory"},
    {GroupDetail::kFaults, "faults"},
    {GroupDetail::kStates, "states"},
    {GroupDetail::kFds, "fds"},
}};
inline constexpr std::size_t kGroupDetailCount = kGroupDetails.size();
static_assert([] {
  for (std::size_t i = 0; i < kGroupDetailCount; ++i) {
    if (static_cast<std::size_t>(kGroupDetails[i].detail) != i) return false;
  }
  return true;
}(), "kGroupDetails rows are in GroupDetail order");
/// `per_group: [all]` turns every option on.
inline constexpr std::string_view kAllGroupDetails = "all";

/// The options that are on, by GroupDetail value.
class GroupDetails {
 public:
  static GroupDetails all() {
    GroupDetails details;
    details.bits_.set();
    return details;
  }
  bool has(GroupDetail detail) const { return bits_.test(static_cast<std::size_t>(detail)); }
  void set(GroupDetail detail) { bits_.set(static_cast<std::size_t>(detail)); }
  bool none() const { return bits_.none(); }
  bool operator==(const GroupDetails&) const = default;

 private:
  std::bitset<kGroupDetailCount> bits_;
};

constexpr std::optional<GroupDetail> group_detail(std::string_view name) {
  for (const GroupDetailOption& option : kGroupDetails) {
    if (name == option.name) return option.detail;
  }
  return std::nullopt;
}

/// "threads, identity, ...": the names of the options that are on (`on`) or off (`!on`).
inline std::string group_detail_names(const GroupDetails& details, bool on) {
  std::string names;
  for (const GroupDetailOption& option : kGroupDetails) {
    if (details.has(option.detail) != on) continue;
    if (!names.empty()) names += ", ";
    names += option.name;
  }
  return names;
}

}  // namespace procevents::config
