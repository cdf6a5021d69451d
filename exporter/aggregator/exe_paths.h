// Program paths by (device, inode), learned from /proc reads of live processes, so that a process
// known only from its exit record (which carries the binary's device and inode, not its path) can
// still be matched by `exe` rules. Bounded: when full it starts over (binaries are few; a host
// that runs more than `capacity` distinct ones relearns them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace procevents::aggregator {

class ExePaths {
 public:
  explicit ExePaths(std::size_t capacity) : capacity_(capacity) { paths_.reserve(capacity); }

  /// Remembers `path` for the binary (device, inode). Allocates only for a binary not yet known.
  void learn(std::uint64_t device, std::uint64_t inode, std::string_view path) {
    if (device == 0 && inode == 0) return;
    const Key key{device, inode};
    if (auto it = paths_.find(key); it != paths_.end()) {
      if (it->second != path) it->second.assign(path);
      return;
    }
    if (paths_.size() >= capacity_) paths_.clear();
    paths_.emplace(key, std::string(path));
  }

  /// The path last seen for (device, inode); empty when unknown.
  std::string_view find(std::uint64_t device, std::uint64_t inode) const {
    const auto it = paths_.find(Key{device, inode});
    return it == paths_.end() ? std::string_view() : std::string_view(it->second);
  }

  std::size_t size() const noexcept { return paths_.size(); }

 private:
  struct Key {
    std::uint64_t device;
    std::uint64_t inode;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const noexcept {
      return static_cast<std::size_t>(key.inode * 0x9E3779B97F4A7C15ull ^ key.device);
    }
  };
  std::size_t capacity_;
  std::unordered_map<Key, std::string, KeyHash> paths_;
};

}  // namespace procevents::aggregator
