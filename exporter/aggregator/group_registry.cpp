#include "aggregator/group_registry.h"

#include "attribution/cgroup.h"

namespace procevents::aggregator {

namespace {
const attribution::CgroupIdentity kNoCgroup;  // a process whose cgroup is not read
}  // namespace

GroupRegistry::GroupRegistry(GroupRegistryOptions options) : options_(std::move(options)) {
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (options_.attribution[i]) {
      limiters_[i] = std::make_unique<attribution::LabelLimiter>(options_.attribution_limits[i]);
    }
  }
  index_.reserve(options_.max_groups * 2 + 8);
  groups_.reserve(options_.max_groups + 2);
}

GroupRegistry::~GroupRegistry() = default;

GroupId GroupRegistry::find_or_add(std::string_view name, const AttributionViews& attribution) {
  // Key: the name and every enabled attribution value, separated by a byte that cannot occur in them.
  key_scratch_.assign(name);
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (!options_.attribution[i]) continue;
    key_scratch_.push_back('\x1f');
    key_scratch_.append(attribution[i]);
  }
  if (auto it = index_.find(key_scratch_); it != index_.end()) return it->second;

  const bool is_other = name == kOther;
  if (!is_other && named_groups_ >= options_.max_groups) {
    ++overflows_;
    if (!other_) other_ = find_or_add(kOther, {});
    return *other_;
  }
  const auto index = static_cast<GroupId>(groups_.size());
  Group& group = groups_.emplace_back();
  group.name.assign(name);
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    if (options_.attribution[i]) group.attribution[i].assign(attribution[i]);
  }
  group.counters.lifetime.buckets.assign(options_.lifetime_buckets, 0);
  group.counters.peak_rss.buckets.assign(options_.peak_rss_buckets, 0);
  index_.emplace(key_scratch_, index);
  if (!is_other) ++named_groups_;
  if (is_other && !other_) other_ = index;
  return index;
}

bool GroupRegistry::is_named(GroupId group) const noexcept {
  const Group* g = at(group);
  return g && g->name != kOther && g->name != kUnknown;
}

AttributionViews GroupRegistry::attribution_labels(std::optional<GroupId> base, const attribution::CgroupIdentity* cgroup,
                                                   std::optional<std::string_view> user) {
  const Group* from = base ? at(*base) : nullptr;
  AttributionViews labels{};
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    label_scratch_[i].assign(from ? std::string_view(from->attribution[i]) : std::string_view());
    labels[i] = label_scratch_[i];
    if (!limiters_[i]) continue;
    // Valid UTF-8 already: see classify_cgroup_path, UserNames.
    const bool from_cgroup = attribution::kLabels[i].source == attribution::LabelSource::kCgroup;
    if (from_cgroup ? cgroup != nullptr : user.has_value()) {
      labels[i] = limiters_[i]->admit(attribution::label_value(i, cgroup ? *cgroup : kNoCgroup, user.value_or("")));
    }
  }
  return labels;
}

GroupId GroupRegistry::with_cgroup_labels(GroupId group, const attribution::CgroupIdentity& cgroup) {
  const Group* from = at(group);
  if (!from) return group;
  name_scratch_.assign(from->name);
  return find_or_add(name_scratch_, attribution_labels(group, &cgroup, std::nullopt));
}

void GroupRegistry::move(ProcessEntry& entry, GroupId to) noexcept {
  if (entry.group == to) return;
  drop_live(entry.group);
  add_live(to);
  entry.group = to;
}

void GroupRegistry::fill(Snapshot& out) const {
  out.groups.resize(groups_.size());
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    out.groups[i].name = groups_[i].name;
    out.groups[i].attribution = groups_[i].attribution;
    out.groups[i].live_processes = groups_[i].live;
    out.groups[i].counters = groups_[i].counters;
  }
  out.group_overflows = overflows_;
  for (std::size_t i = 0; i < kAttributionLabelCount; ++i) {
    out.attribution_overflows[i] = limiters_[i] ? limiters_[i]->overflows() : 0;
  }
}

}  // namespace procevents::aggregator
