// A bounded cache of cgroup path -> CgroupIdentity: processes in one container or service share a
// path, so classification runs once per path, not once per exec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "attribution/cgroup_identity.h"
#include "attribution/kubelet_names.h"
#include "common/string_hash.h"

namespace procevents::attribution {

/// Holds at most `capacity` paths; when full, the oldest inserted path is evicted (FIFO: simple,
/// and a flood of new cgroups cannot grow it). A hit allocates nothing.
///
/// Threading: single-threaded (the aggregator's).
class CgroupCache {
 public:
  /// With `kubelet`, identities also get their Kubernetes names; one still unnamed (its directory
  /// was not there yet) is looked up again at its next hit, until named.
  explicit CgroupCache(std::size_t capacity, std::unique_ptr<KubeletNames> kubelet = nullptr);
  ~CgroupCache();

  /// The identity of `path`, classified on a miss. The reference is valid until the next call.
  const CgroupIdentity& classify(std::string_view path);

  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }
  std::uint64_t evictions() const { return evictions_; }
  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }
  const KubeletNames* kubelet() const { return kubelet_.get(); }

 private:
  struct Entry {
    CgroupIdentity identity;
    bool unnamed = false;  // Kubernetes names still missing: looked up again at the next hit
  };
  Entry classify_new(std::string_view path);

  std::size_t capacity_;
  std::unique_ptr<KubeletNames> kubelet_;
  std::unordered_map<std::string, Entry, TransparentStringHash, std::equal_to<>> entries_;
  std::vector<const std::string*> order_;  // keys in insertion order, a ring once full (node keys do not move)
  std::size_t oldest_ = 0;                 // ring index of the next eviction
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace procevents::attribution
