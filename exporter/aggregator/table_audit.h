// The self-audit of the process table against /proc's process list. A difference seen again by
// the next pass, at least kConfirmDelay later (the events that explain a fresh one have arrived by
// then), is drift: counted by kind and corrected entry by entry (gone entries dropped, untracked
// processes identified). A tracked pid /proc does not list is gone only if the pid no longer exists
// (hidepid hides live processes). Untracked ones are not drift while the table is full (evictions).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "aggregator/process_table.h"
#include "aggregator/snapshot.h"
#include "procfs/procfs.h"
#include "procfs/procfs_inspector.h"

namespace procevents::aggregator {

class TableAudit {
 public:
  static constexpr std::chrono::seconds kConfirmDelay{1};

  /// How the owner of the table puts confirmed drift right.
  struct Corrections {
    /// Accounts for a tracked process found gone (the audit then removes it from the table).
    std::function<void(const ProcessEntry&)> forget_gone;
    /// Identifies and tracks live processes the table lacks.
    std::function<void(const std::vector<std::int32_t>&)> adopt_live;
  };

  /// `interval` between passes; 0 turns the audit off.
  TableAudit(std::chrono::milliseconds interval, procfs::ProcessInspector& inspector, Corrections corrections)
      : interval_(interval), inspector_(inspector), corrections_(std::move(corrections)) {}

  /// One pass if one is due by `now`; `evictions` is the table's eviction count so far.
  void run(std::chrono::steady_clock::time_point now, ProcessTable& table, std::uint64_t evictions);
  /// When the next pass is due (nullopt when audits are off).
  std::optional<std::chrono::steady_clock::time_point> next_due() const {
    if (interval_.count() <= 0) return std::nullopt;
    return next_;
  }
  const TableAuditStats& stats() const noexcept { return stats_; }

 private:
  /// Drops the tracked processes gone since the last pass too.
  void confirm_stale(ProcessTable& table);
  /// Adopts the live processes missing since the last pass too.
  void confirm_missing(ProcessTable& table, std::uint64_t evictions);

  std::chrono::milliseconds interval_;
  procfs::ProcessInspector& inspector_;
  Corrections corrections_;
  TableAuditStats stats_;
  std::chrono::steady_clock::time_point next_{};
  std::uint64_t evictions_at_last_pass_ = 0;
  std::vector<std::int32_t> listed_;  // /proc's pids, sorted
  // Differences the last pass saw, sorted: drift if the next pass sees them again.
  std::vector<std::int32_t> suspect_stale_, suspect_missing_, confirmed_;  // pids
  procfs::ProcessInfo scratch_;
};

}  // namespace procevents::aggregator
