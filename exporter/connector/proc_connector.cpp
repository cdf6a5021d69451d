#include "connector/proc_connector.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "connector/wire.h"

namespace procevents::connector {

namespace {

constexpr std::size_t kDatagramSlotBytes = 1024;  // one kernel event is 76 bytes; room for multi-message datagrams
// What the kernel calls PROC_EVENT_ALL; a request for 0 (NONE) is treated as ALL by the kernel too.
constexpr std::uint32_t kKernelAll = event_bits::kAll | event_bits::kNonzeroExit;

using Clock = std::chrono::steady_clock;

// Distinct sequence numbers for our control messages, so we recognise our own ack among those the
// kernel multicasts to every listener.
std::uint32_t first_control_seq() {
  static std::atomic<std::uint32_t> counter{0};
  return (static_cast<std::uint32_t>(::getpid()) << 12) ^ (counter.fetch_add(1) << 24) ^ 0x5eed;
}

}  // namespace

struct ProcConnector::OpenKey {};

ProcConnector::ProcConnector(const OpenKey&, int fd, std::size_t batch_datagrams)
    : fd_(fd), control_seq_(first_control_seq()), batch_(batch_datagrams, kDatagramSlotBytes) {}

ProcConnector::~ProcConnector() {
  if (fd_ < 0) return;
  if (subscribed_) (void)unsubscribe();
  ::close(fd_);
}

std::unique_ptr<ProcConnector> ProcConnector::open(const ConnectorOptions& options, SysError* error) noexcept {
  const auto fail = [&](std::string_view call, int fd) -> std::unique_ptr<ProcConnector> {
    const int code = errno;
    if (fd >= 0) ::close(fd);
    if (error) *error = {code, call};
    return nullptr;
  };
  int flags = SOCK_DGRAM | SOCK_CLOEXEC | (options.non_blocking ? SOCK_NONBLOCK : 0);
  const int fd = ::socket(AF_NETLINK, flags, NETLINK_CONNECTOR);
  if (fd < 0) return fail("socket(AF_NETLINK, NETLINK_CONNECTOR)", -1);

  if (options.receive_buffer_bytes > 0) {
    const int size = options.receive_buffer_bytes;
    // FORCE may exceed net.core.rmem_max but needs CAP_NET_ADMIN; without it fall back to the capped call.
    if (const SysError failed = set_receive_buffer(fd, size)) {
      errno = failed.code;
      return fail(failed.call, fd);
    }
  }

  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = wire::kCnIdxProc;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return fail("bind(NETLINK_CONNECTOR, CN_IDX_PROC)", fd);
  }

  const std::size_t batch = options.batch_datagrams == 0 ? 1 : options.batch_datagrams;
  auto connector = std::make_unique<ProcConnector>(OpenKey{}, fd, batch);
  connector->receive_buffer_bytes_ = granted_receive_buffer(fd);
  return connector;
}

SysError ProcConnector::set_non_blocking(bool enabled) noexcept {
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0) return {errno, "fcntl(F_GETFL)"};
  const int wanted = enabled ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (::fcntl(fd_, F_SETFL, wanted) != 0) return {errno, "fcntl(F_SETFL)"};
  return {};
}

SysError ProcConnector::send_control(std::span<const std::byte> data, std::uint32_t seq) noexcept {
  std::byte message[wire::kNlHdrLen + sizeof(wire::CnMsg) + sizeof(wire::ProcInput)]{};
  const std::size_t length = wire::kNlHdrLen + sizeof(wire::CnMsg) + data.size();
  if (data.size() > sizeof(wire::ProcInput)) return {EINVAL, "send(connector control)"};

  const wire::NlMsgHdr header{static_cast<std::uint32_t>(length), wire::kNlmsgDone, 0, seq, 0};
  const wire::CnMsg cn{wire::kCnIdxProc, wire::kCnValProc, seq, seq, static_cast<std::uint16_t>(data.size()), 0};
  std::memcpy(message, &header, sizeof header);
  std::memcpy(message + wire::kNlHdrLen, &cn, sizeof cn);
  std::memcpy(message + wire::kNlHdrLen + sizeof cn, data.data(), data.size());

  return send_to_kernel(fd_, std::span<const std::byte>(message, length), "send(connector control)");
}

std::optional<std::uint32_t> ProcConnector::wait_for_ack(std::uint32_t seq,
                                                          std::chrono::milliseconds timeout) noexcept {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    std::size_t count = 0;
    const RecvResult result = fill_batch(left, count);
    if (result.status == RecvStatus::kError) return std::nullopt;
    for (std::size_t i = 0; i < count; ++i) {
      MessageCursor cursor(datagram(i));
      Message message;
      while (cursor.next(message)) {
        const Event& event = message.event;
        // Match on cn_msg.ack only: newer kernels overwrite the ack's seq with their per-CPU counter.
        if (message.kind == MessageKind::kEvent && event.type == EventType::kAck && event.ack == seq + 1) {
          return event.ack_error;
        }
      }
    }
  }
}

SubscribeResult ProcConnector::subscribe(std::uint32_t mask, std::chrono::milliseconds ack_timeout) noexcept {
  SubscribeResult result;
  mask_ = (mask == 0 || mask == kKernelAll) ? event_bits::kAll : mask;
  seq_tracker_.reset();
  seq_gaps_ = 0;
  acks_seen_ = 0;
  stats_.lost_events = 0;
  pending_cursor_.reset();

  // Probe: an 8-byte proc_input asking for everything. Kernels with per-socket filtering (>= 6.6)
  // ack it; older kernels ignore any request that is not 4 bytes long, so silence means "no filter".
  // (A narrower mask cannot be the probe: the kernel's filter would drop its own ack, which has no bits.)
  const auto as_bytes = [](const auto& value) {
    return std::span<const std::byte>(reinterpret_cast<const std::byte*>(&value), sizeof value);
  };
  // Sends `request`, waits for its ack; true when acked (a refusal is stored in result.error).
  const auto request_acked = [&](std::span<const std::byte> request) {
    const std::uint32_t seq = ++control_seq_;
    if ((result.error = send_control(request, seq))) return false;
    const auto ack = wait_for_ack(seq, ack_timeout);
    if (!ack) return false;
    result.acknowledged = true;
    if (*ack != 0) result.error = {static_cast<int>(*ack), "subscribe (kernel ack)"};
    return true;
  };
  const wire::ProcInput probe{wire::kMcastListen, event_bits::kNone};
  const bool probe_acked = request_acked(as_bytes(probe));
  if (result.error) return result;
  if (probe_acked) {
    subscribed_ = true;
    if (mask_ != event_bits::kAll) {
      const wire::ProcInput filtered{wire::kMcastListen, mask_};
      if ((result.error = send_control(as_bytes(filtered), ++control_seq_))) return result;
      kernel_filter_active_ = true;
    } else {
      kernel_filter_active_ = false;
    }
    result.kernel_filter_active = kernel_filter_active_;
    return result;
  }

  // Legacy kernel: plain 4-byte LISTEN, filtering happens in wants(). Some old kernels never ack;
  // the exporter's self-check catches a subscription that silently failed.
  kernel_filter_active_ = false;
  const std::uint32_t listen = wire::kMcastListen;
  (void)request_acked(as_bytes(listen));
  if (result.error) return result;
  subscribed_ = true;
  return result;
}

SysError ProcConnector::unsubscribe() noexcept {
  const std::uint32_t ignore = wire::kMcastIgnore;
  const SysError error = send_control(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(&ignore), sizeof ignore), ++control_seq_);
  if (!error) {
    subscribed_ = false;
    kernel_filter_active_ = false;
  }
  return error;
}

RecvResult ProcConnector::fill_batch(std::chrono::milliseconds timeout, std::size_t& count) noexcept {
  const RecvResult result = batch_.receive(fd_, timeout, stats_);
  count = batch_.count();
  return result;
}

std::span<const std::byte> ProcConnector::datagram(std::size_t index) const noexcept { return batch_.datagram(index); }

bool ProcConnector::wants(const Event& event) const noexcept {
  if (kernel_filter_active_) return true;
  switch (event.type) {
    case EventType::kAck:
    case EventType::kUnknown:
      return true;
    case EventType::kExit:
      return (mask_ & event_bits::kExit) || ((mask_ & event_bits::kNonzeroExit) && event.exit_code != 0);
    default:
      return (mask_ & event.what) != 0;
  }
}

bool ProcConnector::account(const Message& message) noexcept {
  switch (message.kind) {
    case MessageKind::kEvent: {
      const Event& event = message.event;
      ++stats_.events_by_type[static_cast<std::size_t>(event.type)];
      if (loss_exact()) {
        if (event.type == EventType::kAck) {
          // An ack (anyone's) takes a number from some CPU's counter but says cpu = -1: that CPU
          // will show a gap of one that is not a loss.
          ++acks_seen_;
        } else {
          seq_gaps_ += seq_tracker_.observe(event.cpu, event.seq);
        }
        // The ack arrives before the gap it leaves (at its CPU's next event): until then the
        // difference dips by one, and a counter must never go down (rate() would read a reset).
        stats_.lost_events = std::max(stats_.lost_events, seq_gaps_ > acks_seen_ ? seq_gaps_ - acks_seen_ : 0);
      }
      if (wants(event)) return true;
      ++stats_.filtered_out;
      return false;
    }
    case MessageKind::kSkipped:
      return false;
    case MessageKind::kOverrun:
      ++stats_.netlink_overruns;
      return false;
    case MessageKind::kNetlinkError:
      ++stats_.netlink_errors;
      return false;
    case MessageKind::kMalformed:
      ++stats_.malformed[static_cast<std::size_t>(message.malformed)];
      return false;
  }
  return false;
}

bool ProcConnector::next_pending(Message& message) noexcept {
  while (pending_cursor_) {
    while (pending_cursor_->next(message)) {
      if (account(message)) return true;
    }
    if (++pending_index_ < pending_count_) {
      pending_cursor_.emplace(datagram(pending_index_));
    } else {
      pending_cursor_.reset();
    }
  }
  return false;
}

RecvResult ProcConnector::receive(Event& out, std::chrono::milliseconds timeout) noexcept {
  const bool forever = timeout.count() < 0;
  const auto deadline = Clock::now() + (forever ? std::chrono::milliseconds(0) : timeout);
  while (true) {
    if (Message message; next_pending(message)) {
      out = message.event;
      return {RecvStatus::kOk, 0};
    }
    auto left = std::chrono::milliseconds(-1);
    if (!forever) {
      left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() < 0) left = std::chrono::milliseconds(0);
    }
    std::size_t count = 0;
    const RecvResult result = fill_batch(left, count);
    if (result.status != RecvStatus::kOk) return result;
    if (count > 0) {
      pending_index_ = 0;
      pending_count_ = count;
      pending_cursor_.emplace(datagram(0));
    } else if (!forever && left.count() == 0) {
      return {RecvStatus::kTimeout, 0};
    }
  }
}

}  // namespace procevents::connector
