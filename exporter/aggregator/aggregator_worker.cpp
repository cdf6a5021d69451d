#include "aggregator/aggregator_worker.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <variant>

namespace procevents::aggregator {

namespace {
constexpr std::size_t kBatch = 256;  // events per lock hold: bounds how long a scrape can wait
}  // namespace

AggregatorWorker::AggregatorWorker(std::unique_ptr<Aggregator> aggregator, EventRing& ring, LossSignal loss_signal)
    : aggregator_(std::move(aggregator)), ring_(ring), loss_signal_(std::move(loss_signal)) {
  {
    std::lock_guard lock(mutex_);
    aggregator_->seed();
    aggregator_->tick(std::chrono::steady_clock::now());
  }
  thread_ = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
}

AggregatorWorker::~AggregatorWorker() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void AggregatorWorker::catch_up() const {
  // The receiver wakes us only every so often (receiver::WakePolicy): a scrape must not miss what
  // arrived just before it, nor find it still waiting in the ring.
  const std::uint64_t target = ring_.pushed();
  if (handled_.load() >= target) return;
  ++catching_up_;
  ring_.wake_consumer();
  std::unique_lock lock(caught_up_mutex_);
  caught_up_.wait_for(lock, kCatchUpLimit, [&] { return handled_.load() >= target; });
  --catching_up_;
}

Snapshot AggregatorWorker::snapshot() const {
  catch_up();
  Snapshot out;
  std::lock_guard lock(mutex_);
  // The rates are brought up to now here, not by a timer: a process at rest has nothing to tick.
  aggregator_->tick(std::chrono::steady_clock::now());
  aggregator_->fill_snapshot(out);
  return out;
}

void AggregatorWorker::with_aggregator(const std::function<void(Aggregator&)>& fn) {
  std::lock_guard lock(mutex_);
  fn(*aggregator_);
}

void AggregatorWorker::run(std::stop_token stop) noexcept {
  ::pthread_setname_np(::pthread_self(), "aggregator");  // for top -H, and per-thread wake-up counts
  // Our wait has no time limit at rest: a stop request must end it.
  const std::stop_callback wake_on_stop(stop, [this] { ring_.wake_consumer(); });
  std::array<receiver::PipelineItem, kBatch> batch;
  std::uint64_t losses_seen = loss_signal_ ? loss_signal_() : 0;
  while (!stop.stop_requested()) {
    const std::size_t count = ring_.pop_bulk(batch.data(), batch.size());
    const auto now = std::chrono::steady_clock::now();
    const std::uint64_t losses = loss_signal_ ? loss_signal_() : 0;
    std::optional<std::chrono::steady_clock::time_point> due;
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < count; ++i) {
        std::visit([this](const auto& item) { aggregator_->handle(item); }, batch[i]);
      }
      // Re-synchronise only once the ring has drained, so the table reflects the events we did get.
      if (losses != losses_seen && count < batch.size()) {
        losses_seen = losses;
        aggregator_->resync();
      }
      if (count < batch.size()) aggregator_->audit(now);
      aggregator_->tick(now);
      due = aggregator_->next_tick_due();
    }
    handled_.fetch_add(count);  // seq_cst, like catching_up_: one of us sees the other
    if (catching_up_.load() > 0) {
      std::lock_guard lock(caught_up_mutex_);  // the waiter is in wait_for() or will see handled_
      caught_up_.notify_all();
    }
    if (count != 0) continue;
    // The receiver wakes us when there is work (see receiver::WakePolicy); our own timer runs only
    // while something waits for a deadline (held execs, unclaimed exit records).
    auto wait = EventRing::kForever;
    if (due) {
      const auto left = std::chrono::ceil<std::chrono::microseconds>(*due - std::chrono::steady_clock::now());
      wait = std::max(left, std::chrono::microseconds(0));
    }
    ring_.wait_for_data(wait, stop);
  }
}

}  // namespace procevents::aggregator
