#include "attribution/kubelet_names.h"

#include <algorithm>

namespace procevents::attribution {

namespace {

using std::string_view;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/// RFC 1123 label (namespaces, containers): 1..63 of [a-z0-9-], alphanumeric at both ends.
bool is_dns_label(string_view s) {
  return !s.empty() && s.size() <= 63 && is_lower_alnum(s.front()) && is_lower_alnum(s.back()) &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '-'; });
}

/// RFC 1123 subdomain (pods): 1..253 of [a-z0-9-.], alphanumeric at both ends.
bool is_dns_subdomain(string_view s) {
  return !s.empty() && s.size() <= 253 && is_lower_alnum(s.front()) && is_lower_alnum(s.back()) &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '-' || c == '.'; });
}

/// A UUID with dashes, or a static pod's UID (32 hex, a hash of its manifest).
bool is_pod_uid(string_view s) {
  return (s.size() == 36 || s.size() == 32) &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_lower_hex(c) || c == '-'; });
}

bool is_container_id(string_view s) { return s.size() == 64 && std::all_of(s.begin(), s.end(), is_lower_hex); }

/// Splits "a_b_c" into its three parts; false unless there are exactly three.
bool split3(string_view s, string_view& a, string_view& b, string_view& c) {
  const auto first = s.find('_');
  if (first == string_view::npos) return false;
  const auto second = s.find('_', first + 1);
  if (second == string_view::npos || s.find('_', second + 1) != string_view::npos) return false;
  a = s.substr(0, first);
  b = s.substr(first + 1, second - first - 1);
  c = s.substr(second + 1);
  return true;
}

/// An entry of a directory appeared (`present`) or went away: into or out of `index`, which holds at
/// most KubeletNames::kMaxEntries.
template <class Index, class Value>
void apply_entry(Index& index, string_view key, Value value, bool present) {
  if (!present) {
    if (const auto it = index.find(key); it != index.end()) index.erase(it);
  } else if (index.size() < KubeletNames::kMaxEntries) {
    index.insert_or_assign(std::string(key), std::move(value));
  }
}

}  // namespace

std::optional<PodLogName> parse_pod_log_directory(string_view name) {
  PodLogName out;
  if (!split3(name, out.pod_namespace, out.pod, out.uid)) return std::nullopt;
  if (!is_dns_label(out.pod_namespace) || !is_dns_subdomain(out.pod) || !is_pod_uid(out.uid)) return std::nullopt;
  return out;
}

std::optional<ContainerLogName> parse_container_log_file(string_view name) {
  if (!name.ends_with(".log")) return std::nullopt;
  name.remove_suffix(4);
  ContainerLogName out;
  string_view container_and_id;
  if (!split3(name, out.pod, out.pod_namespace, container_and_id)) return std::nullopt;
  const auto dash = container_and_id.rfind('-');
  if (dash == string_view::npos) return std::nullopt;
  out.container = container_and_id.substr(0, dash);
  out.id = container_and_id.substr(dash + 1);
  if (!is_dns_subdomain(out.pod) || !is_dns_label(out.pod_namespace) || !is_dns_label(out.container) ||
      !is_container_id(out.id)) {
    return std::nullopt;
  }
  return out;
}

KubeletNames::KubeletNames(KubeletDirectories directories)
    : pod_logs_(std::move(directories.pod_logs)), container_logs_(std::move(directories.container_logs)) {
  refresh();
}

bool KubeletNames::lookup(CgroupIdentity& id) const {
  bool complete = true;
  if (!id.pod_uid.empty() && id.pod_name.empty()) {
    if (const auto it = pods_.find(string_view(id.pod_uid)); it != pods_.end()) {
      id.pod_namespace = it->second.pod_namespace;
      id.pod_name = it->second.pod;
    } else {
      complete = false;
    }
  }
  // Only containers of a pod have kubelet logs (a pod's sandbox, "pause", has none either).
  if (!id.pod_uid.empty() && !id.container_id.empty() && id.container_name.empty()) {
    if (const auto it = containers_.find(string_view(id.container_id)); it != containers_.end()) {
      id.container_name = it->second;
    } else {
      complete = false;
    }
  }
  return complete;
}

bool KubeletNames::name(CgroupIdentity& id) {
  if (lookup(id)) return true;
  ++misses_;
  refresh();
  return lookup(id);
}

void KubeletNames::refresh() {
  pod_logs_.poll(
      [this](string_view entry, bool present) {
        if (const std::optional<PodLogName> pod = parse_pod_log_directory(entry)) {
          apply_entry(pods_, pod->uid, PodNames{std::string(pod->pod_namespace), std::string(pod->pod)}, present);
        }
      },
      [this] { pods_.clear(); });
  container_logs_.poll(
      [this](string_view entry, bool present) {
        if (const std::optional<ContainerLogName> log = parse_container_log_file(entry)) {
          apply_entry(containers_, log->id, std::string(log->container), present);
        }
      },
      [this] { containers_.clear(); });
}

}  // namespace procevents::attribution
