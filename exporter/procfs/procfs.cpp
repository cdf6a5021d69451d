#include "procfs/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <span>

#include "common/unique_fd.h"
#include "procfs/proc_text.h"

namespace procevents::procfs {

using detail::all_digits;
using detail::Dir;
using detail::error_from_errno;
using detail::for_each_stat_field;
using detail::parse_number;
using detail::read_up_to;

namespace {

// Big enough for every per-process file we read and for /proc/stat chunks.
constexpr std::size_t kBufferBytes = 65536;
constexpr std::size_t kMaxStatBytes = 4096;    // stat is ~300 bytes; comm is at most 64
constexpr std::size_t kMaxStatusBytes = 4096;  // "Uid:" is in the first dozen lines

/// The value of the "<key> <number>" line of /proc/stat at `path`, read in chunks of `buffer` (the
/// "intr" line before it can be longer than any fixed buffer on machines with many interrupts).
std::optional<std::uint64_t> read_stat_value(const char* path, std::span<char> buffer, std::string_view key) {
  const UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;

  // Only the start of each line is kept: the lines we want are short, the others are skipped.
  char head[64];
  std::size_t head_used = 0;
  bool head_overflow = false;
  std::optional<std::uint64_t> value;
  const auto line_matches = [&] {
    const std::string_view line(head, head_used);
    const bool match = !head_overflow && line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ';
    if (match) {
      std::string_view rest = line.substr(key.size());
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.remove_suffix(1);
      std::uint64_t number = 0;
      if (parse_number(rest, number)) value = number;
    }
    head_used = 0;
    head_overflow = false;
    return match;
  };

  for (;;) {
    const ssize_t got = read_up_to(fd.get(), buffer.data(), buffer.size());
    if (got <= 0) break;
    std::string_view chunk(buffer.data(), static_cast<std::size_t>(got));
    while (!chunk.empty()) {
      const auto newline = chunk.find('\n');
      const std::string_view piece = chunk.substr(0, newline);
      const std::size_t room = sizeof head - head_used;
      const std::size_t copy = std::min(room, piece.size());
      std::memcpy(head + head_used, piece.data(), copy);
      head_used += copy;
      if (copy < piece.size()) head_overflow = true;
      if (newline == std::string_view::npos) break;
      if (line_matches()) return value;
      chunk.remove_prefix(newline + 1);
    }
    if (static_cast<std::size_t>(got) < buffer.size()) break;  // short read: EOF
  }
  if (head_used > 0 && line_matches()) return value;  // last line without a newline
  return std::nullopt;
}

}  // namespace

// ---- pure parsers ------------------------------------------------------------------------------

bool parse_stat(std::string_view text, std::uint64_t& start_time_ticks, std::int32_t& ppid, std::string& comm,
                bool* exiting, bool* kernel_thread) {
  constexpr std::uint64_t kPfExiting = 0x4;        // include/linux/sched.h
  constexpr std::uint64_t kPfKthread = 0x200000;   // the same
  std::string_view name;
  bool have_ppid = false;
  bool have_start = false;
  bool gone = false;
  bool kthread = false;
  const bool split = for_each_stat_field(text, name, 22, [&](int field, std::string_view token) {
    if (field == 3 && !token.empty()) gone |= token.front() == 'Z' || token.front() == 'X';
    std::uint64_t flags = 0;
    if (field == 9 && parse_number(token, flags)) {
      gone |= (flags & kPfExiting) != 0;
      kthread = (flags & kPfKthread) != 0;
    }
    if (field == 4) have_ppid = parse_number(token, ppid);
    if (field == 22) have_start = parse_number(token, start_time_ticks);
  });
  if (!split) return false;
  comm.assign(name);
  if (exiting) *exiting = gone;
  if (kernel_thread) *kernel_thread = kthread;
  return have_ppid && have_start;
}

std::optional<StatUsage> parse_stat_usage(std::string_view text) {
  StatUsage usage;
  int parsed = 0;
  std::string_view comm;
  const bool split = for_each_stat_field(text, comm, 24, [&](int field, std::string_view token) {
    bool good = false;
    switch (field) {
      case 3:
        good = token.size() == 1;
        usage.state = token.front();
        break;
      case 10: good = parse_number(token, usage.minor_faults); break;
      case 12: good = parse_number(token, usage.major_faults); break;
      case 20: good = parse_number(token, usage.threads); break;
      case 14: good = parse_number(token, usage.utime_ticks); break;
      case 16: good = parse_number(token, usage.children_utime_ticks); break;
      case 17: good = parse_number(token, usage.children_stime_ticks); break;
      case 15: good = parse_number(token, usage.stime_ticks); break;
      case 22: good = parse_number(token, usage.start_time_ticks); break;
      case 23: good = parse_number(token, usage.vsize_bytes); break;
      case 24: good = parse_number(token, usage.rss_pages); break;
      default: return;
    }
    if (good) ++parsed;
  });
  if (!split || parsed != 11) return std::nullopt;
  return usage;
}

std::optional<StatusUids> parse_status_uids(std::string_view text) {
  constexpr std::string_view kKey = "Uid:";
  std::size_t at = text.starts_with(kKey) ? 0 : text.find("\nUid:");
  if (at == std::string_view::npos) return std::nullopt;
  if (at != 0) ++at;  // past the newline
  std::string_view rest = text.substr(at + kKey.size());
  rest = rest.substr(0, rest.find('\n'));
  // "Uid:\t<real>\t<effective>\t<saved>\t<fs>"
  std::uint32_t uids[2] = {};
  for (std::uint32_t& uid : uids) {
    while (!rest.empty() && (rest.front() == '\t' || rest.front() == ' ')) rest.remove_prefix(1);
    const auto end = rest.find_first_of("\t ");
    if (!parse_number(rest.substr(0, end), uid)) return std::nullopt;
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  return StatusUids{uids[0], uids[1]};
}

void split_cmdline(std::string_view bytes, std::vector<std::string>& args) {
  std::size_t count = 0;
  while (!bytes.empty()) {
    const auto nul = bytes.find('\0');
    if (count == args.size()) args.emplace_back();  // keep the existing strings' capacity
    args[count++].assign(bytes.substr(0, nul));
    if (nul == std::string_view::npos) break;
    bytes.remove_prefix(nul + 1);
  }
  args.resize(count);
}

// ---- ProcReader --------------------------------------------------------------------------------

ProcReader::ProcReader(std::string proc_root) : root_(std::move(proc_root)) {
  path_.reserve(root_.size() + 64);
  buffer_.resize(kBufferBytes);
}

long ProcReader::clock_ticks_per_second() { return ::sysconf(_SC_CLK_TCK); }

int ProcReader::open_pid(std::int32_t pid, const char* leaf, int flags) {
  char digits[16];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, pid);
  path_.assign(root_).append("/").append(digits, ec == std::errc() ? end : digits);
  if (leaf != nullptr) path_.append("/").append(leaf);
  return ::open(path_.c_str(), flags | O_CLOEXEC);
}

ReadError ProcReader::slurp(int dir_fd, const char* name, std::size_t limit) {
  used_ = 0;
  truncated_ = false;
  const UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return error_from_errno(errno);
  // One byte more than the limit tells a file of exactly `limit` bytes from a longer one. The buffer
  // grows for a long command line (a Java classpath) and keeps its size for the next one. One read()
  // per buffer: the kernel generates these files whole on the first read (seq_file single_open;
  // cmdline copies as much as asked), so a short read is the end, and a second read() would only
  // return the 0 that says so.
  for (;;) {
    const std::size_t want = std::min(limit + 1, buffer_.size());
    ssize_t got = 0;
    do {
      got = ::read(fd.get(), buffer_.data() + used_, want - used_);
    } while (got < 0 && errno == EINTR);
    if (got < 0) return error_from_errno(errno);
    used_ += static_cast<std::size_t>(got);
    if (used_ < want || want == limit + 1) break;
    buffer_.resize(std::min(buffer_.size() * 2, limit + 1));
  }
  if (used_ > limit) {
    used_ = limit;
    truncated_ = true;
  }
  return ReadError::kNone;
}

ReadError ProcReader::read_stat_at(int dir_fd, std::uint64_t& start_time_ticks, std::int32_t& ppid,
                                   std::string& comm, bool* exiting, bool* kernel_thread) {
  if (const ReadError error = slurp(dir_fd, "stat", kMaxStatBytes); error != ReadError::kNone) return error;
  const std::string_view text(buffer_.data(), used_);
  return parse_stat(text, start_time_ticks, ppid, comm, exiting, kernel_thread) ? ReadError::kNone : ReadError::kOther;
}

ReadError ProcReader::read_stat(std::int32_t pid, std::uint64_t& start_time_ticks, std::int32_t& ppid,
                                std::string& comm) {
  if (pid <= 0) return ReadError::kGone;
  const UniqueFd dir(open_pid(pid, nullptr, O_PATH | O_DIRECTORY));
  if (dir.get() < 0) return error_from_errno(errno);
  return read_stat_at(dir.get(), start_time_ticks, ppid, comm);
}

ReadError ProcReader::read_stat_usage(std::int32_t pid, StatUsage& out) {
  if (pid <= 0) return ReadError::kGone;
  const UniqueFd dir(open_pid(pid, nullptr, O_PATH | O_DIRECTORY));
  if (dir.get() < 0) return error_from_errno(errno);
  if (const ReadError error = slurp(dir.get(), "stat", kMaxStatBytes); error != ReadError::kNone) return error;
  const std::optional<StatUsage> usage = parse_stat_usage(std::string_view(buffer_.data(), used_));
  if (!usage) return ReadError::kOther;
  out = *usage;
  return ReadError::kNone;
}

void ProcReader::read_cmdline_at(int dir_fd, ProcessInfo& out) {
  out.cmdline_truncated = false;
  if (parts_.cmdline && slurp(dir_fd, "cmdline", kMaxCmdlineBytes) == ReadError::kNone) {
    split_cmdline(std::string_view(buffer_.data(), used_), out.cmdline);
    out.cmdline_truncated = truncated_;
  } else {
    out.cmdline.clear();
  }
}

void ProcReader::read_exe_at(int dir_fd, ProcessInfo& out) const {
  // exe: empty for kernel threads and zombies (ENOENT) and without ptrace rights (EACCES).
  out.exe.clear();
  char link[PATH_MAX];
  const ssize_t length = parts_.exe ? ::readlinkat(dir_fd, "exe", link, sizeof link) : -1;
  if (length > 0) {
    out.exe.assign(link, static_cast<std::size_t>(length));
    constexpr std::string_view kDeleted = " (deleted)";
    if (out.exe.size() > kDeleted.size() && out.exe.ends_with(kDeleted)) out.exe.resize(out.exe.size() - kDeleted.size());
  }
  // The binary's identity as taskstats reports it, so exit records can be matched to this path.
  out.exe_device = 0;
  out.exe_inode = 0;
  struct stat binary {};
  if (parts_.exe_identity && !out.exe.empty() && ::fstatat(dir_fd, "exe", &binary, 0) == 0) {
    out.exe_device = binary.st_dev;
    out.exe_inode = binary.st_ino;
  }
}

void ProcReader::read_uids_at(int dir_fd, ProcessInfo& out) {
  // Uids: see the header. The owner shortcut saves reading status for every non-root process.
  out.ruid = 0;
  out.euid = 0;
  if (!parts_.uids) return;
  struct stat dir_info {};
  const bool have_owner = ::fstat(dir_fd, &dir_info) == 0;
  std::optional<StatusUids> uids;
  if (have_owner && dir_info.st_uid != 0) {
    uids = StatusUids{dir_info.st_uid, dir_info.st_uid};
  } else if (slurp(dir_fd, "status", kMaxStatusBytes) == ReadError::kNone) {
    uids = parse_status_uids(std::string_view(buffer_.data(), used_));
  }
  if (uids) {
    out.ruid = uids->real;
    out.euid = uids->effective;
  }
}

ReadError ProcReader::read_process(std::int32_t pid, bool with_cgroup, ProcessInfo& out) {
  if (pid <= 0) return ReadError::kGone;
  // Everything is read relative to this one directory: it pins the process, so if the pid is
  // reused meanwhile the reads below fail (kGone) instead of mixing two processes.
  const UniqueFd dir(open_pid(pid, nullptr, O_PATH | O_DIRECTORY));
  if (dir.get() < 0) return error_from_errno(errno);

  // cmdline first: an exiting process loses it (its memory is released) before anything else,
  // while stat and comm stay readable until it is reaped.
  // Failing here is not final: stat below decides whether the process is there.
  read_cmdline_at(dir.get(), out);
  read_exe_at(dir.get(), out);

  // cgroup before stat: a process that exits in between shows the root cgroup, and stat then
  // says it is exiting (see ProcessInfo::exiting), so a wrong cgroup never goes unflagged.
  out.cgroup.clear();
  if (with_cgroup) (void)read_cgroup_at(dir.get(), out.cgroup);

  // stat decides: without it we know nothing reliable (comm comes from here too).
  bool exiting = false;
  bool kernel_thread = false;
  if (const ReadError error =
          read_stat_at(dir.get(), out.start_time_ticks, out.ppid, out.comm, &exiting, &kernel_thread);
      error != ReadError::kNone) {
    return error;
  }
  out.exiting = exiting;
  out.kernel_thread = kernel_thread;
  // The same stat text still in the buffer: what the process has used so far.
  out.usage = parse_stat_usage(std::string_view(buffer_.data(), used_)).value_or(StatUsage{});
  read_uids_at(dir.get(), out);
  return ReadError::kNone;
}

ReadError ProcReader::read_cgroup(std::int32_t pid, std::string& out) {
  out.clear();
  if (pid <= 0) return ReadError::kGone;
  const UniqueFd dir(open_pid(pid, nullptr, O_PATH | O_DIRECTORY));
  if (dir.get() < 0) return error_from_errno(errno);
  if (const ReadError error = read_cgroup_at(dir.get(), out); error != ReadError::kNone) return error;
  // Read after the cgroup: a process that exited meanwhile is caught here too.
  std::uint64_t start = 0;
  std::int32_t ppid = 0;
  bool exiting = false;
  if (const ReadError error = read_stat_at(dir.get(), start, ppid, stat_comm_, &exiting); error != ReadError::kNone) {
    return error;
  }
  if (exiting) {
    out.clear();
    return ReadError::kGone;  // an exiting task shows the root cgroup, not the one it lived in
  }
  return ReadError::kNone;
}

ReadError ProcReader::read_cgroup_at(int dir_fd, std::string& out) {
  const ReadError error = slurp(dir_fd, "cgroup", kMaxCgroupBytes);
  if (error != ReadError::kNone) return error;
  std::string_view text(buffer_.data(), used_);
  if (truncated_) text = text.substr(0, text.rfind('\n') + 1);  // npos + 1 == 0: nothing whole
  out.assign(text);
  return ReadError::kNone;
}

void ProcReader::for_each_pid(const std::function<void(std::int32_t)>& fn) {
  const Dir dir(root_.c_str());
  if (!dir.get()) return;
  while (const dirent* entry = ::readdir(dir.get())) {
    if (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN) continue;
    if (!all_digits(entry->d_name)) continue;
    std::int32_t pid = 0;
    if (parse_number(std::string_view(entry->d_name), pid) && pid > 0) fn(pid);
  }
}

std::optional<std::uint64_t> ProcReader::read_proc_stat_value(std::string_view key) {
  path_.assign(root_).append("/stat");
  return read_stat_value(path_.c_str(), buffer_, key);
}

std::optional<std::uint64_t> ProcReader::read_kernel_forks() { return read_proc_stat_value("processes"); }

std::optional<std::uint64_t> ProcReader::read_boot_time() { return read_proc_stat_value("btime"); }

SelfUsage read_self_usage(const std::string& proc_root) {
  SelfUsage out;
  char buffer[1024];  // stat is ~300 bytes; /proc/stat is read in chunks of it
  std::string path = proc_root + "/self/stat";
  std::optional<StatUsage> usage;
  if (const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)); fd.get() >= 0) {
    const ssize_t got = read_up_to(fd.get(), buffer, sizeof buffer);
    if (got > 0) usage = parse_stat_usage(std::string_view(buffer, static_cast<std::size_t>(got)));
  }
  const double ticks = static_cast<double>(ProcReader::clock_ticks_per_second());
  if (usage && ticks > 0) {
    path = proc_root + "/stat";
    const double boot_time = static_cast<double>(read_stat_value(path.c_str(), buffer, "btime").value_or(0));
    out.stat = SelfUsage::Stat{
        .cpu_seconds = static_cast<double>(usage->utime_ticks + usage->stime_ticks) / ticks,
        .virtual_memory_bytes = static_cast<double>(usage->vsize_bytes),
        .resident_memory_bytes = static_cast<double>(usage->rss_pages) * static_cast<double>(::sysconf(_SC_PAGESIZE)),
        .start_time_seconds = boot_time + static_cast<double>(usage->start_time_ticks) / ticks,
    };
  }
  // Counted with nothing else of ours open: the directory's own descriptor is the one to leave out.
  path = proc_root + "/self/fd";
  if (const Dir fds(path.c_str()); fds.get() != nullptr) {
    std::uint64_t entries = 0;
    while (const dirent* entry = ::readdir(fds.get())) {
      if (entry->d_name[0] != '.') ++entries;
    }
    out.open_fds = entries > 0 ? entries - 1 : 0;
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) out.max_fds = limit.rlim_cur;
  return out;
}

}  // namespace procevents::procfs
