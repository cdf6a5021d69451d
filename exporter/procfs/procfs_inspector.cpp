#include "procfs/procfs_inspector.h"

#include <signal.h>
#include <time.h>

#include <cerrno>

namespace procevents::procfs {

namespace {
double clock_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
}  // namespace

ProcfsInspector::ProcfsInspector(std::string proc_root)
    : reader_(std::make_unique<ProcReader>(proc_root)),
      usage_reader_(std::make_unique<UsageReader>(proc_root)),
      users_(std::make_unique<UserNames>()) {
  const long ticks = ProcReader::clock_ticks_per_second();
  seconds_per_tick_ = ticks > 0 ? 1.0 / static_cast<double>(ticks) : 0;
  // /proc start times count from boot including suspend; kernel event stamps exclude it.
  boot_offset_seconds_ = clock_seconds(CLOCK_BOOTTIME) - clock_seconds(CLOCK_MONOTONIC);
  boot_time_seconds_ = static_cast<std::int64_t>(reader_->read_boot_time().value_or(0));
}
ProcfsInspector::~ProcfsInspector() = default;

ReadError ProcfsInspector::inspect(std::int32_t pid, bool with_cgroup, ProcessInfo& out) {
  return reader_->read_process(pid, with_cgroup, out);
}

ReadError ProcfsInspector::inspect_cgroup(std::int32_t pid, std::string& out) { return reader_->read_cgroup(pid, out); }

void ProcfsInspector::set_parts(ReadParts parts) { reader_->set_parts(parts); }

void ProcfsInspector::list_processes(std::vector<std::int32_t>& pids) {
  pids.clear();
  reader_->for_each_pid([&](std::int32_t pid) { pids.push_back(pid); });
}

bool ProcfsInspector::exists(std::int32_t pid) {
  // Signal 0 checks the pid only: EPERM (another user's process, without CAP_KILL) still means alive.
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

std::string_view ProcfsInspector::user_name(std::uint32_t uid) { return users_->name_for(uid); }

bool ProcfsInspector::first_sight_usage(std::int32_t pid, UsageVector& whole, UsageVector& exited_tasks) {
  return usage_reader_->read_first_sight(pid, usage_parts_, whole, exited_tasks);
}

}  // namespace procevents::procfs
