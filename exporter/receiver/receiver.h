// The receiver thread: drains the connector into the ring, never blocking on anything else.
//
// It owns the ProcConnector. Per batch it pushes every event into the ring (a full ring is a
// counted drop, never a wait) and publishes the connector's counters as relaxed atomics that any
// thread may read. It does no /proc I/O and takes no locks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "connector/proc_connector.h"
#include "ring/spsc_ring.h"

namespace procevents::receiver {

using EventRing = ring::SpscRing<connector::Event>;

/// Counters published by the receiver thread (monotonic; relaxed loads are fine for metrics).
struct ReceiverCounters {
  std::array<std::atomic<std::uint64_t>, connector::kEventTypeCount> events_by_type{};
  std::atomic<std::uint64_t> ring_full_drops{0};
  std::atomic<std::uint64_t> enobufs{0};           // recv() failures with ENOBUFS
  std::atomic<std::uint64_t> kernel_lost_events{0};  // exact seq-gap total (lower bound without full subscription)
  std::atomic<std::uint64_t> netlink_overruns{0};
  std::atomic<std::uint64_t> netlink_errors{0};
  std::array<std::atomic<std::uint64_t>, connector::kMalformedReasonCount> malformed{};
  std::atomic<std::uint64_t> truncated_datagrams{0};
  std::atomic<std::uint64_t> foreign_datagrams{0};
  std::atomic<std::uint64_t> receive_errors{0};    // other recv errors
  std::atomic<std::uint64_t> last_event_monotonic_ns{0};  // steady clock of the last received event
  std::atomic<bool> subscribed{false};
  /// Any loss signal at all (kernel or ring); the aggregator re-synchronises when this grows.
  std::uint64_t loss_signals() const noexcept {
    return enobufs.load(std::memory_order_relaxed) + kernel_lost_events.load(std::memory_order_relaxed) +
           netlink_overruns.load(std::memory_order_relaxed) + ring_full_drops.load(std::memory_order_relaxed);
  }
};

class Receiver {
 public:
  /// Takes a subscribed connector. The thread starts at once.
  Receiver(std::unique_ptr<connector::ProcConnector> connector, EventRing& ring);
  /// Stops and joins the thread, then unsubscribes (the connector's destructor).
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  const ReceiverCounters& counters() const noexcept { return counters_; }
  int receive_buffer_bytes() const noexcept { return receive_buffer_bytes_; }
  bool kernel_filter_active() const noexcept { return kernel_filter_active_; }

 private:
  void run(std::stop_token stop) noexcept;
  void publish() noexcept;

  std::unique_ptr<connector::ProcConnector> connector_;
  EventRing& ring_;
  ReceiverCounters counters_;
  int receive_buffer_bytes_ = 0;
  bool kernel_filter_active_ = false;
  std::jthread thread_;  // last: started after everything it uses exists, joined first
};

}  // namespace procevents::receiver
