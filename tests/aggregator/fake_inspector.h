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
  std::map<std::int32_t, std::vector<std::string>> argvs;  // default {exe}; {} is a kernel thread
  std::set<std::int32_t> exiting;                // zombies (or PF_EXITING): no argv, no exe
  std::set<std::int32_t> hidden;                 // alive but not listed or readable (hidepid)
  std::map<std::int32_t, std::uint64_t> start_ticks;  // stat's start time; default 0 (unknown)
  double tick_seconds = 0;                       // seconds_per_tick(); 0 turns the pid-reuse check off
  procfs::ReadParts parts;                       // as the aggregator asked (set_parts)
  int inspections = 0;

  /// exe is /usr/bin/<comm>, its identity (7, 1000 + length of comm); argv is {exe} unless given.
  /// Like ProcReader, only the parts asked for are filled: a configuration that forgets to ask
  /// gets wrong names.
  procfs::ReadError inspect(std::int32_t pid, bool with_cgroup, procfs::ProcessInfo& out) override {
    ++inspections;
    auto it = comms.find(pid);
    if (it == comms.end()) return procfs::ReadError::kGone;
    out = procfs::ProcessInfo{};
    out.comm = it->second;
    const std::string exe = "/usr/bin/" + it->second;
    if (parts.exe) out.exe = exe;
    if (parts.exe_identity) {
      out.exe_device = 7;
      out.exe_inode = 1000 + static_cast<std::uint64_t>(it->second.size());
    }
    if (parts.cmdline) {
      if (auto args = argvs.find(pid); args != argvs.end()) {
        out.cmdline = args->second;
      } else {
        out.cmdline = {exe};
      }
    }
    // A live process with an empty argv is a kernel thread: stat says so even when argv is not read.
    if (auto args = argvs.find(pid); args != argvs.end() && args->second.empty()) out.kernel_thread = true;
    if (auto parent = ppids.find(pid); parent != ppids.end()) out.ppid = parent->second;
    if (auto start = start_ticks.find(pid); start != start_ticks.end()) out.start_time_ticks = start->second;
    if (exiting.count(pid)) {
      out.exiting = true;
      out.cmdline.clear();
      out.exe.clear();
    }
    if (auto uid = euids.find(pid); parts.uids && uid != euids.end()) out.euid = uid->second;
    if (auto cg = cgroups.find(pid); with_cgroup && cg != cgroups.end()) out.cgroup = cg->second;
    return procfs::ReadError::kNone;
  }
  procfs::ReadError inspect_cgroup(std::int32_t pid, std::string& out) override {
    auto it = cgroups.find(pid);
    if (it == cgroups.end() || !comms.count(pid)) return procfs::ReadError::kGone;
    out = it->second;
    return procfs::ReadError::kNone;
  }
  void set_parts(procfs::ReadParts wanted) override { parts = wanted; }
  double seconds_per_tick() const override { return tick_seconds; }
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
