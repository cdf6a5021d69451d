// Pure parsing of taskstats datagrams (generic netlink family TASKSTATS): bytes in, exit records
// out. No syscalls, no allocation, never a read past the buffer.
//
// A datagram holds netlink messages; an exit message carries TASKSTATS_TYPE_AGGR_PID (a task) and,
// when the process had several threads and this was its last, TASKSTATS_TYPE_AGGR_TGID. Each
// aggregate nests the id (TYPE_PID / TYPE_TGID) and a `struct taskstats` (TYPE_STATS) whose length
// depends on the kernel: only the fields inside the length the kernel sent are read.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "taskstats/exit_record.h"

namespace procevents::taskstats {

enum class ItemKind : std::uint8_t {
  kRecord,        // `record` is filled
  kSkipped,       // a message or attribute that is not an exit record (ack, NOOP, other family)
  kOverrun,       // NLMSG_OVERRUN
  kNetlinkError,  // NLMSG_ERROR with a non-zero errno in `netlink_errno`
  kMalformed,     // unparseable: `malformed` says why; the rest of the datagram is abandoned
};

enum class MalformedReason : std::uint8_t {
  kNone,
  kTruncatedNetlinkHeader,  // fewer bytes than an nlmsghdr left
  kBadNetlinkLength,        // nlmsg_len smaller than the headers or larger than what is left
  kBadAttributeLength,      // an attribute's length is below its header or past its container
  kShortStats,              // struct taskstats shorter than the oldest version's core fields
  kMissingId,               // an aggregate without its pid/tgid or without stats
};

/// Stable snake_case label value ("short_stats", ...); "unknown" outside the enum.
constexpr std::string_view malformed_reason_name(MalformedReason reason) noexcept {
  switch (reason) {
    case MalformedReason::kNone: return "none";
    case MalformedReason::kTruncatedNetlinkHeader: return "truncated_netlink_header";
    case MalformedReason::kBadNetlinkLength: return "bad_netlink_length";
    case MalformedReason::kBadAttributeLength: return "bad_attribute_length";
    case MalformedReason::kShortStats: return "short_stats";
    case MalformedReason::kMissingId: return "missing_id";
  }
  return "unknown";
}
inline constexpr std::size_t kMalformedReasonCount = 6;
static_assert(malformed_reason_name(static_cast<MalformedReason>(kMalformedReasonCount - 1)) != "unknown" &&
                  malformed_reason_name(static_cast<MalformedReason>(kMalformedReasonCount)) == "unknown",
              "kMalformedReasonCount counts the reasons malformed_reason_name names");

struct Item {
  ItemKind kind = ItemKind::kSkipped;
  MalformedReason malformed = MalformedReason::kNone;
  int netlink_errno = 0;
  ExitRecord record{};
};

// Generic netlink walking, shared with the source's control answers.

struct Attribute {
  std::uint16_t type = 0;              // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
  std::span<const std::byte> payload;  // after the attribute header
};
/// Splits the next attribute off `rest`; false (and `rest` untouched) when its length lies.
bool next_attribute(std::span<const std::byte>& rest, Attribute& out) noexcept;
/// Splits the next netlink message (header included) off `rest`; the reason when `rest` is too
/// short for a header or the message's length lies (then `rest` is untouched).
MalformedReason next_message(std::span<const std::byte>& rest, nlmsghdr& header,
                             std::span<const std::byte>& message) noexcept;
/// The positive errno of an NLMSG_ERROR message (0: an ack); nullopt when it is too short.
std::optional<int> netlink_errno(std::span<const std::byte> message) noexcept;

/// Decodes a `struct taskstats` payload of `stats.size()` bytes into `out` (scope and pid are
/// left to the caller; every other field is overwritten, 0 where the struct does not carry it).
/// False, and `out` untouched, when it is too short to hold the core fields of version 1.
bool parse_stats(std::span<const std::byte> stats, ExitRecord& out) noexcept;

/// Iterates the exit records of one received datagram.
///   ItemCursor cursor(bytes, family_id);
///   Item item;
///   while (cursor.next(item)) { ... }
class ItemCursor {
 public:
  ItemCursor(std::span<const std::byte> datagram, std::uint16_t family_id) noexcept
      : rest_(datagram), family_id_(family_id) {}

  /// Fills `out` with the next item; false when the datagram is exhausted. After kMalformed the
  /// cursor is exhausted.
  bool next(Item& out) noexcept;

 private:
  /// Decodes one aggregate attribute's payload into out (kRecord or kMalformed).
  void decode_aggregate(std::span<const std::byte> payload, RecordScope scope, Item& out) noexcept;

  std::span<const std::byte> rest_;       // messages not yet started
  std::span<const std::byte> attributes_; // top-level attributes left in the current message
  std::uint16_t family_id_;
};

}  // namespace procevents::taskstats
