#include "aggregator/scope_watch.h"

#include <algorithm>

#include "attribution/cgroup_scope.h"

namespace procevents::aggregator {

void ScopeWatch::run(std::chrono::steady_clock::time_point now, const ProcessTable& table) {
  if (!next_due() || now < next_) return;
  next_ = now + interval_;
  ++passes_;
  listed_.clear();
  // The scope's cgroup removed (a pod torn down): nothing is inside any more.
  attribution::list_cgroup_tree_pids(directory_, listed_);
  std::sort(listed_.begin(), listed_.end());
  moved_scratch_.clear();
  for (const std::int32_t pid : listed_) {
    const ProcessEntry* entry = table.find(pid);
    if (!entry || entry->group == kOutOfScopeGroup) moved_scratch_.push_back(pid);
  }
  table.for_each([&](const ProcessEntry& entry) {
    if (entry.group != kOutOfScopeGroup && !std::binary_search(listed_.begin(), listed_.end(), entry.pid)) {
      moved_scratch_.push_back(entry.pid);
    }
  });
  if (moved_scratch_.empty()) return;
  moved_ += moved_scratch_.size();
  reidentify_(moved_scratch_);
}

}  // namespace procevents::aggregator
