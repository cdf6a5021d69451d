// Readers for /proc, used by the aggregator thread to identify processes (never by the receiver).
//
// Every call tolerates odd /proc contents: a process that vanishes mid-read (ENOENT/ESRCH) is
// kGone, empty cmdlines (kernel threads, zombies) are empty vectors, comm with ')', spaces or
// newlines is parsed from stat's LAST ')', oversized cmdlines are cut and marked, bytes are kept
// as they are (not necessarily UTF-8). Raw open/read syscalls into reused buffers: identification
// runs once per exec, so after warm-up a read allocates nothing unless a string has to grow.
//
// Threading: a ProcReader is single-threaded (it owns scratch buffers); use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/cmdline_limit.h"
#include "procfs/user_names.h"

namespace procevents::procfs {

enum class ReadError : std::uint8_t {
  kNone,
  kGone,        // ENOENT/ESRCH: the process exited (or never existed, or is hidden by hidepid)
  kPermission,  // EACCES/EPERM
  kOther,       // anything else, including malformed content
};

/// The fields of /proc/<pid>/stat behind a process's resource use, as the kernel writes them.
/// Counts cover the whole process: its live threads and those that have exited.
struct StatUsage {
  char state = '?';                    // field 3: R, S, D, Z, T, t, X, I, ...
  std::uint64_t minor_faults = 0;      // field 10
  std::uint64_t major_faults = 0;      // field 12
  std::uint64_t utime_ticks = 0;       // field 14
  std::uint64_t stime_ticks = 0;       // field 15
  // Fields 16, 17: CPU of the children it has reaped (and of theirs), as getrusage(RUSAGE_CHILDREN)
  // counts it: after their teardown, which their exit records miss (see UsageLedger).
  std::uint64_t children_utime_ticks = 0;
  std::uint64_t children_stime_ticks = 0;
  std::uint64_t threads = 0;           // field 20
  std::uint64_t start_time_ticks = 0;  // field 22
  std::uint64_t vsize_bytes = 0;       // field 23
  std::int64_t rss_pages = 0;          // field 24
};

struct ProcessInfo {
  std::string comm;                  // the task name, as /proc/<pid>/comm without its newline (taken from stat)
  std::string exe;                   // readlink /proc/<pid>/exe without " (deleted)"; empty if unreadable
  std::uint64_t exe_device = 0;      // st_dev and st_ino of the binary (0 when exe is empty or not asked for)
  std::uint64_t exe_inode = 0;
  std::vector<std::string> cmdline;  // NUL-separated arguments, from at most kMaxCmdlineBytes
  bool cmdline_truncated = false;    // the cmdline was longer than kMaxCmdlineBytes; the last argument is cut
  std::uint32_t ruid = 0;            // real uid ("Uid:" first field of status; see read_process for the shortcut)
  std::uint32_t euid = 0;            // effective uid (what process-exporter's {{.Username}} names)
  std::uint64_t start_time_ticks = 0;// stat field 22: clock ticks after boot; with the pid, the process identity
  std::int32_t ppid = 0;
  // Exiting or exited, not yet reaped (PF_EXITING, or state Z/X): stat and comm still tell, but
  // cmdline, exe and cgroup no longer do (an exiting task is shown in the root cgroup).
  bool exiting = false;
  bool kernel_thread = false;        // PF_KTHREAD: no command line, no exe, ever
  std::string cgroup;                // raw /proc/<pid>/cgroup text, only when asked for (else empty)
  StatUsage usage;                   // from the same stat read: CPU, faults, memory, state (see StatUsage)
};

/// This process's own resource use, for the standard process_* metrics. A part that could not be
/// read is nullopt.
struct SelfUsage {
  struct Stat {
    double cpu_seconds = 0;            // utime + stime
    double virtual_memory_bytes = 0;   // vsize
    double resident_memory_bytes = 0;  // rss pages * page size
    double start_time_seconds = 0;     // since the epoch (btime + starttime; btime 0 if unreadable)
  };
  std::optional<Stat> stat;               // from <root>/self/stat and <root>/stat btime
  std::optional<std::uint64_t> open_fds;  // entries of <root>/self/fd, less the one reading it
  std::optional<std::uint64_t> max_fds;   // the soft RLIMIT_NOFILE
};

/// The optional parts of a process's identity that read_process() reads. stat (comm, parent, start
/// time, exiting) is always read; each other part costs system calls on every exec, so only what
/// the configuration uses is asked for (see Aggregator::configure_reads). A part not read is left
/// empty (zero).
struct ReadParts {
  bool cmdline = true;
  bool exe = true;           // readlink of exe
  bool exe_identity = true;  // the binary's device and inode (exit records name it by them); needs exe
  bool uids = true;          // the owner of /proc/<pid>, or status
};

inline constexpr std::size_t kMaxCgroupBytes = 16384;  // a cut last line is dropped, never half-read

class ProcReader {
 public:
  /// `proc_root` is "/proc" in production and a fixture tree in tests.
  explicit ProcReader(std::string proc_root = "/proc");

  /// Reads cmdline, exe, stat (comm, ppid, start time), the uids (those of them set_parts() asks
  /// for) and, if `with_cgroup`, cgroup, all through one open /proc/<pid> directory, so every part describes the same process even if
  /// the pid is reused meanwhile. `out` is overwritten field by field, so its strings keep their
  /// capacity; after an error its contents are unspecified.
  ///
  /// Returns kNone when stat was read and parsed; other parts may then be empty (exe of a kernel
  /// thread, of a zombie, or without ptrace rights; cmdline of a zombie). kGone if the process is
  /// gone; kPermission or kOther if stat could not be read or parsed.
  ///
  /// Uids: the directory's owner is the effective uid, or root when the process is not dumpable
  /// (setuid programs, daemons that opt out). A non-root owner is taken as both euid and ruid (one
  /// fstat, where status costs as much as stat; ruid differs only after a change of the effective
  /// uid alone, e.g. a setuid-to-non-root program). A root owner may hide a user's process, so then
  /// both come from status.
  ReadError read_process(std::int32_t pid, bool with_cgroup, ProcessInfo& out);

  /// What read_process() reads besides stat (everything by default).
  void set_parts(ReadParts parts) noexcept { parts_ = parts; }

  /// Reads /proc/<pid>/cgroup only (the raw text, a cut last line dropped). kGone for an exiting
  /// process too: the kernel shows it in the root cgroup, which is not where it lived.
  ReadError read_cgroup(std::int32_t pid, std::string& out);

  /// Reads /proc/<pid>/stat for what the process has used (CPU, faults, its reaped children's CPU).
  ReadError read_stat_usage(std::int32_t pid, StatUsage& out);

  /// Reads /proc/<pid>/stat only: start time (ticks after boot), parent pid and comm.
  ReadError read_stat(std::int32_t pid, std::uint64_t& start_time_ticks, std::int32_t& ppid, std::string& comm);

  /// Calls fn(pid) for each process directory (all-digit names) of the proc root. Threads are not
  /// listed (the kernel lists only thread-group leaders there). Nothing is called if the root is
  /// unreadable.
  void for_each_pid(const std::function<void(std::int32_t)>& fn);

  /// /proc/stat "processes": forks since boot, threads included; nullopt if unreadable or missing.
  std::optional<std::uint64_t> read_kernel_forks();

  /// /proc/stat "btime": boot time in seconds since the epoch; nullopt if unreadable or missing.
  /// start_time_ticks / clock_ticks_per_second() + btime is a process's wall-clock start.
  std::optional<std::uint64_t> read_boot_time();

  /// sysconf(_SC_CLK_TCK), the unit of start_time_ticks (100 on Linux); -1 if unknown.
  static long clock_ticks_per_second();

 private:
  /// Opens <root>/<pid>[/leaf]; -1 with errno set on failure.
  int open_pid(std::int32_t pid, const char* leaf, int flags);
  /// Reads up to `limit` bytes of `name` (relative to `dir_fd`) into buffer_; sets truncated_
  /// when the file holds more.
  ReadError slurp(int dir_fd, const char* name, std::size_t limit);
  ReadError read_cgroup_at(int dir_fd, std::string& out);
  // The steps of read_process, each relative to the pinned directory.
  void read_cmdline_at(int dir_fd, ProcessInfo& out);
  void read_exe_at(int dir_fd, ProcessInfo& out) const;
  void read_uids_at(int dir_fd, ProcessInfo& out);
  ReadError read_stat_at(int dir_fd, std::uint64_t& start_time_ticks, std::int32_t& ppid, std::string& comm,
                         bool* exiting = nullptr, bool* kernel_thread = nullptr);
  /// The value of the "<key> <number>" line of /proc/stat.
  std::optional<std::uint64_t> read_proc_stat_value(std::string_view key);

  std::string root_;
  std::string path_;      // reused path buffer
  std::string buffer_;    // reused file buffer, sized once
  std::string stat_comm_; // scratch for read_cgroup's state check
  ReadParts parts_;
  std::size_t used_ = 0;  // bytes of buffer_ filled by the last slurp()
  bool truncated_ = false;
};

/// This process's CPU time, memory, start time and file descriptors, from <proc_root>/self and
/// <proc_root>/stat (a root other than "/proc" is for tests). Uses no ProcReader: nothing is kept.
SelfUsage read_self_usage(const std::string& proc_root = "/proc");

// Pure parsers, public for tests.

/// Parses the text of /proc/<pid>/stat: "pid (comm) state ppid ... starttime(22) ...". comm is
/// everything between the first '(' and the LAST ')' (it may hold ')', spaces or newlines).
/// False if malformed or too short; the outputs are then unspecified.
/// `exiting`, when given, says whether the task is exiting or exited: state (field 3) Z or X, or
/// PF_EXITING in its flags (field 9), set before the kernel detaches it from its cgroup.
/// `kernel_thread`, when given, says whether PF_KTHREAD is set.
bool parse_stat(std::string_view text, std::uint64_t& start_time_ticks, std::int32_t& ppid, std::string& comm,
                bool* exiting = nullptr, bool* kernel_thread = nullptr);

/// Parses those fields (after the LAST ')', like parse_stat); nullopt if malformed or too short.
std::optional<StatUsage> parse_stat_usage(std::string_view text);

struct StatusUids {
  std::uint32_t real = 0;
  std::uint32_t effective = 0;
};
/// The real and effective uids (first two fields of the "Uid:" line) from /proc/<pid>/status text.
std::optional<StatusUids> parse_status_uids(std::string_view text);

/// Splits NUL-separated /proc/<pid>/cmdline bytes into `args`, reusing its strings. A trailing
/// NUL ends the last argument; empty arguments in between are kept.
void split_cmdline(std::string_view bytes, std::vector<std::string>& args);

}  // namespace procevents::procfs
