// The receiver thread: drains both kernel sources into the ring, never blocking on anything else.
//
// It owns the ProcConnector and, when available, the TaskstatsSource. Every full ring is a
// counted drop, never a wait; it does no /proc I/O and takes no locks. Each source's counters are
// published whole (PublishedStats) for any thread to read.
//
// Order guarantee: for a task's exit the kernel queues the taskstats record before the connector's
// exit event (do_exit: taskstats_exit() precedes proc_exit_connector()). The receiver reads a
// connector batch, then drains the taskstats socket, then pushes the connector events, so every
// exit record reaches the ring before the connector exit event of the same task (unless the
// taskstats socket overflowed, which is counted). For the same reason an exit record alone does not
// wake the receiver while every exit is subscribed: its task's exit event follows and drains it,
// so an exit costs one wake-up, not two.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "common/published_stats.h"
#include "common/unique_fd.h"
#include "connector/proc_connector.h"
#include "receiver/cpu_sweep.h"
#include "receiver/pipeline_item.h"
#include "receiver/receiver_stats.h"
#include "taskstats/taskstats_source.h"

namespace procevents::receiver {

/// Which events the aggregator wants to see promptly (it reads /proc for them).
/// A plain function (asked once per event): null means nothing is urgent.
using UrgencyPolicy = bool (*)(const connector::Event&) noexcept;

/// When the receiver wakes the aggregator: at once for an urgent event, a ring a quarter full or a
/// loss; otherwise once nothing pushed has waited longer than `batch_delay`. So a storm is handled
/// in batches of many events and a host at rest wakes it not at all.
///
/// The exporter marks execs urgent: every later event of a process (its threads, its
/// children, its core dump) is counted under the name read from /proc at its exec, so that read
/// must come before the process can move on or vanish; a short-lived process read late would be
/// gone, and its thread forks and core dump would go to its parent's group.
/// Nothing else has a deadline: the aggregator reads no /proc for other events of processes it
/// tracks, held execs wait seconds for their exit records, and a scrape makes it catch up first.
/// So the batch delay is long: on a host with a few processes a second (a build), their exits are
/// handled with the next exec's wake-up, or together once a second, not each 20 ms later.
struct WakePolicy {
  UrgencyPolicy is_urgent = nullptr;
  std::chrono::microseconds batch_delay{1000000};
};

class Receiver {
 public:
  /// Takes a subscribed connector and an optional registered taskstats source. Starts at once.
  Receiver(std::unique_ptr<connector::ProcConnector> connector, std::unique_ptr<taskstats::TaskstatsSource> taskstats,
           EventRing& ring, WakePolicy wake = {});
  /// Stops and joins the thread, then unsubscribes and deregisters (the sources' destructors).
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  connector::ConnectorStats connector_stats() const noexcept { return connector_stats_.load(); }
  taskstats::SourceStats taskstats_stats() const noexcept { return taskstats_stats_.load(); }
  ReceiverStats stats() const noexcept { return stats_.load(); }
  /// Any loss signal at all (kernel or ring); the aggregator re-synchronises when this grows.
  std::uint64_t loss_signals() const noexcept;
  /// Connector events received so far (for liveness checks).
  std::uint64_t events_received() const noexcept;

  bool subscribed() const noexcept { return subscribed_; }
  bool taskstats_active() const noexcept { return taskstats_ != nullptr; }
  int taskstats_receive_buffer_bytes() const noexcept { return taskstats_ ? taskstats_->receive_buffer_bytes() : 0; }
  int receive_buffer_bytes() const noexcept { return receive_buffer_bytes_; }
  bool kernel_filter_active() const noexcept { return kernel_filter_active_; }

 private:
  void run(std::stop_token stop) noexcept;
  /// Pushes every exit record queued now (bounded, so a storm cannot starve the connector);
  /// returns how many were pushed.
  std::size_t drain_taskstats() noexcept;
  /// Pushes `item`, or counts it in `drops` when the ring is full; returns whether it was pushed.
  bool push(const PipelineItem& item, std::uint64_t& drops) noexcept;
  /// Waits until either socket is readable, a stop is requested, or `deadline_ns` (steady clock;
  /// 0: no deadline) passes.
  void wait_for_input(std::uint64_t deadline_ns) noexcept;
  void publish() noexcept;
  /// After an overrun, once the socket is drained: an event on every CPU, so that the loss is
  /// counted now rather than at each CPU's next event (see CpuSweep).
  void sweep_after_overrun() noexcept;

  std::unique_ptr<connector::ProcConnector> connector_;
  std::unique_ptr<taskstats::TaskstatsSource> taskstats_;
  EventRing& ring_;
  WakePolicy wake_;
  UniqueFd stop_fd_;  // eventfd: a stop request ends an unbounded wait
  bool subscribed_ = false;
  int receive_buffer_bytes_ = 0;
  bool kernel_filter_active_ = false;
  // Exit records wake us only when the connector does not deliver every exit (see the top of this
  // file): otherwise each task's exit event follows its record and drains it.
  bool records_wake_us_ = false;
  ReceiverStats own_;  // the receiver thread's working copy
  PublishedStats<connector::ConnectorStats> connector_stats_;
  PublishedStats<taskstats::SourceStats> taskstats_stats_;
  PublishedStats<ReceiverStats> stats_;
  std::uint64_t overruns_swept_ = 0;  // connector overruns (ENOBUFS) a sweep has followed
  CpuSweep sweep_;
  std::jthread thread_;  // last: started after everything it uses exists, joined first
};

}  // namespace procevents::receiver
