#include "app/scope.h"

#include <fstream>
#include <sstream>

#include "app/log.h"

namespace procevents::app {

namespace {
std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}
}  // namespace

std::optional<ResolvedScope> resolve_scope(const config::Config& cfg, const std::string& proc_root) {
  if (cfg.scope == config::kScopeHost) return ResolvedScope{};
  std::string path = cfg.scope;
  if (cfg.scope == config::kScopeOwnPod) {
    std::string why;
    const std::optional<std::string> pod = attribution::pod_cgroup_of(read_all(proc_root + "/self/cgroup"), why);
    if (!pod) {
      log(LogLevel::kError, "scope: own_pod: the exporter is not in a Kubernetes pod",
          {{"why", why}, {"file", cfg.source}});
      return std::nullopt;
    }
    path = *pod;
  }
  ResolvedScope resolved{attribution::CgroupScope(path), {}};
  resolved.directory = attribution::scope_directory(resolved.scope, read_all(proc_root + "/self/mountinfo"));
  if (resolved.directory.empty()) {
    log(LogLevel::kWarn, "scope: the cgroup is not found in the mounted cgroup file systems; processes moved into it "
                         "are counted from their next exec only", {{"cgroup", path}});
  }
  log(LogLevel::kInfo, "counting only the processes of one cgroup subtree",
      {{"scope", cfg.scope}, {"cgroup", path}, {"directory", resolved.directory}});
  return resolved;
}

}  // namespace procevents::app
