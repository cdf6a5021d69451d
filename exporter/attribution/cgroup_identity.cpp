#include "attribution/cgroup_identity.h"

#include <algorithm>
#include <initializer_list>

#include "common/utf8.h"

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

using std::string_view;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/// A container id: runtimes use 64 hex digits; 12 (Docker's short form) is the least we accept,
/// so that ordinary names are not taken for ids.
bool is_hex_id(string_view s) {
  return s.size() >= 12 && s.size() <= 128 && std::all_of(s.begin(), s.end(), is_lower_hex);
}

/// A pod UID: a UUID (dashes, or underscores in systemd slice names) or a static pod's 32-hex hash.
bool is_pod_uid(string_view s) {
  return s.size() >= 16 && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_lower_hex(c) || c == '-' || c == '_'; });
}

/// "<prefix><id>" (cgroupfs driver) or "<prefix><id>.scope" (systemd driver) -> id, if hex.
string_view prefixed_id(string_view component, string_view prefix) {
  if (!component.starts_with(prefix)) return {};
  string_view id = component.substr(prefix.size());
  if (id.ends_with(".scope")) id.remove_suffix(6);
  return is_hex_id(id) ? id : string_view{};
}

/// The pod UID as written in a component under kubepods: "pod<uid>" (cgroupfs driver) or
/// "kubepods[-<qos>]-pod<uid_with_underscores>.slice" (systemd driver, also kind's "kubelet-kubepods-...").
string_view pod_uid_in(string_view component) {
  string_view uid;
  if (component.starts_with("pod")) {
    uid = component.substr(3);
  } else if (component.ends_with(".slice") && component.find("kubepods") != string_view::npos) {
    const auto at = component.rfind("-pod");
    if (at == string_view::npos) return {};
    uid = component.substr(at + 4, component.size() - at - 4 - 6);
  } else {
    return {};
  }
  return is_pod_uid(uid) ? uid : string_view{};
}

bool contains(string_view s, string_view part) { return s.find(part) != string_view::npos; }

}  // namespace

CgroupIdentity classify_cgroup_path(std::string_view path) {
  CgroupIdentity id;
  id.path.assign(path);

  // Views into `path`; only the result's strings allocate.
  string_view unit, container, pod, qos, user_slice, previous;
  std::size_t depth = 0, unit_depth = 0;
  bool in_kubepods = false;
  CgroupKind kind = CgroupKind::kHost;

  while (!path.empty()) {
    const auto slash = path.find('/');
    const string_view part = path.substr(0, slash);
    path = slash == string_view::npos ? string_view{} : path.substr(slash + 1);
    // ".." appears when the reader sits in another cgroup namespace than the process.
    if (part.empty() || part == "." || part == "..") continue;
    ++depth;

    // Innermost systemd unit and user slice win.
    if (part.ends_with(".service") || part.ends_with(".scope")) {
      unit = part;
      unit_depth = depth;
    }
    if (part.starts_with("user-") && part.ends_with(".slice")) user_slice = part;

    // Kubernetes: "kubepods" starts the tree (kind nodes: "kubelet-kubepods"); QoS is in the slice
    // names (systemd driver) or a directory of its own (cgroupfs driver); guaranteed pods have none.
    if (contains(part, "kubepods")) {
      in_kubepods = true;
      if (contains(part, "besteffort")) qos = "besteffort";
      else if (contains(part, "burstable")) qos = "burstable";
    } else if (in_kubepods && (part == "besteffort" || part == "burstable")) {
      qos = part;
    }
    if (in_kubepods) {
      if (const string_view uid = pod_uid_in(part); !uid.empty()) {
        pod = uid;
        if (qos.empty()) qos = "guaranteed";
        kind = CgroupKind::kKubepods;  // until a container shows up below the pod
        container = {};
        previous = part;
        continue;
      }
    }

    string_view found;
    CgroupKind found_kind = CgroupKind::kHost;
    if (!(found = prefixed_id(part, "docker-")).empty()) {
      found_kind = CgroupKind::kDocker;
    } else if (!(found = prefixed_id(part, "cri-containerd-")).empty() ||
               !(found = prefixed_id(part, "nerdctl-")).empty()) {
      found_kind = CgroupKind::kContainerd;
    } else if (!(found = prefixed_id(part, "crio-conmon-")).empty() || !(found = prefixed_id(part, "crio-")).empty()) {
      found_kind = CgroupKind::kCrio;
    } else if (!(found = prefixed_id(part, "libpod-conmon-")).empty() ||
               !(found = prefixed_id(part, "libpod-")).empty()) {
      found_kind = CgroupKind::kPodman;
    } else if (previous == "docker" && is_hex_id(part)) {
      found = part;  // cgroupfs driver: /docker/<id>
      found_kind = CgroupKind::kDocker;
    } else if (!pod.empty() && is_hex_id(part)) {
      found = part;  // cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>; the runtime is not named, containerd is likeliest
      found_kind = CgroupKind::kContainerd;
    } else if (previous == "lxc") {
      found = part;  // legacy LXC: /lxc/<name>
      found_kind = CgroupKind::kLxc;
    } else if (part.starts_with("lxc.payload.") || part.starts_with("lxc.monitor.")) {
      found = part.substr(12);  // LXC 4+: the payload and its monitor, both named after the container
      found_kind = found.empty() ? CgroupKind::kHost : CgroupKind::kLxc;
    }
    if (found_kind != CgroupKind::kHost) {
      kind = found_kind;
      container = found;
    }
    previous = part;
  }

  if (kind == CgroupKind::kHost && !unit.empty()) {
    if (unit.starts_with("session-") && unit.ends_with(".scope")) {
      kind = CgroupKind::kUserSession;
    } else if (unit.ends_with(".service")) {
      kind = CgroupKind::kSystemdService;
    } else if (!(unit == "init.scope" && unit_depth == 1)) {
      kind = CgroupKind::kSystemdScope;  // the root /init.scope is PID 1 itself: the host
    }
  }

  id.kind = kind;
  id.unit.assign(unit);
  id.container_id.assign(container);
  id.pod_uid.assign(pod);
  std::replace(id.pod_uid.begin(), id.pod_uid.end(), '_', '-');  // systemd slice names cannot hold '-'
  id.qos_class.assign(qos);
  id.user_slice.assign(user_slice);
  // These become label values. Cgroup names below a user-delegated subtree are chosen by
  // unprivileged users, and Prometheus refuses a whole scrape over one value that is not UTF-8.
  // (Pod UIDs and runtime ids are checked hex already; `path` stays raw: it is the cache key.)
  make_valid_utf8(id.unit);
  make_valid_utf8(id.container_id);
  make_valid_utf8(id.user_slice);
  return id;
}

std::string_view select_cgroup_path(std::string_view text) {
  string_view v2, systemd, other, root;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const string_view line = text.substr(0, newline);
    text = newline == string_view::npos ? string_view{} : text.substr(newline + 1);

    // "hierarchy-id:controllers:path"; the path may itself contain ':'.
    const auto first_colon = line.find(':');
    if (first_colon == string_view::npos) continue;
    const auto second_colon = line.find(':', first_colon + 1);
    if (second_colon == string_view::npos) continue;
    const string_view hierarchy = line.substr(0, first_colon);
    const string_view controllers = line.substr(first_colon + 1, second_colon - first_colon - 1);
    string_view path = line.substr(second_colon + 1);
    if (hierarchy.empty() || !std::all_of(hierarchy.begin(), hierarchy.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    if (path.ends_with(" (deleted)")) path.remove_suffix(10);
    if (!path.starts_with('/')) continue;

    if (path == "/") {
      if (root.empty()) root = path;
      continue;
    }
    if (hierarchy == "0" && controllers.empty()) {
      if (v2.empty()) v2 = path;
    } else if (controllers == "name=systemd") {
      if (systemd.empty()) systemd = path;
    } else if (other.empty()) {
      other = path;
    }
  }
  // On hybrid hosts the v2 path may be "/" while a v1 hierarchy carries the real placement.
  for (const string_view candidate : {v2, systemd, other}) {
    if (!candidate.empty()) return candidate;
  }
  return root;
}

CgroupIdentity classify_proc_cgroup_file(std::string_view text) { return classify_cgroup_path(select_cgroup_path(text)); }

}  // namespace procevents::attribution
