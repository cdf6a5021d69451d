// Helpers shared by the /proc readers of this layer (not part of its public interface): errno to
// ReadError, strict number parsing, stat's field splitter, a DIR* owner.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <string_view>

#include "procfs/procfs.h"

namespace procevents::procfs::detail {

inline ReadError error_from_errno(int error) {
  switch (error) {
    case ENOENT:
    case ESRCH: return ReadError::kGone;
    case EACCES:
    case EPERM: return ReadError::kPermission;
    default: return ReadError::kOther;
  }
}

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

/// The whole of `text` as a number; false for empty text, a sign where T has none, or trailing bytes.
template <class T>
bool parse_number(std::string_view text, T& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

inline bool all_digits(const char* name) {
  if (*name == '\0') return false;
  for (; *name != '\0'; ++name) {
    if (*name < '0' || *name > '9') return false;
  }
  return true;
}

/// Reads fd until EOF or `want` bytes; returns the count or -errno. EINTR is retried.
inline ssize_t read_up_to(int fd, char* buffer, std::size_t want) {
  std::size_t used = 0;
  while (used < want) {
    const ssize_t got = ::read(fd, buffer + used, want - used);
    if (got < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (got == 0) break;
    used += static_cast<std::size_t>(got);
  }
  return static_cast<ssize_t>(used);
}

/// Splits /proc/<pid>/stat text "pid (comm) state ppid ...": `comm` is everything between the first
/// '(' and the LAST ')' (it may hold ')', spaces or newlines); fn(number, token) is called for each
/// field after it, from 3 (state) up to `last`. False when there is no "(comm)".
template <class Fn>
bool for_each_stat_field(std::string_view text, std::string_view& comm, int last, Fn&& fn) {
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return false;
  comm = text.substr(open + 1, close - open - 1);
  std::string_view rest = text.substr(close + 1);
  for (int field = 3; !rest.empty() && field <= last; ++field) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\n')) rest.remove_prefix(1);
    if (rest.empty()) break;
    const auto end = rest.find_first_of(" \n");
    fn(field, rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  return true;
}

}  // namespace procevents::procfs::detail
