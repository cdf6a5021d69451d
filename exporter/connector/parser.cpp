#include "connector/parser.h"

#include <algorithm>
#include <array>
#include <bit>

#include "connector/wire.h"

namespace procevents::connector {

namespace {

using wire::load;

/// `what` -> type for every kernel bit, from kEventTypes: index = bit position (acks are what == 0).
constexpr auto kTypeByBitPosition = [] {
  std::array<EventType, 32> types{};
  types.fill(EventType::kUnknown);
  for (const EventTypeRow& row : kEventTypes) {
    if (row.bit != event_bits::kNone) types[static_cast<std::size_t>(std::countr_zero(row.bit))] = row.type;
  }
  return types;
}();

EventType type_of(std::uint32_t what) noexcept {
  if (what == event_bits::kNone) return EventType::kAck;
  if (!std::has_single_bit(what)) return EventType::kUnknown;
  return kTypeByBitPosition[static_cast<std::size_t>(std::countr_zero(what))];
}

std::size_t payload_size_of(EventType type) noexcept {
  switch (type) {
    case EventType::kAck: return wire::kAckSize;
    case EventType::kFork: return wire::kForkSize;
    case EventType::kExec: return wire::kExecSize;
    case EventType::kUid:
    case EventType::kGid: return wire::kIdSize;
    case EventType::kSid: return wire::kSidSize;
    case EventType::kPtrace: return wire::kPtraceSize;
    case EventType::kComm: return wire::kCommSize;
    case EventType::kCoredump: return wire::kCoredumpSize;
    case EventType::kExit: return wire::kExitSize;
    case EventType::kUnknown: return 0;
  }
  return 0;
}

}  // namespace

bool parse_proc_event(std::span<const std::byte> data, std::uint32_t seq, std::uint32_t ack,
                      Event& out) noexcept {
  if (data.size() < wire::kEventDataOffset) return false;
  out = Event{};
  out.what = load<std::uint32_t>(data, wire::kEventWhatOffset);
  out.cpu = load<std::uint32_t>(data, wire::kEventCpuOffset);
  out.timestamp_ns = load<std::uint64_t>(data, wire::kEventTimestampOffset);
  out.seq = seq;
  out.ack = ack;
  out.type = type_of(out.what);
  if (data.size() < wire::kEventDataOffset + payload_size_of(out.type)) return false;

  const auto body = data.subspan(wire::kEventDataOffset);
  const auto i32 = [&](std::size_t offset) { return load<std::int32_t>(body, offset); };
  const auto u32 = [&](std::size_t offset) { return load<std::uint32_t>(body, offset); };
  switch (out.type) {
    case EventType::kAck:
      out.ack_error = u32(0);
      break;
    case EventType::kFork:
      out.parent_pid = i32(0);
      out.parent_tgid = i32(4);
      out.pid = i32(8);
      out.tgid = i32(12);
      break;
    case EventType::kExec:
    case EventType::kSid:
      out.pid = i32(0);
      out.tgid = i32(4);
      break;
    case EventType::kUid:
    case EventType::kGid:
      out.pid = i32(0);
      out.tgid = i32(4);
      out.real_id = u32(8);
      out.effective_id = u32(12);
      break;
    case EventType::kPtrace:
    case EventType::kCoredump:
      out.pid = i32(0);
      out.tgid = i32(4);
      out.parent_pid = i32(8);
      out.parent_tgid = i32(12);
      break;
    case EventType::kComm:
      out.pid = i32(0);
      out.tgid = i32(4);
      std::memcpy(out.comm.data(), body.data() + 8, out.comm.size());
      out.comm.back() = '\0';  // the kernel terminates it; a forged message must not make it unterminated
      break;
    case EventType::kExit:
      out.pid = i32(0);
      out.tgid = i32(4);
      out.exit_code = u32(8);
      out.exit_signal = u32(12);
      out.parent_pid = i32(16);
      out.parent_tgid = i32(20);
      break;
    case EventType::kUnknown:
      break;
  }
  return true;
}

bool MessageCursor::next(Message& out) noexcept {
  if (rest_.empty()) return false;
  out = Message{};
  const auto malformed = [&](MalformedReason reason) {
    out.kind = MessageKind::kMalformed;
    out.malformed = reason;
    rest_ = {};  // lengths can no longer be trusted: abandon the datagram
    return true;
  };

  if (rest_.size() < sizeof(wire::NlMsgHdr)) return malformed(MalformedReason::kTruncatedNetlinkHeader);
  const auto header = load<wire::NlMsgHdr>(rest_, 0);
  if (header.len < wire::kNlHdrLen || header.len > rest_.size()) {
    return malformed(MalformedReason::kBadNetlinkLength);
  }
  const auto payload = rest_.subspan(wire::kNlHdrLen, header.len - wire::kNlHdrLen);
  rest_ = rest_.subspan(std::min(wire::nlmsg_align(header.len), rest_.size()));

  switch (header.type) {
    case wire::kNlmsgNoop:
      out.kind = MessageKind::kSkipped;
      return true;
    case wire::kNlmsgOverrun:
      out.kind = MessageKind::kOverrun;
      return true;
    case wire::kNlmsgError: {
      if (payload.size() < sizeof(std::int32_t)) return malformed(MalformedReason::kTruncatedConnectorHeader);
      const auto error = load<std::int32_t>(payload, 0);
      // error 0 is a netlink ack, not a failure. Negating INT_MIN would overflow.
      out.kind = error == 0 ? MessageKind::kSkipped : MessageKind::kNetlinkError;
      out.netlink_errno = error < 0 && error > INT32_MIN ? -error : error;
      return true;
    }
    default:
      break;
  }

  // The connector sends its messages as NLMSG_DONE; a DONE without payload ends a dump.
  if (payload.empty()) {
    out.kind = MessageKind::kSkipped;
    return true;
  }
  if (payload.size() < sizeof(wire::CnMsg)) return malformed(MalformedReason::kTruncatedConnectorHeader);
  const auto cn = load<wire::CnMsg>(payload, 0);
  if (cn.len > payload.size() - sizeof(wire::CnMsg)) return malformed(MalformedReason::kBadConnectorLength);
  if (cn.idx != wire::kCnIdxProc || cn.val != wire::kCnValProc) {
    out.kind = MessageKind::kSkipped;
    return true;
  }
  if (!parse_proc_event(payload.subspan(sizeof(wire::CnMsg), cn.len), cn.seq, cn.ack, out.event)) {
    return malformed(MalformedReason::kTruncatedEvent);
  }
  out.kind = MessageKind::kEvent;
  return true;
}

}  // namespace procevents::connector
