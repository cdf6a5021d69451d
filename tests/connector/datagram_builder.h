// Builds connector datagrams byte by byte, as the kernel lays them out, for parser tests.
// Everything is written with memcpy into byte vectors, so tests can then corrupt any field.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "connector/wire.h"

namespace procevents::testing {

using connector::wire::CnMsg;
using connector::wire::NlMsgHdr;

/// Overwrites the bytes at `offset` with `value` (to forge a lying length, a bad type, ...).
template <class T>
void patch(std::vector<std::byte>& bytes, std::size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

/// Byte offsets of the fields tests like to corrupt.
inline constexpr std::size_t kNlmsgLenOffset = 0;
inline constexpr std::size_t kNlmsgTypeOffset = 4;
inline constexpr std::size_t kCnIdxOffset = connector::wire::kNlHdrLen + 0;
inline constexpr std::size_t kCnValOffset = connector::wire::kNlHdrLen + 4;
inline constexpr std::size_t kCnLenOffset = connector::wire::kNlHdrLen + 16;
inline constexpr std::size_t kEventOffset = connector::wire::kNlHdrLen + sizeof(CnMsg);

/// One netlink message carrying a cn_msg with `data` (nlmsg_len and cn_msg.len are the true sizes).
inline std::vector<std::byte> connector_message(const std::vector<std::byte>& data, std::uint32_t seq = 1,
                                                std::uint32_t idx = 1, std::uint32_t val = 1,
                                                std::uint16_t type = connector::wire::kNlmsgDone,
                                                std::uint32_t ack = 0) {
  std::vector<std::byte> out(connector::wire::kNlHdrLen + sizeof(CnMsg) + data.size());
  const NlMsgHdr header{static_cast<std::uint32_t>(out.size()), type, 0, 0, 0};
  const CnMsg cn{idx, val, seq, ack, static_cast<std::uint16_t>(data.size()), 0};
  std::memcpy(out.data(), &header, sizeof header);
  std::memcpy(out.data() + connector::wire::kNlHdrLen, &cn, sizeof cn);
  if (!data.empty()) std::memcpy(out.data() + kEventOffset, data.data(), data.size());
  return out;
}

/// A proc_event: what, cpu, timestamp, then the union words, zero-padded to `pad_to` bytes
/// (40 = the kernel's sizeof(struct proc_event)).
inline std::vector<std::byte> proc_event(std::uint32_t what, std::uint32_t cpu, std::uint64_t timestamp,
                                         const std::vector<std::uint32_t>& words, std::size_t pad_to = 40) {
  std::vector<std::byte> out(16);
  std::memcpy(out.data(), &what, 4);
  std::memcpy(out.data() + 4, &cpu, 4);
  std::memcpy(out.data() + 8, &timestamp, 8);
  const auto* word_bytes = reinterpret_cast<const std::byte*>(words.data());  // host order, as the kernel writes
  out.insert(out.end(), word_bytes, word_bytes + words.size() * sizeof(std::uint32_t));
  out.resize(pad_to);  // pad, or cut short to forge a truncated event
  return out;
}

/// A bare netlink control message (NOOP, ERROR, DONE, OVERRUN) with an optional payload.
inline std::vector<std::byte> control_message(std::uint16_t type, const std::vector<std::byte>& payload = {}) {
  std::vector<std::byte> out(connector::wire::kNlHdrLen + payload.size());
  const NlMsgHdr header{static_cast<std::uint32_t>(out.size()), type, 0, 0, 0};
  std::memcpy(out.data(), &header, sizeof header);
  if (!payload.empty()) std::memcpy(out.data() + connector::wire::kNlHdrLen, payload.data(), payload.size());
  return out;
}

/// An NLMSG_ERROR message: the (negative) error code followed by the offending request's header.
inline std::vector<std::byte> error_message(std::int32_t error, std::size_t payload_bytes = 20) {
  std::vector<std::byte> payload(payload_bytes);
  std::memcpy(payload.data(), &error, std::min(payload_bytes, sizeof error));
  return control_message(connector::wire::kNlmsgError, payload);
}

/// Appends `b` to `a` at the next 4-byte boundary, as netlink packs several messages in one datagram.
inline std::vector<std::byte> concat(std::vector<std::byte> a, const std::vector<std::byte>& b) {
  a.resize(connector::wire::nlmsg_align(a.size()));
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace procevents::testing
