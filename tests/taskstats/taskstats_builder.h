// Builds taskstats datagrams byte by byte, as the kernel lays them out (taskstats_exit(): nlmsghdr,
// genlmsghdr, then TASKSTATS_TYPE_AGGR_PID { TYPE_PID u32, [TYPE_NULL pad], TYPE_STATS struct } and,
// for the last thread of a multi-threaded process, TASKSTATS_TYPE_AGGR_TGID likewise), for parser tests.
// Everything is memcpy'd into byte vectors, so tests can then corrupt any length or type.
#pragma once

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace procevents::testing {

using Bytes = std::vector<std::byte>;
using KernelStats = struct ::taskstats;

/// The family id tests pretend the kernel assigned to TASKSTATS.
inline constexpr std::uint16_t kFamily = 0x1c;

/// Overwrites the bytes at `offset` with `value` (to forge a lying length, a bad type, ...).
template <class T>
void patch(Bytes& bytes, std::size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

template <class T>
T peek(const Bytes& bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

/// Byte offsets in a message built by exit_message() with the default layout (AGGR_PID first,
/// TYPE_PID, no NULL pad, then TYPE_STATS).
inline constexpr std::size_t kNlmsgLenOffset = 0;
inline constexpr std::size_t kNlmsgTypeOffset = 4;
inline constexpr std::size_t kGenlOffset = NLMSG_HDRLEN;
inline constexpr std::size_t kAggregateOffset = NLMSG_HDRLEN + GENL_HDRLEN;  // nla_len of AGGR_PID
inline constexpr std::size_t kIdAttributeOffset = kAggregateOffset + NLA_HDRLEN;  // nla_len of TYPE_PID
inline constexpr std::size_t kStatsAttributeOffset = kIdAttributeOffset + NLA_HDRLEN + 4;  // nla_len of TYPE_STATS
inline constexpr std::size_t kStatsOffset = kStatsAttributeOffset + NLA_HDRLEN;  // struct taskstats

inline std::size_t align4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

/// A struct taskstats with a distinct value in every field the parser reads.
inline KernelStats sample_stats(std::uint16_t version = TASKSTATS_VERSION, std::string_view comm = "worker") {
  KernelStats s{};
  s.version = version;
  s.ac_exitcode = 3u << 8;
  s.ac_flag = 0x02 | 0x10;
  s.ac_nice = 5;
  s.cpu_count = 11;
  s.cpu_delay_total = 1'000'001;
  s.blkio_count = 12;
  s.blkio_delay_total = 2'000'002;
  std::memcpy(s.ac_comm, comm.data(), std::min(comm.size(), sizeof s.ac_comm));
  s.ac_uid = 1000;
  s.ac_gid = 1001;
  s.ac_pid = 4242;
  s.ac_ppid = 4141;
  s.ac_btime = 1700000000;
  s.ac_etime = 3'000'003;
  s.ac_utime = 4'000'004;
  s.ac_stime = 5'000'005;
  s.ac_minflt = 6;
  s.ac_majflt = 7;
  s.hiwater_rss = 8'008;
  s.hiwater_vm = 9'009;
  s.read_bytes = 10'010;
  s.write_bytes = 11'011;
  s.cancelled_write_bytes = 12'012;
  s.nvcsw = 13'013;
  s.nivcsw = 14'014;
  s.ac_tgid = 4240;
  s.ac_tgetime = 15'015;
  s.ac_exe_dev = 0x0803;
  s.ac_exe_inode = 16'016'016;
  return s;
}

/// The first `size` bytes of `stats`; beyond sizeof (a newer kernel's fields) filled with `extra`.
inline Bytes stats_bytes(const KernelStats& stats, std::size_t size = sizeof(KernelStats),
                         std::byte extra = std::byte{0xa5}) {
  Bytes out(size, extra);
  if (size) std::memcpy(out.data(), &stats, std::min(size, sizeof stats));
  return out;
}

/// One netlink attribute (nla_len is the true, unpadded length), padded to 4 bytes.
inline Bytes attribute(std::uint16_t type, const Bytes& payload) {
  Bytes out(NLA_HDRLEN + payload.size());
  const nlattr header{static_cast<std::uint16_t>(out.size()), type};
  std::memcpy(out.data(), &header, sizeof header);
  if (!payload.empty()) std::memcpy(out.data() + NLA_HDRLEN, payload.data(), payload.size());
  out.resize(align4(out.size()));
  return out;
}

inline Bytes u32_bytes(std::uint32_t value) {
  Bytes out(4);
  std::memcpy(out.data(), &value, 4);
  return out;
}

inline Bytes join(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

/// An aggregate: AGGR_PID { TYPE_PID id, stats } or AGGR_TGID { TYPE_TGID id, stats }, optionally
/// with the TYPE_NULL pad attribute nla_reserve_64bit() puts before the stats on some architectures.
inline Bytes aggregate(bool thread_group, std::uint32_t id, const Bytes& stats, bool null_pad = false) {
  const Bytes id_attribute =
      attribute(thread_group ? TASKSTATS_TYPE_TGID : TASKSTATS_TYPE_PID, u32_bytes(id));
  const Bytes pad = null_pad ? attribute(TASKSTATS_TYPE_NULL, {}) : Bytes{};
  return attribute(thread_group ? TASKSTATS_TYPE_AGGR_TGID : TASKSTATS_TYPE_AGGR_PID,
                   join({id_attribute, pad, attribute(TASKSTATS_TYPE_STATS, stats)}));
}

/// A generic netlink message of `type` (the family id) holding `attributes` as they are.
inline Bytes genl_message(const Bytes& attributes, std::uint16_t type = kFamily,
                          std::uint8_t command = TASKSTATS_CMD_NEW) {
  Bytes out(NLMSG_HDRLEN + GENL_HDRLEN + attributes.size());
  const nlmsghdr header{static_cast<std::uint32_t>(out.size()), type, 0, 0, 0};
  const genlmsghdr genl{command, TASKSTATS_GENL_VERSION, 0};
  std::memcpy(out.data(), &header, sizeof header);
  std::memcpy(out.data() + NLMSG_HDRLEN, &genl, sizeof genl);
  if (!attributes.empty()) std::memcpy(out.data() + NLMSG_HDRLEN + GENL_HDRLEN, attributes.data(), attributes.size());
  return out;
}

/// The kernel's exit message for one task (`pid`), with the stats `stats`.
inline Bytes exit_message(std::uint32_t pid, const Bytes& stats) { return genl_message(aggregate(false, pid, stats)); }

/// The kernel's exit message for the last thread of a multi-threaded process: AGGR_PID then AGGR_TGID.
inline Bytes group_exit_message(std::uint32_t pid, std::uint32_t tgid, const Bytes& task_stats,
                                const Bytes& group_stats) {
  return genl_message(join({aggregate(false, pid, task_stats), aggregate(true, tgid, group_stats)}));
}

/// A bare netlink control message (NOOP, ERROR, DONE, OVERRUN) with an optional payload.
inline Bytes control_message(std::uint16_t type, const Bytes& payload = {}) {
  Bytes out(NLMSG_HDRLEN);
  const nlmsghdr header{static_cast<std::uint32_t>(NLMSG_HDRLEN + payload.size()), type, 0, 0, 0};
  std::memcpy(out.data(), &header, sizeof header);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

/// An NLMSG_ERROR message: the (negative) error code followed by the offending request's header.
inline Bytes error_message(std::int32_t error, std::size_t payload_bytes = 20) {
  Bytes payload(payload_bytes);
  if (payload_bytes) std::memcpy(payload.data(), &error, std::min(payload_bytes, sizeof error));
  return control_message(NLMSG_ERROR, payload);
}

/// Appends `b` to `a` at the next 4-byte boundary, as netlink packs several messages in one datagram.
inline Bytes concat(Bytes a, const Bytes& b) {
  a.resize(NLMSG_ALIGN(a.size()));
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace procevents::testing
