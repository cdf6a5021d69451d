// The scope's re-check: moving a process into a cgroup (a write to cgroup.procs) sends no event,
// so every `interval` the pids the scope's cgroup tree holds are compared with the table. A pid
// listed there but tracked outside the scope (or not at all), and a pid tracked inside it but no
// longer listed, is identified again, which reads its cgroup and moves it in or out.
//
// Cost per pass: one walk of the scope's cgroup directories (a pod: a handful of cgroup.procs
// files) and one scan of the table; identification only for the processes that moved.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aggregator/process_table.h"

namespace procevents::aggregator {

class ScopeWatch {
 public:
  /// Identifies the processes of `pids` again (tracking those the table lacks).
  using Reidentify = std::function<void(const std::vector<std::int32_t>& pids)>;

  /// `directory`: the scope's cgroup directory (empty: no scope, no passes).
  ScopeWatch(std::string directory, std::chrono::milliseconds interval, Reidentify reidentify)
      : directory_(std::move(directory)), interval_(interval), reidentify_(std::move(reidentify)) {}

  /// One pass if one is due by `now`.
  void run(std::chrono::steady_clock::time_point now, const ProcessTable& table);
  std::optional<std::chrono::steady_clock::time_point> next_due() const {
    if (directory_.empty() || interval_.count() <= 0) return std::nullopt;
    return next_;
  }
  std::uint64_t passes() const noexcept { return passes_; }
  std::uint64_t moved() const noexcept { return moved_; }  // pids identified again (moved, or new)

 private:
  std::string directory_;
  std::chrono::milliseconds interval_;
  Reidentify reidentify_;
  std::chrono::steady_clock::time_point next_{};
  std::vector<std::int32_t> listed_;  // the scope's pids, sorted
  std::vector<std::int32_t> moved_scratch_;
  std::uint64_t passes_ = 0;
  std::uint64_t moved_ = 0;
};

}  // namespace procevents::aggregator
