// Who a process belongs to, from its cgroup path alone: systemd unit, container, Kubernetes pod.
//
// No container runtime or Kubernetes API is asked: the path shapes that systemd, Docker,
// containerd (and nerdctl), CRI-O, Podman and LXC create are recognised, for cgroup v1 and v2 and
// for both the systemd and the cgroupfs drivers. When containers nest (docker-in-docker, a kind
// node's pods inside the node's container) the innermost one wins. Anything unrecognised has no
// container or pod (only its systemd unit, if any): classification never fails.
//
// These are pure functions: safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace procevents::attribution {

struct CgroupIdentity {
  std::string path;          // the path classified
  std::string unit;          // innermost systemd unit ("nginx.service", "session-3.scope", "docker-<id>.scope"), or empty
  std::string container_id;  // docker/containerd/crio/podman id as found (usually 64 hex), or the LXC name
  std::string pod_uid;       // Kubernetes pod UID, with dashes (a static pod's UID is 32 hex without)
  // Filled from the kubelet's log directories when asked for (kubelet_names.h), not from the path.
  std::string pod_namespace;
  std::string pod_name;
  std::string container_name;
};

/// Classifies one cgroup path, e.g. "/system.slice/nginx.service". Empty or odd components
/// ("//", ".." from a reader in another cgroup namespace) are skipped.
CgroupIdentity classify_cgroup_path(std::string_view path);

/// Picks the most telling path from /proc/<pid>/cgroup text ("hierarchy:controllers:path" lines):
/// the first path that is not "/" among, in order, the v2 "0::" line, the v1 "name=systemd" line
/// and the other lines in file order; "/" if all are "/"; empty if there is no valid line. A
/// trailing " (deleted)" (the cgroup was removed under a zombie) is dropped. Returns a view
/// into `text`.
std::string_view select_cgroup_path(std::string_view text);

}  // namespace procevents::attribution
