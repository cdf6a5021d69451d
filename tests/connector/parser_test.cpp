// Parser tests on crafted datagrams: every event type, control messages, lies and garbage.
#include <catch2/catch.hpp>

#include <random>

#include "connector/parser.h"
#include "connector/seq_tracker.h"
#include "datagram_builder.h"

using namespace procevents::connector;
using namespace procevents::testing;

namespace {
std::vector<Message> parse_all(const std::vector<std::byte>& datagram) {
  std::vector<Message> out;
  MessageCursor cursor(datagram);
  Message m;
  while (cursor.next(m)) out.push_back(m);
  return out;
}
Event parse_one(std::uint32_t what, const std::vector<std::uint32_t>& words) {
  const auto messages = parse_all(connector_message(proc_event(what, 1, 0x1122334455667788ull, words), 42));
  REQUIRE(messages.size() == 1);
  REQUIRE(messages[0].kind == MessageKind::kEvent);
  return messages[0].event;
}
}  // namespace

TEST_CASE("a kernel event message is 76 bytes with the timestamp at an unaligned offset", "[connector]") {
  const auto datagram = connector_message(proc_event(event_bits::kExec, 3, 0x0102030405060708ull, {10, 10}));
  CHECK(datagram.size() == 76);
  const Event e = parse_all(datagram).at(0).event;
  CHECK(e.timestamp_ns == 0x0102030405060708ull);
  CHECK(e.cpu == 3);
}

TEST_CASE("every event type decodes with its fields", "[connector]") {
  SECTION("fork of a process") {
    const Event e = parse_one(event_bits::kFork, {100, 100, 200, 200});
    CHECK(e.type == EventType::kFork);
    CHECK(e.parent_pid == 100);
    CHECK(e.parent_tgid == 100);
    CHECK(e.pid == 200);
    CHECK(e.tgid == 200);
    CHECK_FALSE(e.is_thread());
    CHECK(e.seq == 42);
  }
  SECTION("fork of a thread") {
    const Event e = parse_one(event_bits::kFork, {1, 1, 201, 200});
    CHECK(e.is_thread());
  }
  SECTION("exec") {
    const Event e = parse_one(event_bits::kExec, {300, 300});
    CHECK(e.type == EventType::kExec);
    CHECK(e.pid == 300);
  }
  SECTION("uid and gid") {
    Event e = parse_one(event_bits::kUid, {5, 5, 1000, 0});
    CHECK(e.type == EventType::kUid);
    CHECK(e.real_id == 1000);
    CHECK(e.effective_id == 0);
    e = parse_one(event_bits::kGid, {5, 5, 65534, 65534});
    CHECK(e.type == EventType::kGid);
    CHECK(e.real_id == 65534);
  }
  SECTION("sid") { CHECK(parse_one(event_bits::kSid, {7, 7}).type == EventType::kSid); }
  SECTION("ptrace attach and detach") {
    Event e = parse_one(event_bits::kPtrace, {8, 8, 9, 9});
    CHECK(e.is_ptrace_attach());
    CHECK(e.parent_pid == 9);
    e = parse_one(event_bits::kPtrace, {8, 8, 0, 0});
    CHECK_FALSE(e.is_ptrace_attach());
  }
  SECTION("comm, including an unterminated 16-byte name") {
    std::vector<std::uint32_t> words = {11, 11};
    const char name[16] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p'};
    for (int i = 0; i < 4; ++i) {
      std::uint32_t w;
      std::memcpy(&w, name + i * 4, 4);
      words.push_back(w);
    }
    const Event e = parse_one(event_bits::kComm, words);
    CHECK(e.type == EventType::kComm);
    CHECK(e.comm_view() == "abcdefghijklmno");  // cut to 15: never unterminated
  }
  SECTION("coredump") {
    const Event e = parse_one(event_bits::kCoredump, {12, 12, 1, 1});
    CHECK(e.type == EventType::kCoredump);
    CHECK(e.parent_tgid == 1);
  }
  SECTION("exit with status, signal and core dump") {
    Event e = parse_one(event_bits::kExit, {13, 13, 3 << 8, 17, 1, 1});
    CHECK(e.type == EventType::kExit);
    CHECK(e.exit_signal == 17);
    ExitStatus s = decode_exit_status(e.exit_code);
    CHECK(s.kind == ExitStatus::Kind::kExited);
    CHECK(s.code == 3);
    s = decode_exit_status(9);
    CHECK(s.kind == ExitStatus::Kind::kSignaled);
    CHECK(s.signal == 9);
    CHECK_FALSE(s.core_dumped);
    s = decode_exit_status(11 | 0x80);
    CHECK(s.signal == 11);
    CHECK(s.core_dumped);
  }
  SECTION("ack with an error") {
    const Event e = parse_one(event_bits::kNone, {1});
    CHECK(e.type == EventType::kAck);
    CHECK(e.ack_error == 1);
  }
  SECTION("an unknown type is reported, not fatal") {
    const Event e = parse_one(0x00001000, {1, 1});
    CHECK(e.type == EventType::kUnknown);
    CHECK(e.what == 0x00001000);
  }
}

TEST_CASE("control messages are skipped, errors and overruns reported", "[connector]") {
  struct Row {
    std::vector<std::byte> datagram;
    MessageKind kind;
    int netlink_errno;
  };
  std::vector<std::byte> eperm(4), zero(4);
  const std::int32_t minus_eperm = -1;
  std::memcpy(eperm.data(), &minus_eperm, 4);
  const Row rows[] = {
      {control_message(procevents::connector::wire::kNlmsgNoop), MessageKind::kSkipped, 0},
      {control_message(procevents::connector::wire::kNlmsgDone), MessageKind::kSkipped, 0},
      {control_message(procevents::connector::wire::kNlmsgError, zero), MessageKind::kSkipped, 0},
      {control_message(procevents::connector::wire::kNlmsgError, eperm), MessageKind::kNetlinkError, 1},
      {control_message(procevents::connector::wire::kNlmsgOverrun), MessageKind::kOverrun, 0},
      {connector_message(proc_event(event_bits::kExec, 0, 0, {1, 1}), 1, 7, 7), MessageKind::kSkipped, 0},
  };
  for (const Row& row : rows) {
    const auto messages = parse_all(row.datagram);
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].kind == row.kind);
    CHECK(messages[0].netlink_errno == row.netlink_errno);
  }
}

TEST_CASE("several messages in one datagram are all parsed", "[connector]") {
  auto datagram = connector_message(proc_event(event_bits::kFork, 0, 0, {1, 1, 2, 2}));
  datagram = concat(datagram, control_message(procevents::connector::wire::kNlmsgNoop));
  datagram = concat(datagram, connector_message(proc_event(event_bits::kExit, 0, 0, {2, 2, 0, 17, 1, 1})));
  const auto messages = parse_all(datagram);
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].event.type == EventType::kFork);
  CHECK(messages[1].kind == MessageKind::kSkipped);
  CHECK(messages[2].event.type == EventType::kExit);
}

TEST_CASE("truncated and lying datagrams are malformed, never read past the end", "[connector]") {
  const auto good = connector_message(proc_event(event_bits::kExit, 0, 0, {2, 2, 0, 17, 1, 1}));
  struct Row {
    const char* what;
    std::vector<std::byte> datagram;
    MalformedReason reason;
  };
  std::vector<Row> rows;
  rows.push_back({"shorter than a netlink header", {good.begin(), good.begin() + 10}, MalformedReason::kTruncatedNetlinkHeader});
  auto too_long = good;
  const std::uint32_t big = 1000;
  std::memcpy(too_long.data(), &big, 4);
  rows.push_back({"nlmsg_len beyond the datagram", too_long, MalformedReason::kBadNetlinkLength});
  auto too_short = good;
  const std::uint32_t small = 8;
  std::memcpy(too_short.data(), &small, 4);
  rows.push_back({"nlmsg_len below the header", too_short, MalformedReason::kBadNetlinkLength});
  auto short_cn = good;
  const std::uint32_t len30 = 30;
  std::memcpy(short_cn.data(), &len30, 4);
  short_cn.resize(30);
  rows.push_back({"payload shorter than cn_msg", short_cn, MalformedReason::kTruncatedConnectorHeader});
  auto lying_cn = good;
  const std::uint16_t cn_len = 200;
  std::memcpy(lying_cn.data() + 16 + 16, &cn_len, 2);
  rows.push_back({"cn_msg.len beyond the payload", lying_cn, MalformedReason::kBadConnectorLength});
  // Each event type with its payload cut one byte short.
  for (const std::uint32_t what : {event_bits::kFork, event_bits::kExec, event_bits::kUid, event_bits::kGid,
                                   event_bits::kSid, event_bits::kPtrace, event_bits::kComm, event_bits::kCoredump,
                                   event_bits::kExit, event_bits::kNone}) {
    std::size_t needed = what == event_bits::kComm || what == event_bits::kExit ? 24
                         : what == event_bits::kExec || what == event_bits::kSid ? 8
                         : what == event_bits::kNone                            ? 4
                                                                                : 16;
    rows.push_back({"event cut short", connector_message(proc_event(what, 0, 0, {}, 16 + needed - 1)),
                    MalformedReason::kTruncatedEvent});
  }
  rows.push_back({"no event header", connector_message(std::vector<std::byte>(8)), MalformedReason::kTruncatedEvent});
  for (const Row& row : rows) {
    CAPTURE(row.what);
    const auto messages = parse_all(row.datagram);
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].kind == MessageKind::kMalformed);
    CHECK(messages[0].malformed == row.reason);
  }
}

TEST_CASE("random bytes never crash the parser", "[connector]") {
  std::mt19937 random(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 300);
  std::size_t events = 0, malformed = 0;
  for (int i = 0; i < 100000; ++i) {
    std::vector<std::byte> datagram(length(random));
    for (auto& b : datagram) b = static_cast<std::byte>(byte(random));
    // Half the time make the header plausible so deeper paths are reached.
    if (datagram.size() >= 36 && (i & 1)) {
      const auto len = static_cast<std::uint32_t>(datagram.size());
      std::memcpy(datagram.data(), &len, 4);
      const std::uint16_t type = procevents::connector::wire::kNlmsgDone;
      std::memcpy(datagram.data() + 4, &type, 2);
      const std::uint32_t one = 1;
      std::memcpy(datagram.data() + 16, &one, 4);
      std::memcpy(datagram.data() + 20, &one, 4);
    }
    for (const Message& m : parse_all(datagram)) {
      events += m.kind == MessageKind::kEvent;
      malformed += m.kind == MessageKind::kMalformed;
    }
  }
  CHECK(events + malformed > 0);
}

TEST_CASE("signal names", "[connector]") {
  CHECK(signal_name(9) == "SIGKILL");
  CHECK(signal_name(11) == "SIGSEGV");
  CHECK(signal_name(6) == "SIGABRT");
  CHECK(signal_name(34) == "SIGRTMIN");
  CHECK(signal_name(64) == "SIGRTMAX");
  CHECK(signal_name(0) == "UNKNOWN");
  CHECK(signal_name(65) == "UNKNOWN");
  CHECK(signal_name(-3) == "UNKNOWN");
}

TEST_CASE("per-CPU sequence tracking counts exactly the missing events", "[connector]") {
  SeqTracker t;
  CHECK(t.observe(0, 100) == 0);  // first sighting sets the baseline
  CHECK(t.observe(0, 101) == 0);
  CHECK(t.observe(0, 105) == 3);
  CHECK(t.observe(1, 7) == 0);    // CPUs are independent
  CHECK(t.observe(1, 8) == 0);
  CHECK(t.observe(0, 0xFFFFFFFF - 0) == 0);  // a huge jump backwards-or-forwards is a reset, not loss
  CHECK(t.observe(0, 0) == 0);    // wraps at 2^32
  CHECK(t.observe(0, 2) == 1);
  CHECK(t.observe(0, 1) == 0);    // backwards: resync
  CHECK(t.observe(SeqTracker::kMaxCpus, 5) == 0);
  t.reset();
  CHECK(t.observe(0, 500) == 0);
}
