#include "aggregator/table_audit.h"

#include <algorithm>

namespace procevents::aggregator {

namespace {
bool contains(const std::vector<std::int32_t>& sorted, std::int32_t pid) {
  return std::binary_search(sorted.begin(), sorted.end(), pid);
}
}  // namespace

void TableAudit::run(std::chrono::steady_clock::time_point now, ProcessTable& table, std::uint64_t evictions) {
  if (interval_.count() <= 0 || now < next_) return;
  ++stats_.audits;
  inspector_.list_processes(listed_);
  std::sort(listed_.begin(), listed_.end());
  confirm_stale(table);
  confirm_missing(table, evictions);
  const bool suspects = !suspect_stale_.empty() || !suspect_missing_.empty();
  next_ = now + (suspects ? std::chrono::duration_cast<std::chrono::milliseconds>(kConfirmDelay) : interval_);
}

void TableAudit::confirm_stale(ProcessTable& table) {
  // Tracked but gone: drift when the last pass saw it too; otherwise a suspect for the next one.
  confirmed_.clear();
  table.for_each([&](const ProcessEntry& entry) {
    if (!contains(listed_, entry.pid) && !inspector_.exists(entry.pid)) confirmed_.push_back(entry.pid);
  });
  std::sort(confirmed_.begin(), confirmed_.end());
  std::vector<std::int32_t> next_stale;
  for (const std::int32_t pid : confirmed_) {
    if (!contains(suspect_stale_, pid)) {
      next_stale.push_back(pid);
      continue;
    }
    ++stats_.drift[static_cast<std::size_t>(DriftKind::kStale)];
    ProcessEntry gone;
    if (table.erase(pid, &gone)) {
      corrections_.forget_gone(gone);
      ++stats_.corrected;
    }
  }
  suspect_stale_ = std::move(next_stale);
}

void TableAudit::confirm_missing(ProcessTable& table, std::uint64_t evictions) {
  // Alive but untracked (not drift while evictions explain it). Zombies and exiting processes are
  // listed after their exit event: not drift either.
  const bool evicting = table.size() >= table.max_entries() || evictions != evictions_at_last_pass_;
  evictions_at_last_pass_ = evictions;
  std::vector<std::int32_t> next_missing;
  confirmed_.clear();
  for (const std::int32_t pid : listed_) {
    if (evicting) break;
    if (table.find(pid)) continue;
    if (!contains(suspect_missing_, pid)) {
      next_missing.push_back(pid);
      continue;
    }
    if (inspector_.inspect(pid, false, scratch_) != procfs::ReadError::kNone || scratch_.exiting) continue;
    ++stats_.drift[static_cast<std::size_t>(DriftKind::kMissing)];
    confirmed_.push_back(pid);
  }
  suspect_missing_ = std::move(next_missing);
  corrections_.adopt_live(confirmed_);  // as at start-up: children join a named parent's group
  for (const std::int32_t pid : confirmed_) {
    if (table.find(pid)) ++stats_.corrected;
  }
}

}  // namespace procevents::aggregator
