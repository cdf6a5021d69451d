// Parser tests on crafted datagrams: every event type with exact fields, control messages,
// foreign connector ids, lying lengths, truncation, random garbage; plus the small pure helpers
// (exit status decoding, signal names, per-CPU sequence tracking).
#include <catch2/catch.hpp>

#include <signal.h>

#include <climits>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <string>

#include "connector/event.h"
#include "connector/parser.h"
#include "connector/seq_tracker.h"
#include "connector/wire.h"
#include "datagram_builder.h"

using namespace procevents::connector;
using namespace procevents::testing;
namespace wire = procevents::connector::wire;

namespace {

constexpr std::uint64_t kTimestamp = 0x1122334455667788ull;
constexpr std::uint32_t kSeq = 42;
constexpr std::uint32_t kAckField = 7;

std::vector<Message> parse_all(std::span<const std::byte> datagram) {
  std::vector<Message> out;
  MessageCursor cursor(datagram);
  Message m;
  // A cursor must terminate: every message consumes at least a netlink header.
  const std::size_t limit = datagram.size() / wire::kNlHdrLen + 1;
  while (cursor.next(m)) {
    out.push_back(m);
    if (out.size() > limit) FAIL("cursor produced more messages than the datagram can hold");
  }
  return out;
}

std::vector<std::uint32_t> comm_words(std::uint32_t pid, std::uint32_t tgid, const char (&name)[16]) {
  std::vector<std::uint32_t> words = {pid, tgid};
  for (int i = 0; i < 4; ++i) {
    std::uint32_t w;
    std::memcpy(&w, name + i * 4, 4);
    words.push_back(w);
  }
  return words;
}

void check_same(const Event& got, const Event& want) {
  CHECK(got.type == want.type);
  CHECK(got.what == want.what);
  CHECK(got.cpu == want.cpu);
  CHECK(got.seq == want.seq);
  CHECK(got.ack == want.ack);
  CHECK(got.timestamp_ns == want.timestamp_ns);
  CHECK(got.pid == want.pid);
  CHECK(got.tgid == want.tgid);
  CHECK(got.parent_pid == want.parent_pid);
  CHECK(got.parent_tgid == want.parent_tgid);
  CHECK(got.exit_code == want.exit_code);
  CHECK(got.exit_signal == want.exit_signal);
  CHECK(got.real_id == want.real_id);
  CHECK(got.effective_id == want.effective_id);
  CHECK(got.ack_error == want.ack_error);
  CHECK(got.comm_view() == want.comm_view());
  CHECK(got.comm == want.comm);  // bytes after the terminator are zero too: nothing stale leaks
}

struct EventRow {
  const char* name;
  std::uint32_t what;
  std::uint32_t cpu;
  std::vector<std::uint32_t> words;
  std::function<void(Event&)> fill;  // sets the fields beyond the common header
};

std::vector<EventRow> every_event_type() {
  const char short_name[16] = {'b', 'a', 's', 'h'};
  const char full_name[16] = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p'};
  const char odd_name[16] = {'a', '\t', '"', '\\', '\x7f', '\xc3', '\xa9'};
  return {
      {"fork of a process", event_bits::kFork, 1, {100, 101, 200, 200},
       [](Event& e) {
         e.type = EventType::kFork;
         e.parent_pid = 100, e.parent_tgid = 101, e.pid = 200, e.tgid = 200;
       }},
      {"fork of a thread", event_bits::kFork, 0, {300, 300, 301, 300},
       [](Event& e) {
         e.type = EventType::kFork;
         e.parent_pid = 300, e.parent_tgid = 300, e.pid = 301, e.tgid = 300;
       }},
      {"exec", event_bits::kExec, 3, {400, 400},
       [](Event& e) {
         e.type = EventType::kExec;
         e.pid = 400, e.tgid = 400;
       }},
      {"uid", event_bits::kUid, 2, {500, 500, 1000, 0},
       [](Event& e) {
         e.type = EventType::kUid;
         e.pid = 500, e.tgid = 500, e.real_id = 1000, e.effective_id = 0;
       }},
      {"gid", event_bits::kGid, 2, {501, 502, 65534, 100},
       [](Event& e) {
         e.type = EventType::kGid;
         e.pid = 501, e.tgid = 502, e.real_id = 65534, e.effective_id = 100;
       }},
      {"sid", event_bits::kSid, 1, {600, 600},
       [](Event& e) {
         e.type = EventType::kSid;
         e.pid = 600, e.tgid = 600;
       }},
      {"ptrace attach", event_bits::kPtrace, 1, {700, 700, 701, 702},
       [](Event& e) {
         e.type = EventType::kPtrace;
         e.pid = 700, e.tgid = 700, e.parent_pid = 701, e.parent_tgid = 702;
       }},
      {"ptrace detach", event_bits::kPtrace, 1, {700, 700, 0, 0},
       [](Event& e) {
         e.type = EventType::kPtrace;
         e.pid = 700, e.tgid = 700;
       }},
      {"comm", event_bits::kComm, 0, comm_words(800, 800, short_name),
       [](Event& e) {
         e.type = EventType::kComm;
         e.pid = 800, e.tgid = 800;
         std::memcpy(e.comm.data(), "bash", 4);
       }},
      {"comm of 16 bytes without a terminator", event_bits::kComm, 0, comm_words(801, 800, full_name),
       [](Event& e) {
         e.type = EventType::kComm;
         e.pid = 801, e.tgid = 800;
         std::memcpy(e.comm.data(), "abcdefghijklmno", 15);  // cut to 15: never unterminated
       }},
      {"comm with control and non-ASCII bytes", event_bits::kComm, 0, comm_words(802, 802, odd_name),
       [odd_name](Event& e) {
         e.type = EventType::kComm;
         e.pid = 802, e.tgid = 802;
         std::memcpy(e.comm.data(), odd_name, 7);  // passed through untouched: escaping is the printer's job
       }},
      {"coredump", event_bits::kCoredump, 1, {900, 901, 1, 1},
       [](Event& e) {
         e.type = EventType::kCoredump;
         e.pid = 900, e.tgid = 901, e.parent_pid = 1, e.parent_tgid = 1;
       }},
      {"exit with code 3", event_bits::kExit, 1, {1000, 1000, 3 << 8, SIGCHLD, 1, 1},
       [](Event& e) {
         e.type = EventType::kExit;
         e.pid = 1000, e.tgid = 1000, e.exit_code = 3 << 8, e.exit_signal = SIGCHLD;
         e.parent_pid = 1, e.parent_tgid = 1;
       }},
      {"exit by SIGSEGV with a core dump", event_bits::kExit, 1, {1001, 1001, SIGSEGV | 0x80, SIGCHLD, 55, 56},
       [](Event& e) {
         e.type = EventType::kExit;
         e.pid = 1001, e.tgid = 1001, e.exit_code = SIGSEGV | 0x80, e.exit_signal = SIGCHLD;
         e.parent_pid = 55, e.parent_tgid = 56;
       }},
      {"exit of a thread (exit_signal -1, parent already reaped)", event_bits::kExit, 0,
       {1003, 1002, 0, 0xffffffffu, 0, 0},
       [](Event& e) {
         e.type = EventType::kExit;
         e.pid = 1003, e.tgid = 1002, e.exit_signal = 0xffffffffu;
       }},
      {"ack without error", event_bits::kNone, 0xffffffffu, {0},
       [](Event& e) { e.type = EventType::kAck; }},
      {"ack with EPERM", event_bits::kNone, 0xffffffffu, {EPERM},
       [](Event& e) {
         e.type = EventType::kAck;
         e.ack_error = EPERM;
       }},
      {"unknown what", 0x00001000, 1, {1234, 1234}, [](Event& e) { e.type = EventType::kUnknown; }},
      {"the nonzero_exit mask bit is not an event", event_bits::kNonzeroExit, 1, {1, 1},
       [](Event& e) { e.type = EventType::kUnknown; }},
  };
}

Event expected(const EventRow& row) {
  Event want;
  want.what = row.what;
  want.cpu = row.cpu;
  want.seq = kSeq;
  want.ack = kAckField;
  want.timestamp_ns = kTimestamp;
  row.fill(want);
  return want;
}

}  // namespace

TEST_CASE("every event type decodes with its exact field values", "[connector][parser]") {
  for (const EventRow& row : every_event_type()) {
    CAPTURE(row.name);
    // As the kernel sends it (padded to sizeof(struct proc_event)) and cut to just what the type needs.
    for (const std::size_t pad_to : {std::size_t{40}, 16 + row.words.size() * 4}) {
      CAPTURE(pad_to);
      const auto datagram = connector_message(proc_event(row.what, row.cpu, kTimestamp, row.words, pad_to), kSeq, 1,
                                              1, wire::kNlmsgDone, kAckField);
      const auto messages = parse_all(datagram);
      REQUIRE(messages.size() == 1);
      REQUIRE(messages[0].kind == MessageKind::kEvent);
      CHECK(messages[0].malformed == MalformedReason::kNone);
      check_same(messages[0].event, expected(row));
    }
  }
}

TEST_CASE("fork tells a new process from a new thread", "[connector][parser]") {
  Event e;
  e.pid = e.tgid = 10;
  CHECK_FALSE(e.is_thread());
  e.pid = 11;
  CHECK(e.is_thread());
  e.parent_pid = 3;
  CHECK(e.is_ptrace_attach());
  e.parent_pid = 0;
  CHECK_FALSE(e.is_ptrace_attach());
}

TEST_CASE("a kernel event message is 76 bytes with the timestamp at an unaligned offset", "[connector][parser]") {
  const auto datagram = connector_message(proc_event(event_bits::kExec, 3, 0x0102030405060708ull, {10, 10}));
  REQUIRE(datagram.size() == wire::kEventMessageSize);
  // The timestamp sits at byte 44 of the datagram: 4-aligned at best, so a direct 64-bit load would be UB.
  CHECK((kEventOffset + wire::kEventTimestampOffset) % 8 != 0);
  // Shift the datagram through every alignment of the receive buffer.
  for (std::size_t shift = 0; shift < 8; ++shift) {
    CAPTURE(shift);
    std::vector<std::byte> buffer(shift + datagram.size() + 8);
    std::memcpy(buffer.data() + shift, datagram.data(), datagram.size());
    const std::span<const std::byte> view(buffer.data() + shift, datagram.size());
    const auto messages = parse_all(view);
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].event.timestamp_ns == 0x0102030405060708ull);
    CHECK(messages[0].event.cpu == 3);
    Event direct;
    REQUIRE(parse_proc_event(view.subspan(kEventOffset), 1, 0, direct));
    CHECK(direct.timestamp_ns == 0x0102030405060708ull);
  }
}

TEST_CASE("exit statuses decode like wait(2)", "[connector][parser]") {
  struct Row {
    std::uint32_t raw;
    ExitStatus::Kind kind;
    int code;
    int signal;
    bool core_dumped;
  };
  using K = ExitStatus::Kind;
  const Row rows[] = {
      {0, K::kExited, 0, 0, false},
      {1 << 8, K::kExited, 1, 0, false},
      {3 << 8, K::kExited, 3, 0, false},
      {255 << 8, K::kExited, 255, 0, false},
      {SIGKILL, K::kSignaled, 0, SIGKILL, false},
      {SIGTERM, K::kSignaled, 0, SIGTERM, false},
      {SIGHUP, K::kSignaled, 0, SIGHUP, false},
      {SIGSEGV | 0x80, K::kSignaled, 0, SIGSEGV, true},
      {SIGABRT | 0x80, K::kSignaled, 0, SIGABRT, true},
      {64, K::kSignaled, 0, 64, false},  // SIGRTMAX
      // Never an exit status, but must decode to something sane: stopped (0x7f) and continued (0xffff).
      {(SIGSTOP << 8) | 0x7f, K::kExited, SIGSTOP, 0, false},
      {0xffff, K::kExited, 255, 0, false},
      {0xffffffffu, K::kExited, 255, 0, false},
  };
  for (const Row& row : rows) {
    CAPTURE(row.raw);
    const ExitStatus s = decode_exit_status(row.raw);
    CHECK(s.kind == row.kind);
    CHECK(s.code == row.code);
    CHECK(s.signal == row.signal);
    CHECK(s.core_dumped == row.core_dumped);
  }
}

TEST_CASE("control messages are skipped, netlink errors and overruns reported", "[connector][parser]") {
  struct Row {
    const char* name;
    std::vector<std::byte> datagram;
    MessageKind kind;
    int netlink_errno;
  };
  const Row rows[] = {
      {"NLMSG_NOOP", control_message(wire::kNlmsgNoop), MessageKind::kSkipped, 0},
      {"NLMSG_NOOP with a payload", control_message(wire::kNlmsgNoop, std::vector<std::byte>(24)),
       MessageKind::kSkipped, 0},
      {"NLMSG_DONE without payload", control_message(wire::kNlmsgDone), MessageKind::kSkipped, 0},
      {"NLMSG_ERROR 0 is an ack", error_message(0), MessageKind::kSkipped, 0},
      {"NLMSG_ERROR 0 without the echoed header", error_message(0, 4), MessageKind::kSkipped, 0},
      {"NLMSG_ERROR -EPERM", error_message(-EPERM), MessageKind::kNetlinkError, EPERM},
      {"NLMSG_ERROR -ENOBUFS", error_message(-ENOBUFS, 4), MessageKind::kNetlinkError, ENOBUFS},
      {"NLMSG_OVERRUN", control_message(wire::kNlmsgOverrun), MessageKind::kOverrun, 0},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    const auto messages = parse_all(row.datagram);
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].kind == row.kind);
    CHECK(messages[0].netlink_errno == row.netlink_errno);
  }
  SECTION("an error code that cannot be negated is still an error, not UB") {
    const auto messages = parse_all(error_message(INT32_MIN));
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].kind == MessageKind::kNetlinkError);
    CHECK(messages[0].netlink_errno != 0);
  }
  SECTION("an NLMSG_ERROR too short for its error code is malformed") {
    const auto messages = parse_all(error_message(-EPERM, 3));
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].kind == MessageKind::kMalformed);
    CHECK(messages[0].malformed == MalformedReason::kTruncatedConnectorHeader);
  }
}

TEST_CASE("connector messages for another idx/val are skipped, and parsing goes on", "[connector][parser]") {
  const std::pair<std::uint32_t, std::uint32_t> ids[] = {{7, 7}, {1, 2}, {2, 1}, {0, 0}, {0xffffffffu, 1}};
  for (const auto& [idx, val] : ids) {
    CAPTURE(idx, val);
    auto datagram = connector_message(proc_event(event_bits::kExec, 0, 0, {1, 1}), 1, idx, val);
    datagram = concat(datagram, connector_message(proc_event(event_bits::kExec, 0, 0, {2, 2})));
    const auto messages = parse_all(datagram);
    REQUIRE(messages.size() == 2);
    CHECK(messages[0].kind == MessageKind::kSkipped);
    CHECK(messages[1].kind == MessageKind::kEvent);
    CHECK(messages[1].event.pid == 2);
  }
  SECTION("even a foreign message too short to be a proc_event") {
    const auto messages = parse_all(connector_message(std::vector<std::byte>(3), 1, 9, 9));
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].kind == MessageKind::kSkipped);
  }
}

TEST_CASE("several messages in one datagram are all parsed in order", "[connector][parser]") {
  auto datagram = connector_message(proc_event(event_bits::kFork, 0, 0, {1, 1, 2, 2}), 10);
  datagram = concat(datagram, control_message(wire::kNlmsgNoop));
  datagram = concat(datagram, connector_message(proc_event(event_bits::kExit, 1, 0, {2, 2, 0, 17, 1, 1}), 11));
  datagram = concat(datagram, connector_message(proc_event(event_bits::kExec, 0, 0, {3, 3}), 1, 5, 5));
  datagram = concat(datagram, control_message(wire::kNlmsgOverrun));
  datagram = concat(datagram, error_message(-EPERM));
  datagram = concat(datagram, connector_message(proc_event(event_bits::kSid, 0, 0, {4, 4}), 12));
  const auto messages = parse_all(datagram);
  REQUIRE(messages.size() == 7);
  CHECK(messages[0].kind == MessageKind::kEvent);
  CHECK(messages[0].event.type == EventType::kFork);
  CHECK(messages[0].event.seq == 10);
  CHECK(messages[1].kind == MessageKind::kSkipped);
  CHECK(messages[2].event.type == EventType::kExit);
  CHECK(messages[2].event.seq == 11);
  CHECK(messages[2].event.cpu == 1);
  CHECK(messages[3].kind == MessageKind::kSkipped);
  CHECK(messages[4].kind == MessageKind::kOverrun);
  CHECK(messages[5].kind == MessageKind::kNetlinkError);
  CHECK(messages[6].event.type == EventType::kSid);
  CHECK(messages[6].event.pid == 4);

  SECTION("a message whose length is not a multiple of 4 is followed at the next boundary") {
    auto odd = connector_message(proc_event(event_bits::kExec, 0, 0, {5, 5}, 41));  // nlmsg_len 77
    REQUIRE(odd.size() % 4 != 0);
    const auto single = parse_all(odd);  // and the datagram may end without the padding
    REQUIRE(single.size() == 1);
    CHECK(single[0].event.pid == 5);
    odd = concat(odd, connector_message(proc_event(event_bits::kExec, 0, 0, {6, 6})));
    const auto both = parse_all(odd);
    REQUIRE(both.size() == 2);
    CHECK(both[0].event.pid == 5);
    CHECK(both[1].kind == MessageKind::kEvent);
    CHECK(both[1].event.pid == 6);
  }
  SECTION("a malformed message ends the datagram after the good ones") {
    auto tail = connector_message(proc_event(event_bits::kExec, 0, 0, {7, 7}));
    patch<std::uint32_t>(tail, kNlmsgLenOffset, 4000);
    auto mixed = concat(connector_message(proc_event(event_bits::kExec, 0, 0, {6, 6})), tail);
    mixed = concat(mixed, connector_message(proc_event(event_bits::kExec, 0, 0, {8, 8})));
    const auto out = parse_all(mixed);
    REQUIRE(out.size() == 2);
    CHECK(out[0].event.pid == 6);
    CHECK(out[1].kind == MessageKind::kMalformed);
    CHECK(out[1].malformed == MalformedReason::kBadNetlinkLength);
  }
}

TEST_CASE("truncated and lying datagrams are malformed, never read past the end", "[connector][parser]") {
  const auto good = connector_message(proc_event(event_bits::kExit, 0, 0, {2, 2, 0, 17, 1, 1}));
  struct Row {
    std::string what;
    std::vector<std::byte> datagram;
    MalformedReason reason;
  };
  std::vector<Row> rows;
  for (const std::size_t cut : {std::size_t{1}, std::size_t{10}, std::size_t{15}}) {
    rows.push_back({"shorter than a netlink header: " + std::to_string(cut), {good.begin(), good.begin() + cut},
                    MalformedReason::kTruncatedNetlinkHeader});
  }
  for (const std::uint32_t len : {0u, 1u, 8u, 15u}) {
    auto lie = good;
    patch<std::uint32_t>(lie, kNlmsgLenOffset, len);
    rows.push_back({"nlmsg_len below the header: " + std::to_string(len), lie, MalformedReason::kBadNetlinkLength});
  }
  for (const std::uint32_t len : {77u, 80u, 1000u, 0xffffffffu}) {
    auto lie = good;
    patch<std::uint32_t>(lie, kNlmsgLenOffset, len);
    rows.push_back({"nlmsg_len beyond the datagram: " + std::to_string(len), lie, MalformedReason::kBadNetlinkLength});
  }
  for (const std::uint32_t len : {17u, 30u, 35u}) {
    auto short_cn = good;
    patch<std::uint32_t>(short_cn, kNlmsgLenOffset, len);
    short_cn.resize(len);
    rows.push_back({"payload shorter than cn_msg: " + std::to_string(len), short_cn,
                    MalformedReason::kTruncatedConnectorHeader});
  }
  for (const std::uint16_t len : {std::uint16_t{41}, std::uint16_t{200}, std::uint16_t{0xffff}}) {
    auto lie = good;
    patch<std::uint16_t>(lie, kCnLenOffset, len);
    rows.push_back({"cn_msg.len beyond the payload: " + std::to_string(len), lie, MalformedReason::kBadConnectorLength});
  }
  for (const std::uint16_t len : {std::uint16_t{0}, std::uint16_t{15}, std::uint16_t{16}, std::uint16_t{39}}) {
    auto lie = good;  // the bytes are there, but cn_msg says the event is shorter
    patch<std::uint16_t>(lie, kCnLenOffset, len);
    rows.push_back({"cn_msg.len shorter than the exit event: " + std::to_string(len), lie,
                    MalformedReason::kTruncatedEvent});
  }
  // Each event type with its payload cut one byte short, and with no payload at all.
  struct Need {
    std::uint32_t what;
    std::size_t bytes;
  };
  const Need needs[] = {
      {event_bits::kNone, wire::kAckSize},         {event_bits::kFork, wire::kForkSize},
      {event_bits::kExec, wire::kExecSize},        {event_bits::kUid, wire::kIdSize},
      {event_bits::kGid, wire::kIdSize},           {event_bits::kSid, wire::kSidSize},
      {event_bits::kPtrace, wire::kPtraceSize},    {event_bits::kComm, wire::kCommSize},
      {event_bits::kCoredump, wire::kCoredumpSize}, {event_bits::kExit, wire::kExitSize},
  };
  for (const Need& need : needs) {
    const std::string name = "what=" + std::to_string(need.what);
    rows.push_back({"event cut one byte short, " + name,
                    connector_message(proc_event(need.what, 0, 0, {}, 16 + need.bytes - 1)),
                    MalformedReason::kTruncatedEvent});
    rows.push_back({"event header only, " + name, connector_message(proc_event(need.what, 0, 0, {}, 16)),
                    MalformedReason::kTruncatedEvent});
  }
  for (const std::size_t size : {std::size_t{1}, std::size_t{8}, std::size_t{15}}) {
    rows.push_back({"shorter than the event header: " + std::to_string(size),
                    connector_message(std::vector<std::byte>(size)), MalformedReason::kTruncatedEvent});
  }

  for (const Row& row : rows) {
    CAPTURE(row.what);
    const auto messages = parse_all(row.datagram);
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].kind == MessageKind::kMalformed);
    CHECK(messages[0].malformed == row.reason);
    CHECK(malformed_reason_name(messages[0].malformed) != "none");
  }

  SECTION("an event whose cn_msg.len is exactly what its type needs is fine") {
    auto exact = good;
    patch<std::uint16_t>(exact, kCnLenOffset, 40);
    CHECK(parse_all(exact).at(0).kind == MessageKind::kEvent);
  }
  SECTION("an unknown type needs only the event header") {
    const auto messages = parse_all(connector_message(proc_event(0x4000, 0, 0, {}, 16)));
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].kind == MessageKind::kEvent);
    CHECK(messages[0].event.type == EventType::kUnknown);
    CHECK(messages[0].event.what == 0x4000);
  }
  SECTION("parse_proc_event refuses short data and leaves the output alone") {
    Event e;
    e.pid = 99;
    const auto data = proc_event(event_bits::kExec, 0, 0, {}, 15);
    CHECK_FALSE(parse_proc_event(data, 0, 0, e));
    CHECK(e.pid == 99);
    CHECK_FALSE(parse_proc_event({}, 0, 0, e));
  }
}

TEST_CASE("100k random byte buffers never crash or hang the parser", "[connector][parser]") {
  std::mt19937 random(20261125);  // fixed seed: failures reproduce
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 300);
  std::size_t counts[5] = {};
  for (int i = 0; i < 100000; ++i) {
    std::vector<std::byte> datagram(length(random));
    for (auto& b : datagram) b = static_cast<std::byte>(byte(random));
    // Most of the time make the headers plausible so the deeper paths are reached.
    if (datagram.size() >= 40 && i % 4 != 0) {
      const auto len = static_cast<std::uint32_t>(i % 3 == 0 ? datagram.size() : 16 + byte(random) % 80);
      patch<std::uint32_t>(datagram, kNlmsgLenOffset, len);
      const std::uint16_t types[] = {wire::kNlmsgDone, wire::kNlmsgDone, wire::kNlmsgDone, wire::kNlmsgDone,
                                     wire::kNlmsgError, wire::kNlmsgNoop, wire::kNlmsgOverrun, 0x10};
      patch<std::uint16_t>(datagram, kNlmsgTypeOffset, types[static_cast<std::size_t>(byte(random)) % 8]);
      patch<std::uint32_t>(datagram, kCnIdxOffset, 1);
      patch<std::uint32_t>(datagram, kCnValOffset, 1);
      patch<std::uint16_t>(datagram, kCnLenOffset, static_cast<std::uint16_t>(byte(random) % 64));
      const std::uint32_t kinds[] = {0, 1, 2, 4, 0x40, 0x80, 0x100, 0x200, 0x40000000, 0x80000000};
      patch<std::uint32_t>(datagram, kEventOffset, kinds[static_cast<std::size_t>(byte(random)) % 10]);
    }
    const auto messages = parse_all(datagram);
    for (std::size_t m = 0; m < messages.size(); ++m) {
      ++counts[static_cast<std::size_t>(messages[m].kind)];
      // Only the last message of a datagram may be malformed: the cursor gives up after one.
      if (messages[m].kind == MessageKind::kMalformed) CHECK(m + 1 == messages.size());
      if (messages[m].kind == MessageKind::kEvent) CHECK(messages[m].event.comm_view().size() < 16);
    }
  }
  // Every outcome was reached, so the fuzzing went past the first length check.
  CHECK(counts[static_cast<std::size_t>(MessageKind::kEvent)] > 1000);
  CHECK(counts[static_cast<std::size_t>(MessageKind::kSkipped)] > 0);
  CHECK(counts[static_cast<std::size_t>(MessageKind::kOverrun)] > 0);
  CHECK(counts[static_cast<std::size_t>(MessageKind::kNetlinkError)] > 0);
  CHECK(counts[static_cast<std::size_t>(MessageKind::kMalformed)] > 1000);
}

TEST_CASE("valid datagrams with random bytes flipped never crash the parser", "[connector][parser]") {
  std::mt19937 random(4242);
  auto base = connector_message(proc_event(event_bits::kFork, 0, 1, {1, 1, 2, 2}));
  base = concat(base, connector_message(proc_event(event_bits::kComm, 1, 2, {2, 2, 0x61616161, 0x61616161, 0x61616161,
                                                                            0x61616161})));
  base = concat(base, connector_message(proc_event(event_bits::kExit, 0, 3, {2, 2, 0, 17, 1, 1})));
  std::uniform_int_distribution<std::size_t> position(0, base.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::size_t events = 0;
  for (int i = 0; i < 20000; ++i) {
    auto datagram = base;
    for (int flips = 1 + i % 4; flips > 0; --flips) datagram[position(random)] = static_cast<std::byte>(byte(random));
    if (i % 5 == 0) datagram.resize(position(random));
    for (const Message& m : parse_all(datagram)) {
      events += m.kind == MessageKind::kEvent;
      if (m.kind == MessageKind::kEvent) CHECK(m.event.comm_view().size() < 16);
    }
  }
  CHECK(events > 10000);
}

TEST_CASE("signal names follow kill -l", "[connector]") {
  const char* const classic[] = {nullptr,     "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT",
                                 "SIGBUS",    "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV",  "SIGUSR2", "SIGPIPE",
                                 "SIGALRM",   "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",  "SIGSTOP", "SIGTSTP",
                                 "SIGTTIN",   "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ",  "SIGVTALRM",
                                 "SIGPROF",   "SIGWINCH", "SIGIO",    "SIGPWR",  "SIGSYS"};
  for (int signal = 1; signal <= 31; ++signal) {
    CAPTURE(signal);
    CHECK(signal_name(signal) == classic[signal]);
    // Cross-check with the C library's own abbreviations ("KILL", ...), which call 29 "POLL", not "IO".
    if (signal != SIGIO) CHECK(std::string(signal_name(signal)) == std::string("SIG") + sigabbrev_np(signal));
  }
  CHECK(signal_name(SIGKILL) == "SIGKILL");
  CHECK(signal_name(32) == "SIG32");
  CHECK(signal_name(33) == "SIG33");
  CHECK(signal_name(SIGRTMIN) == "SIGRTMIN");
  CHECK(signal_name(SIGRTMIN + 1) == "SIGRTMIN+1");
  CHECK(signal_name(SIGRTMIN + 15) == "SIGRTMIN+15");
  CHECK(signal_name(SIGRTMAX - 14) == "SIGRTMAX-14");
  CHECK(signal_name(SIGRTMAX - 1) == "SIGRTMAX-1");
  CHECK(signal_name(SIGRTMAX) == "SIGRTMAX");
  std::set<std::string_view> distinct;
  for (int signal = 1; signal <= 64; ++signal) {
    CAPTURE(signal);
    CHECK(signal_name(signal).substr(0, 3) == "SIG");
    distinct.insert(signal_name(signal));
  }
  CHECK(distinct.size() == 64);
  for (const int bad : {0, -1, -9, 65, 128, INT_MIN, INT_MAX}) {
    CAPTURE(bad);
    CHECK(signal_name(bad) == "UNKNOWN");
  }
}

TEST_CASE("event type names and subscription bits round-trip", "[connector]") {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kEventTypeCount; ++i) names.insert(event_type_name(static_cast<EventType>(i)));
  CHECK(names.size() == kEventTypeCount);
  CHECK(event_type_name(EventType::kFork) == "fork");
  CHECK(event_type_name(EventType::kCoredump) == "coredump");
  CHECK(event_type_name(EventType::kAck) == "ack");
  CHECK(event_type_name(EventType::kUnknown) == "unknown");
  for (const auto& [name, bit] : std::initializer_list<std::pair<std::string_view, std::uint32_t>>{
           {"fork", event_bits::kFork}, {"exec", event_bits::kExec}, {"uid", event_bits::kUid},
           {"gid", event_bits::kGid}, {"sid", event_bits::kSid}, {"ptrace", event_bits::kPtrace},
           {"comm", event_bits::kComm}, {"coredump", event_bits::kCoredump}, {"exit", event_bits::kExit},
           {"nonzero_exit", event_bits::kNonzeroExit}}) {
    CAPTURE(name);
    CHECK(event_bit_for_name(name) == bit);
    CHECK(event_names_list(", ").find(name) != std::string_view::npos);
  }
  for (const std::string_view bad : {"", "FORK", "ack", "unknown", "all", "exit "}) {
    CHECK(event_bit_for_name(bad) == 0);
  }
  std::set<std::string_view> reasons;
  for (std::size_t i = 0; i < kMalformedReasonCount; ++i) reasons.insert(malformed_reason_name(static_cast<MalformedReason>(i)));
  CHECK(reasons.size() == kMalformedReasonCount);
  CHECK(malformed_reason_name(MalformedReason::kTruncatedEvent) == "truncated_event");
}

TEST_CASE("per-CPU sequence tracking counts exactly the missing events", "[connector][seq]") {
  SeqTracker t;
  SECTION("consecutive numbers lose nothing; the first one of a CPU is the baseline") {
    CHECK(t.observe(0, 100) == 0);
    for (std::uint32_t seq = 101; seq < 200; ++seq) CHECK(t.observe(0, seq) == 0);
    CHECK(t.observe(1, 0xdeadbeef) == 0);
  }
  SECTION("a gap is the number of skipped events") {
    CHECK(t.observe(0, 10) == 0);
    CHECK(t.observe(0, 11) == 0);
    CHECK(t.observe(0, 15) == 3);
    CHECK(t.observe(0, 16) == 0);
    CHECK(t.observe(0, 1016) == 999);
  }
  SECTION("CPUs are independent") {
    CHECK(t.observe(0, 10) == 0);
    CHECK(t.observe(1, 500) == 0);
    CHECK(t.observe(0, 11) == 0);
    CHECK(t.observe(1, 502) == 1);
    CHECK(t.observe(0, 13) == 1);
    CHECK(t.observe(SeqTracker::kMaxCpus - 1, 7) == 0);
    CHECK(t.observe(SeqTracker::kMaxCpus - 1, 9) == 1);
  }
  SECTION("the counter wraps at 2^32 without inventing loss") {
    CHECK(t.observe(2, 0xfffffffeu) == 0);
    CHECK(t.observe(2, 0xffffffffu) == 0);
    CHECK(t.observe(2, 0) == 0);
    CHECK(t.observe(2, 1) == 0);
    CHECK(t.observe(3, 0xfffffffeu) == 0);
    CHECK(t.observe(3, 2) == 3);  // 0xffffffff, 0 and 1 missed across the wrap
  }
  SECTION("a backwards step or a repeat re-synchronises instead of counting ~2^32") {
    CHECK(t.observe(0, 100) == 0);
    CHECK(t.observe(0, 50) == 0);
    CHECK(t.observe(0, 51) == 0);  // counting continues from the new position
    CHECK(t.observe(0, 51) == 0);  // duplicate
    CHECK(t.observe(0, 53) == 1);
  }
  SECTION("gaps of 2^31 and more are resets, just below is loss") {
    CHECK(t.observe(0, 0) == 0);
    CHECK(t.observe(0, 0x80000000u) == 0x7fffffffu);
    CHECK(t.observe(0, 1) == 0);  // 0x80000001 + 2^31 wraps to 1: a gap of exactly 2^31
  }
  SECTION("CPUs beyond kMaxCpus (and acks' cpu -1) are ignored") {
    CHECK(t.observe(0, 10) == 0);
    CHECK(t.observe(SeqTracker::kMaxCpus, 5) == 0);
    CHECK(t.observe(SeqTracker::kMaxCpus, 500) == 0);
    CHECK(t.observe(0xffffffffu, 5) == 0);
    CHECK(t.observe(0xffffffffu, 900) == 0);
    CHECK(t.observe(0, 11) == 0);  // and they do not disturb real CPUs
  }
  SECTION("reset forgets every position") {
    CHECK(t.observe(0, 10) == 0);
    CHECK(t.observe(1, 10) == 0);
    t.reset();
    CHECK(t.observe(0, 500) == 0);
    CHECK(t.observe(1, 5) == 0);
    CHECK(t.observe(1, 7) == 1);
  }
}
