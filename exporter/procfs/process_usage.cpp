#include "procfs/process_usage.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <algorithm>
#include <charconv>
#include <string_view>

#include "common/unique_fd.h"
#include "procfs/proc_text.h"

namespace procevents::procfs {

namespace {

using detail::error_from_errno;
using detail::parse_number;

constexpr std::size_t kInitialBufferBytes = 8192;  // status is ~1.5 KiB
constexpr std::size_t kMaxBufferBytes = 1 << 20;   // status grows with the CPU count (Cpus_allowed)

/// The text after `key` on the line that starts with it ("VmSwap:\t    12 kB" -> "12 kB"), trimmed.
std::optional<std::string_view> line_value(std::string_view text, std::string_view key) {
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    if (line.starts_with(key)) {
      std::string_view value = line.substr(key.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      return value;
    }
    at = end + 1;
  }
  return std::nullopt;
}

template <class T>
bool line_number(std::string_view text, std::string_view key, T& out) {
  const std::optional<std::string_view> value = line_value(text, key);
  return value && parse_number(*value, out);
}

}  // namespace

ProcessState process_state(char stat_state) noexcept {
  switch (stat_state) {
    case 'R': return ProcessState::kRunning;
    case 'S': return ProcessState::kSleeping;
    case 'D': return ProcessState::kWaiting;
    case 'Z': return ProcessState::kZombie;
    default: return ProcessState::kOther;
  }
}

UsageVector usage_vector(const StatUsage& stat, const std::optional<ProcessUsage::Io>& io,
                         const std::optional<ProcessUsage::Status>& status) {
  static const std::uint64_t kMicrosPerTick = [] {
    const long ticks = ProcReader::clock_ticks_per_second();
    return ticks > 0 ? static_cast<std::uint64_t>(1'000'000 / ticks) : 10'000;
  }();
  UsageVector usage{};
  usage[index(UsageCounter::kCpuUser)] = stat.utime_ticks * kMicrosPerTick;
  usage[index(UsageCounter::kCpuSystem)] = stat.stime_ticks * kMicrosPerTick;
  usage[index(UsageCounter::kMinorFaults)] = stat.minor_faults;
  usage[index(UsageCounter::kMajorFaults)] = stat.major_faults;
  if (io) {
    usage[index(UsageCounter::kReadBytes)] = io->read_bytes;
    usage[index(UsageCounter::kWriteBytes)] = io->write_bytes;
  }
  if (status) {
    usage[index(UsageCounter::kVoluntarySwitches)] = status->voluntary_switches;
    usage[index(UsageCounter::kInvoluntarySwitches)] = status->involuntary_switches;
  }
  return usage;
}

std::optional<ProcessUsage::Status> parse_status_usage(std::string_view text) {
  ProcessUsage::Status status;
  if (!line_number(text, "voluntary_ctxt_switches:", status.voluntary_switches) ||
      !line_number(text, "nonvoluntary_ctxt_switches:", status.involuntary_switches)) {
    return std::nullopt;
  }
  if (const std::optional<std::string_view> swap = line_value(text, "VmSwap:")) {
    std::uint64_t kib = 0;
    if (!swap->ends_with(" kB") || !parse_number(swap->substr(0, swap->size() - 3), kib)) return std::nullopt;
    status.swapped_bytes = kib * 1024;
  }
  return status;
}

std::optional<ProcessUsage::Io> parse_io(std::string_view text) {
  ProcessUsage::Io io;
  if (!line_number(text, "read_bytes:", io.read_bytes) || !line_number(text, "write_bytes:", io.write_bytes)) {
    return std::nullopt;
  }
  return io;
}

std::optional<std::uint64_t> parse_open_files_limit(std::string_view text) {
  // "Max open files            1024                 524288               files     "
  std::optional<std::string_view> value = line_value(text, "Max open files");
  if (!value) return std::nullopt;
  const std::string_view soft = value->substr(0, value->find_first_of(" \t"));
  if (soft == "unlimited") return 0;
  std::uint64_t limit = 0;
  if (!parse_number(soft, limit)) return std::nullopt;
  return limit;
}

UsageReader::UsageReader(std::string proc_root) : root_(std::move(proc_root)), buffer_(kInitialBufferBytes) {
  path_.reserve(root_.size() + 16);
  struct statfs filesystem {};
  fd_count_in_size_ = ::statfs(root_.c_str(), &filesystem) == 0 && filesystem.f_type == PROC_SUPER_MAGIC;
}

ReadError UsageReader::slurp_path(const char* path) { return slurp(AT_FDCWD, path); }

ReadError UsageReader::slurp(int dir_fd, const char* name) {
  used_ = 0;
  const UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return error_from_errno(errno);
  // These files are generated whole on the first read (seq_file): a full buffer means a longer file.
  for (;;) {
    const ssize_t got = detail::read_up_to(fd.get(), buffer_.data() + used_, buffer_.size() - used_);
    if (got < 0) return error_from_errno(static_cast<int>(-got));
    used_ += static_cast<std::size_t>(got);
    if (used_ < buffer_.size() || buffer_.size() >= kMaxBufferBytes) return ReadError::kNone;
    buffer_.resize(buffer_.size() * 2);
  }
}

ReadError UsageReader::read_fds(int dir_fd, ProcessUsage::Fds& out) {
  // Since Linux 6.2 the fd directory's size is the number of open descriptors: one fstatat, no
  // listing. Older kernels (and a process with none) report 0: then count the entries.
  out.open = 0;
  if (fd_count_in_size_) {
    struct stat info {};
    if (::fstatat(dir_fd, "fd", &info, 0) != 0) return error_from_errno(errno);
    out.open = static_cast<std::uint64_t>(info.st_size);
  }
  if (out.open == 0) {
    const int fd = ::openat(dir_fd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return error_from_errno(errno);
    DIR* listing = ::fdopendir(fd);
    if (listing == nullptr) {
      ::close(fd);
      return error_from_errno(errno);
    }
    while (const dirent* entry = ::readdir(listing)) {
      if (entry->d_name[0] != '.') ++out.open;
    }
    ::closedir(listing);
  }
  if (const ReadError error = slurp(dir_fd, "limits"); error != ReadError::kNone) return error;
  const std::optional<std::uint64_t> limit = parse_open_files_limit(std::string_view(buffer_.data(), used_));
  if (!limit) return ReadError::kOther;
  out.limit = *limit;
  return ReadError::kNone;
}

ReadError UsageReader::read(std::int32_t pid, std::uint64_t started_by_ticks, UsageParts parts, ProcessUsage& out) {
  if (pid <= 0) return ReadError::kGone;
  char digits[16];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, pid);
  path_.assign(root_).append("/").append(digits, ec == std::errc() ? end : digits);
  // stat alone (the default families): one open, no directory to pin, three system calls a process.
  const bool stat_only = !parts.status && !parts.io && !parts.fds;
  UniqueFd dir;
  if (stat_only) {
    const std::size_t root_length = path_.size();
    path_.append("/stat");
    const ReadError error = slurp_path(path_.c_str());
    path_.resize(root_length);  // read_first_sight() reopens the directory by it
    if (error != ReadError::kNone) return error;
  } else {
    // One directory for every part: if the pid is reused meanwhile, the reads fail instead of mixing.
    dir.reset(::open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) return error_from_errno(errno);
    if (const ReadError error = slurp(dir.get(), "stat"); error != ReadError::kNone) return error;
  }
  const std::optional<StatUsage> stat = parse_stat_usage(std::string_view(buffer_.data(), used_));
  if (!stat) return ReadError::kOther;
  if (stat->start_time_ticks > started_by_ticks) return ReadError::kGone;
  out.stat = *stat;
  out.status.reset();
  out.io.reset();
  out.fds.reset();
  out.unreadable = 0;

  // A part gone means the process went away meanwhile; one refused (or malformed) is unreadable.
  const auto part = [&](ReadError error, std::uint8_t unreadable_bit) {
    if (error != ReadError::kNone && error != ReadError::kGone) out.unreadable |= unreadable_bit;
    return error != ReadError::kGone;
  };
  // A text part: read, parsed into `field`; false when the process went away meanwhile.
  const auto text_part = [&](const char* name, std::uint8_t unreadable_bit, auto parse, auto& field) {
    const ReadError error = slurp(dir.get(), name);
    if (!part(error, unreadable_bit)) return false;
    if (error == ReadError::kNone) {
      field = parse(std::string_view(buffer_.data(), used_));
      if (!field) out.unreadable |= unreadable_bit;
    }
    return true;
  };
  if (parts.status && !text_part("status", ProcessUsage::kUnreadableStatus, parse_status_usage, out.status)) {
    return ReadError::kGone;
  }
  if (parts.io && !text_part("io", ProcessUsage::kUnreadableIo, parse_io, out.io)) return ReadError::kGone;
  if (parts.fds) {
    ProcessUsage::Fds fds;
    const ReadError error = read_fds(dir.get(), fds);
    if (!part(error, ProcessUsage::kUnreadableFds)) return ReadError::kGone;
    if (error == ReadError::kNone) out.fds = fds;
  }
  return ReadError::kNone;
}

}  // namespace procevents::procfs

namespace procevents::procfs {

bool UsageReader::read_live_tasks(int dir_fd, bool with_io, UsageVector& sum) {
  sum = {};
  const int tasks_fd = ::openat(dir_fd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tasks_fd < 0) return false;
  DIR* tasks = ::fdopendir(tasks_fd);
  if (tasks == nullptr) {
    ::close(tasks_fd);
    return false;
  }
  bool complete = true;
  while (const dirent* task = ::readdir(tasks)) {
    if (!detail::all_digits(task->d_name)) continue;
    const UniqueFd task_dir(::openat(::dirfd(tasks), task->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (task_dir.get() < 0) continue;  // exited since the listing: its exit record counts it
    if (slurp(task_dir.get(), "stat") != ReadError::kNone) continue;
    const std::optional<StatUsage> stat = parse_stat_usage(std::string_view(buffer_.data(), used_));
    if (!stat) {
      complete = false;
      continue;
    }
    std::optional<ProcessUsage::Io> io;
    if (with_io && slurp(task_dir.get(), "io") == ReadError::kNone) io = parse_io(std::string_view(buffer_.data(), used_));
    const UsageVector task_usage = usage_vector(*stat, io);
    for (std::size_t u = 0; u < kUsageCounterCount; ++u) sum[u] += task_usage[u];
  }
  ::closedir(tasks);
  return complete;
}

bool UsageReader::read_first_sight(std::int32_t pid, UsageParts parts, UsageVector& whole, UsageVector& exited_tasks) {
  whole = {};
  exited_tasks = {};
  if (read(pid, kAnyStart, parts, scratch_) != ReadError::kNone) return false;
  whole = usage_vector(scratch_.stat, scratch_.io, scratch_.status);
  // The directory again, for the tasks: a reused pid in between reads a younger process's tasks,
  // whose sum is then larger than `whole`: nothing is taken for exited threads.
  const UniqueFd dir(::open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  UsageVector live{};
  if (dir.get() < 0 || !read_live_tasks(dir.get(), scratch_.io.has_value(), live)) return true;
  for (const UsageCounter counter : {UsageCounter::kCpuUser, UsageCounter::kCpuSystem, UsageCounter::kMinorFaults,
                                     UsageCounter::kMajorFaults, UsageCounter::kReadBytes, UsageCounter::kWriteBytes}) {
    const std::size_t u = index(counter);
    exited_tasks[u] = whole[u] > live[u] ? whole[u] - live[u] : 0;
  }
  return true;
}

}  // namespace procevents::procfs
