#include "attribution/cgroup_scope.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "attribution/cgroup_identity.h"

namespace procevents::attribution {

namespace {

std::string_view next_field(std::string_view& line) {
  const auto space = line.find(' ');
  const std::string_view field = line.substr(0, space);
  line = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  return field;
}

/// A cgroup mount from one /proc/self/mountinfo line: its point, root and rank (lower is tried
/// first: cgroup2, then name=systemd, then other v1 hierarchies); nullopt for other mounts.
struct CgroupMount {
  std::string_view point, root;
  int rank = 0;
};

std::optional<CgroupMount> cgroup_mount(std::string_view line) {
  // id parent major:minor root point options [optional fields...] - fstype source super-options
  CgroupMount mount;
  next_field(line);
  next_field(line);
  next_field(line);
  mount.root = next_field(line);
  mount.point = next_field(line);
  const auto dash = line.find(" - ");
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view tail = line.substr(dash + 3);
  const std::string_view fstype = next_field(tail);
  next_field(tail);
  if (fstype == "cgroup2") {
    mount.rank = 0;
  } else if (fstype == "cgroup") {
    mount.rank = tail.find("name=systemd") != std::string_view::npos ? 1 : 2;
  } else {
    return std::nullopt;
  }
  return mount;
}

}  // namespace

CgroupScope::CgroupScope(std::string_view path) {
  while (path.ends_with('/')) path.remove_suffix(1);
  path_.assign(path);
}

bool CgroupScope::contains(std::string_view cgroup) const noexcept {
  if (path_.empty()) return true;
  return cgroup.starts_with(path_) && (cgroup.size() == path_.size() || cgroup[path_.size()] == '/');
}

std::optional<std::string> pod_cgroup_of(std::string_view text, std::string& why) {
  const std::string_view path = select_cgroup_path(text);
  const std::string pod = classify_cgroup_path(path).pod_uid;
  if (pod.empty()) {
    why = path == "/" ? "the cgroup reads \"/\": a private cgroup namespace hides the pod (run the container "
                        "privileged, which containerd gives the host's cgroup namespace)"
                      : "cgroup \"" + std::string(path) + "\" is in no Kubernetes pod";
    return std::nullopt;
  }
  // The shortest leading part of the path that names the same pod: the pod's own directory.
  for (std::size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
    const std::string_view prefix = path.substr(0, end);
    if (classify_cgroup_path(prefix).pod_uid == pod) return std::string(prefix);
    if (end == std::string_view::npos) break;
  }
  return std::string(path);
}

std::string scope_directory(const CgroupScope& scope, std::string_view mountinfo) {
  std::optional<std::string> best;
  int best_rank = 3;
  while (!mountinfo.empty()) {
    const auto newline = mountinfo.find('\n');
    const std::string_view line = mountinfo.substr(0, newline);
    mountinfo = newline == std::string_view::npos ? std::string_view{} : mountinfo.substr(newline + 1);
    const std::optional<CgroupMount> mount = cgroup_mount(line);
    // A mount of a subtree (another cgroup namespace's view) does not hold host paths.
    if (!mount || mount->root != "/" || mount->rank >= best_rank) continue;
    std::string dir = std::string(mount->point) + (scope.whole_host() ? std::string() : scope.path());
    std::error_code error;
    if (std::filesystem::is_directory(dir, error)) {
      best = std::move(dir);
      best_rank = mount->rank;
    }
  }
  return best.value_or(std::string());
}

bool list_cgroup_tree_pids(const std::string& dir, std::vector<std::int32_t>& out) {
  std::error_code error;
  std::filesystem::recursive_directory_iterator it(dir, error), end;
  if (error) return false;
  const auto read_procs = [&out](const std::filesystem::path& cgroup) {
    std::ifstream procs(cgroup / "cgroup.procs");
    std::string line;
    while (std::getline(procs, line)) {
      std::int32_t pid = 0;
      if (std::from_chars(line.data(), line.data() + line.size(), pid).ec == std::errc() && pid > 0) out.push_back(pid);
    }
  };
  read_procs(dir);
  for (; it != end; it.increment(error)) {
    if (error) break;  // a cgroup removed while we walk: what was read stands
    if (it->is_directory(error) && !it->is_symlink(error)) read_procs(it->path());
  }
  return true;
}

}  // namespace procevents::attribution
