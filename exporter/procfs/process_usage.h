// What a live process uses now, read at scrape time for the live per-group families: stat always
// (CPU, faults, threads, memory, state), and status, io and the fd table only where the
// configuration asks (each costs system calls per process per scrape).
//
// Counts cover the whole process, its exited threads included, except context switches: status
// shows the thread-group leader's alone (as process-exporter reports them).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "procfs/procfs.h"

namespace procevents::procfs {

/// process-exporter's five states (namedprocess_namegroup_states): R, S, D, Z, and the rest.
enum class ProcessState : std::uint8_t { kRunning, kSleeping, kWaiting, kZombie, kOther };
inline constexpr std::array<const char*, 5> kProcessStateNames = {"Running", "Sleeping", "Waiting", "Zombie", "Other"};
inline constexpr std::size_t kProcessStateCount = kProcessStateNames.size();
static_assert(static_cast<std::size_t>(ProcessState::kOther) + 1 == kProcessStateCount);
ProcessState process_state(char stat_state) noexcept;

/// The cumulative counters of a process that are counted "live + finished" (what a live process
/// has used, read from /proc, plus what its finished tasks used, from their exit records): one
/// definition for both sources, whole-process (exited threads included), except the context
/// switches, whose live reading (status) is the thread-group leader's alone. CPU in microseconds.
enum class UsageCounter : std::uint8_t {
  kCpuUser,
  kCpuSystem,
  kMinorFaults,
  kMajorFaults,
  kReadBytes,
  kWriteBytes,
  kVoluntarySwitches,
  kInvoluntarySwitches,
};
inline constexpr std::size_t kUsageCounterCount = 8;
static_assert(static_cast<std::size_t>(UsageCounter::kInvoluntarySwitches) + 1 == kUsageCounterCount);
using UsageVector = std::array<std::uint64_t, kUsageCounterCount>;
constexpr std::size_t index(UsageCounter counter) { return static_cast<std::size_t>(counter); }

/// The optional parts of a usage read; stat is always read.
struct UsageParts {
  bool status = false;  // swapped memory, context switches
  bool io = false;      // storage bytes (needs ptrace rights over the process)
  bool fds = false;     // open descriptors (needs ptrace rights) and the soft limit
  bool operator==(const UsageParts&) const = default;
};

struct ProcessUsage {
  StatUsage stat;
  struct Status {
    std::uint64_t swapped_bytes = 0;  // VmSwap (absent for kernel threads: 0)
    std::uint64_t voluntary_switches = 0;
    std::uint64_t involuntary_switches = 0;
  };
  struct Io {
    std::uint64_t read_bytes = 0;   // storage, as the block layer counts it
    std::uint64_t write_bytes = 0;
  };
  struct Fds {
    std::uint64_t open = 0;
    std::uint64_t limit = 0;  // the soft RLIMIT_NOFILE; 0 = unlimited
  };
  // nullopt when not asked for, or when it could not be read (see `unreadable`).
  std::optional<Status> status;
  std::optional<Io> io;
  std::optional<Fds> fds;
  /// Parts asked for that /proc refused (EACCES/EPERM without ptrace rights) or that were
  /// malformed: the caller counts them, so a family never under-reports in silence.
  std::uint8_t unreadable = 0;
  static constexpr std::uint8_t kUnreadableStatus = 1, kUnreadableIo = 2, kUnreadableFds = 4;
};

/// The usage counters of a stat reading (CPU converted from clock ticks) and, when read, its io and
/// status. Counters of a part not read are 0.
UsageVector usage_vector(const StatUsage& stat, const std::optional<ProcessUsage::Io>& io = std::nullopt,
                         const std::optional<ProcessUsage::Status>& status = std::nullopt);

/// Reads ProcessUsage through one open /proc/<pid> directory. Single-threaded: it owns its buffer.
class UsageReader {
 public:
  explicit UsageReader(std::string proc_root = "/proc");
  /// kGone when the process has gone, or when it started after `started_by_ticks` (clock ticks after
  /// boot: the pid names a later process); kPermission or kOther when stat could not be read.
  ReadError read(std::int32_t pid, std::uint64_t started_by_ticks, UsageParts parts, ProcessUsage& out);
  /// For a process first seen alive: its usage now (`whole`, with io and status as `parts` asks)
  /// and what its threads that have exited already used (`exited_tasks`: whole less the sum of its
  /// live tasks' own readings, for CPU, faults and storage; 0 for the context switches, which
  /// status gives for the leader alone). False when the process could not be read.
  bool read_first_sight(std::int32_t pid, UsageParts parts, UsageVector& whole, UsageVector& exited_tasks);
  static constexpr std::uint64_t kAnyStart = ~std::uint64_t{0};

 private:
  ReadError slurp(int dir_fd, const char* name);
  ReadError slurp_path(const char* path);
  /// The sum of the usage of the live tasks of the process whose directory is `dir_fd`.
  bool read_live_tasks(int dir_fd, bool with_io, UsageVector& sum);
  ReadError read_fds(int dir_fd, ProcessUsage::Fds& out);

  std::string root_;
  std::string path_;
  std::vector<char> buffer_;
  std::size_t used_ = 0;
  ProcessUsage scratch_;  // read_first_sight()'s reading
  bool fd_count_in_size_ = false;  // the root is a procfs, whose fd directories have their count as size
};

// Pure parsers, public for tests.

/// VmSwap and the leader's context switches from /proc/<pid>/status text; nullopt without the
/// switch lines (VmSwap is absent for kernel threads and zombies: 0).
std::optional<ProcessUsage::Status> parse_status_usage(std::string_view text);
/// read_bytes and write_bytes from /proc/<pid>/io text.
std::optional<ProcessUsage::Io> parse_io(std::string_view text);
/// The soft limit of the "Max open files" line of /proc/<pid>/limits (0 = unlimited).
std::optional<std::uint64_t> parse_open_files_limit(std::string_view text);

}  // namespace procevents::procfs
