// Kubernetes namespace, pod and container names without the API server: the kubelet names its log
// directories after them on every node (log shippers read the same names):
//   <pod-logs>/<namespace>_<pod>_<pod-uid>/<container>/
//   <container-logs>/<pod>_<namespace>_<container>-<container-id>.log
// A cgroup gives the pod UID and the container ID (cgroup_identity.h); these give the names.
//
// Kubernetes names are DNS labels (namespace, container) and DNS subdomains (pod): lower-case
// letters, digits, '-' and '.', never '_'. So '_' splits the names safely, and any entry that does
// not split into valid parts is ignored (a hostile or foreign file names nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "attribution/cgroup_identity.h"
#include "attribution/directory_watch.h"
#include "common/string_hash.h"

namespace procevents::attribution {

struct KubeletDirectories {
  std::string pod_logs = "/var/log/pods";
  std::string container_logs = "/var/log/containers";
};

/// "<namespace>_<pod>_<pod-uid>": views into the name.
struct PodLogName {
  std::string_view pod_namespace, pod, uid;
};
std::optional<PodLogName> parse_pod_log_directory(std::string_view name);

/// "<pod>_<namespace>_<container>-<64 hex id>.log": views into the name.
struct ContainerLogName {
  std::string_view pod, pod_namespace, container, id;
};
std::optional<ContainerLogName> parse_container_log_file(std::string_view name);

/// Pod UID -> (namespace, pod) and container ID -> container, kept up with the two directories
/// by inotify. Looked at only when a lookup misses: a container started after the exporter is named
/// as soon as its directory exists (the kubelet creates both before the container's first process
/// runs). A miss costs one non-blocking read() per directory (EAGAIN when nothing changed).
///
/// Threading: single-threaded (the aggregator's).
class KubeletNames {
 public:
  /// Entries kept per directory at most (the kubelet keeps one per pod and per container).
  static constexpr std::size_t kMaxEntries = 65536;

  explicit KubeletNames(KubeletDirectories directories);

  /// Fills `id`'s pod_namespace, pod_name and container_name from its pod_uid and container_id;
  /// true when nothing is left unnamed (a container ID without a pod, e.g. plain Docker, has no name to find).
  bool name(CgroupIdentity& id);

  std::uint64_t misses() const { return misses_; }
  std::size_t pods() const { return pods_.size(); }
  std::size_t containers() const { return containers_.size(); }

 private:
  struct PodNames {
    std::string pod_namespace, pod;
  };
  bool lookup(CgroupIdentity& id) const;
  void refresh();

  DirectoryWatch pod_logs_, container_logs_;
  std::unordered_map<std::string, PodNames, TransparentStringHash, std::equal_to<>> pods_;  // by pod UID
  std::unordered_map<std::string, std::string, TransparentStringHash, std::equal_to<>> containers_;  // by container ID
  std::uint64_t misses_ = 0;
};

}  // namespace procevents::attribution
