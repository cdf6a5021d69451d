#include "attribution/directory_watch.h"

#include <dirent.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/clock.h"

namespace procevents::attribution {

namespace {

constexpr std::uint32_t kEntryEvents = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM;
constexpr std::uint32_t kSelfEvents = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT;

/// Closes a DIR* on scope exit (RAII for the listing).
struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

}  // namespace

DirectoryWatch::DirectoryWatch(std::string path, std::uint64_t retry_ns) : path_(std::move(path)), retry_ns_(retry_ns) {}

bool DirectoryWatch::establish(std::uint64_t now_ns) {
  if (attempted_ && now_ns - last_attempt_ns_ < retry_ns_) return false;
  attempted_ = true;
  last_attempt_ns_ = now_ns;
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) return false;
  if (::inotify_add_watch(fd.get(), path_.c_str(), kEntryEvents | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) < 0) {
    return false;
  }
  fd_ = std::move(fd);
  return true;
}

void DirectoryWatch::list(const OnEntry& on_entry, const OnReset& on_reset) {
  ++listings_;
  on_reset();
  const std::unique_ptr<DIR, DirCloser> dir(::opendir(path_.c_str()));
  if (!dir) return;
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") on_entry(name, true);
  }
}

bool DirectoryWatch::drain(const OnEntry& on_entry, bool& overflowed) {
  alignas(inotify_event) char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;  // EAGAIN: nothing (more) changed
    for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      inotify_event event;
      std::memcpy(&event, buffer + at, sizeof event);
      const char* name = buffer + at + sizeof(inotify_event);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
      if (event.mask & IN_Q_OVERFLOW) overflowed = true;
      if (event.mask & kSelfEvents) return false;
      if (event.len == 0 || !(event.mask & kEntryEvents)) continue;
      on_entry(std::string_view(name, ::strnlen(name, event.len)), (event.mask & (IN_CREATE | IN_MOVED_TO)) != 0);
    }
  }
}

void DirectoryWatch::poll(const OnEntry& on_entry, const OnReset& on_reset) {
  if (!fd_) {
    if (establish(steady_ns())) list(on_entry, on_reset);
    return;
  }
  bool overflowed = false;
  if (!drain(on_entry, overflowed)) {
    fd_.reset();  // the directory went away: known entries stay until it is listed again
    return;
  }
  if (overflowed) list(on_entry, on_reset);
}

}  // namespace procevents::attribution
