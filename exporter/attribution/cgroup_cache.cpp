#include "attribution/cgroup_cache.h"

namespace procevents::attribution {

CgroupCache::CgroupCache(std::size_t capacity, std::unique_ptr<KubeletNames> kubelet)
    : capacity_(capacity == 0 ? 1 : capacity), kubelet_(std::move(kubelet)) {
  // Reserved up front so the table never rehashes while it fills (node keys stay put either way).
  entries_.reserve(capacity_);
  order_.reserve(capacity_);
}

CgroupCache::~CgroupCache() = default;

CgroupCache::Entry CgroupCache::classify_new(std::string_view path) {
  Entry entry{classify_cgroup_path(path)};
  entry.unnamed = kubelet_ && !kubelet_->name(entry.identity);
  return entry;
}

const CgroupIdentity& CgroupCache::classify(std::string_view path) {
  if (const auto it = entries_.find(path); it != entries_.end()) {
    ++hits_;
    Entry& entry = it->second;
    if (entry.unnamed) entry.unnamed = !kubelet_->name(entry.identity);
    return entry.identity;
  }
  ++misses_;
  if (entries_.size() >= capacity_) {
    // Full: order_ is a ring; its slot `oldest_` names the oldest key, which the new one replaces.
    entries_.erase(entries_.find(std::string_view(*order_[oldest_])));
    ++evictions_;
    const auto it = entries_.emplace(std::string(path), classify_new(path)).first;
    order_[oldest_] = &it->first;
    oldest_ = (oldest_ + 1) % capacity_;
    return it->second.identity;
  }
  const auto it = entries_.emplace(std::string(path), classify_new(path)).first;
  order_.push_back(&it->first);
  return it->second.identity;
}

}  // namespace procevents::attribution
