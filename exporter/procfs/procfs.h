// Readers for /proc, used by the aggregator thread to identify processes (never by the receiver).
//
// Every call tolerates odd /proc contents: a process that vanishes mid-read (ENOENT/ESRCH) is
// kGone, empty cmdlines (kernel threads, zombies) are empty vectors, comm with ')' or spaces is
// parsed from stat's last ')', oversized cmdlines are cut. Raw open/read syscalls with reused
// buffers: identification runs once per exec.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace procevents::procfs {

enum class ReadError : std::uint8_t {
  kNone,
  kGone,        // ENOENT/ESRCH: the process exited
  kPermission,  // EACCES/EPERM
  kOther,
};

struct ProcessInfo {
  std::string comm;                  // /proc/<pid>/comm without the newline
  std::string exe;                   // readlink /proc/<pid>/exe without " (deleted)"; empty if unreadable
  std::vector<std::string> cmdline;  // NUL-separated arguments (at most kMaxCmdlineBytes read)
  std::uint32_t ruid = 0;            // real uid (owner of /proc/<pid>)
  std::uint64_t start_time_ticks = 0;// stat field 22: clock ticks after boot
  std::int32_t ppid = 0;
  std::string cgroup;                // raw /proc/<pid>/cgroup, only when asked for
};

inline constexpr std::size_t kMaxCmdlineBytes = 4096;

class ProcReader {
 public:
  explicit ProcReader(std::string proc_root = "/proc");

  /// Reads comm, stat (start time, ppid), exe, cmdline, owner and optionally cgroup. Success when
  /// stat was readable; other parts may be empty (e.g. exe of a kernel thread).
  ReadError read_process(std::int32_t pid, bool with_cgroup, ProcessInfo& out);

  /// stat only: start time (ticks since boot), parent pid and comm.
  ReadError read_stat(std::int32_t pid, std::uint64_t& start_time_ticks, std::int32_t& ppid, std::string& comm);

  /// Calls fn(pid) for each process directory (numeric names) in the proc root.
  void for_each_pid(const std::function<void(std::int32_t)>& fn);

  /// /proc/stat "processes": forks since boot (threads included); nullopt if unreadable.
  std::optional<std::uint64_t> read_kernel_forks();

  static long clock_ticks_per_second();

 private:
  /// Reads a whole small file into buffer_ (up to `limit` bytes); ReadError on failure.
  ReadError slurp(const char* path, std::size_t limit);
  std::string root_;
  std::string path_;    // reused path buffer
  std::string buffer_;  // reused file buffer
};

/// uid -> user name via getpwuid_r, cached (bounded); the number as text when unknown.
class UserNames {
 public:
  explicit UserNames(std::size_t capacity = 4096) : capacity_(capacity) {}
  std::string_view name_for(std::uint32_t uid);

 private:
  std::size_t capacity_;
  std::unordered_map<std::uint32_t, std::string> names_;
};

/// Parses the text of /proc/<pid>/stat; false if malformed.
bool parse_stat(std::string_view text, std::uint64_t& start_time_ticks, std::int32_t& ppid, std::string& comm);

}  // namespace procevents::procfs
