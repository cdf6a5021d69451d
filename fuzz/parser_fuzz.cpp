// libFuzzer target: any bytes as a received datagram. Never crashes, never reads out of bounds.
#include <cstddef>
#include <cstdint>
#include <span>

#include "connector/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace procevents::connector;
  MessageCursor cursor(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
  Message message;
  volatile std::uint64_t sink = 0;
  while (cursor.next(message)) {
    const Event& e = message.event;
    sink = sink + static_cast<std::uint64_t>(message.kind) + e.pid + e.tgid + e.timestamp_ns + e.exit_code +
           e.comm_view().size() + event_type_name(e.type).size() + malformed_reason_name(message.malformed).size();
    if (e.type == EventType::kExit) {
      const ExitStatus status = decode_exit_status(e.exit_code);
      sink = sink + signal_name(status.signal).size();
    }
  }
  return 0;
}
