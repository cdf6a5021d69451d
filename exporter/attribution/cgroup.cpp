#include "attribution/cgroup.h"

#include <algorithm>
#include <vector>

namespace procevents::attribution {

std::string_view cgroup_kind_name(CgroupKind kind) {
  switch (kind) {
    case CgroupKind::kHost: return "host";
    case CgroupKind::kSystemdService: return "systemd_service";
    case CgroupKind::kSystemdScope: return "systemd_scope";
    case CgroupKind::kUserSession: return "user_session";
    case CgroupKind::kDocker: return "docker";
    case CgroupKind::kContainerd: return "containerd";
    case CgroupKind::kCrio: return "crio";
    case CgroupKind::kPodman: return "podman";
    case CgroupKind::kLxc: return "lxc";
    case CgroupKind::kKubepods: return "kubepods";
  }
  return "host";
}

namespace {

bool is_hex_id(std::string_view s) {
  return s.size() >= 12 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// "<prefix><id>.scope" -> id when it is hex, else empty.
std::string_view scoped_id(std::string_view component, std::string_view prefix) {
  if (!starts_with(component, prefix) || !ends_with(component, ".scope")) return {};
  const std::string_view id = component.substr(prefix.size(), component.size() - prefix.size() - 6);
  return is_hex_id(id) ? id : std::string_view{};
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

/// Pod UID from "pod<uid>" (cgroupfs, dashes) or "kubepods-<qos>-pod<uid_with_underscores>.slice" (systemd).
std::string pod_uid_of(std::string_view component) {
  std::string_view uid;
  if (starts_with(component, "pod")) {
    uid = component.substr(3);
  } else if (const auto at = component.find("-pod");
             at != std::string_view::npos && component.find("kubepods") != std::string_view::npos) {
    uid = component.substr(at + 4);
  } else {
    return {};
  }
  if (ends_with(uid, ".slice")) uid.remove_suffix(6);
  std::string out(uid);
  std::replace(out.begin(), out.end(), '_', '-');
  return out.size() >= 8 ? out : std::string{};
}

}  // namespace

CgroupIdentity classify_cgroup_path(std::string_view path) {
  CgroupIdentity id;
  id.path.assign(path);
  const std::vector<std::string_view> parts = split_path(path);
  bool in_kubepods = false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    const std::string_view previous = i > 0 ? parts[i - 1] : std::string_view{};

    // Innermost systemd unit wins.
    if (ends_with(part, ".service") || ends_with(part, ".scope")) id.unit.assign(part);
    if (starts_with(part, "user-") && ends_with(part, ".slice")) id.user_slice.assign(part);

    if (part.find("kubepods") != std::string_view::npos) {  // also kind's nested "kubelet-kubepods..."

      in_kubepods = true;
      for (const char* qos : {"burstable", "besteffort"}) {
        if (part.find(qos) != std::string_view::npos) id.qos_class = qos;
      }
    }
    if (in_kubepods && (part == "burstable" || part == "besteffort")) id.qos_class.assign(part);
    if (in_kubepods) {
      if (std::string uid = pod_uid_of(part); !uid.empty()) {
        id.pod_uid = std::move(uid);
        if (id.qos_class.empty()) id.qos_class = "guaranteed";
        id.kind = CgroupKind::kKubepods;
        id.container_id.clear();
        continue;
      }
    }

    std::string_view container;
    CgroupKind kind = CgroupKind::kHost;
    if (!(container = scoped_id(part, "docker-")).empty()) {
      kind = CgroupKind::kDocker;
    } else if (!(container = scoped_id(part, "cri-containerd-")).empty()) {
      kind = CgroupKind::kContainerd;
    } else if (!(container = scoped_id(part, "crio-conmon-")).empty() || !(container = scoped_id(part, "crio-")).empty()) {
      kind = CgroupKind::kCrio;
    } else if (!(container = scoped_id(part, "libpod-conmon-")).empty() ||
               !(container = scoped_id(part, "libpod-")).empty()) {
      kind = CgroupKind::kPodman;
    } else if (previous == "docker" && is_hex_id(part)) {
      container = part;
      kind = CgroupKind::kDocker;
    } else if (in_kubepods && is_hex_id(part) && !id.pod_uid.empty()) {
      container = part;  // cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>; the runtime is not named
      kind = CgroupKind::kContainerd;
    } else if (previous == "lxc" || starts_with(part, "lxc.payload.") || starts_with(part, "lxc.monitor.")) {
      container = previous == "lxc" ? part : part.substr(part.find('.', 4) + 1);
      kind = CgroupKind::kLxc;
    }
    if (kind != CgroupKind::kHost) {
      id.kind = kind;
      id.container_id.assign(container);
    }
  }
  if (id.kind == CgroupKind::kHost && !id.unit.empty()) {
    if (starts_with(id.unit, "session-") && ends_with(id.unit, ".scope")) {
      id.kind = CgroupKind::kUserSession;
    } else if (ends_with(id.unit, ".service")) {
      id.kind = CgroupKind::kSystemdService;
    } else if (id.unit != "init.scope") {
      id.kind = CgroupKind::kSystemdScope;
    }
  }
  return id;
}

std::string_view select_cgroup_path(std::string_view text) {
  std::string_view v2, systemd, first;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    // "hierarchy-id:controllers:path"; the path may itself contain ':'.
    const auto first_colon = line.find(':');
    if (first_colon == std::string_view::npos) continue;
    const auto second_colon = line.find(':', first_colon + 1);
    if (second_colon == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(first_colon + 1, second_colon - first_colon - 1);
    const std::string_view path = line.substr(second_colon + 1);
    if (line.substr(0, first_colon) == "0" && controllers.empty()) v2 = path;
    if (controllers == "name=systemd") systemd = path;
    if (first.empty()) first = path;
  }
  // On hybrid hosts the v2 path may be "/" while v1 name=systemd carries the real placement.
  if (!v2.empty() && v2 != "/") return v2;
  if (!systemd.empty()) return systemd;
  if (!v2.empty()) return v2;
  return first;
}

CgroupIdentity classify_proc_cgroup_file(std::string_view text) { return classify_cgroup_path(select_cgroup_path(text)); }

const CgroupIdentity& CgroupCache::classify(std::string_view path) {
  if (auto it = entries_.find(std::string(path)); it != entries_.end()) {
    ++hits_;
    return it->second;
  }
  ++misses_;
  if (entries_.size() >= capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.emplace_back(path);
  return entries_.emplace(order_.back(), classify_cgroup_path(path)).first->second;
}

std::string_view LabelLimiter::admit(std::string_view value) {
  if (auto it = admitted_.find(std::string(value)); it != admitted_.end()) return *it;
  if (admitted_.size() >= limit_) {
    ++overflows_;
    return "other";
  }
  return *admitted_.emplace(value).first;
}

}  // namespace procevents::attribution
