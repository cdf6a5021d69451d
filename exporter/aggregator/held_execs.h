// Execs waiting for their process's exit record (see ExitJoin), oldest first: a fixed-capacity
// FIFO, allocated once, so holding an exec on the event path never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace procevents::aggregator {

struct HeldExec {
  std::int32_t tgid = 0;
  std::uint64_t start_ns = 0;  // tells the process from a later one with the same pid
  std::uint64_t deadline_ns = 0;
};

class HeldExecs {
 public:
  explicit HeldExecs(std::size_t capacity) : slots_(capacity == 0 ? 1 : capacity) {}

  /// Appends `held`; when full, the oldest makes room and is returned (it waits no longer).
  std::optional<HeldExec> push(const HeldExec& held) noexcept {
    std::optional<HeldExec> displaced;
    if (count_ == slots_.size()) displaced = pop();
    slots_[(head_ + count_) % slots_.size()] = held;
    ++count_;
    return displaced;
  }
  /// The oldest, if its deadline is at or before `now_ns`, removed.
  std::optional<HeldExec> pop_expired(std::uint64_t now_ns) noexcept {
    if (count_ == 0 || slots_[head_].deadline_ns > now_ns) return std::nullopt;
    return pop();
  }
  std::size_t size() const noexcept { return count_; }
  std::size_t capacity() const noexcept { return slots_.size(); }

 private:
  HeldExec pop() noexcept {
    const HeldExec oldest = slots_[head_];
    head_ = (head_ + 1) % slots_.size();
    --count_;
    return oldest;
  }

  std::vector<HeldExec> slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

}  // namespace procevents::aggregator
