// Follows the entries of one directory with inotify, without ever blocking: poll() reports what
// changed since the last call. Used for the kubelet's log directories (kubelet_names.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace procevents::attribution {

/// Owns its inotify fd (non-blocking). The directory may be missing at first or vanish: the watch
/// is (re)established by poll() at most once per `retry_ns`, and each time it is, the directory is
/// listed in full (after the watch is in place, so nothing created meanwhile is missed).
///
/// Threading: single-threaded (the aggregator's).
class DirectoryWatch {
 public:
  /// `present` true: the entry exists (created, moved in, or listed); false: it went away.
  using OnEntry = std::function<void(std::string_view name, bool present)>;
  /// Called before a full listing: what was known may be stale.
  using OnReset = std::function<void()>;

  explicit DirectoryWatch(std::string path, std::uint64_t retry_ns = 1'000'000'000);

  /// Applies what changed since the last call: one read() when the watch is up (EAGAIN when
  /// nothing did); a listing when it is (re)established or the kernel's event queue overflowed.
  void poll(const OnEntry& on_entry, const OnReset& on_reset);

  bool watching() const { return fd_.valid(); }
  const std::string& path() const { return path_; }
  std::uint64_t listings() const { return listings_; }

 private:
  bool establish(std::uint64_t now_ns);
  void list(const OnEntry& on_entry, const OnReset& on_reset);
  /// False when the watch is gone (directory removed or moved): the caller re-establishes it.
  bool drain(const OnEntry& on_entry, bool& overflowed);

  std::string path_;
  std::uint64_t retry_ns_;
  UniqueFd fd_;
  std::uint64_t last_attempt_ns_ = 0;
  bool attempted_ = false;
  std::uint64_t listings_ = 0;
};

}  // namespace procevents::attribution
