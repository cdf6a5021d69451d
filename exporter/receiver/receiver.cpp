#include "receiver/receiver.h"

#include <chrono>

namespace procevents::receiver {

namespace {
// Bounded wait so a stop request is noticed promptly without a wake-up fd.
constexpr std::chrono::milliseconds kPollInterval{100};

std::uint64_t steady_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
}  // namespace

Receiver::Receiver(std::unique_ptr<connector::ProcConnector> connector, EventRing& ring)
    : connector_(std::move(connector)),
      ring_(ring),
      receive_buffer_bytes_(connector_->receive_buffer_bytes()),
      kernel_filter_active_(connector_->kernel_filter_active()) {
  counters_.subscribed.store(connector_->subscribed(), std::memory_order_relaxed);
  thread_ = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
}

Receiver::~Receiver() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void Receiver::publish() noexcept {
  const connector::ConnectorStats& stats = connector_->stats();
  constexpr auto relaxed = std::memory_order_relaxed;
  for (std::size_t i = 0; i < connector::kEventTypeCount; ++i) {
    counters_.events_by_type[i].store(stats.events_by_type[i], relaxed);
  }
  counters_.enobufs.store(stats.enobufs, relaxed);
  counters_.kernel_lost_events.store(stats.lost_events, relaxed);
  counters_.netlink_overruns.store(stats.netlink_overruns, relaxed);
  counters_.netlink_errors.store(stats.netlink_errors, relaxed);
  for (std::size_t i = 0; i < connector::kMalformedReasonCount; ++i) {
    counters_.malformed[i].store(stats.malformed[i], relaxed);
  }
  counters_.truncated_datagrams.store(stats.truncated_datagrams, relaxed);
  counters_.foreign_datagrams.store(stats.foreign_datagrams, relaxed);
}

void Receiver::run(std::stop_token stop) noexcept {
  std::uint64_t ring_full = 0;
  std::uint64_t errors = 0;
  while (!stop.stop_requested()) {
    bool any = false;
    bool urgent = false;
    const connector::RecvResult result = connector_->receive_batch(kPollInterval, [&](const connector::Event& event) {
      any = true;
      // The aggregator reads /proc for these: it must see them while the process still exists.
      urgent |= event.type == connector::EventType::kExec || event.type == connector::EventType::kComm;
      if (!ring_.try_push(event)) ++ring_full;
    });
    if (result.status == connector::RecvStatus::kError) {
      ++errors;
      counters_.receive_errors.store(errors, std::memory_order_relaxed);
      // A persistent error (e.g. EBADF) must not spin a core.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (any) {
      // Otherwise let the aggregator drain in bulk on its own short timer: a wake-up per batch
      // would cost two futex calls per handful of events in a thread storm.
      if (urgent || ring_.size() > ring_.capacity() / 4) ring_.notify_consumer();
      counters_.last_event_monotonic_ns.store(steady_ns(), std::memory_order_relaxed);
    }
    counters_.ring_full_drops.store(ring_full, std::memory_order_relaxed);
    publish();
  }
}

}  // namespace procevents::receiver
