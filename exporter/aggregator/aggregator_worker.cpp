#include "aggregator/aggregator_worker.h"

#include <array>
#include <chrono>
#include <variant>

namespace procevents::aggregator {

namespace {
constexpr std::size_t kBatch = 256;  // events per lock hold: bounds how long a scrape can wait
// The receiver wakes us for events that need /proc soon; everything else waits for this timer,
// so that storms of thread events are handled in large, cheap batches.
constexpr std::chrono::microseconds kIdleWait{20000};
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

Snapshot AggregatorWorker::snapshot() const {
  Snapshot out;
  std::lock_guard lock(mutex_);
  aggregator_->fill_snapshot(out);
  return out;
}

void AggregatorWorker::with_aggregator(const std::function<void(Aggregator&)>& fn) {
  std::lock_guard lock(mutex_);
  fn(*aggregator_);
}

void AggregatorWorker::run(std::stop_token stop) noexcept {
  std::array<receiver::PipelineItem, kBatch> batch;
  std::uint64_t losses_seen = loss_signal_ ? loss_signal_() : 0;
  while (!stop.stop_requested()) {
    const std::size_t count = ring_.pop_bulk(batch.data(), batch.size());
    const auto now = std::chrono::steady_clock::now();
    const std::uint64_t losses = loss_signal_ ? loss_signal_() : 0;
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
    }
    handled_.fetch_add(count, std::memory_order_relaxed);
    if (count == 0) ring_.wait_for_data(kIdleWait);
  }
}

}  // namespace procevents::aggregator
