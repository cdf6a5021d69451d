// The aggregator thread: pops events from the ring into an Aggregator and serves snapshots.
//
// One mutex guards the Aggregator. The worker holds it for one bounded batch at a time and a
// scrape holds it only while copying the state (microseconds), so neither waits on the other for
// long. When the receiver reports a loss, the worker re-synchronises the process table from /proc.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "aggregator/aggregator.h"
#include "receiver/pipeline_item.h"

namespace procevents::aggregator {

class AggregatorWorker {
 public:
  using EventRing = receiver::EventRing;
  /// Returns a number that grows whenever events may have been lost (e.g. the receiver's loss total).
  using LossSignal = std::function<std::uint64_t()>;

  /// Seeds the aggregator from /proc, then starts the thread.
  AggregatorWorker(std::unique_ptr<Aggregator> aggregator, EventRing& ring, LossSignal loss_signal);
  ~AggregatorWorker();  // stops and joins
  AggregatorWorker(const AggregatorWorker&) = delete;
  AggregatorWorker& operator=(const AggregatorWorker&) = delete;

  /// A consistent copy of the state, including every item the receiver pushed before the call
  /// (the worker is woken to handle them first, for at most kCatchUpLimit); safe from any thread.
  Snapshot snapshot() const;
  static constexpr std::chrono::milliseconds kCatchUpLimit{250};
  /// Runs `fn` on the aggregator under the lock (e.g. a config reload); safe from any thread.
  void with_aggregator(const std::function<void(Aggregator&)>& fn);

 private:
  void run(std::stop_token stop) noexcept;
  /// Wakes the worker and waits until it has handled everything pushed so far (bounded).
  void catch_up() const;

  std::unique_ptr<Aggregator> aggregator_;
  EventRing& ring_;
  LossSignal loss_signal_;
  mutable std::mutex mutex_;
  std::atomic<std::uint64_t> handled_{0};  // items popped and handled: what catch_up() waits for
  // Scrapes waiting in catch_up() for the worker to reach what was pushed before them.
  mutable std::mutex caught_up_mutex_;
  mutable std::condition_variable caught_up_;
  mutable std::atomic<int> catching_up_{0};
  std::jthread thread_;
};

}  // namespace procevents::aggregator
