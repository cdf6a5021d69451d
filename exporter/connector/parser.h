// Pure parsing of connector datagrams: bytes in, typed messages out. No syscalls, no allocation.
//
// A datagram holds one or more netlink messages (the kernel sends one event per datagram, but the
// format allows more). `MessageCursor` walks them without ever reading past the buffer: a
// truncated, oversized or lying length is a `kMalformed` message with a reason, never UB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "connector/event.h"

namespace procevents::connector {

enum class MessageKind : std::uint8_t {
  kEvent,         // `event` is filled
  kSkipped,       // NLMSG_NOOP, NLMSG_DONE without payload, or a connector message not for CN_IDX_PROC
  kOverrun,       // NLMSG_OVERRUN: the kernel says data was lost
  kNetlinkError,  // NLMSG_ERROR with a non-zero errno in `netlink_errno` (an error of 0 is an ack: kSkipped)
  kMalformed,     // unparseable; `malformed` says why and the rest of the datagram is abandoned
};

enum class MalformedReason : std::uint8_t {
  kNone,
  kTruncatedNetlinkHeader,  // fewer bytes than an nlmsghdr left
  kBadNetlinkLength,        // nlmsg_len smaller than the header or larger than what is left
  kTruncatedConnectorHeader,// payload shorter than cn_msg
  kBadConnectorLength,      // cn_msg.len larger than the netlink payload
  kTruncatedEvent,          // cn_msg data shorter than the proc_event for its `what`
};

/// Stable snake_case label value ("truncated_event", ...); "unknown" outside the enum.
constexpr std::string_view malformed_reason_name(MalformedReason reason) noexcept {
  switch (reason) {
    case MalformedReason::kNone: return "none";
    case MalformedReason::kTruncatedNetlinkHeader: return "truncated_netlink_header";
    case MalformedReason::kBadNetlinkLength: return "bad_netlink_length";
    case MalformedReason::kTruncatedConnectorHeader: return "truncated_connector_header";
    case MalformedReason::kBadConnectorLength: return "bad_connector_length";
    case MalformedReason::kTruncatedEvent: return "truncated_event";
  }
  return "unknown";
}
inline constexpr std::size_t kMalformedReasonCount = 6;
static_assert(malformed_reason_name(static_cast<MalformedReason>(kMalformedReasonCount - 1)) != "unknown" &&
                  malformed_reason_name(static_cast<MalformedReason>(kMalformedReasonCount)) == "unknown",
              "kMalformedReasonCount counts the reasons malformed_reason_name names");

struct Message {
  MessageKind kind = MessageKind::kSkipped;
  MalformedReason malformed = MalformedReason::kNone;
  int netlink_errno = 0;
  Event event{};
};

/// Decodes one cn_msg data area (`proc_event`) into `out`. Returns false when `data` is too short
/// for the event type it announces. Unknown `what` values decode as kUnknown with the header only.
bool parse_proc_event(std::span<const std::byte> data, std::uint32_t seq, std::uint32_t ack,
                      Event& out) noexcept;

/// Iterates the netlink messages of one received datagram.
///   MessageCursor cursor(bytes);
///   Message m;
///   while (cursor.next(m)) { ... }
class MessageCursor {
 public:
  explicit MessageCursor(std::span<const std::byte> datagram) noexcept : rest_(datagram) {}

  /// Fills `out` with the next message; returns false when the datagram is exhausted.
  /// After a kMalformed message the cursor is exhausted (lengths can no longer be trusted).
  bool next(Message& out) noexcept;

 private:
  std::span<const std::byte> rest_;
};

}  // namespace procevents::connector
