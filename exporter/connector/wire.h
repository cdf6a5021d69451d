// Our own definitions of the cn_proc wire format (internal to the connector layer).
//
// Why not <linux/cn_proc.h>: bookworm's 6.1 header nests the event enum inside struct proc_event
// (unusable unqualified from C++) and lacks `struct proc_input`. Layouts below are checked
// against the kernel ABI with static_asserts; fields are always read with memcpy because the
// 64-bit timestamp sits at a non-8-aligned offset inside a received datagram.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace procevents::connector::wire {

// <linux/netlink.h>
inline constexpr std::uint16_t kNlmsgNoop = 0x1;
inline constexpr std::uint16_t kNlmsgError = 0x2;
inline constexpr std::uint16_t kNlmsgDone = 0x3;
inline constexpr std::uint16_t kNlmsgOverrun = 0x4;
inline constexpr std::size_t kNlmsgAlignTo = 4;
constexpr std::size_t nlmsg_align(std::size_t len) { return (len + kNlmsgAlignTo - 1) & ~(kNlmsgAlignTo - 1); }

// <linux/connector.h>
inline constexpr std::uint32_t kCnIdxProc = 1;
inline constexpr std::uint32_t kCnValProc = 1;

// enum proc_cn_mcast_op
inline constexpr std::uint32_t kMcastListen = 1;
inline constexpr std::uint32_t kMcastIgnore = 2;

struct NlMsgHdr {
  std::uint32_t len;
  std::uint16_t type;
  std::uint16_t flags;
  std::uint32_t seq;
  std::uint32_t pid;
};
static_assert(sizeof(NlMsgHdr) == 16);
inline constexpr std::size_t kNlHdrLen = nlmsg_align(sizeof(NlMsgHdr));

struct CnMsg {
  std::uint32_t idx;
  std::uint32_t val;
  std::uint32_t seq;
  std::uint32_t ack;
  std::uint16_t len;  // bytes of data following this header
  std::uint16_t flags;
};
static_assert(sizeof(CnMsg) == 20);

// struct proc_event header: what, cpu, timestamp_ns (aligned(8) in the kernel's own layout).
inline constexpr std::size_t kEventWhatOffset = 0;
inline constexpr std::size_t kEventCpuOffset = 4;
inline constexpr std::size_t kEventTimestampOffset = 8;
inline constexpr std::size_t kEventDataOffset = 16;
inline constexpr std::size_t kProcEventSize = 40;  // header + largest union member (exit/comm: 24 bytes)

// Union member sizes (bytes after kEventDataOffset).
inline constexpr std::size_t kAckSize = 4;
inline constexpr std::size_t kForkSize = 16;     // parent_pid, parent_tgid, child_pid, child_tgid
inline constexpr std::size_t kExecSize = 8;      // process_pid, process_tgid
inline constexpr std::size_t kIdSize = 16;       // process_pid, process_tgid, r, e
inline constexpr std::size_t kSidSize = 8;
inline constexpr std::size_t kPtraceSize = 16;   // process_pid, process_tgid, tracer_pid, tracer_tgid
inline constexpr std::size_t kCommSize = 24;     // process_pid, process_tgid, comm[16]
inline constexpr std::size_t kCoredumpSize = 16; // process_pid, process_tgid, parent_pid, parent_tgid
inline constexpr std::size_t kExitSize = 24;     // process_pid, process_tgid, exit_code, exit_signal, parent_pid, parent_tgid
static_assert(kEventDataOffset + kExitSize == kProcEventSize);
static_assert(kEventDataOffset + kCommSize == kProcEventSize);

// struct proc_input (kernel >= 6.6): subscription with an event mask.
struct ProcInput {
  std::uint32_t mcast_op;
  std::uint32_t event_type;
};
static_assert(sizeof(ProcInput) == 8);

// Whole message sizes: nlmsghdr + cn_msg + proc_event = 76 bytes (verified against the kernel).
inline constexpr std::size_t kEventMessageSize = kNlHdrLen + sizeof(CnMsg) + kProcEventSize;
static_assert(kEventMessageSize == 76);

/// Reads a T from `bytes` at `offset`; the caller has checked the bounds.
template <class T>
T load(std::span<const std::byte> bytes, std::size_t offset) noexcept {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

}  // namespace procevents::connector::wire
