// Parser tests on crafted taskstats datagrams: every struct taskstats size the kernel versions
// imply, version-gated fields, PID and PID+TGID messages, padding and unknown attributes, control
// messages, lying lengths at every level, every truncation point, random garbage and bit flips;
// plus comm_view, malformed_reason_name and read_cpu_list.
#include <catch2/catch.hpp>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "taskstats/exit_record.h"
#include "taskstats/parser.h"
#include "taskstats/taskstats_source.h"
#include "taskstats_builder.h"

using namespace procevents::taskstats;
using namespace procevents::testing;

namespace {

using TS = KernelStats;
constexpr std::size_t kCore = offsetof(TS, ac_minflt);

/// Parses `datagram` from an exact-size heap copy (so ASan sees any read past its end).
std::vector<Item> parse_all(const Bytes& datagram, std::uint16_t family = kFamily) {
  const std::size_t size = datagram.size();
  std::unique_ptr<std::byte[]> exact(new std::byte[size == 0 ? 1 : size]);
  if (size) std::memcpy(exact.get(), datagram.data(), size);
  ItemCursor cursor(std::span<const std::byte>(exact.get(), size), family);
  std::vector<Item> out;
  Item item;
  // Every item consumes at least an attribute header (4 bytes) or a netlink header.
  const std::size_t limit = size / NLA_HDRLEN + 1;
  while (cursor.next(item)) {
    out.push_back(item);
    if (out.size() > limit) FAIL("cursor produced more items than the datagram can hold");
  }
  // Exhausted means exhausted.
  CHECK_FALSE(cursor.next(item));
  return out;
}

/// Every field of `r` equals the sample's where it is present and is 0 where it is not.
void check_fields(const ExitRecord& r, const TS& want, std::uint32_t expected_present) {
  CHECK(r.present == expected_present);
  CHECK(r.version == want.version);
  CHECK(r.exit_code == want.ac_exitcode);
  CHECK(r.flags == want.ac_flag);
  CHECK(r.cpu_delay_ns == want.cpu_delay_total);
  CHECK(r.blkio_delay_ns == want.blkio_delay_total);
  CHECK(r.uid == want.ac_uid);
  CHECK(r.gid == want.ac_gid);
  CHECK(r.ppid == static_cast<std::int32_t>(want.ac_ppid));
  CHECK(r.elapsed_us == want.ac_etime);
  CHECK(r.user_cpu_us == want.ac_utime);
  CHECK(r.system_cpu_us == want.ac_stime);
  CHECK(r.comm_view() == std::string_view(want.ac_comm, strnlen(want.ac_comm, 15)));
  const auto part = [&](std::uint32_t bit, std::uint64_t value, std::uint64_t expected) {
    CAPTURE(bit);
    CHECK(value == (r.has(bit) ? expected : 0));
  };
  part(present::kMemory, r.peak_rss_kib, want.hiwater_rss);
  part(present::kStorageIo, r.read_bytes, want.read_bytes);
  part(present::kStorageIo, r.write_bytes, want.write_bytes);
  part(present::kContextSwitches, r.voluntary_switches, want.nvcsw);
  part(present::kContextSwitches, r.involuntary_switches, want.nivcsw);
  part(present::kTgid, static_cast<std::uint32_t>(r.tgid), want.ac_tgid);
  part(present::kExe, r.exe_dev, want.ac_exe_dev);
  part(present::kExe, r.exe_inode, want.ac_exe_inode);
}

constexpr std::uint32_t kAllParts =
    present::kMemory | present::kStorageIo | present::kContextSwitches | present::kTgid | present::kExe;

}  // namespace

TEST_CASE("a kernel exit message decodes every field", "[taskstats][parser]") {
  const TS stats = sample_stats();
  for (const bool null_pad : {false, true}) {
    CAPTURE(null_pad);
    const Bytes datagram = genl_message(aggregate(false, 4242, stats_bytes(stats), null_pad));
    const auto items = parse_all(datagram);
    REQUIRE(items.size() == 1);
    REQUIRE(items[0].kind == ItemKind::kRecord);
    CHECK(items[0].malformed == MalformedReason::kNone);
    CHECK(items[0].netlink_errno == 0);
    const ExitRecord& r = items[0].record;
    CHECK(r.scope == RecordScope::kTask);
    CHECK(r.pid == 4242);
    CHECK(r.tgid == 4240);
    CHECK(r.comm_view() == "worker");
    CHECK((r.flags & flags::kSignaled) != 0);
    CHECK((r.flags & flags::kSuperuser) != 0);
    check_fields(r, stats, kAllParts);
  }
}

TEST_CASE("the default builder layout matches the documented offsets", "[taskstats][parser]") {
  const Bytes datagram = exit_message(1, stats_bytes(sample_stats()));
  CHECK(peek<std::uint32_t>(datagram, kNlmsgLenOffset) == datagram.size());
  CHECK(peek<std::uint16_t>(datagram, kAggregateOffset + 2) == TASKSTATS_TYPE_AGGR_PID);
  CHECK(peek<std::uint16_t>(datagram, kIdAttributeOffset + 2) == TASKSTATS_TYPE_PID);
  CHECK(peek<std::uint16_t>(datagram, kStatsAttributeOffset + 2) == TASKSTATS_TYPE_STATS);
  CHECK(peek<std::uint16_t>(datagram, kStatsAttributeOffset) == NLA_HDRLEN + sizeof(TS));
  CHECK(peek<std::uint16_t>(datagram, kStatsOffset) == TASKSTATS_VERSION);
}

TEST_CASE("every struct taskstats length reads exactly the fields inside it", "[taskstats][parser]") {
  struct Row {
    const char* name;
    std::size_t size;
    std::uint32_t parts;  // present bits with version >= 12
  };
  using namespace present;
  const Row rows[] = {
      {"core minimum (up to ac_stime)", kCore, 0},
      {"up to coremem", offsetof(TS, coremem), 0},
      {"just before hiwater_rss", offsetof(TS, hiwater_rss), 0},
      {"hiwater_rss cut in half", offsetof(TS, hiwater_rss) + 4, 0},
      {"just after hiwater_rss", offsetof(TS, hiwater_rss) + 8, kMemory},
      {"just before read_bytes", offsetof(TS, read_bytes), kMemory},
      {"read_bytes without write_bytes", offsetof(TS, read_bytes) + 8, kMemory},
      {"write_bytes cut in half", offsetof(TS, write_bytes) + 4, kMemory},
      {"just after write_bytes", offsetof(TS, write_bytes) + 8, kMemory | kStorageIo},
      {"just before nvcsw", offsetof(TS, nvcsw), kMemory | kStorageIo},
      {"nvcsw without nivcsw", offsetof(TS, nvcsw) + 8, kMemory | kStorageIo},
      {"just after nivcsw (version 4 ends here)", offsetof(TS, nivcsw) + 8, kMemory | kStorageIo | kContextSwitches},
      {"version 11 ends here", offsetof(TS, ac_tgid), kMemory | kStorageIo | kContextSwitches},
      {"ac_tgid cut in half", offsetof(TS, ac_tgid) + 2, kMemory | kStorageIo | kContextSwitches},
      {"just after ac_tgid", offsetof(TS, ac_tgid) + 4, kMemory | kStorageIo | kContextSwitches | kTgid},
      {"just before ac_exe_dev", offsetof(TS, ac_exe_dev), kMemory | kStorageIo | kContextSwitches | kTgid},
      {"ac_exe_dev without ac_exe_inode", offsetof(TS, ac_exe_inode), kMemory | kStorageIo | kContextSwitches | kTgid},
      {"ac_exe_inode cut", offsetof(TS, ac_exe_inode) + 7, kMemory | kStorageIo | kContextSwitches | kTgid},
      {"version 12 ends here", offsetof(TS, ac_exe_inode) + 8, kAllParts},
      {"sizeof of this header's version", sizeof(TS), kAllParts},
      {"a newer kernel's longer struct (+8)", sizeof(TS) + 8, kAllParts},
      {"a newer kernel's longer struct (+100)", sizeof(TS) + 100, kAllParts},
      {"a newer kernel's longer struct (+1000)", sizeof(TS) + 1000, kAllParts},
      {"an odd length", sizeof(TS) + 3, kAllParts},
  };
  for (const Row& row : rows) {
    for (const std::uint16_t version : {std::uint16_t{TASKSTATS_VERSION}, std::uint16_t{12}, std::uint16_t{16},
                                        std::uint16_t{0xffff}}) {
      CAPTURE(row.name, row.size, version);
      const TS stats = sample_stats(version);
      for (const bool null_pad : {false, true}) {
        const auto items = parse_all(genl_message(aggregate(false, 77, stats_bytes(stats, row.size), null_pad)));
        REQUIRE(items.size() == 1);
        REQUIRE(items[0].kind == ItemKind::kRecord);
        CHECK(items[0].record.pid == 77);
        check_fields(items[0].record, stats, row.parts);
        // The fault counts follow the core: read where the struct holds them whole, else 0.
        const bool faults = row.size >= offsetof(TS, ac_majflt) + sizeof stats.ac_majflt;
        CHECK(items[0].record.minor_faults == (faults ? stats.ac_minflt : 0));
        CHECK(items[0].record.major_faults == (faults ? stats.ac_majflt : 0));
      }
      // parse_stats on its own agrees.
      ExitRecord direct;
      REQUIRE(parse_stats(stats_bytes(stats, row.size), direct));
      check_fields(direct, stats, row.parts);
    }
  }
}

TEST_CASE("before version 12, ac_tgid and ac_exe_* are not read even when the struct is long enough",
          "[taskstats][parser]") {
  for (std::uint16_t version = 0; version < 12; ++version) {
    for (const std::size_t size : {offsetof(TS, ac_exe_inode) + 8, sizeof(TS), sizeof(TS) + 64}) {
      CAPTURE(version, size);
      const TS stats = sample_stats(version);
      const auto items = parse_all(exit_message(9, stats_bytes(stats, size)));
      REQUIRE(items.size() == 1);
      REQUIRE(items[0].kind == ItemKind::kRecord);
      const ExitRecord& r = items[0].record;
      CHECK_FALSE(r.has(present::kTgid));
      CHECK_FALSE(r.has(present::kExe));
      CHECK(r.tgid == 0);
      CHECK(r.exe_dev == 0);
      CHECK(r.exe_inode == 0);
      check_fields(r, stats, present::kMemory | present::kStorageIo | present::kContextSwitches);
    }
  }
}

TEST_CASE("a struct taskstats shorter than the core fields is malformed", "[taskstats][parser]") {
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{2}, offsetof(TS, ac_comm),
                                 offsetof(TS, ac_comm) + 15, offsetof(TS, ac_utime), kCore - 1}) {
    CAPTURE(size);
    const auto items = parse_all(exit_message(5, stats_bytes(sample_stats(), size)));
    REQUIRE(items.size() == 1);
    CHECK(items[0].kind == ItemKind::kMalformed);
    CHECK(items[0].malformed == MalformedReason::kShortStats);
  }
  SECTION("parse_stats refuses it and leaves the output alone") {
    ExitRecord r;
    r.pid = 99;
    r.user_cpu_us = 1234;
    CHECK_FALSE(parse_stats(stats_bytes(sample_stats(), kCore - 1), r));
    CHECK(r.pid == 99);
    CHECK(r.user_cpu_us == 1234);
    CHECK_FALSE(parse_stats({}, r));
    CHECK(r.pid == 99);
  }
}

TEST_CASE("parse_stats leaves no stale value in fields the struct does not carry", "[taskstats][parser]") {
  const TS stats = sample_stats(11);
  for (const std::size_t size : {kCore, offsetof(TS, read_bytes) + 8, offsetof(TS, nvcsw) + 8, sizeof(TS)}) {
    CAPTURE(size);
    ExitRecord r;
    std::memset(static_cast<void*>(&r), 0x77, sizeof r);  // a reused record full of an earlier task's values
    r.scope = RecordScope::kThreadGroup;
    r.pid = 31337;
    REQUIRE(parse_stats(stats_bytes(stats, size), r));
    CHECK(r.scope == RecordScope::kThreadGroup);  // left to the caller
    CHECK(r.pid == 31337);
    const std::uint32_t parts = (size >= offsetof(TS, hiwater_rss) + 8 ? present::kMemory : 0) |
                                (size >= offsetof(TS, write_bytes) + 8 ? present::kStorageIo : 0) |
                                (size >= offsetof(TS, nivcsw) + 8 ? present::kContextSwitches : 0);
    check_fields(r, stats, parts);
    CHECK(r.comm.back() == '\0');
  }
}

TEST_CASE("PID-only and PID+TGID messages", "[taskstats][parser]") {
  TS task = sample_stats(TASKSTATS_VERSION, "last-thread");
  task.ac_utime = 100;
  TS group = sample_stats(TASKSTATS_VERSION, "");
  group.ac_utime = 0;  // at exit the kernel sums only delay accounting into the group record
  group.cpu_delay_total = 999;

  SECTION("a single-threaded exit is one task record") {
    const auto items = parse_all(exit_message(500, stats_bytes(task)));
    REQUIRE(items.size() == 1);
    CHECK(items[0].record.scope == RecordScope::kTask);
    CHECK(items[0].record.pid == 500);
  }
  SECTION("the last thread of a group: a task record, then the thread group's") {
    for (const bool null_pad : {false, true}) {
      CAPTURE(null_pad);
      const auto items = parse_all(genl_message(join({aggregate(false, 501, stats_bytes(task), null_pad),
                                                      aggregate(true, 500, stats_bytes(group), null_pad)})));
      REQUIRE(items.size() == 2);
      REQUIRE(items[0].kind == ItemKind::kRecord);
      REQUIRE(items[1].kind == ItemKind::kRecord);
      CHECK(items[0].record.scope == RecordScope::kTask);
      CHECK(items[0].record.pid == 501);
      CHECK(items[0].record.comm_view() == "last-thread");
      check_fields(items[0].record, task, kAllParts);
      CHECK(items[1].record.scope == RecordScope::kThreadGroup);
      CHECK(items[1].record.pid == 500);
      CHECK(items[1].record.comm_view().empty());
      check_fields(items[1].record, group, kAllParts);
    }
  }
  SECTION("the group record does not inherit anything from the task record before it") {
    const auto items =
        parse_all(group_exit_message(501, 500, stats_bytes(task), stats_bytes(sample_stats(11, "g"), kCore)));
    REQUIRE(items.size() == 2);
    CHECK(items[1].record.present == 0);
    CHECK(items[1].record.tgid == 0);
    CHECK(items[1].record.peak_rss_kib == 0);
    CHECK(items[1].record.exe_inode == 0);
  }
  SECTION("the id attribute may come after the stats, and either id type is accepted in either aggregate") {
    const Bytes stats_attribute = attribute(TASKSTATS_TYPE_STATS, stats_bytes(task));
    const auto items = parse_all(genl_message(join(
        {attribute(TASKSTATS_TYPE_AGGR_PID, join({stats_attribute, attribute(TASKSTATS_TYPE_PID, u32_bytes(7))})),
         attribute(TASKSTATS_TYPE_AGGR_TGID, join({attribute(TASKSTATS_TYPE_PID, u32_bytes(8)), stats_attribute}))})));
    REQUIRE(items.size() == 2);
    CHECK(items[0].record.pid == 7);
    CHECK(items[1].record.pid == 8);
    CHECK(items[1].record.scope == RecordScope::kThreadGroup);
  }
  SECTION("an aggregate without its id or without its stats is missing_id") {
    const Bytes no_id = genl_message(attribute(TASKSTATS_TYPE_AGGR_PID, attribute(TASKSTATS_TYPE_STATS, stats_bytes(task))));
    const Bytes no_stats = genl_message(attribute(TASKSTATS_TYPE_AGGR_TGID, attribute(TASKSTATS_TYPE_TGID, u32_bytes(3))));
    const Bytes empty = genl_message(attribute(TASKSTATS_TYPE_AGGR_PID, {}));
    const Bytes short_id = genl_message(attribute(
        TASKSTATS_TYPE_AGGR_PID, join({attribute(TASKSTATS_TYPE_PID, Bytes(3)), attribute(TASKSTATS_TYPE_STATS, stats_bytes(task))})));
    for (const Bytes& datagram : {no_id, no_stats, empty, short_id}) {
      const auto items = parse_all(datagram);
      REQUIRE(items.size() == 1);
      CHECK(items[0].kind == ItemKind::kMalformed);
      CHECK(items[0].malformed == MalformedReason::kMissingId);
    }
  }
  SECTION("a pid of 0 and the largest pids pass through") {
    for (const std::uint32_t pid : {0u, 1u, 4194304u, 0x7fffffffu}) {
      const auto items = parse_all(exit_message(pid, stats_bytes(task)));
      REQUIRE(items.size() == 1);
      CHECK(items[0].record.pid == static_cast<std::int32_t>(pid));
    }
  }
}

TEST_CASE("TASKSTATS_TYPE_NULL padding, nested flag bits and unknown attributes are stepped over",
          "[taskstats][parser]") {
  const TS stats = sample_stats();
  const Bytes stats_attribute = attribute(TASKSTATS_TYPE_STATS, stats_bytes(stats));
  const Bytes pid = attribute(TASKSTATS_TYPE_PID, u32_bytes(66));
  const Bytes null = attribute(TASKSTATS_TYPE_NULL, {});
  const Bytes null_with_payload = attribute(TASKSTATS_TYPE_NULL, Bytes(12, std::byte{0xee}));
  const Bytes unknown_odd = attribute(99, Bytes(5, std::byte{0xff}));  // unpadded length 9
  const Bytes unspec = attribute(TASKSTATS_TYPE_UNSPEC, Bytes(4));
  struct Row {
    const char* name;
    Bytes datagram;
  };
  const Row rows[] = {
      {"NULL before the id", genl_message(attribute(TASKSTATS_TYPE_AGGR_PID, join({null, pid, stats_attribute})))},
      {"NULL between id and stats (nla_reserve_64bit)",
       genl_message(attribute(TASKSTATS_TYPE_AGGR_PID, join({pid, null, stats_attribute})))},
      {"NULL after the stats", genl_message(attribute(TASKSTATS_TYPE_AGGR_PID, join({pid, stats_attribute, null})))},
      {"several NULLs, one with a payload",
       genl_message(attribute(TASKSTATS_TYPE_AGGR_PID, join({null, null_with_payload, pid, null, stats_attribute, null})))},
      {"NULL at the top level around the aggregate",
       genl_message(join({null, attribute(TASKSTATS_TYPE_AGGR_PID, join({pid, stats_attribute})), null_with_payload}))},
      {"unknown attributes inside the aggregate",
       genl_message(attribute(TASKSTATS_TYPE_AGGR_PID, join({unknown_odd, pid, unspec, stats_attribute, unknown_odd})))},
      {"unknown and non-aggregate attributes at the top level",
       genl_message(join({unknown_odd, pid, stats_attribute, attribute(TASKSTATS_TYPE_AGGR_PID, join({pid, stats_attribute})),
                          attribute(200, Bytes(100))}))},
      {"NLA_F_NESTED on the aggregate",
       genl_message(attribute(TASKSTATS_TYPE_AGGR_PID | NLA_F_NESTED, join({pid, stats_attribute})))},
      {"NLA_F_NET_BYTEORDER and NLA_F_NESTED on the inner attributes",
       genl_message(attribute(TASKSTATS_TYPE_AGGR_PID | NLA_F_NESTED,
                              join({attribute(TASKSTATS_TYPE_PID | NLA_F_NET_BYTEORDER, u32_bytes(66)),
                                    attribute(TASKSTATS_TYPE_STATS | NLA_F_NESTED | NLA_F_NET_BYTEORDER,
                                              stats_bytes(stats))})))},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    const auto items = parse_all(row.datagram);
    REQUIRE(items.size() == 1);
    REQUIRE(items[0].kind == ItemKind::kRecord);
    CHECK(items[0].record.pid == 66);
    CHECK(items[0].record.scope == RecordScope::kTask);
    check_fields(items[0].record, stats, kAllParts);
  }
  SECTION("a family message without aggregates yields nothing, and parsing goes on") {
    const Bytes nothing = genl_message(join({null, unknown_odd}));
    CHECK(parse_all(nothing).empty());
    CHECK(parse_all(genl_message({})).empty());
    const auto items = parse_all(concat(nothing, exit_message(3, stats_bytes(stats))));
    REQUIRE(items.size() == 1);
    CHECK(items[0].record.pid == 3);
  }
  SECTION("the genetlink command and version are not checked") {
    const auto items = parse_all(genl_message(attribute(TASKSTATS_TYPE_AGGR_PID, join({pid, stats_attribute})), kFamily,
                                              TASKSTATS_CMD_GET));
    REQUIRE(items.size() == 1);
    CHECK(items[0].kind == ItemKind::kRecord);
  }
}

TEST_CASE("control messages and other families are skipped, errors and overruns reported", "[taskstats][parser]") {
  const Bytes record = exit_message(1, stats_bytes(sample_stats()));
  Bytes other_family = record;
  patch<std::uint16_t>(other_family, kNlmsgTypeOffset, kFamily + 1);
  Bytes ctrl_family = record;
  patch<std::uint16_t>(ctrl_family, kNlmsgTypeOffset, GENL_ID_CTRL);
  Bytes other_family_garbage = control_message(kFamily - 1, Bytes(3, std::byte{0xff}));
  struct Row {
    const char* name;
    Bytes datagram;
    ItemKind kind;
    int netlink_errno;
  };
  const Row rows[] = {
      {"NLMSG_NOOP", control_message(NLMSG_NOOP), ItemKind::kSkipped, 0},
      {"NLMSG_NOOP with a payload", control_message(NLMSG_NOOP, Bytes(24)), ItemKind::kSkipped, 0},
      {"NLMSG_DONE", control_message(NLMSG_DONE), ItemKind::kSkipped, 0},
      {"NLMSG_DONE with a payload", control_message(NLMSG_DONE, Bytes(4)), ItemKind::kSkipped, 0},
      {"NLMSG_ERROR 0 is an ack", error_message(0), ItemKind::kSkipped, 0},
      {"NLMSG_ERROR 0 without the echoed header", error_message(0, 4), ItemKind::kSkipped, 0},
      {"NLMSG_ERROR -EPERM", error_message(-EPERM), ItemKind::kNetlinkError, EPERM},
      {"NLMSG_ERROR -EINVAL without the echoed header", error_message(-EINVAL, 4), ItemKind::kNetlinkError, EINVAL},
      {"NLMSG_ERROR with a positive code", error_message(ENOENT), ItemKind::kNetlinkError, ENOENT},
      {"NLMSG_ERROR INT_MAX", error_message(INT_MAX), ItemKind::kNetlinkError, INT_MAX},
      {"NLMSG_ERROR -INT_MAX", error_message(-INT_MAX), ItemKind::kNetlinkError, INT_MAX},
      {"NLMSG_OVERRUN", control_message(NLMSG_OVERRUN), ItemKind::kOverrun, 0},
      {"an exit message of another family", other_family, ItemKind::kSkipped, 0},
      {"a nlctrl message", ctrl_family, ItemKind::kSkipped, 0},
      {"another family's message too short for a genlmsghdr", other_family_garbage, ItemKind::kSkipped, 0},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    const auto items = parse_all(row.datagram);
    REQUIRE(items.size() == 1);
    CHECK(items[0].kind == row.kind);
    CHECK(items[0].netlink_errno == row.netlink_errno);
    CHECK(items[0].malformed == MalformedReason::kNone);
  }
  SECTION("an error code that cannot be negated is still an error, not UB") {
    const auto items = parse_all(error_message(INT_MIN));
    REQUIRE(items.size() == 1);
    CHECK(items[0].kind == ItemKind::kNetlinkError);
    CHECK(items[0].netlink_errno > 0);
  }
  SECTION("an NLMSG_ERROR too short for its error code is malformed") {
    for (const std::size_t payload : {std::size_t{0}, std::size_t{3}}) {
      const auto items = parse_all(error_message(-EPERM, payload));
      REQUIRE(items.size() == 1);
      CHECK(items[0].kind == ItemKind::kMalformed);
      CHECK(items[0].malformed == MalformedReason::kBadNetlinkLength);
    }
  }
  SECTION("the same bytes parsed with another family id are skipped") {
    const auto items = parse_all(record, kFamily + 7);
    REQUIRE(items.size() == 1);
    CHECK(items[0].kind == ItemKind::kSkipped);
  }
  SECTION("a netlink error item does not reset netlink_errno of the next one") {
    const auto items = parse_all(concat(error_message(-EPERM), record));
    REQUIRE(items.size() == 2);
    CHECK(items[0].netlink_errno == EPERM);
    CHECK(items[1].kind == ItemKind::kRecord);
    CHECK(items[1].netlink_errno == 0);
  }
}

TEST_CASE("several messages in one datagram are all parsed in order", "[taskstats][parser]") {
  Bytes datagram = exit_message(10, stats_bytes(sample_stats()));
  datagram = concat(datagram, control_message(NLMSG_NOOP));
  datagram = concat(datagram, group_exit_message(21, 20, stats_bytes(sample_stats()), stats_bytes(sample_stats())));
  datagram = concat(datagram, error_message(-ENOBUFS));
  datagram = concat(datagram, genl_message(attribute(TASKSTATS_TYPE_AGGR_PID, {}), kFamily + 1));
  datagram = concat(datagram, control_message(NLMSG_OVERRUN));
  datagram = concat(datagram, exit_message(30, stats_bytes(sample_stats(8), offsetof(TS, nivcsw) + 8)));
  const auto items = parse_all(datagram);
  REQUIRE(items.size() == 8);
  CHECK(items[0].kind == ItemKind::kRecord);
  CHECK(items[0].record.pid == 10);
  CHECK(items[1].kind == ItemKind::kSkipped);
  CHECK(items[2].record.pid == 21);
  CHECK(items[2].record.scope == RecordScope::kTask);
  CHECK(items[3].record.pid == 20);
  CHECK(items[3].record.scope == RecordScope::kThreadGroup);
  CHECK(items[4].kind == ItemKind::kNetlinkError);
  CHECK(items[4].netlink_errno == ENOBUFS);
  CHECK(items[5].kind == ItemKind::kSkipped);
  CHECK(items[6].kind == ItemKind::kOverrun);
  CHECK(items[7].kind == ItemKind::kRecord);
  CHECK(items[7].record.pid == 30);
  CHECK(items[7].record.version == 8);
  CHECK_FALSE(items[7].record.has(present::kTgid));

  SECTION("a message whose length is not a multiple of 4 is followed at the next boundary") {
    Bytes odd = exit_message(5, stats_bytes(sample_stats(), sizeof(TS) + 1));
    patch<std::uint16_t>(odd, kStatsAttributeOffset, static_cast<std::uint16_t>(NLA_HDRLEN + sizeof(TS) + 1));
    patch<std::uint16_t>(odd, kAggregateOffset,
                         static_cast<std::uint16_t>(peek<std::uint16_t>(odd, kAggregateOffset) - 3));
    odd.resize(odd.size() - 3);
    patch<std::uint32_t>(odd, kNlmsgLenOffset, static_cast<std::uint32_t>(odd.size()));
    REQUIRE(odd.size() % 4 != 0);
    const auto single = parse_all(odd);  // the datagram may end without the padding
    REQUIRE(single.size() == 1);
    CHECK(single[0].record.pid == 5);
    const auto both = parse_all(concat(odd, exit_message(6, stats_bytes(sample_stats()))));
    REQUIRE(both.size() == 2);
    CHECK(both[0].record.pid == 5);
    CHECK(both[1].kind == ItemKind::kRecord);
    CHECK(both[1].record.pid == 6);
  }
  SECTION("a malformed message ends the datagram after the good ones") {
    Bytes bad = exit_message(7, stats_bytes(sample_stats()));
    patch<std::uint16_t>(bad, kStatsAttributeOffset, 0xffff);
    Bytes mixed = concat(exit_message(6, stats_bytes(sample_stats())), bad);
    mixed = concat(mixed, exit_message(8, stats_bytes(sample_stats())));
    const auto out = parse_all(mixed);
    REQUIRE(out.size() == 2);
    CHECK(out[0].record.pid == 6);
    CHECK(out[1].kind == ItemKind::kMalformed);
    CHECK(out[1].malformed == MalformedReason::kBadAttributeLength);
  }
  SECTION("a malformed group aggregate after a good task aggregate keeps the task record") {
    Bytes message = group_exit_message(21, 20, stats_bytes(sample_stats()), stats_bytes(sample_stats(), kCore - 8));
    const auto out = parse_all(concat(message, exit_message(99, stats_bytes(sample_stats()))));
    REQUIRE(out.size() == 2);
    CHECK(out[0].kind == ItemKind::kRecord);
    CHECK(out[0].record.pid == 21);
    CHECK(out[1].kind == ItemKind::kMalformed);
    CHECK(out[1].malformed == MalformedReason::kShortStats);
  }
}

TEST_CASE("lying lengths at every level are malformed, never read past the end", "[taskstats][parser]") {
  const Bytes good = exit_message(4242, stats_bytes(sample_stats()));
  const auto aggregate_len = peek<std::uint16_t>(good, kAggregateOffset);
  const auto stats_len = peek<std::uint16_t>(good, kStatsAttributeOffset);
  struct Row {
    std::string what;
    Bytes datagram;
    MalformedReason reason;
  };
  std::vector<Row> rows;
  const auto with = [&](std::size_t offset, auto value) {
    Bytes lie = good;
    patch(lie, offset, value);
    return lie;
  };
  for (const std::size_t cut : {std::size_t{1}, std::size_t{4}, std::size_t{15}}) {
    rows.push_back({"shorter than a netlink header: " + std::to_string(cut), {good.begin(), good.begin() + cut},
                    MalformedReason::kTruncatedNetlinkHeader});
  }
  for (const std::uint32_t len : {0u, 1u, 8u, 15u}) {
    rows.push_back({"nlmsg_len below the netlink header: " + std::to_string(len), with(kNlmsgLenOffset, len),
                    MalformedReason::kBadNetlinkLength});
  }
  for (const std::uint32_t len : {16u, 17u, 19u}) {
    rows.push_back({"nlmsg_len without room for the genlmsghdr: " + std::to_string(len), with(kNlmsgLenOffset, len),
                    MalformedReason::kBadNetlinkLength});
  }
  for (const std::uint32_t len : {static_cast<std::uint32_t>(good.size() + 1), static_cast<std::uint32_t>(good.size() + 4),
                                  65536u, 0x7fffffffu, 0xffffffffu}) {
    rows.push_back({"nlmsg_len beyond the datagram: " + std::to_string(len), with(kNlmsgLenOffset, len),
                    MalformedReason::kBadNetlinkLength});
  }
  // nlmsg_len shorter than the attributes: the aggregate then overruns the message.
  for (const std::uint32_t len : {24u, 40u, static_cast<std::uint32_t>(good.size() - 4)}) {
    rows.push_back({"nlmsg_len cutting the aggregate: " + std::to_string(len), with(kNlmsgLenOffset, len),
                    MalformedReason::kBadAttributeLength});
  }
  for (const std::uint16_t len : {std::uint16_t{0}, std::uint16_t{1}, std::uint16_t{3}}) {
    rows.push_back({"aggregate nla_len below its header: " + std::to_string(len), with(kAggregateOffset, len),
                    MalformedReason::kBadAttributeLength});
  }
  for (const std::uint16_t len : {static_cast<std::uint16_t>(aggregate_len + 1), static_cast<std::uint16_t>(aggregate_len + 4),
                                  std::uint16_t{0xffff}}) {
    rows.push_back({"aggregate nla_len beyond the message: " + std::to_string(len), with(kAggregateOffset, len),
                    MalformedReason::kBadAttributeLength});
  }
  rows.push_back({"aggregate nla_len holding only its header", with(kAggregateOffset, std::uint16_t{4}),
                  MalformedReason::kMissingId});
  rows.push_back({"aggregate nla_len holding only the pid", with(kAggregateOffset, std::uint16_t{12}),
                  MalformedReason::kMissingId});
  rows.push_back({"aggregate nla_len cutting the stats attribute", with(kAggregateOffset, static_cast<std::uint16_t>(aggregate_len - 1)),
                  MalformedReason::kBadAttributeLength});
  for (const std::uint16_t len : {std::uint16_t{0}, std::uint16_t{1}, std::uint16_t{3}}) {
    rows.push_back({"pid nla_len below its header: " + std::to_string(len), with(kIdAttributeOffset, len),
                    MalformedReason::kBadAttributeLength});
    rows.push_back({"stats nla_len below its header: " + std::to_string(len), with(kStatsAttributeOffset, len),
                    MalformedReason::kBadAttributeLength});
  }
  for (const std::uint16_t len : {std::uint16_t{5}, std::uint16_t{7}}) {
    rows.push_back({"pid attribute shorter than a u32: " + std::to_string(len), with(kIdAttributeOffset, len),
                    MalformedReason::kMissingId});
  }
  rows.push_back({"pid nla_len beyond the aggregate", with(kIdAttributeOffset, std::uint16_t{aggregate_len}),
                  MalformedReason::kBadAttributeLength});
  for (const std::uint16_t len : {static_cast<std::uint16_t>(stats_len + 1), static_cast<std::uint16_t>(stats_len + 8),
                                  std::uint16_t{0xffff}}) {
    rows.push_back({"stats nla_len beyond the aggregate: " + std::to_string(len), with(kStatsAttributeOffset, len),
                    MalformedReason::kBadAttributeLength});
  }
  for (const std::uint16_t len : {std::uint16_t{4}, std::uint16_t{8}, static_cast<std::uint16_t>(NLA_HDRLEN + kCore - 1)}) {
    rows.push_back({"stats nla_len too short for the core fields: " + std::to_string(len),
                    with(kStatsAttributeOffset, len), MalformedReason::kShortStats});
  }

  for (const Row& row : rows) {
    CAPTURE(row.what);
    const auto items = parse_all(row.datagram);
    REQUIRE(items.size() == 1);
    CHECK(items[0].kind == ItemKind::kMalformed);
    CHECK(items[0].malformed == row.reason);
    CHECK(malformed_reason_name(items[0].malformed) != "none");
  }

  SECTION("stats nla_len shorter than sent but still past the core: the record has only what the length covers") {
    Bytes shorter = with(kStatsAttributeOffset, static_cast<std::uint16_t>(NLA_HDRLEN + kCore));
    // The rest of the struct then reads as attributes: whatever it decodes to, nothing of it leaks in.
    const auto items = parse_all(shorter);
    REQUIRE_FALSE(items.empty());
    if (items[0].kind == ItemKind::kRecord) {
      CHECK(items[0].record.present == 0);
      CHECK(items[0].record.peak_rss_kib == 0);
    }
  }
}

TEST_CASE("every truncation point of valid datagrams is safe", "[taskstats][parser]") {
  Bytes datagram = genl_message(join({aggregate(false, 501, stats_bytes(sample_stats()), true),
                                      aggregate(true, 500, stats_bytes(sample_stats()), true)}));
  datagram = concat(datagram, error_message(-EPERM));
  datagram = concat(datagram, exit_message(502, stats_bytes(sample_stats(), sizeof(TS) + 24)));
  const std::size_t first_message = peek<std::uint32_t>(datagram, 0);
  std::size_t malformed = 0;
  for (std::size_t cut = 0; cut <= datagram.size(); ++cut) {
    CAPTURE(cut);
    const Bytes cut_datagram(datagram.begin(), datagram.begin() + static_cast<std::ptrdiff_t>(cut));
    const auto items = parse_all(cut_datagram);
    for (std::size_t i = 0; i + 1 < items.size(); ++i) CHECK(items[i].kind != ItemKind::kMalformed);
    if (cut == 0) CHECK(items.empty());
    if (cut > 0 && cut < NLMSG_HDRLEN) {
      REQUIRE(items.size() == 1);
      CHECK(items[0].malformed == MalformedReason::kTruncatedNetlinkHeader);
    }
    if (cut >= NLMSG_HDRLEN && cut < first_message) {
      REQUIRE(items.size() == 1);  // nlmsg_len promises more than is there
      CHECK(items[0].malformed == MalformedReason::kBadNetlinkLength);
    }
    if (cut == datagram.size()) {
      REQUIRE(items.size() == 4);
      CHECK(items[3].record.pid == 502);
    }
    malformed += !items.empty() && items.back().kind == ItemKind::kMalformed;

    // The same cut with every length shrunk to match: the lie is then only inside the attributes.
    if (cut >= NLMSG_HDRLEN + GENL_HDRLEN && cut < first_message) {
      Bytes consistent = cut_datagram;
      patch<std::uint32_t>(consistent, kNlmsgLenOffset, static_cast<std::uint32_t>(cut));
      const auto inner = parse_all(consistent);
      for (const Item& item : inner) {
        if (item.kind == ItemKind::kRecord) CHECK((item.record.pid == 501 || item.record.pid == 500));
      }
      if (cut > kAggregateOffset && cut < kAggregateOffset + peek<std::uint16_t>(datagram, kAggregateOffset)) {
        REQUIRE(inner.size() == 1);
        CHECK(inner[0].kind == ItemKind::kMalformed);
      }
    }
  }
  CHECK(malformed == datagram.size() - 3);  // all but the empty datagram and the two message boundaries
}

TEST_CASE("records decode the same from any alignment of the receive buffer", "[taskstats][parser]") {
  const Bytes datagram = group_exit_message(8, 7, stats_bytes(sample_stats()), stats_bytes(sample_stats()));
  for (std::size_t shift = 0; shift < 8; ++shift) {
    CAPTURE(shift);
    Bytes buffer(shift + datagram.size());
    std::memcpy(buffer.data() + shift, datagram.data(), datagram.size());
    ItemCursor cursor(std::span<const std::byte>(buffer).subspan(shift), kFamily);
    Item item;
    REQUIRE(cursor.next(item));
    CHECK(item.record.pid == 8);
    check_fields(item.record, sample_stats(), kAllParts);
    REQUIRE(cursor.next(item));
    CHECK(item.record.pid == 7);
    CHECK_FALSE(cursor.next(item));
  }
}

TEST_CASE("100k random byte buffers never crash or hang the parser", "[taskstats][parser]") {
  std::mt19937 random(20260301);  // fixed seed: failures reproduce
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 600);
  const Bytes template_message = group_exit_message(11, 10, stats_bytes(sample_stats()), stats_bytes(sample_stats()));
  std::size_t counts[5] = {};
  for (int i = 0; i < 100000; ++i) {
    Bytes datagram(length(random));
    for (auto& b : datagram) b = static_cast<std::byte>(byte(random));
    // Most of the time make the headers plausible so the deeper paths are reached.
    if (datagram.size() >= 40 && i % 4 != 0) {
      const auto len = static_cast<std::uint32_t>(i % 3 == 0 ? datagram.size() : 16 + byte(random) * 2);
      patch<std::uint32_t>(datagram, kNlmsgLenOffset, len);
      const std::uint16_t types[] = {kFamily, kFamily, kFamily, kFamily, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, 0x10};
      patch<std::uint16_t>(datagram, kNlmsgTypeOffset, types[static_cast<std::size_t>(byte(random)) % 8]);
      const std::uint16_t aggregates[] = {TASKSTATS_TYPE_AGGR_PID, TASKSTATS_TYPE_AGGR_TGID, TASKSTATS_TYPE_NULL, 0};
      patch<std::uint16_t>(datagram, kAggregateOffset, static_cast<std::uint16_t>(4 + byte(random) * 2));
      patch<std::uint16_t>(datagram, kAggregateOffset + 2, aggregates[static_cast<std::size_t>(byte(random)) % 4]);
      patch<std::uint16_t>(datagram, kIdAttributeOffset, static_cast<std::uint16_t>(byte(random) % 12));
      patch<std::uint16_t>(datagram, kIdAttributeOffset + 2, static_cast<std::uint16_t>(byte(random) % 7));
    }
    // And sometimes start from a real message with random lengths and a random tail.
    if (i % 5 == 1) {
      datagram = template_message;
      datagram.resize(byte(random) % 2 ? datagram.size() + byte(random) % 16 : length(random) + 20, std::byte{0});
      patch<std::uint32_t>(datagram, kNlmsgLenOffset, static_cast<std::uint32_t>(datagram.size() - byte(random) % 8));
      if (byte(random) % 2) patch<std::uint16_t>(datagram, kStatsAttributeOffset, static_cast<std::uint16_t>(byte(random) * 2));
      if (datagram.size() > kStatsOffset) patch<std::uint16_t>(datagram, kStatsOffset, static_cast<std::uint16_t>(byte(random) % 16));
    }
    const auto items = parse_all(datagram);
    for (std::size_t m = 0; m < items.size(); ++m) {
      ++counts[static_cast<std::size_t>(items[m].kind)];
      // Only the last item of a datagram may be malformed: the cursor gives up after one.
      if (items[m].kind == ItemKind::kMalformed) CHECK(m + 1 == items.size());
      CHECK((items[m].kind == ItemKind::kMalformed) == (items[m].malformed != MalformedReason::kNone));
      if (items[m].kind == ItemKind::kRecord) {
        CHECK(items[m].record.comm_view().size() < 16);
        if (items[m].record.version < 12) CHECK((items[m].record.present & (present::kTgid | present::kExe)) == 0);
      }
    }
  }
  // Every outcome was reached, so the fuzzing went past the first length checks.
  CHECK(counts[static_cast<std::size_t>(ItemKind::kRecord)] > 1000);
  CHECK(counts[static_cast<std::size_t>(ItemKind::kSkipped)] > 0);
  CHECK(counts[static_cast<std::size_t>(ItemKind::kOverrun)] > 0);
  CHECK(counts[static_cast<std::size_t>(ItemKind::kNetlinkError)] > 0);
  CHECK(counts[static_cast<std::size_t>(ItemKind::kMalformed)] > 1000);
}

TEST_CASE("valid datagrams with random bytes flipped never crash the parser", "[taskstats][parser]") {
  std::mt19937 random(4243);
  Bytes base = group_exit_message(11, 10, stats_bytes(sample_stats()), stats_bytes(sample_stats(11), kCore + 16));
  base = concat(base, control_message(NLMSG_NOOP));
  base = concat(base, genl_message(aggregate(false, 12, stats_bytes(sample_stats()), true)));
  std::uniform_int_distribution<std::size_t> position(0, base.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> bit(0, 7);
  std::size_t records = 0;
  for (int i = 0; i < 100000; ++i) {
    Bytes datagram = base;
    for (int flips = 1 + i % 4; flips > 0; --flips) {
      if (i % 2 == 0) {
        datagram[position(random)] ^= static_cast<std::byte>(1 << bit(random));
      } else {
        datagram[position(random)] = static_cast<std::byte>(byte(random));
      }
    }
    if (i % 5 == 0) datagram.resize(position(random));
    for (const Item& item : parse_all(datagram)) {
      records += item.kind == ItemKind::kRecord;
      if (item.kind == ItemKind::kRecord) CHECK(item.record.comm_view().size() < 16);
    }
  }
  CHECK(records > 100000);
}

TEST_CASE("comm_view stops at the terminator and never runs past the array", "[taskstats][parser]") {
  SECTION("a 15-character name, as the kernel's TASK_COMM_LEN allows") {
    const auto items = parse_all(exit_message(1, stats_bytes(sample_stats(TASKSTATS_VERSION, "abcdefghijklmno"))));
    REQUIRE(items.size() == 1);
    CHECK(items[0].record.comm_view() == "abcdefghijklmno");
  }
  SECTION("an unterminated ac_comm (all 32 bytes used) is cut to 15") {
    TS stats = sample_stats();
    std::memset(stats.ac_comm, 'x', sizeof stats.ac_comm);
    const auto items = parse_all(exit_message(1, stats_bytes(stats)));
    REQUIRE(items.size() == 1);
    CHECK(items[0].record.comm_view() == std::string(15, 'x'));
    CHECK(items[0].record.comm.back() == '\0');
  }
  SECTION("control and non-ASCII bytes pass through untouched") {
    const auto items = parse_all(exit_message(1, stats_bytes(sample_stats(TASKSTATS_VERSION, "a\t\"\\\x7f\xc3\xa9"))));
    CHECK(items.at(0).record.comm_view() == "a\t\"\\\x7f\xc3\xa9");
  }
  SECTION("bytes the kernel left after the terminator do not end up in the record") {
    TS stats = sample_stats(TASKSTATS_VERSION, "");
    std::memcpy(stats.ac_comm, "sh\0stale-name-xyz", 18);
    const auto items = parse_all(exit_message(1, stats_bytes(stats)));
    REQUIRE(items.size() == 1);
    CHECK(items[0].record.comm_view() == "sh");
    std::array<char, 16> want{'s', 'h'};
    CHECK(items[0].record.comm == want);  // comparable as a whole, like connector::Event's comm
  }
  SECTION("an empty name") {
    const auto items = parse_all(exit_message(1, stats_bytes(sample_stats(TASKSTATS_VERSION, ""))));
    CHECK(items.at(0).record.comm_view().empty());
  }
  SECTION("a record whose array has no terminator at all (built by hand) yields all 16 bytes") {
    ExitRecord r;
    std::memset(r.comm.data(), 'y', r.comm.size());
    CHECK(r.comm_view() == std::string(16, 'y'));
    ExitRecord empty;
    CHECK(empty.comm_view().empty());
  }
}

TEST_CASE("malformed reasons have distinct stable names", "[taskstats][parser]") {
  const std::pair<MalformedReason, std::string_view> names[] = {
      {MalformedReason::kNone, "none"},
      {MalformedReason::kTruncatedNetlinkHeader, "truncated_netlink_header"},
      {MalformedReason::kBadNetlinkLength, "bad_netlink_length"},
      {MalformedReason::kBadAttributeLength, "bad_attribute_length"},
      {MalformedReason::kShortStats, "short_stats"},
      {MalformedReason::kMissingId, "missing_id"},
  };
  STATIC_REQUIRE(std::size(names) == kMalformedReasonCount);
  std::set<std::string_view> distinct;
  for (std::size_t i = 0; i < kMalformedReasonCount; ++i) {
    CAPTURE(i);
    CHECK(malformed_reason_name(static_cast<MalformedReason>(i)) == names[i].second);
    CHECK(static_cast<std::size_t>(names[i].first) == i);
    distinct.insert(malformed_reason_name(static_cast<MalformedReason>(i)));
  }
  CHECK(distinct.size() == kMalformedReasonCount);
  CHECK(malformed_reason_name(static_cast<MalformedReason>(kMalformedReasonCount)) == "unknown");
  CHECK(malformed_reason_name(static_cast<MalformedReason>(255)) == "unknown");
}

namespace {

/// A temporary file with `content`, removed at scope end.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/procevents-cpulist-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    close(fd);
    path_ = name;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("read_cpu_list reads a cpulist file's first line, or nothing", "[taskstats][cpulist]") {
  const std::pair<std::string, std::string> rows[] = {
      {"0-1\n", "0-1"},
      {"0\n", "0"},
      {"0,2-5", "0,2-5"},
      {"0-3 \n", "0-3"},
      {"0-127\n\n", "0-127"},
      {"", ""},
      {"\n", ""},
      {"garbage\n", ""},
      {"0-1 junk\n", ""},
      {"0-1\n2-3\n", ""},  // a second line is not a cpulist
      {std::string("0-1\0", 4), ""},
  };
  for (const auto& [content, expected] : rows) {
    CAPTURE(content);
    TempFile file(content);
    CHECK(read_cpu_list(file.path()) == expected);
  }
  CHECK(read_cpu_list("/nonexistent/procevents/cpu/possible").empty());
  CHECK(read_cpu_list("").empty());
  CHECK(read_cpu_list("/tmp").empty());  // a directory: read() fails with EISDIR
  const std::string possible = read_cpu_list("/sys/devices/system/cpu/possible");
  if (!possible.empty()) CHECK(possible.find_first_not_of("0123456789,-") == std::string::npos);
}
