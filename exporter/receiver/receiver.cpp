#include "receiver/receiver.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>

#include "common/clock.h"

namespace procevents::receiver {

namespace {
// Only if no eventfd could be made: then a stop request is noticed within this long.
constexpr std::chrono::milliseconds kStopPollFallback{1000};
// Taskstats batches drained per connector batch: enough for any burst a connector batch can
// describe, bounded so the connector socket is never starved.
constexpr int kMaxTaskstatsBatches = 16;
}  // namespace

Receiver::Receiver(std::unique_ptr<connector::ProcConnector> connector,
                   std::unique_ptr<taskstats::TaskstatsSource> taskstats, EventRing& ring, WakePolicy wake)
    : connector_(std::move(connector)),
      taskstats_(std::move(taskstats)),
      ring_(ring),
      wake_(wake),
      stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      subscribed_(connector_->subscribed()),
      receive_buffer_bytes_(connector_->receive_buffer_bytes()),
      kernel_filter_active_(connector_->kernel_filter_active()),
      records_wake_us_(taskstats_ && !(subscribed_ && (connector_->mask() & connector::event_bits::kExit))) {
  publish();
  thread_ = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
}

Receiver::~Receiver() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

namespace {
std::uint64_t loss_total(const connector::ConnectorStats& connector, const ReceiverStats& own) noexcept {
  return connector.enobufs + connector.lost_events + connector.netlink_overruns + own.ring_full_drops +
         own.ring_full_record_drops;
}
}  // namespace

std::uint64_t Receiver::loss_signals() const noexcept { return loss_total(connector_stats(), stats()); }

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

bool Receiver::push(const PipelineItem& item, std::uint64_t& drops) noexcept {
  if (ring_.try_push(item)) return true;
  ++drops;
  return false;
}

std::size_t Receiver::drain_taskstats() noexcept {
  if (!taskstats_) return 0;
  std::size_t pushed = 0;
  for (int batch = 0; batch < kMaxTaskstatsBatches; ++batch) {
    const RecvResult result = taskstats_->receive_batch(std::chrono::milliseconds(0), [&](const taskstats::ExitRecord& record) {
      pushed += push(PipelineItem(record), own_.ring_full_record_drops);
    });
    if (result.status == RecvStatus::kError) ++own_.taskstats_receive_errors;
    if (result.status == RecvStatus::kTimeout || result.status == RecvStatus::kError) break;
    // A partial batch emptied the socket: every record queued before the connector batch was read.
    if (result.status == RecvStatus::kOk && !taskstats_->last_batch_full()) break;
  }
  return pushed;
}

void Receiver::wait_for_input(std::uint64_t deadline_ns) noexcept {
  pollfd fds[3] = {{connector_->fd(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}, {records_wake_us_ ? taskstats_->fd() : -1, POLLIN, 0}};
  timespec timeout{};
  const timespec* bound = nullptr;  // none: only input or a stop ends the wait
  if (deadline_ns != 0 || !stop_fd_) {
    const std::uint64_t now = steady_ns();
    std::uint64_t wait_ns = deadline_ns > now ? deadline_ns - now : 0;
    const auto fallback = static_cast<std::uint64_t>(std::chrono::nanoseconds(kStopPollFallback).count());
    if (!stop_fd_ && (deadline_ns == 0 || wait_ns > fallback)) wait_ns = fallback;
    timeout = {static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
    bound = &timeout;
  }
  const int ready = ::ppoll(fds, records_wake_us_ ? 3 : 2, bound, nullptr);
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
  ::pthread_setname_np(::pthread_self(), "receiver");  // for top -H, and per-thread wake-up counts
  // A stop request ends an unbounded wait through the eventfd.
  const std::stop_callback wake_on_stop(stop, [this] {
    const std::uint64_t one = 1;
    if (stop_fd_) (void)!::write(stop_fd_.get(), &one, sizeof one);
  });
  // When the aggregator must be woken for what was pushed without waking it (0: nothing waits).
  std::uint64_t wake_due_ns = 0;
  std::uint64_t losses_seen = loss_total(connector_->stats(), own_);
  while (!stop.stop_requested()) {
    std::size_t pushed = 0;
    bool any_event = false;
    bool urgent = false;
    const RecvResult result = connector_->receive_batch(
        std::chrono::milliseconds(0),
        [&](const connector::Event& event) {
          any_event = true;
          urgent |= wake_.is_urgent && wake_.is_urgent(event);
          pushed += push(PipelineItem(event), own_.ring_full_drops);
        },
        [&] { pushed += drain_taskstats(); });
    if (result.status == RecvStatus::kError) {
      ++own_.connector_receive_errors;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const std::uint64_t now = steady_ns();
    if (any_event) own_.last_event_monotonic_ns = now;
    if (pushed > 0 && wake_due_ns == 0) {
      wake_due_ns = now + static_cast<std::uint64_t>(std::chrono::nanoseconds(wake_.batch_delay).count());
    }
    publish();
    // A loss makes the aggregator re-synchronise; a quarter-full ring must drain before it overflows.
    const std::uint64_t losses = loss_total(connector_->stats(), own_);
    const bool wake_now = urgent || losses != losses_seen || ring_.size() > ring_.capacity() / 4;
    losses_seen = losses;
    if (wake_now || (wake_due_ns != 0 && now >= wake_due_ns)) {
      ring_.notify_consumer();
      wake_due_ns = 0;
    }
    // Wait once the connector socket is empty: after a partial batch, not only after a read that
    // finds nothing (which would cost two more receive calls per wake-up).
    const bool drained = result.status == RecvStatus::kTimeout ||
                         (result.status == RecvStatus::kOk && !connector_->last_batch_full());
    if (drained) {
      sweep_after_overrun();
      wait_for_input(wake_due_ns);
    }
  }
}

}  // namespace procevents::receiver
