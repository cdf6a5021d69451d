// /proc as maps for aggregator tests: a pid missing from `comms` is gone.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "procfs/procfs_inspector.h"

namespace procevents::testing {

class FakeInspector final : public procfs::ProcessInspector {
 public:
  std::map<std::int32_t, std::string> comms;
  std::map<std::int32_t, std::string> cgroups;  // /proc/<pid>/cgroup text; default none
  std::map<std::int32_t, std::uint32_t> euids;   // default root
  std::map<std::int32_t, std::int32_t> ppids;    // default 0 (unknown)
  std::map<std::int32_t, std::vector<std::string>> argvs;  // default {exe}
  std::set<std::int32_t> exiting;                // zombies (or PF_EXITING): no argv, no exe
  std::set<std::int32_t> hidden;                 // alive but not listed or readable (hidepid)

  /// exe is /usr/bin/<comm>, its identity (7, 1000 + length of comm); argv is {exe} unless given.
  procfs::ReadError inspect(std::int32_t pid, bool with_cgroup, procfs::ProcessInfo& out) override {
    auto it = comms.find(pid);
    if (it == comms.end()) return procfs::ReadError::kGone;
    out = procfs::ProcessInfo{};
    out.comm = it->second;
    out.exe = "/usr/bin/" + it->second;
    out.exe_device = 7;
    out.exe_inode = 1000 + static_cast<std::uint64_t>(it->second.size());
    if (auto args = argvs.find(pid); args != argvs.end()) {
      out.cmdline = args->second;
    } else {
      out.cmdline = {out.exe};
    }
    if (auto parent = ppids.find(pid); parent != ppids.end()) out.ppid = parent->second;
    if (exiting.count(pid)) {
      out.exiting = true;
      out.cmdline.clear();
      out.exe.clear();
    }
    if (auto uid = euids.find(pid); uid != euids.end()) out.euid = uid->second;
    if (auto cg = cgroups.find(pid); with_cgroup && cg != cgroups.end()) out.cgroup = cg->second;
    return procfs::ReadError::kNone;
  }
  procfs::ReadError inspect_cgroup(std::int32_t pid, std::string& out) override {
    auto it = cgroups.find(pid);
    if (it == cgroups.end() || !comms.count(pid)) return procfs::ReadError::kGone;
    out = it->second;
    return procfs::ReadError::kNone;
  }
  void list_processes(std::vector<std::int32_t>& pids) override {
    pids.clear();
    for (const auto& [pid, comm] : comms) pids.push_back(pid);
  }
  bool exists(std::int32_t pid) override { return comms.count(pid) != 0 || hidden.count(pid) != 0; }
  std::string_view user_name(std::uint32_t uid) override {
    names[uid] = uid == 0 ? std::string("root") : "user" + std::to_string(uid);
    return names[uid];
  }

 private:
  std::map<std::uint32_t, std::string> names;
};

}  // namespace procevents::testing
