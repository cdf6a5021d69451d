// A registered listener for the kernel's taskstats exit records (generic netlink family TASKSTATS,
// <linux/taskstats.h>, kernel doc Documentation/accounting/taskstats.rst).
//
// Lifecycle
//   1. `TaskstatsSource::open(options)`  creates the socket, sizes its receive buffer, resolves the
//                                          family id by name and registers for every possible CPU
//                                          (TASKSTATS_CMD_ATTR_REGISTER_CPUMASK), waiting for the ack.
//   2. `receive_batch()`                  parses exit records; control messages skipped, losses counted.
//   3. destruction                         deregisters (best effort), then closes.
//
// Threading: one thread at a time (it owns buffers and counters). Every call is noexcept and
// reports failure as a value; nothing allocates after open().
//
// Loss: the kernel unicasts one message per exiting task to each listener; a full receive buffer
// makes the next recv fail with ENOBUFS (counted in stats().enobufs). Records carry no CPU id, so
// unlike the connector the number of records lost is not recoverable: the aggregator's cross-check
// of exits seen by only one source measures it instead.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/datagram_batch.h"
#include "common/sys_error.h"
#include "taskstats/parser.h"

namespace procevents::taskstats {

struct SourceOptions {
  int receive_buffer_bytes = 0;      // requested SO_RCVBUF(FORCE) size; 0 keeps the kernel default
  std::size_t batch_datagrams = 64;  // datagrams drained per recvmmsg() call
  /// The CPUs to register for, in the kernel's cpulist format; empty = read `possible_cpus_path`.
  std::string cpu_list;
  std::string possible_cpus_path = "/sys/devices/system/cpu/possible";
  std::chrono::milliseconds ack_timeout{1000};
};

/// Counters since open(). Plain integers: read them on the source's thread.
struct SourceStats : DatagramCounters {
  std::uint64_t task_records = 0;          // TASKSTATS_TYPE_AGGR_PID
  std::uint64_t thread_group_records = 0;  // TASKSTATS_TYPE_AGGR_TGID
  std::uint64_t netlink_overruns = 0;      // NLMSG_OVERRUN messages
  std::uint64_t netlink_errors = 0;        // NLMSG_ERROR messages with a non-zero errno
  std::uint64_t malformed[kMalformedReasonCount] = {};
};

class TaskstatsSource {
 public:
  /// Opens, resolves and registers. On failure returns null and says which call failed and why
  /// (ENOENT from the family lookup: a kernel without CONFIG_TASKSTATS; EPERM: no CAP_NET_ADMIN;
  /// EINVAL from registration: a CPU list the kernel does not accept).
  static std::unique_ptr<TaskstatsSource> open(const SourceOptions& options, SysError* error) noexcept;

  struct OpenKey;  // only open() can construct: the constructor is public for make_unique
  TaskstatsSource(const OpenKey&, int fd, std::uint16_t family_id, std::string cpu_list, std::size_t batch);
  ~TaskstatsSource();
  TaskstatsSource(const TaskstatsSource&) = delete;
  TaskstatsSource& operator=(const TaskstatsSource&) = delete;

  /// Drains up to `batch_datagrams` datagrams in one recvmmsg() (after waiting up to `timeout` for
  /// the first; zero: only what is queued) and calls `sink(const ExitRecord&)` for each record.
  template <class Sink>
  RecvResult receive_batch(std::chrono::milliseconds timeout, Sink&& sink) noexcept {
    const RecvResult result = batch_.receive(fd_, timeout, stats_);
    Item item;
    for (std::size_t i = 0; i < batch_.count(); ++i) {
      ItemCursor cursor(batch_.datagram(i), family_id_);
      while (cursor.next(item)) {
        if (account(item)) sink(static_cast<const ExitRecord&>(item.record));
      }
    }
    return result;
  }

  int fd() const noexcept { return fd_; }  ///< For poll/epoll. Owned: do not close it.
  /// False when the last receive_batch() emptied the socket (see DatagramBatch::full).
  bool last_batch_full() const noexcept { return batch_.full(); }
  std::uint16_t family_id() const noexcept { return family_id_; }
  const std::string& cpu_list() const noexcept { return cpu_list_; }  ///< as registered
  int receive_buffer_bytes() const noexcept { return receive_buffer_bytes_; }  ///< as granted
  const SourceStats& stats() const noexcept { return stats_; }

 private:
  /// Counts `item`; true when it is a record for the sink.
  bool account(const Item& item) noexcept;

  int fd_ = -1;
  std::uint16_t family_id_ = 0;
  std::string cpu_list_;
  int receive_buffer_bytes_ = 0;
  DatagramBatch batch_;
  SourceStats stats_;
};

/// The first line of a cpulist file such as /sys/devices/system/cpu/possible ("0-3", "0,2-5"),
/// trimmed; empty when unreadable or not a cpulist.
std::string read_cpu_list(const std::string& path);

}  // namespace procevents::taskstats
