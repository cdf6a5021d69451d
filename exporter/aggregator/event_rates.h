// Fork, exec and exit rates as exponentially weighted moving averages over 1, 5 and 15 minutes,
// like the load average.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "aggregator/snapshot.h"

namespace procevents::aggregator {

class EventRates {
 public:
  using Rates = std::array<std::array<double, kRateWindowCount>, kRateEventCount>;
  static constexpr std::chrono::seconds kTick{5};

  void count(RateEvent event) noexcept { ++pending_[static_cast<std::size_t>(event)]; }
  /// Folds the events counted since the last update into the averages, at most once per kTick (a
  /// longer gap is caught up exactly, so nothing needs to call this at rest).
  void advance(std::chrono::steady_clock::time_point now);
  const Rates& rates() const noexcept { return rates_; }

 private:
  std::array<std::uint64_t, kRateEventCount> pending_{};  // events since the last update
  Rates rates_{};
  std::optional<std::chrono::steady_clock::time_point> last_update_;
  std::chrono::steady_clock::time_point last_counted_;  // the last advance() that found new events pending
  std::uint64_t pending_seen_ = 0;                       // the pending events it found
};

}  // namespace procevents::aggregator
