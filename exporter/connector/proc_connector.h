// A subscribed listener on the Linux Process Events Connector (netlink NETLINK_CONNECTOR, CN_IDX_PROC).
//
// Lifecycle
//   1. `ProcConnector::open(options)`   creates the socket, sizes its receive buffer, binds CN_IDX_PROC.
//   2. `subscribe(mask)`                 asks the kernel for events; uses the kernel's per-socket filter
//                                        (`struct proc_input`, Linux >= 6.6) when the kernel proves it has
//                                        one by acknowledging it, else LISTEN + filtering here.
//   3. `receive()` / `receive_batch()`   parse events; control messages are skipped, losses counted.
//   4. `unsubscribe()` / `subscribe()`   may be repeated.
//   5. destruction                        best-effort unsubscribe, then close.
//
// Threading: one thread at a time per ProcConnector (it owns buffers and counters). Every call is
// noexcept and reports failure as a value; nothing allocates after open().
//
// Loss: NETLINK_NO_ENOBUFS is deliberately NOT set. When the socket buffer overflows the kernel
// drops events and the next recv fails with ENOBUFS: that is a kOverrun result, reading continues.
// Exactly how many events were lost is recovered from the per-CPU cn_msg.seq (see SeqTracker) when
// the socket receives every event; `stats().lost_events` holds that total.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/datagram_batch.h"
#include "common/sys_error.h"
#include "connector/event.h"
#include "connector/parser.h"
#include "connector/seq_tracker.h"

namespace procevents::connector {

using SysError = procevents::SysError;

struct ConnectorOptions {
  int receive_buffer_bytes = 0;      // requested SO_RCVBUF(FORCE) size; 0 keeps the kernel default
  bool non_blocking = false;         // O_NONBLOCK on the fd (for callers polling it themselves)
  std::size_t batch_datagrams = 64;  // datagrams drained per recvmmsg() call
};

using RecvStatus = procevents::RecvStatus;
using RecvResult = procevents::RecvResult;

struct SubscribeResult {
  SysError error;                    // send failed or the kernel acked with an errno
  bool kernel_filter_active = false; // the kernel filters by our mask (Linux >= 6.6)
  bool acknowledged = false;         // the kernel answered our request
};

/// Counters since open(). Plain integers: read them on the connector's thread.
/// (datagrams, enobufs, truncated_datagrams and foreign_datagrams come from DatagramCounters.)
struct ConnectorStats : DatagramCounters {
  std::uint64_t events_by_type[kEventTypeCount] = {};  // every parsed event, acks and unknown included
  std::uint64_t filtered_out = 0;      // events dropped by the user-space filter (kernel without proc_input)
  std::uint64_t netlink_overruns = 0;  // NLMSG_OVERRUN messages
  std::uint64_t lost_events = 0;       // events missing from per-CPU seq gaps since the last subscribe()
  std::uint64_t netlink_errors = 0;    // NLMSG_ERROR messages with a non-zero errno
  std::uint64_t malformed[kMalformedReasonCount] = {};
};

class ProcConnector {
 public:
  /// Creates the socket and binds it to CN_IDX_PROC. Does not subscribe.
  static std::unique_ptr<ProcConnector> open(const ConnectorOptions& options, SysError* error) noexcept;

  struct OpenKey;  // only open() can construct: the constructor is public for make_unique
  ProcConnector(const OpenKey&, int fd, std::size_t batch_datagrams);
  ~ProcConnector();
  ProcConnector(const ProcConnector&) = delete;
  ProcConnector& operator=(const ProcConnector&) = delete;

  /// Subscribes to the events in `mask` (bits of event_bits; kNonzeroExit alone means "failed exits
  /// only"). Waits up to `ack_timeout` for the kernel's ack to decide whether the kernel filters.
  /// Events that arrive while waiting are discarded: they predate the subscription.
  SubscribeResult subscribe(std::uint32_t mask = event_bits::kAll,
                            std::chrono::milliseconds ack_timeout = std::chrono::milliseconds(1000)) noexcept;

  /// Stops the kernel sending to this socket (PROC_CN_MCAST_IGNORE).
  SysError unsubscribe() noexcept;

  /// Receives one event. A negative timeout blocks. Returns kOk with `out` filled, kTimeout when no
  /// event (only control messages or nothing) arrived in time, kOverrun, or kError.
  RecvResult receive(Event& out, std::chrono::milliseconds timeout) noexcept;

  /// Drains up to `batch_datagrams` datagrams in one recvmmsg() (after waiting up to `timeout` for
  /// the first) and calls `sink(const Event&)` for each event that passes the subscription mask.
  template <class Sink>
  RecvResult receive_batch(std::chrono::milliseconds timeout, Sink&& sink) noexcept {
    return receive_batch(timeout, sink, [] {});
  }

  /// The same, calling `after_receive()` once the datagrams are read and before any event reaches
  /// `sink`: everything the kernel queued elsewhere before these events (e.g. taskstats exit
  /// records, sent before the connector's exit event) can be collected first, preserving order.
  template <class Sink, class AfterReceive>
  RecvResult receive_batch(std::chrono::milliseconds timeout, Sink&& sink, AfterReceive&& after_receive) noexcept {
    // Events a receive() call left over come first, without a system call: the next recvmmsg()
    // reuses the buffers they are in.
    Message message;
    if (pending_cursor_) {
      after_receive();
      while (next_pending(message)) sink(static_cast<const Event&>(message.event));
      return {RecvStatus::kOk, 0};
    }
    std::size_t count = 0;
    const RecvResult result = fill_batch(timeout, count);
    after_receive();
    for (std::size_t i = 0; i < count; ++i) {
      MessageCursor cursor(datagram(i));
      while (cursor.next(message)) {
        if (account(message)) sink(static_cast<const Event&>(message.event));
      }
    }
    return result;
  }

  /// Switches O_NONBLOCK. Returns an error value on failure.
  SysError set_non_blocking(bool enabled) noexcept;

  int fd() const noexcept { return fd_; }  ///< For poll/epoll. Owned: do not close it.
  /// False when the last receive_batch() emptied the socket (see DatagramBatch::full).
  bool last_batch_full() const noexcept { return batch_.full(); }
  int receive_buffer_bytes() const noexcept { return receive_buffer_bytes_; }  ///< as granted by the kernel
  bool subscribed() const noexcept { return subscribed_; }
  bool kernel_filter_active() const noexcept { return kernel_filter_active_; }
  /// True when seq gaps are exact loss counts (every event reaches this socket).
  bool loss_exact() const noexcept { return !kernel_filter_active_ || mask_ == event_bits::kAll; }
  std::uint32_t mask() const noexcept { return mask_; }
  const ConnectorStats& stats() const noexcept { return stats_; }

 private:
  RecvResult fill_batch(std::chrono::milliseconds timeout, std::size_t& count) noexcept;
  std::span<const std::byte> datagram(std::size_t index) const noexcept;
  /// Counts `message` and returns true when it is an event the caller asked for.
  bool account(const Message& message) noexcept;
  /// The next wanted event left over from the batch receive() is handing out; false when none is.
  bool next_pending(Message& message) noexcept;
  bool wants(const Event& event) const noexcept;
  SysError send_control(std::span<const std::byte> data, std::uint32_t seq) noexcept;
  /// Reads until the ack of request `seq` arrives or `timeout` passes; everything else is discarded.
  std::optional<std::uint32_t> wait_for_ack(std::uint32_t seq, std::chrono::milliseconds timeout) noexcept;

  int fd_ = -1;
  int receive_buffer_bytes_ = 0;
  bool subscribed_ = false;
  bool kernel_filter_active_ = false;
  std::uint32_t mask_ = event_bits::kAll;
  std::uint32_t control_seq_ = 0;
  DatagramBatch batch_;
  // Messages left over from a batch that `receive()` has only partly handed out.
  std::size_t pending_index_ = 0;
  std::size_t pending_count_ = 0;
  std::optional<MessageCursor> pending_cursor_;
  SeqTracker seq_tracker_;
  std::uint64_t seq_gaps_ = 0;   // raw per-CPU gaps since subscribe()
  std::uint64_t acks_seen_ = 0;  // acks since subscribe(): each explains one gap
  ConnectorStats stats_;
};

}  // namespace procevents::connector
