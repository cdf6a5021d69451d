#include "common/datagram_batch.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>

namespace procevents {

int poll_timeout_ms(std::chrono::milliseconds timeout) noexcept {
  if (timeout.count() < 0) return -1;
  return static_cast<int>(std::min<std::chrono::milliseconds::rep>(timeout.count(), 1 << 30));
}

SysError set_receive_buffer(int fd, int bytes) noexcept {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0 &&
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0) {
    return {errno, "setsockopt(SO_RCVBUF)"};
  }
  return {};
}

int granted_receive_buffer(int fd) noexcept {
  int granted = 0;
  socklen_t length = sizeof granted;
  return ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &length) == 0 ? granted : 0;
}

SysError send_to_kernel(int fd, std::span<const std::byte> message, std::string_view call) noexcept {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = ::sendto(fd, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return {errno, call};
  return {};
}

DatagramBatch::DatagramBatch(std::size_t slots, std::size_t slot_bytes)
    : slot_bytes_(slot_bytes),
      storage_(std::max<std::size_t>(slots, 1) * slot_bytes),
      headers_(std::max<std::size_t>(slots, 1)),
      iovecs_(headers_.size()),
      sources_(headers_.size()),
      lengths_(headers_.size()) {
  for (std::size_t i = 0; i < iovecs_.size(); ++i) iovecs_[i] = {storage_.data() + i * slot_bytes_, slot_bytes_};
}

RecvResult DatagramBatch::receive(int fd, std::chrono::milliseconds timeout, DatagramCounters& counters) noexcept {
  count_ = 0;
  const std::size_t slots = headers_.size();
  int received = -1;
  // Under load data is already queued: try first and poll only when there is nothing, which saves
  // one system call per batch exactly when batches are small and frequent.
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (std::size_t i = 0; i < slots; ++i) {
      msghdr& header = headers_[i].msg_hdr;
      header = {};
      header.msg_name = &sources_[i];
      header.msg_namelen = sizeof(sockaddr_nl);
      header.msg_iov = &iovecs_[i];
      header.msg_iovlen = 1;
      headers_[i].msg_len = 0;
    }
    do {
      received = ::recvmmsg(fd, headers_.data(), static_cast<unsigned>(slots), MSG_DONTWAIT, nullptr);
    } while (received < 0 && errno == EINTR);
    if (received >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || attempt == 1 || timeout.count() == 0) break;
    pollfd descriptor{fd, POLLIN, 0};
    int ready;
    do {
      ready = ::poll(&descriptor, 1, poll_timeout_ms(timeout));
    } while (ready < 0 && errno == EINTR);
    if (ready < 0) return {RecvStatus::kError, errno};
    if (ready == 0) return {RecvStatus::kTimeout, 0};
  }
  if (received < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {RecvStatus::kTimeout, 0};
    if (errno == ENOBUFS) {
      ++counters.enobufs;
      return {RecvStatus::kOverrun, ENOBUFS};
    }
    return {RecvStatus::kError, errno};
  }

  count_ = static_cast<std::size_t>(received);
  counters.datagrams += count_;
  for (std::size_t i = 0; i < count_; ++i) {
    const msghdr& header = headers_[i].msg_hdr;
    lengths_[i] = headers_[i].msg_len;
    if (header.msg_flags & MSG_TRUNC) {
      ++counters.truncated_datagrams;
      lengths_[i] = 0;
    } else if (header.msg_namelen >= sizeof(sockaddr_nl) && sources_[i].nl_pid != 0) {
      ++counters.foreign_datagrams;
      lengths_[i] = 0;
    }
  }
  return {RecvStatus::kOk, 0};
}

}  // namespace procevents
