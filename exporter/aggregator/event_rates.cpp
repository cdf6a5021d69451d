#include "aggregator/event_rates.h"

#include <cmath>
#include <numeric>

namespace procevents::aggregator {

void EventRates::advance(std::chrono::steady_clock::time_point now) {
  if (!last_update_) {
    last_update_ = now;
    return;
  }
  // Events counted since the previous call happened by now.
  if (const std::uint64_t pending = std::accumulate(pending_.begin(), pending_.end(), std::uint64_t{0});
      pending != pending_seen_) {
    pending_seen_ = pending;
    last_counted_ = now;
  }
  const double elapsed = std::chrono::duration<double>(now - *last_update_).count();
  if (elapsed < std::chrono::duration<double>(kTick).count() * 0.9) return;
  // The pending events were counted between the last update and last_counted_: their rate over that
  // span, then decay alone for the quiet rest (at rest, the next scrape catches up in one step).
  const double busy =
      last_counted_ > *last_update_ ? std::chrono::duration<double>(last_counted_ - *last_update_).count() : 0;
  last_update_ = now;
  pending_seen_ = 0;
  for (std::size_t e = 0; e < kRateEventCount; ++e) {
    const auto pending = static_cast<double>(pending_[e]);
    pending_[e] = 0;
    for (std::size_t w = 0; w < kRateWindowCount; ++w) {
      // Like the load average: weight of the old value decays with the window's time constant.
      const double window = kRateWindowSeconds[w];
      double rate = rates_[e][w];
      if (busy > 0) rate = rate * std::exp(-busy / window) - pending / busy * std::expm1(-busy / window);
      rates_[e][w] = rate * std::exp(-(elapsed - busy) / window);
    }
  }
}

}  // namespace procevents::aggregator
