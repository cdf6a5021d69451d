// Receives up to N netlink datagrams with one recvmmsg() into buffers allocated once: the batch
// reader shared by both kernel sources (process events connector and taskstats).
//
// Datagrams that were cut (MSG_TRUNC) or that did not come from the kernel (sender port id != 0:
// anyone on the host could otherwise forge events) are counted and handed out as empty.
#pragma once

#include <sys/socket.h>
#include <linux/netlink.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/sys_error.h"

namespace procevents {

enum class RecvStatus : std::uint8_t {
  kOk,       // at least one datagram was read (it may have held only skipped control messages)
  kTimeout,  // nothing arrived in time (with a zero timeout or O_NONBLOCK: nothing pending)
  kOverrun,  // ENOBUFS: the kernel dropped messages for us; counted, keep reading
  kError,    // another errno; see `sys_errno`
};

struct RecvResult {
  RecvStatus status = RecvStatus::kTimeout;
  int sys_errno = 0;
};

struct DatagramCounters {
  std::uint64_t datagrams = 0;
  std::uint64_t enobufs = 0;              // receive calls that failed with ENOBUFS
  std::uint64_t truncated_datagrams = 0;  // larger than a slot (MSG_TRUNC)
  std::uint64_t foreign_datagrams = 0;    // not sent by the kernel: ignored
};

class DatagramBatch {
 public:
  DatagramBatch(std::size_t slots, std::size_t slot_bytes);

  /// Reads what is queued on `fd`; when nothing is, waits up to `timeout` (negative: forever, zero:
  /// not at all) and reads once more. Counts into `counters`. Never allocates.
  RecvResult receive(int fd, std::chrono::milliseconds timeout, DatagramCounters& counters) noexcept;

  /// Datagrams the last receive() returned.
  std::size_t count() const noexcept { return count_; }
  /// Whether the last receive() filled every slot. If not, the socket held nothing more at that
  /// moment (recvmmsg stops at the first empty read), so the caller can wait instead of reading again.
  bool full() const noexcept { return count_ == headers_.size(); }
  /// The usable bytes of datagram `index` (< count()); empty for cut or foreign ones.
  std::span<const std::byte> datagram(std::size_t index) const noexcept {
    return {storage_.data() + index * slot_bytes_, lengths_[index]};
  }

 private:
  std::size_t slot_bytes_;
  std::size_t count_ = 0;
  std::vector<std::byte> storage_;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_nl> sources_;
  std::vector<std::size_t> lengths_;
};

/// A poll(2) timeout in milliseconds: -1 for a negative duration, capped at 2^30.
int poll_timeout_ms(std::chrono::milliseconds timeout) noexcept;

// Netlink socket steps both sources share.

/// SO_RCVBUFFORCE (may exceed net.core.rmem_max, needs CAP_NET_ADMIN), else the capped SO_RCVBUF.
SysError set_receive_buffer(int fd, int bytes) noexcept;
/// The receive buffer the kernel granted (it doubles the request); 0 if unknown.
int granted_receive_buffer(int fd) noexcept;
/// Sends one complete netlink message to the kernel (port 0); `call` names it in the error.
SysError send_to_kernel(int fd, std::span<const std::byte> message, std::string_view call) noexcept;

}  // namespace procevents
