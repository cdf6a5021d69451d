// The groups processes are counted in (process-exporter's grouper): one per name and attribution
// labels, created on first use, at most max_groups named ones (the rest overflow to "other"), each
// attribution label's values bounded by its limiter. Owns every group's counters and live count.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "aggregator/process_table.h"
#include "aggregator/snapshot.h"

namespace procevents::attribution {
struct CgroupIdentity;
class LabelLimiter;
}

namespace procevents::aggregator {

using AttributionViews = std::array<std::string_view, kAttributionLabelCount>;

struct GroupRegistryOptions {
  std::size_t max_groups = 500;
  std::size_t lifetime_buckets = 0;  // histogram buckets of every group's counters
  std::size_t peak_rss_buckets = 0;
  std::array<bool, kAttributionLabelCount> attribution{};  // by attribution::kLabels row
  std::array<std::size_t, kAttributionLabelCount> attribution_limits{};
};

class GroupRegistry {
 public:
  static constexpr std::string_view kOther = "other";
  static constexpr std::string_view kUnknown = "unknown";

  struct Group {
    std::string name;
    std::array<std::string, kAttributionLabelCount> attribution;
    std::int64_t live = 0;
    GroupCounters counters;
  };

  explicit GroupRegistry(GroupRegistryOptions options);
  ~GroupRegistry();
  GroupRegistry(const GroupRegistry&) = delete;
  GroupRegistry& operator=(const GroupRegistry&) = delete;

  /// The group of `name` with `attribution` (values of disabled labels ignored), created if new;
  /// "other" when max_groups named groups exist already.
  GroupId find_or_add(std::string_view name, const AttributionViews& attribution);
  GroupId named(std::string_view name) { return find_or_add(name, {}); }
  /// Null for kIgnoredGroup (a process counted nowhere).
  Group* at(GroupId group) noexcept { return group < groups_.size() ? &groups_[group] : nullptr; }
  const Group* at(GroupId group) const noexcept { return group < groups_.size() ? &groups_[group] : nullptr; }
  std::size_t size() const noexcept { return groups_.size(); }
  /// The counters of `group`; null for kIgnoredGroup.
  GroupCounters* counters(GroupId group) noexcept {
    Group* g = at(group);
    return g ? &g->counters : nullptr;
  }
  /// Applies `fn` to the counters of `group`, if it is one.
  template <class Fn>
  void count(GroupId group, Fn&& fn) {
    if (Group* g = at(group)) fn(g->counters);
  }
  /// Whether a naming entry gave `group` its name (not "other", "unknown", nor ignored).
  bool is_named(GroupId group) const noexcept;

  /// The attribution labels of group `base` (none without one), with cgroup-sourced labels from
  /// `cgroup` and the user label from `user` where given, admitted through the limiters. Views into
  /// the registry's scratch: valid until the next call.
  AttributionViews attribution_labels(std::optional<GroupId> base, const attribution::CgroupIdentity* cgroup,
                                      std::optional<std::string_view> user);
  /// `group` with its cgroup-sourced attribution labels taken from `cgroup` (the others kept).
  GroupId with_cgroup_labels(GroupId group, const attribution::CgroupIdentity& cgroup);

  /// Counts a process live in `group` (admitted to the table) or no longer (gone).
  void add_live(GroupId group) noexcept {
    if (Group* g = at(group)) ++g->live;
  }
  void drop_live(GroupId group) noexcept {
    if (Group* g = at(group)) --g->live;
  }
  /// Moves tracked process `entry` (and its live count) to `to`.
  void move(ProcessEntry& entry, GroupId to) noexcept;
  /// Moves `entry` to its group with the cgroup-sourced labels of `cgroup`: what its later children
  /// inherit when it has moved cgroups since we last read it.
  void relabel(ProcessEntry& entry, const attribution::CgroupIdentity& cgroup) {
    move(entry, with_cgroup_labels(entry.group, cgroup));
  }

  bool attribution_enabled(std::size_t label) const noexcept { return options_.attribution[label]; }
  /// Fills the groups, group overflows and attribution overflows of `out`.
  void fill(Snapshot& out) const;

 private:
  GroupRegistryOptions options_;
  std::vector<Group> groups_;
  std::unordered_map<std::string, GroupId> index_;  // key: name and enabled labels, see find_or_add
  std::optional<GroupId> other_;                     // created at the first overflow if not before
  std::size_t named_groups_ = 0;                     // groups counted against max_groups
  std::uint64_t overflows_ = 0;
  std::array<std::unique_ptr<attribution::LabelLimiter>, kAttributionLabelCount> limiters_;
  std::string key_scratch_;
  std::string name_scratch_;
  std::array<std::string, kAttributionLabelCount> label_scratch_;  // inherited labels, reused
};

}  // namespace procevents::aggregator
