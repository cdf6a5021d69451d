// Fixed-capacity tables keyed by pid: live processes (ProcessTable, keyed by tgid) and exit
// records waiting for their connector exit event (keyed by task id).
//
// Open addressing with linear probing and backward-shift deletion: all memory is allocated once
// (zero pages, resident where touched), so inserting and removing on the event path never allocates. When full, an insert evicts an
// arbitrary resident (found by a rotating cursor) and says so; the caller counts it.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/zeroed_array.h"

namespace procevents::aggregator {

/// A group's index in the GroupRegistry.
using GroupId = std::uint32_t;
/// The group of a process that matched no naming entry under `unmatched: ignore`: counted in none.
inline constexpr GroupId kIgnoredGroup = 0xffffffffu;
/// The group of a process outside the scope (`scope:`): counted in none, and what it forks stays
/// out until an exec or the scope's re-check reads it in.
inline constexpr GroupId kOutOfScopeGroup = 0xfffffffeu;
/// A process without books in the UsageLedger.
inline constexpr std::uint32_t kNoUsageSlot = 0xffffffffu;

struct ProcessEntry {
  std::int32_t pid = 0;           // 0 marks an empty slot (pid 0 is never a user process)
  GroupId group = 0;              // index into the GroupRegistry, or kIgnoredGroup
  std::uint64_t start_ns = 0;     // kernel CLOCK_MONOTONIC fork time; 0 = unknown (seeded at start-up)
  // Execs not yet counted: /proc was gone when they were handled, so the process is named from its
  // exit record when that arrives (or, failing that, counted in `group` as a fallback).
  std::uint32_t pending_execs = 0;
  std::int32_t ppid = 0;  // the parent at fork (0 = unknown): where a vanished child's cgroup is looked up
  std::uint32_t usage_slot = kNoUsageSlot;  // its books in the UsageLedger
};

/// `Entry` has an `std::int32_t pid` member; pid 0 marks an empty slot.
template <class Entry>
class PidTable {
 public:
  /// Holds up to `max_entries` processes (at least 1).
  explicit PidTable(std::size_t max_entries)
      : max_entries_(max_entries == 0 ? 1 : max_entries),
        slots_(std::bit_ceil(max_entries_ * 2)),
        mask_(slots_.size() - 1) {}

  Entry* find(std::int32_t pid) noexcept {
    const std::size_t slot = slot_of(pid);
    return slot == kNone ? nullptr : &slots_[slot];
  }
  const Entry* find(std::int32_t pid) const noexcept {
    const std::size_t slot = slot_of(pid);
    return slot == kNone ? nullptr : &slots_[slot];
  }

  /// Inserts or overwrites `entry`. If the table was full, one other process is evicted first and
  /// copied to `*evicted` (when given); returns true in that case.
  bool upsert(const Entry& entry, Entry* evicted = nullptr) noexcept {
    if (entry.pid == 0) return false;
    if (Entry* existing = find(entry.pid)) {
      *existing = entry;
      return false;
    }
    bool did_evict = false;
    if (size_ >= max_entries_) {
      did_evict = true;
      while (slots_[evict_cursor_].pid == 0) evict_cursor_ = (evict_cursor_ + 1) & mask_;
      if (evicted) *evicted = slots_[evict_cursor_];
      erase_slot(evict_cursor_);
    }
    std::size_t i = home(entry.pid);
    while (slots_[i].pid != 0) i = (i + 1) & mask_;
    slots_[i] = entry;
    ++size_;
    return did_evict;
  }

  /// Removes `pid`; copies the removed entry to `*out` and returns true when it was present.
  bool erase(std::int32_t pid, Entry* out = nullptr) noexcept {
    Entry* entry = find(pid);
    if (!entry) return false;
    if (out) *out = *entry;
    erase_slot(static_cast<std::size_t>(entry - slots_.data()));
    return true;
  }

  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const Entry& entry : slots_) {
      if (entry.pid != 0) fn(entry);
    }
  }

  /// Removes every entry for which `pred(entry)` is true, calling nothing else; returns how many.
  template <class Pred>
  std::size_t erase_if(Pred&& pred) {
    std::size_t removed = 0;
    for (std::size_t i = 0; i < slots_.size();) {
      if (slots_[i].pid != 0 && pred(static_cast<const Entry&>(slots_[i]))) {
        erase_slot(i);  // may shift a later entry into slot i: look at it again
        ++removed;
      } else {
        ++i;
      }
    }
    return removed;
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t max_entries() const noexcept { return max_entries_; }

 private:
  static constexpr std::size_t kNone = ~std::size_t{0};

  std::size_t slot_of(std::int32_t pid) const noexcept {
    if (pid == 0) return kNone;
    for (std::size_t i = home(pid);; i = (i + 1) & mask_) {
      if (slots_[i].pid == pid) return i;
      if (slots_[i].pid == 0) return kNone;
    }
  }

  std::size_t home(std::int32_t pid) const noexcept {
    // Fibonacci hashing spreads consecutive pids, which fork storms produce.
    return static_cast<std::size_t>((static_cast<std::uint64_t>(static_cast<std::uint32_t>(pid)) *
                                     0x9E3779B97F4A7C15ull) >> 20) & mask_;
  }

  void erase_slot(std::size_t hole) noexcept {
    --size_;
    // Backward shift: pull later members of the probe run into the hole so lookups need no tombstones.
    for (std::size_t next = (hole + 1) & mask_; slots_[next].pid != 0; next = (next + 1) & mask_) {
      const std::size_t ideal = home(slots_[next].pid);
      // Move `next` into `hole` unless its ideal slot lies cyclically in (hole, next].
      const bool stays = hole <= next ? (hole < ideal && ideal <= next) : (hole < ideal || ideal <= next);
      if (!stays) {
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    slots_[hole] = Entry{};
  }

  std::size_t max_entries_;
  ZeroedArray<Entry> slots_;  // resident only where used: a sparse table costs its live entries, not its capacity
  std::size_t mask_;
  std::size_t size_ = 0;
  std::size_t evict_cursor_ = 0;
};

using ProcessTable = PidTable<ProcessEntry>;

/// The group of tracked process `pid`; nullopt when the table lacks it.
inline std::optional<GroupId> tracked_group(const ProcessTable& table, std::int32_t pid) noexcept {
  const ProcessEntry* entry = table.find(pid);
  return entry ? std::optional<GroupId>(entry->group) : std::nullopt;
}

}  // namespace procevents::aggregator
