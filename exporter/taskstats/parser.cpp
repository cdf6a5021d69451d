#include "taskstats/parser.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace procevents::taskstats {

namespace {

constexpr std::size_t kAttrHeader = NLA_HDRLEN;
constexpr std::size_t kMessageHeaders = NLMSG_HDRLEN + GENL_HDRLEN;
constexpr auto kAttrTypeMask = static_cast<std::uint16_t>(NLA_TYPE_MASK);  // drops NLA_F_NESTED / NLA_F_NET_BYTEORDER

// The oldest `struct taskstats` still carries everything up to the CPU times.
constexpr std::size_t kCoreStatsBytes = offsetof(struct ::taskstats, ac_minflt);

constexpr std::size_t align4(std::size_t n) noexcept { return (n + 3) & ~std::size_t{3}; }

template <class T>
T load(const std::byte* at) noexcept {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

/// Copies the field at `offset` when the kernel's struct is long enough to hold it.
template <class T>
bool load_if_present(std::span<const std::byte> stats, std::size_t offset, T& out) noexcept {
  if (offset + sizeof(T) > stats.size()) return false;
  out = load<T>(stats.data() + offset);
  return true;
}

}  // namespace

bool next_attribute(std::span<const std::byte>& rest, Attribute& out) noexcept {
  if (rest.size() < kAttrHeader) return false;
  const auto length = load<std::uint16_t>(rest.data());
  if (length < kAttrHeader || length > rest.size()) return false;
  out.type = static_cast<std::uint16_t>(load<std::uint16_t>(rest.data() + 2) & kAttrTypeMask);
  out.payload = rest.subspan(kAttrHeader, length - kAttrHeader);
  rest = rest.subspan(std::min(align4(length), rest.size()));
  return true;
}

MalformedReason next_message(std::span<const std::byte>& rest, nlmsghdr& header,
                             std::span<const std::byte>& message) noexcept {
  if (rest.size() < NLMSG_HDRLEN) return MalformedReason::kTruncatedNetlinkHeader;
  header = load<nlmsghdr>(rest.data());
  if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > rest.size()) return MalformedReason::kBadNetlinkLength;
  message = rest.first(header.nlmsg_len);
  rest = rest.subspan(std::min<std::size_t>(NLMSG_ALIGN(header.nlmsg_len), rest.size()));
  return MalformedReason::kNone;
}

std::optional<int> netlink_errno(std::span<const std::byte> message) noexcept {
  if (message.size() < NLMSG_HDRLEN + sizeof(int)) return std::nullopt;
  const int error = load<int>(message.data() + NLMSG_HDRLEN);
  // -INT_MIN does not exist: keep it positive without overflow.
  return error == INT32_MIN ? INT32_MAX : (error < 0 ? -error : error);
}

std::string_view ExitRecord::comm_view() const noexcept {
  return {comm.data(), strnlen(comm.data(), comm.size())};
}

bool parse_stats(std::span<const std::byte> stats, ExitRecord& out) noexcept {
  using TS = struct ::taskstats;
  if (stats.size() < kCoreStatsBytes) return false;
  // Start from a clean record: nothing of a task decoded into `out` before may survive in a field
  // this struct does not carry (scope and pid belong to the caller).
  const RecordScope scope = out.scope;
  const std::int32_t pid = out.pid;
  out = ExitRecord{};
  out.scope = scope;
  out.pid = pid;
  load_if_present(stats, offsetof(TS, version), out.version);
  load_if_present(stats, offsetof(TS, ac_exitcode), out.exit_code);
  load_if_present(stats, offsetof(TS, ac_flag), out.flags);
  load_if_present(stats, offsetof(TS, cpu_delay_total), out.cpu_delay_ns);
  load_if_present(stats, offsetof(TS, blkio_delay_total), out.blkio_delay_ns);
  // The kernel copies a 16-byte comm into a 32-byte field; keep 15 bytes and the terminator, and
  // nothing after the first NUL (comm compares equal whatever the kernel left behind it).
  std::memcpy(out.comm.data(), stats.data() + offsetof(TS, ac_comm), out.comm.size() - 1);
  const std::size_t comm_length = strnlen(out.comm.data(), out.comm.size() - 1);
  std::memset(out.comm.data() + comm_length, 0, out.comm.size() - comm_length);
  std::uint32_t u32 = 0;
  if (load_if_present(stats, offsetof(TS, ac_uid), u32)) out.uid = u32;
  if (load_if_present(stats, offsetof(TS, ac_gid), u32)) out.gid = u32;
  if (load_if_present(stats, offsetof(TS, ac_ppid), u32)) out.ppid = static_cast<std::int32_t>(u32);
  load_if_present(stats, offsetof(TS, ac_etime), out.elapsed_us);
  load_if_present(stats, offsetof(TS, ac_utime), out.user_cpu_us);
  load_if_present(stats, offsetof(TS, ac_stime), out.system_cpu_us);
  // Version 1 has the fault counts right after the CPU times: every record but a cut one has them.
  load_if_present(stats, offsetof(TS, ac_minflt), out.minor_faults);
  load_if_present(stats, offsetof(TS, ac_majflt), out.major_faults);

  // Each optional part is all or nothing: a field of a part the struct holds only half of stays 0.
  if (load_if_present(stats, offsetof(TS, hiwater_rss), out.peak_rss_kib)) out.present |= present::kMemory;
  std::uint64_t first = 0;
  std::uint64_t second = 0;
  if (load_if_present(stats, offsetof(TS, read_bytes), first) &&
      load_if_present(stats, offsetof(TS, write_bytes), second)) {
    out.read_bytes = first;
    out.write_bytes = second;
    out.present |= present::kStorageIo;
  }
  if (load_if_present(stats, offsetof(TS, nvcsw), first) && load_if_present(stats, offsetof(TS, nivcsw), second)) {
    out.voluntary_switches = first;
    out.involuntary_switches = second;
    out.present |= present::kContextSwitches;
  }
  // Fields of version 12 are garbage-free only when the kernel says it is that new.
  if (out.version >= 12) {
    if (load_if_present(stats, offsetof(TS, ac_tgid), u32)) {
      out.tgid = static_cast<std::int32_t>(u32);
      out.present |= present::kTgid;
    }
    if (load_if_present(stats, offsetof(TS, ac_exe_dev), first) &&
        load_if_present(stats, offsetof(TS, ac_exe_inode), second)) {
      out.exe_dev = first;
      out.exe_inode = second;
      out.present |= present::kExe;
    }
  }
  return true;
}

void ItemCursor::decode_aggregate(std::span<const std::byte> payload, RecordScope scope, Item& out) noexcept {
  out.record = ExitRecord{};
  out.record.scope = scope;
  bool have_id = false;
  bool have_stats = false;
  Attribute attribute;
  while (!payload.empty()) {
    if (!next_attribute(payload, attribute)) {
      out.kind = ItemKind::kMalformed;
      out.malformed = MalformedReason::kBadAttributeLength;
      return;
    }
    switch (attribute.type) {
      case TASKSTATS_TYPE_PID:
      case TASKSTATS_TYPE_TGID:
        if (attribute.payload.size() < sizeof(std::uint32_t)) break;
        out.record.pid = static_cast<std::int32_t>(load<std::uint32_t>(attribute.payload.data()));
        have_id = true;
        break;
      case TASKSTATS_TYPE_STATS:
        if (!parse_stats(attribute.payload, out.record)) {
          out.kind = ItemKind::kMalformed;
          out.malformed = MalformedReason::kShortStats;
          return;
        }
        have_stats = true;
        break;
      default: break;  // TASKSTATS_TYPE_NULL padding and anything newer
    }
  }
  if (!have_id || !have_stats) {
    out.kind = ItemKind::kMalformed;
    out.malformed = MalformedReason::kMissingId;
    return;
  }
  out.kind = ItemKind::kRecord;
  out.malformed = MalformedReason::kNone;
}

bool ItemCursor::next(Item& out) noexcept {
  out.netlink_errno = 0;
  out.malformed = MalformedReason::kNone;
  const auto malformed = [&](MalformedReason reason) {
    out.kind = ItemKind::kMalformed;
    out.malformed = reason;
    rest_ = {};
    attributes_ = {};
    return true;
  };
  for (;;) {
    // Inside a message: the next aggregate attribute.
    while (!attributes_.empty()) {
      Attribute attribute;
      if (!next_attribute(attributes_, attribute)) return malformed(MalformedReason::kBadAttributeLength);
      if (attribute.type != TASKSTATS_TYPE_AGGR_PID && attribute.type != TASKSTATS_TYPE_AGGR_TGID) continue;
      decode_aggregate(attribute.payload,
                       attribute.type == TASKSTATS_TYPE_AGGR_PID ? RecordScope::kTask : RecordScope::kThreadGroup,
                       out);
      if (out.kind == ItemKind::kMalformed) return malformed(out.malformed);
      return true;
    }
    if (rest_.empty()) return false;
    nlmsghdr header;
    std::span<const std::byte> message;
    if (const MalformedReason reason = next_message(rest_, header, message); reason != MalformedReason::kNone) {
      return malformed(reason);
    }

    out.kind = ItemKind::kSkipped;
    if (header.nlmsg_type == NLMSG_OVERRUN) {
      out.kind = ItemKind::kOverrun;
      return true;
    }
    if (header.nlmsg_type == NLMSG_ERROR) {
      const std::optional<int> error = netlink_errno(message);
      if (!error) return malformed(MalformedReason::kBadNetlinkLength);
      if (*error != 0) {
        out.kind = ItemKind::kNetlinkError;
        out.netlink_errno = *error;
      }
      return true;
    }
    if (header.nlmsg_type != family_id_) return true;  // NOOP, DONE, another family: nothing for us
    if (message.size() < kMessageHeaders) return malformed(MalformedReason::kBadNetlinkLength);
    attributes_ = message.subspan(kMessageHeaders);  // a message without aggregates yields nothing
  }
}

}  // namespace procevents::taskstats
