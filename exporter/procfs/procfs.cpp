#include "procfs/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace procevents::procfs {

namespace {

ReadError error_from_errno(int error) {
  switch (error) {
    case ENOENT:
    case ESRCH: return ReadError::kGone;
    case EACCES:
    case EPERM: return ReadError::kPermission;
    default: return ReadError::kOther;
  }
}

/// RAII for a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

/// RAII for a DIR*.
class Dir {
 public:
  explicit Dir(const char* path) : dir_(::opendir(path)) {}
  ~Dir() {
    if (dir_) ::closedir(dir_);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  DIR* get() const { return dir_; }

 private:
  DIR* dir_;
};

bool parse_number(std::string_view text, auto& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

bool parse_stat(std::string_view text, std::uint64_t& start_time_ticks, std::int32_t& ppid, std::string& comm) {
  // "pid (comm) state ppid ...": comm may contain anything, so it ends at the LAST ')'.
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return false;
  comm.assign(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 1);
  // Fields after comm start at 3 (state); we want 4 (ppid) and 22 (starttime).
  int field = 3;
  bool have_ppid = false, have_start = false;
  while (!rest.empty() && field <= 22) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = rest.find(' ');
    const std::string_view token = rest.substr(0, end);
    if (field == 4) have_ppid = parse_number(token, ppid);
    if (field == 22) {
      std::string_view trimmed = token;
      while (!trimmed.empty() && (trimmed.back() == '\n')) trimmed.remove_suffix(1);
      have_start = parse_number(trimmed, start_time_ticks);
    }
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    ++field;
  }
  return have_ppid && have_start;
}

ProcReader::ProcReader(std::string proc_root) : root_(std::move(proc_root)) {
  path_.reserve(root_.size() + 64);
  buffer_.reserve(kMaxCmdlineBytes + 1);
}

long ProcReader::clock_ticks_per_second() { return ::sysconf(_SC_CLK_TCK); }

ReadError ProcReader::slurp(const char* path, std::size_t limit) {
  buffer_.clear();
  Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return error_from_errno(errno);
  buffer_.resize(limit);
  std::size_t used = 0;
  while (used < limit) {
    const ssize_t got = ::read(fd.get(), buffer_.data() + used, limit - used);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      buffer_.clear();
      return error_from_errno(error);
    }
    if (got == 0) break;
    used += static_cast<std::size_t>(got);
  }
  buffer_.resize(used);
  return ReadError::kNone;
}

ReadError ProcReader::read_stat(std::int32_t pid, std::uint64_t& start_time_ticks, std::int32_t& ppid,
                                std::string& comm) {
  path_.assign(root_).append("/").append(std::to_string(pid)).append("/stat");
  if (const ReadError error = slurp(path_.c_str(), 1024); error != ReadError::kNone) return error;
  return parse_stat(buffer_, start_time_ticks, ppid, comm) ? ReadError::kNone : ReadError::kOther;
}

ReadError ProcReader::read_process(std::int32_t pid, bool with_cgroup, ProcessInfo& out) {
  if (pid <= 0) return ReadError::kGone;
  const std::string base = root_ + "/" + std::to_string(pid);

  // cmdline first: an exiting process loses it (its memory is released) before anything else,
  // while stat and comm stay readable until it is reaped.
  std::size_t args = 0;
  const std::string cmdline_path = base + "/cmdline";
  if (slurp(cmdline_path.c_str(), kMaxCmdlineBytes) == ReadError::kNone) {
    std::string_view rest = buffer_;
    while (!rest.empty()) {
      const auto nul = rest.find('\0');
      const std::string_view arg = rest.substr(0, nul);
      if (args == out.cmdline.size()) out.cmdline.emplace_back();  // keep the strings' capacity across calls
      out.cmdline[args++].assign(arg);
      if (nul == std::string_view::npos) break;
      rest.remove_prefix(nul + 1);
    }
  }
  out.cmdline.resize(args);

  out.exe.clear();
  char link[4096];
  const std::string exe_path = base + "/exe";
  const ssize_t length = ::readlink(exe_path.c_str(), link, sizeof link - 1);
  if (length > 0) {
    out.exe.assign(link, static_cast<std::size_t>(length));
    constexpr std::string_view kDeleted = " (deleted)";
    if (out.exe.size() > kDeleted.size() && out.exe.ends_with(kDeleted)) out.exe.resize(out.exe.size() - kDeleted.size());
  }

  // stat decides: without it we know nothing reliable (comm comes from here too).
  if (const ReadError error = read_stat(pid, out.start_time_ticks, out.ppid, out.comm); error != ReadError::kNone) {
    return error;
  }

  struct stat info {};
  out.ruid = ::stat(base.c_str(), &info) == 0 ? info.st_uid : 0;

  out.cgroup.clear();
  if (with_cgroup) {
    const std::string cgroup_path = base + "/cgroup";
    if (slurp(cgroup_path.c_str(), 8192) == ReadError::kNone) out.cgroup = buffer_;
  }
  return ReadError::kNone;
}

void ProcReader::for_each_pid(const std::function<void(std::int32_t)>& fn) {
  Dir dir(root_.c_str());
  if (!dir.get()) return;
  while (const dirent* entry = ::readdir(dir.get())) {
    std::int32_t pid = 0;
    if (parse_number(std::string_view(entry->d_name), pid) && pid > 0) fn(pid);
  }
}

std::optional<std::uint64_t> ProcReader::read_kernel_forks() {
  path_.assign(root_).append("/stat");
  if (slurp(path_.c_str(), 1 << 16) != ReadError::kNone) return std::nullopt;
  constexpr std::string_view kKey = "\nprocesses ";
  const auto at = buffer_.find(kKey);
  if (at == std::string::npos) return std::nullopt;
  std::string_view rest = std::string_view(buffer_).substr(at + kKey.size());
  rest = rest.substr(0, rest.find('\n'));
  std::uint64_t forks = 0;
  if (!parse_number(rest, forks)) return std::nullopt;
  return forks;
}

std::string_view UserNames::name_for(std::uint32_t uid) {
  if (auto it = names_.find(uid); it != names_.end()) return it->second;
  if (names_.size() >= capacity_) names_.clear();  // crude bound; uids are few in practice
  std::string name;
  passwd entry{};
  passwd* found = nullptr;
  char buffer[4096];
  if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found) {
    name = found->pw_name;
  } else {
    name = std::to_string(uid);
  }
  return names_.emplace(uid, std::move(name)).first->second;
}

}  // namespace procevents::procfs
