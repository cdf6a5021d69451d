// Who a process belongs to, from its cgroup path alone: systemd unit, container, Kubernetes pod.
//
// No container runtime or Kubernetes API is asked: the path shapes that systemd, Docker,
// containerd (and nerdctl), CRI-O, Podman and LXC create are recognised, for cgroup v1 and v2 and
// for both the systemd and the cgroupfs drivers. When containers nest (docker-in-docker, a kind
// node's pods inside the node's container) the innermost one wins. Anything unrecognised is kHost
// (with its systemd unit, if any): classification never fails.
//
// These are pure functions: safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace procevents::attribution {

enum class CgroupKind : std::uint8_t {
  kHost,            // "/", "/init.scope", slices, unknown shapes
  kSystemdService,  // innermost unit is a .service (not in a container)
  kSystemdScope,    // innermost unit is a .scope other than a login session
  kUserSession,     // session-<n>.scope (a login)
  kDocker,
  kContainerd,      // cri-containerd-<id>.scope, nerdctl-<id>.scope, or a bare id under a kubepods pod
  kCrio,            // crio-<id> and its conmon, crio-conmon-<id>
  kPodman,          // libpod-<id> and libpod-conmon-<id>
  kLxc,             // container_id holds the container's name
  kKubepods,        // a pod's cgroup without a container below it
};

/// "host", "systemd_service", "systemd_scope", "user_session", "docker", "containerd", "crio",
/// "podman", "lxc", "kubepods".
std::string_view cgroup_kind_name(CgroupKind kind);

struct CgroupIdentity {
  CgroupKind kind = CgroupKind::kHost;
  std::string path;          // the path classified
  std::string unit;          // innermost systemd unit ("nginx.service", "session-3.scope", "docker-<id>.scope"), or empty
  std::string container_id;  // docker/containerd/crio/podman id as found (usually 64 hex), or the LXC name
  std::string pod_uid;       // Kubernetes pod UID, with dashes (a static pod's UID is 32 hex without)
  std::string qos_class;     // "guaranteed" | "burstable" | "besteffort" under kubepods, else empty
  std::string user_slice;    // "user-1000.slice", or empty
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

/// classify_cgroup_path(select_cgroup_path(text)).
CgroupIdentity classify_proc_cgroup_file(std::string_view text);

}  // namespace procevents::attribution
