// Who a process belongs to, from its cgroup path alone: systemd unit, container, Kubernetes pod.
//
// No container runtime or Kubernetes API is asked: the path shapes that systemd, Docker,
// containerd, CRI-O, Podman and LXC create are recognised (see cgroup.cpp for the list).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace procevents::attribution {

enum class CgroupKind : std::uint8_t {
  kHost,
  kSystemdService,
  kSystemdScope,
  kUserSession,
  kDocker,
  kContainerd,
  kCrio,
  kPodman,
  kLxc,
  kKubepods,  // a pod's cgroup without a container below it
};

/// "host", "systemd_service", "systemd_scope", "user_session", "docker", "containerd", "crio",
/// "podman", "lxc", "kubepods".
std::string_view cgroup_kind_name(CgroupKind kind);

struct CgroupIdentity {
  CgroupKind kind = CgroupKind::kHost;
  std::string path;          // the path classified
  std::string unit;          // innermost systemd unit ("nginx.service", "session-3.scope", ...)
  std::string container_id;  // docker/containerd/crio/podman id, or the LXC container name
  std::string pod_uid;       // Kubernetes pod UID, with dashes
  std::string qos_class;     // guaranteed | burstable | besteffort
  std::string user_slice;    // "user-1000.slice"
};

/// Classifies one cgroup path (e.g. "/system.slice/nginx.service").
CgroupIdentity classify_cgroup_path(std::string_view path);

/// Picks the most telling path from /proc/<pid>/cgroup text (the v2 "0::" line, else the v1
/// name=systemd line, else the first line) and classifies it.
CgroupIdentity classify_proc_cgroup_file(std::string_view text);

/// The path classify_proc_cgroup_file() would use.
std::string_view select_cgroup_path(std::string_view text);

/// Bounded cache of path -> identity (least recently inserted evicted first).
class CgroupCache {
 public:
  explicit CgroupCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  const CgroupIdentity& classify(std::string_view path);
  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }
  std::size_t size() const { return entries_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_map<std::string, CgroupIdentity> entries_;
  std::list<std::string> order_;  // insertion order, for eviction
  std::uint64_t hits_ = 0, misses_ = 0;
};

/// Bounds a label's values: the first `limit` distinct values pass, later new ones become "other".
class LabelLimiter {
 public:
  explicit LabelLimiter(std::size_t limit) : limit_(limit) {}
  std::string_view admit(std::string_view value);
  std::uint64_t overflows() const { return overflows_; }
  std::size_t size() const { return admitted_.size(); }

 private:
  std::size_t limit_;
  std::unordered_set<std::string> admitted_;
  std::uint64_t overflows_ = 0;
};

}  // namespace procevents::attribution
