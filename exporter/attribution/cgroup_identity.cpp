#include "attribution/cgroup_identity.h"

#include <algorithm>

#include "common/utf8.h"

namespace procevents::attribution {

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

/// The container id (or LXC name) that path component `part` names; empty when it names none.
/// `previous` is the component above it; `below_pod` says whether a pod was seen higher up.
string_view container_in(string_view part, string_view previous, bool below_pod) {
  static constexpr string_view kRuntimePrefixes[] = {"docker-", "cri-containerd-", "nerdctl-",      "crio-conmon-",
                                                     "crio-",   "libpod-conmon-", "libpod-"};
  for (const string_view prefix : kRuntimePrefixes) {
    if (const string_view id = prefixed_id(part, prefix); !id.empty()) return id;
  }
  // cgroupfs drivers: /docker/<id>, and /kubepods/<qos>/pod<uid>/<id> (the runtime is not named).
  if ((previous == "docker" || below_pod) && is_hex_id(part)) return part;
  if (previous == "lxc") return part;  // legacy LXC: /lxc/<name>
  // LXC 4+: the payload and its monitor, both named after the container.
  if (part.starts_with("lxc.payload.") || part.starts_with("lxc.monitor.")) return part.substr(12);
  return {};
}

/// What the walk down a path has found so far: views into the path.
struct PathWalk {
  string_view unit, container, pod, previous;
  bool in_kubepods = false;

  void visit(string_view part) {
    if (part.ends_with(".service") || part.ends_with(".scope")) unit = part;  // the innermost unit wins
    // Kubernetes: "kubepods" starts the tree (kind nodes: "kubelet-kubepods").
    if (contains(part, "kubepods")) in_kubepods = true;
    if (in_kubepods) {
      if (const string_view uid = pod_uid_in(part); !uid.empty()) {
        pod = uid;
        container = {};  // until a container shows up below the pod
        previous = part;
        return;
      }
    }
    if (const string_view found = container_in(part, previous, !pod.empty()); !found.empty()) container = found;
    previous = part;
  }
};

}  // namespace

CgroupIdentity classify_cgroup_path(std::string_view path) {
  CgroupIdentity id;
  id.path.assign(path);
  PathWalk walk;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const string_view part = path.substr(0, slash);
    path = slash == string_view::npos ? string_view{} : path.substr(slash + 1);
    // ".." appears when the reader sits in another cgroup namespace than the process.
    if (part.empty() || part == "." || part == "..") continue;
    walk.visit(part);
  }
  // Only the result's strings allocate.
  id.unit.assign(walk.unit);
  id.container_id.assign(walk.container);
  id.pod_uid.assign(walk.pod);
  std::replace(id.pod_uid.begin(), id.pod_uid.end(), '_', '-');  // systemd slice names cannot hold '-'
  // These become label values. Cgroup names below a user-delegated subtree are chosen by
  // unprivileged users, and Prometheus refuses a whole scrape over one value that is not UTF-8.
  // (Pod UIDs and runtime ids are checked hex already; `path` stays raw: it is the cache key.)
  make_valid_utf8(id.unit);
  make_valid_utf8(id.container_id);
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

}  // namespace procevents::attribution
