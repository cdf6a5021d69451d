// The attribution labels: one row per label, read by the config loader (names, default caps), the
// aggregator (what each needs and how its value is extracted), the metrics layer (label names)
// and the docs check (tests/deploy/check_catalogue.py parses the names from this table). A new
// label is one row here plus, if it comes from somewhere new, its source.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "attribution/cgroup_identity.h"

namespace procevents::attribution {

enum class LabelSource : unsigned char {
  kCgroup,  // a field of the process's classified cgroup: needs /proc/<pid>/cgroup
  kUser,    // the user name of the process's uid
};

struct AttributionLabel {
  const char* name;           // the Prometheus label name and the config key
  std::size_t default_limit;  // distinct values before new ones become "other"
  LabelSource source;
  std::string CgroupIdentity::*cgroup_field;  // for kCgroup: which field; null otherwise
};

inline constexpr auto kLabels = std::to_array<AttributionLabel>({
    {"unit", 200, LabelSource::kCgroup, &CgroupIdentity::unit},
    {"container_id", 200, LabelSource::kCgroup, &CgroupIdentity::container_id},
    {"pod_uid", 200, LabelSource::kCgroup, &CgroupIdentity::pod_uid},
    {"user", 100, LabelSource::kUser, nullptr},
    // From the kubelet's log directories, by the cgroup's pod UID and container ID (kubelet_names.h).
    {"namespace", 200, LabelSource::kCgroup, &CgroupIdentity::pod_namespace},
    {"pod", 200, LabelSource::kCgroup, &CgroupIdentity::pod_name},
    {"container", 200, LabelSource::kCgroup, &CgroupIdentity::container_name},
});
inline constexpr std::size_t kLabelCount = kLabels.size();

/// Whether label `index` is named through the kubelet's directories (KubeletNames) rather than the path.
constexpr bool is_kubelet_name(std::size_t index) {
  const auto field = kLabels[index].cgroup_field;
  return field == &CgroupIdentity::pod_namespace || field == &CgroupIdentity::pod_name ||
         field == &CgroupIdentity::container_name;
}

/// The row index of label `name`; nullopt when there is no such label.
constexpr std::optional<std::size_t> label_index(std::string_view name) {
  for (std::size_t i = 0; i < kLabelCount; ++i) {
    if (name == kLabels[i].name) return i;
  }
  return std::nullopt;
}

/// "unit, container_id, pod_uid, user, ...": for error messages.
inline std::string label_names() {
  std::string names;
  for (const AttributionLabel& label : kLabels) {
    if (!names.empty()) names += ", ";
    names += label.name;
  }
  return names;
}

/// The value of label `index` for a process with this cgroup and user name.
inline std::string_view label_value(std::size_t index, const CgroupIdentity& cgroup, std::string_view user) {
  const AttributionLabel& label = kLabels[index];
  return label.source == LabelSource::kCgroup ? std::string_view(cgroup.*label.cgroup_field) : user;
}

}  // namespace procevents::attribution
