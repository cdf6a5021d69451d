// uid -> user name, for the "user" label and process-exporter's {{.Username}}.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace procevents::procfs {

/// Looks names up with getpwuid_r (so /etc/passwd, or whatever NSS says) and caches them, bounded:
/// when `capacity` names are cached the cache is emptied and refilled (uids are few in practice).
/// A uid without a name is given as its number ("1234"), and that answer is cached too.
///
/// Threading: single-threaded (the aggregator's).
class UserNames {
 public:
  explicit UserNames(std::size_t capacity = 4096) : capacity_(capacity == 0 ? 1 : capacity) {}

  /// The name for `uid`. The view is valid until the next call.
  std::string_view name_for(std::uint32_t uid);

  std::size_t size() const { return names_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_map<std::uint32_t, std::string> names_;
  std::vector<char> scratch_;  // getpwuid_r's string buffer, grown on ERANGE
};

}  // namespace procevents::procfs
