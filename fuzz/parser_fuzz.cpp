// libFuzzer target: any bytes as one received datagram, through MessageCursor and parse_proc_event.
// Besides "no crash, no out-of-bounds read" (ASan/UBSan), it checks the parser's documented
// contract: every message consumes at least a netlink header, a malformed message ends the
// datagram, a malformed reason is set exactly for kMalformed, and decoded fields are consistent.
// Every field of every message is read, so a field left uninitialised or read out of bounds shows.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "connector/event.h"
#include "connector/parser.h"

namespace {

using namespace procevents::connector;

constexpr std::size_t kNetlinkHeaderSize = 16;
constexpr std::size_t kEventHeaderSize = 16;  // proc_event: what, cpu, timestamp_ns

void require(bool ok, const char* invariant) {
  if (!ok) {
    std::fprintf(stderr, "parser_fuzz: broken invariant: %s\n", invariant);
    std::abort();
  }
}

volatile std::uint64_t g_sink;  // keeps the reads from being optimised away

void touch(const Event& e) {
  std::uint64_t sum = static_cast<std::uint64_t>(e.type) + e.what + e.cpu + e.seq + e.ack + e.timestamp_ns;
  sum += static_cast<std::uint32_t>(e.pid) + static_cast<std::uint32_t>(e.tgid);
  sum += static_cast<std::uint32_t>(e.parent_pid) + static_cast<std::uint32_t>(e.parent_tgid);
  sum += e.exit_code + e.exit_signal + e.real_id + e.effective_id + e.ack_error;
  sum += e.is_thread() + e.is_ptrace_attach();
  for (const char c : e.comm) sum += static_cast<unsigned char>(c);

  const std::string_view comm = e.comm_view();
  require(comm.size() < e.comm.size(), "comm is NUL-terminated within its 16 bytes");
  sum += comm.size();

  const std::string_view type_name = event_type_name(e.type);
  require(!type_name.empty(), "every event type has a name");
  if (e.type != EventType::kUnknown) {
    require(event_bit_for_name(type_name) == e.what, "a known type round-trips to its kernel bit");
  }
  sum += type_name.size();

  const ExitStatus status = decode_exit_status(e.exit_code);
  if (status.kind == ExitStatus::Kind::kSignaled) {
    require(status.signal >= 1 && status.signal <= 127, "a terminating signal is 1..127");
  } else {
    require(status.code >= 0 && status.code <= 255, "an exit status is 0..255");
  }
  sum += static_cast<std::uint64_t>(status.code) + signal_name(status.signal).size() + status.core_dumped;
  sum += signal_name(static_cast<int>(e.exit_signal)).size();
  g_sink = g_sink + sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);

  MessageCursor cursor(bytes);
  Message message;
  std::size_t messages = 0;
  while (cursor.next(message)) {
    ++messages;
    require(messages <= size / kNetlinkHeaderSize + 1, "each message consumes at least a netlink header");
    require((message.kind == MessageKind::kMalformed) == (message.malformed != MalformedReason::kNone),
            "a malformed reason is set exactly for kMalformed");
    require(!malformed_reason_name(message.malformed).empty(), "every malformed reason has a name");
    switch (message.kind) {
      case MessageKind::kEvent:
        touch(message.event);
        break;
      case MessageKind::kNetlinkError:
        require(message.netlink_errno != 0, "a netlink error carries its errno");
        break;
      case MessageKind::kMalformed: {
        Message after;
        require(!cursor.next(after), "a malformed message ends the datagram");
        break;
      }
      case MessageKind::kSkipped:
      case MessageKind::kOverrun:
        break;
    }
    g_sink = g_sink + static_cast<std::uint64_t>(message.kind) + static_cast<std::uint32_t>(message.netlink_errno);
  }
  require((messages == 0) == (size == 0), "a non-empty datagram yields at least one message");

  // The same bytes as a bare cn_msg data area (proc_event).
  Event event;
  if (parse_proc_event(bytes, 7, 9, event)) {
    require(size >= kEventHeaderSize, "an event needs its header");
    require(event.seq == 7 && event.ack == 9, "seq and ack come from the caller");
    touch(event);
  }
  return 0;
}
