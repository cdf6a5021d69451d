// Builds connector datagrams byte by byte, as the kernel lays them out, for parser tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "connector/wire.h"

namespace procevents::testing {

using connector::wire::CnMsg;
using connector::wire::NlMsgHdr;

/// One netlink message carrying a cn_msg with `data`.
inline std::vector<std::byte> connector_message(const std::vector<std::byte>& data, std::uint32_t seq = 1,
                                                std::uint32_t idx = 1, std::uint32_t val = 1,
                                                std::uint16_t type = connector::wire::kNlmsgDone) {
  std::vector<std::byte> out(16 + sizeof(CnMsg) + data.size());
  const NlMsgHdr header{static_cast<std::uint32_t>(out.size()), type, 0, 0, 0};
  const CnMsg cn{idx, val, seq, 0, static_cast<std::uint16_t>(data.size()), 0};
  std::memcpy(out.data(), &header, sizeof header);
  std::memcpy(out.data() + 16, &cn, sizeof cn);
  if (!data.empty()) std::memcpy(out.data() + 16 + sizeof cn, data.data(), data.size());
  return out;
}

/// A proc_event: what, cpu, timestamp, then the union words.
inline std::vector<std::byte> proc_event(std::uint32_t what, std::uint32_t cpu, std::uint64_t timestamp,
                                         const std::vector<std::uint32_t>& words, std::size_t pad_to = 40) {
  std::vector<std::byte> out(16 + words.size() * 4);
  std::memcpy(out.data(), &what, 4);
  std::memcpy(out.data() + 4, &cpu, 4);
  std::memcpy(out.data() + 8, &timestamp, 8);
  for (std::size_t i = 0; i < words.size(); ++i) std::memcpy(out.data() + 16 + i * 4, &words[i], 4);
  if (out.size() < pad_to) out.resize(pad_to);
  return out;
}

/// A bare netlink control message (NOOP, ERROR, DONE, OVERRUN) with an optional payload.
inline std::vector<std::byte> control_message(std::uint16_t type, const std::vector<std::byte>& payload = {}) {
  std::vector<std::byte> out(16 + payload.size());
  const NlMsgHdr header{static_cast<std::uint32_t>(out.size()), type, 0, 0, 0};
  std::memcpy(out.data(), &header, sizeof header);
  if (!payload.empty()) std::memcpy(out.data() + 16, payload.data(), payload.size());
  return out;
}

inline std::vector<std::byte> concat(std::vector<std::byte> a, const std::vector<std::byte>& b) {
  a.resize(connector::wire::nlmsg_align(a.size()));
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace procevents::testing
