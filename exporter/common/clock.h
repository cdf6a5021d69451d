// The steady clock as nanoseconds: CLOCK_MONOTONIC, the clock of the kernel's event timestamps.
#pragma once

#include <chrono>
#include <cstdint>

namespace procevents {

inline std::uint64_t steady_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace procevents
