// Exact kernel-loss accounting from cn_msg.seq.
//
// The kernel numbers every proc event with a per-CPU counter (`proc_event_counts`), taken
// under the same per-CPU lock as the send, so on one CPU the numbers a listener receives are
// consecutive unless events were lost on the way (socket buffer full). A gap of N means N
// events this socket never saw. Only meaningful when the socket receives *every* event, i.e.
// no kernel-side filter narrower than "all".
#pragma once

#include <array>
#include <cstdint>

namespace procevents::connector {

class SeqTracker {
 public:
  static constexpr std::uint32_t kMaxCpus = 4096;

  /// Records `seq` from `cpu`; returns how many events of that CPU were skipped since the last
  /// one seen (0 for the first event of a CPU, for CPUs beyond kMaxCpus, and on a backwards
  /// step, which re-synchronises rather than inventing a huge loss).
  std::uint64_t observe(std::uint32_t cpu, std::uint32_t seq) noexcept {
    if (cpu >= kMaxCpus) return 0;
    Slot& slot = slots_[cpu];
    const std::uint32_t expected = slot.last + 1;
    const bool first = !slot.seen;
    slot.seen = true;
    slot.last = seq;
    if (first) return 0;
    const std::uint32_t gap = seq - expected;  // unsigned: wraps correctly at 2^32
    return gap < kMaxPlausibleGap ? gap : 0;
  }

  /// Forgets every CPU's position (after re-subscribing, counters are not continuous for us).
  void reset() noexcept { slots_ = {}; }

 private:
  // A "gap" of 2^31 or more is a counter reset or reordering, not loss.
  static constexpr std::uint32_t kMaxPlausibleGap = 1u << 31;
  struct Slot {
    std::uint32_t last = 0;
    bool seen = false;
  };
  std::array<Slot, kMaxCpus> slots_{};
};

}  // namespace procevents::connector
