// Process identities for the aggregator: the interface it reads them through, and the production
// implementation over /proc. Tests and benchmarks substitute a fake ProcessInspector.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "procfs/process_usage.h"
#include "procfs/procfs.h"

namespace procevents::procfs {

/// Where process identities come from; /proc in production, a fake in tests.
class ProcessInspector {
 public:
  virtual ~ProcessInspector() = default;
  /// Reads what is known of process `pid` into `out` (cgroup text only if asked).
  virtual ReadError inspect(std::int32_t pid, bool with_cgroup, ProcessInfo& out) = 0;
  /// Reads only the cgroup text of process `pid` into `out` (kGone where cgroups are not wanted).
  virtual ReadError inspect_cgroup(std::int32_t /*pid*/, std::string& /*out*/) { return ReadError::kGone; }
  /// What inspect() must read besides comm, parent and start time (see ReadParts).
  virtual void set_parts(ReadParts /*parts*/) {}
  /// Replaces `pids` with the pids of all live processes.
  virtual void list_processes(std::vector<std::int32_t>& pids) = 0;
  /// Whether process `pid` exists at all, even where /proc hides it (hidepid) or it is a zombie.
  virtual bool exists(std::int32_t pid) = 0;
  /// Seconds per /proc start-time tick and the BOOTTIME-minus-MONOTONIC offset, for pid-reuse checks;
  /// 0 disables the check.
  virtual double seconds_per_tick() const { return 0; }
  virtual double boot_offset_seconds() const { return 0; }
  /// When the host booted, in seconds since the epoch (/proc/stat btime): with a start time in
  /// ticks, a process's wall-clock start. 0 when unknown.
  virtual std::int64_t boot_time_seconds() const { return 0; }
  /// The user name for a uid ("" when names are not wanted).
  virtual std::string_view user_name(std::uint32_t uid) = 0;
  /// What process `pid` has used so far, from its stat (its reaped children's CPU included).
  virtual ReadError read_usage(std::int32_t /*pid*/, StatUsage& /*out*/) { return ReadError::kGone; }
  /// What first_sight_usage() reads besides stat (what the live families count).
  virtual void set_usage_parts(UsageParts /*parts*/) {}
  /// A process first seen alive: its usage now and what its exited threads used (see
  /// UsageReader::read_first_sight). False when unknown (then both are 0).
  virtual bool first_sight_usage(std::int32_t /*pid*/, UsageVector& whole, UsageVector& exited_tasks) {
    whole = {};
    exited_tasks = {};
    return false;
  }
};

/// The production inspector: ProcReader plus cached user names.
class ProcfsInspector final : public ProcessInspector {
 public:
  explicit ProcfsInspector(std::string proc_root = "/proc");
  ~ProcfsInspector() override;
  ReadError inspect(std::int32_t pid, bool with_cgroup, ProcessInfo& out) override;
  ReadError inspect_cgroup(std::int32_t pid, std::string& out) override;
  void set_parts(ReadParts parts) override;
  void list_processes(std::vector<std::int32_t>& pids) override;
  bool exists(std::int32_t pid) override;
  double seconds_per_tick() const override { return seconds_per_tick_; }
  double boot_offset_seconds() const override { return boot_offset_seconds_; }
  std::int64_t boot_time_seconds() const override { return boot_time_seconds_; }
  std::string_view user_name(std::uint32_t uid) override;
  ReadError read_usage(std::int32_t pid, StatUsage& out) override { return reader_->read_stat_usage(pid, out); }
  void set_usage_parts(UsageParts parts) override { usage_parts_ = parts; }
  bool first_sight_usage(std::int32_t pid, UsageVector& whole, UsageVector& exited_tasks) override;

 private:
  std::unique_ptr<ProcReader> reader_;
  std::unique_ptr<UsageReader> usage_reader_;
  UsageParts usage_parts_;
  std::unique_ptr<UserNames> users_;
  double seconds_per_tick_ = 0;
  double boot_offset_seconds_ = 0;
  std::int64_t boot_time_seconds_ = 0;
};

}  // namespace procevents::procfs
