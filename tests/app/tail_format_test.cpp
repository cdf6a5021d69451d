// --tail's JSON lines: one object per event, every kind, escaping, and a buffer that is too small.
#include <catch2/catch.hpp>

#include <signal.h>

#include <array>
#include <cstring>
#include <string>

#include "app/tail.h"

using namespace procevents;
using connector::Event;
using connector::EventType;

namespace {

std::string json(const Event& event) {
  std::array<char, 512> buffer{};
  const std::size_t length = app::format_event_json(event, buffer);
  REQUIRE(length > 0);
  return std::string(buffer.data(), length);
}

/// An event of pid 42 on CPU 3; `parent` fills parent_pid and parent_tgid (tracer for ptrace).
Event make(EventType type, std::int32_t parent = 0) {
  Event event;
  event.type = type;
  event.pid = 42;
  event.tgid = 42;
  event.parent_pid = parent;
  event.parent_tgid = parent;
  event.cpu = 3;
  event.timestamp_ns = 123456789012;
  return event;
}

constexpr const char* kHead = R"({"event":"%s","pid":42,"tgid":42,"cpu":3,"timestamp_ns":123456789012)";

std::string head(const char* name) {
  char text[160];
  std::snprintf(text, sizeof text, kHead, name);
  return text;
}

}  // namespace

TEST_CASE("tail JSON: a line per event kind with its own fields", "[app]") {
  Event fork = make(EventType::kFork, 7);
  CHECK(json(fork) == head("fork") + R"(,"parent_pid":7,"parent_tgid":7,"thread":false})");
  fork.pid = 43;  // a thread of 42
  CHECK(json(fork).find(R"("pid":43,"tgid":42)") != std::string::npos);
  CHECK(json(fork).ends_with(R"("thread":true})"));

  CHECK(json(make(EventType::kExec)) == head("exec") + "}");
  CHECK(json(make(EventType::kSid)) == head("sid") + "}");

  Event exited = make(EventType::kExit, 7);
  exited.exit_code = 3 << 8;  // exit(3)
  exited.exit_signal = SIGCHLD;
  CHECK(json(exited) == head("exit") + R"(,"exit_code":3,"core_dumped":false,"exit_signal":17,"parent_pid":7,)"
                                        R"("parent_tgid":7,"thread":false})");
  exited.exit_code = SIGSEGV | 0x80;  // killed, core dumped
  CHECK(json(exited).find(R"(,"signal":"SIGSEGV","core_dumped":true,)") != std::string::npos);

  Event uid = make(EventType::kUid);
  uid.real_id = 1000;
  uid.effective_id = 0;
  CHECK(json(uid) == head("uid") + R"(,"real":1000,"effective":0})");

  CHECK(json(make(EventType::kPtrace, 9)) == head("ptrace") + R"(,"op":"attach","tracer_pid":9,"tracer_tgid":9})");
  CHECK(json(make(EventType::kPtrace)).find(R"("op":"detach","tracer_pid":0)") != std::string::npos);

  CHECK(json(make(EventType::kCoredump, 5)) == head("coredump") + R"(,"parent_pid":5,"parent_tgid":5})");

  Event ack = make(EventType::kAck);
  ack.ack_error = 1;
  CHECK(json(ack) == head("ack") + R"(,"error":1})");

  Event unknown = make(EventType::kUnknown);
  unknown.what = 0x1234;
  CHECK(json(unknown) == head("unknown") + R"(,"what":4660})");
}

TEST_CASE("tail JSON: comm bytes are escaped into valid JSON", "[app]") {
  Event comm = make(EventType::kComm);
  std::memcpy(comm.comm.data(), "a\"b\\c\n\xff", 8);
  CHECK(json(comm) == head("comm") + R"(,"comm":"a\"b\\c\u000a\u00ff"})");
}

TEST_CASE("tail JSON: a buffer too small gives 0, never a cut line", "[app]") {
  const Event exec = make(EventType::kExec);
  const std::size_t needed = json(exec).size();
  std::array<char, 512> buffer{};
  CHECK(app::format_event_json(exec, std::span<char>(buffer.data(), needed)) == 0);  // no room for the NUL
  CHECK(app::format_event_json(exec, std::span<char>(buffer.data(), needed + 1)) == needed);
  CHECK(app::format_event_json(exec, std::span<char>(buffer.data(), 10)) == 0);

  const std::size_t lost = app::format_lost_json(17, buffer);
  CHECK(std::string(buffer.data(), lost) == R"({"event":"lost","count":17})");
  CHECK(app::format_lost_json(17, std::span<char>(buffer.data(), 5)) == 0);
}
