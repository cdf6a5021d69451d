#include "receiver/receiver.h"

#include <poll.h>

#include <cerrno>
#include <chrono>

#include "common/clock.h"

namespace procevents::receiver {

namespace {
// Bounded wait so a stop request is noticed promptly without a wake-up fd.
constexpr std::chrono::milliseconds kPollInterval{100};
// Taskstats batches drained per connector batch: enough for any burst a connector batch can
// describe, bounded so the connector socket is never starved.
constexpr int kMaxTaskstatsBatches = 16;
}  // namespace

Receiver::Receiver(std::unique_ptr<connector::ProcConnector> connector,
                   std::unique_ptr<taskstats::TaskstatsSource> taskstats, EventRing& ring, UrgencyPolicy is_urgent)
    : connector_(std::move(connector)),
      taskstats_(std::move(taskstats)),
      ring_(ring),
      is_urgent_(is_urgent),
      subscribed_(connector_->subscribed()),
      receive_buffer_bytes_(connector_->receive_buffer_bytes()),
      kernel_filter_active_(connector_->kernel_filter_active()) {
  publish();
  thread_ = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
}

Receiver::~Receiver() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t Receiver::loss_signals() const noexcept {
  const connector::ConnectorStats connector = connector_stats();
  const ReceiverStats own = stats();
  return connector.enobufs + connector.lost_events + connector.netlink_overruns + own.ring_full_drops +
         own.ring_full_record_drops;
}

std::uint64_t Receiver::events_received() const noexcept {
  const connector::ConnectorStats connector = connector_stats();
  std::uint64_t total = 0;
  for (const std::uint64_t count : connector.events_by_type) total += count;
  return total;
}

void Receiver::publish() noexcept {
  connector_stats_.publish(connector_->stats());
  if (taskstats_) taskstats_stats_.publish(taskstats_->stats());
  stats_.publish(own_);
}

void Receiver::drain_taskstats() noexcept {
  if (!taskstats_) return;
  for (int batch = 0; batch < kMaxTaskstatsBatches; ++batch) {
    const RecvResult result = taskstats_->receive_batch(std::chrono::milliseconds(0), [&](const taskstats::ExitRecord& record) {
      if (!ring_.try_push(PipelineItem(record))) ++own_.ring_full_record_drops;
    });
    if (result.status == RecvStatus::kError) ++own_.taskstats_receive_errors;
    if (result.status == RecvStatus::kTimeout || result.status == RecvStatus::kError) return;
  }
}

void Receiver::wait_for_input() noexcept {
  pollfd fds[2] = {{connector_->fd(), POLLIN, 0}, {taskstats_ ? taskstats_->fd() : -1, POLLIN, 0}};
  const int ready = ::poll(fds, taskstats_ ? 2 : 1, static_cast<int>(kPollInterval.count()));
  if (ready < 0 && errno != EINTR) {
    // A persistent error (e.g. EBADF) must not spin a core.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Receiver::sweep_after_overrun() noexcept {
  const std::uint64_t overruns = connector_->stats().enobufs;
  if (overruns == overruns_swept_ || !connector_->loss_exact()) return;
  if (sweep_.start()) overruns_swept_ = overruns;  // else one is running: try again when it is done
}

void Receiver::run(std::stop_token stop) noexcept {
  while (!stop.stop_requested()) {
    bool any = false;
    bool urgent = false;
    const RecvResult result = connector_->receive_batch(
        std::chrono::milliseconds(0),
        [&](const connector::Event& event) {
          any = true;
          urgent |= is_urgent_ && is_urgent_(event);
          if (!ring_.try_push(PipelineItem(event))) ++own_.ring_full_drops;
        },
        [&] { drain_taskstats(); });
    if (result.status == RecvStatus::kError) {
      ++own_.connector_receive_errors;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (any) {
      // Otherwise let the aggregator drain in bulk on its own short timer: a wake-up per batch
      // would cost two futex calls per handful of events in a thread storm.
      if (urgent || ring_.size() > ring_.capacity() / 4) ring_.notify_consumer();
      own_.last_event_monotonic_ns = steady_ns();
    }
    publish();
    if (result.status == RecvStatus::kTimeout) {
      sweep_after_overrun();
      wait_for_input();
    }
  }
}

}  // namespace procevents::receiver
