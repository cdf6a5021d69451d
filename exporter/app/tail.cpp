#include "app/tail.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "app/self_check.h"
#include "connector/proc_connector.h"

namespace procevents::app {

using connector::Event;
using connector::EventType;

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

/// Appends printf-style text to a fixed buffer; remembers overflow instead of writing past it.
class Writer {
 public:
  explicit Writer(std::span<char> out) : out_(out) {}
  template <class... Args>
  void print(const char* format, Args... args) {
    if (overflow_) return;
    const int n = std::snprintf(out_.data() + used_, out_.size() - used_, format, args...);
    if (n < 0 || static_cast<std::size_t>(n) >= out_.size() - used_) {
      overflow_ = true;
      return;
    }
    used_ += static_cast<std::size_t>(n);
  }
  /// A JSON string value: quotes, backslashes and control characters escaped.
  void string(std::string_view text) {
    print("\"");
    for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        print("\\%c", c);
      } else if (u < 0x20 || u >= 0x7f) {
        print("\\u%04x", u);  // comm is bytes, not necessarily UTF-8: keep the output valid JSON
      } else {
        print("%c", c);
      }
    }
    print("\"");
  }
  std::size_t result() const { return overflow_ ? 0 : used_; }

 private:
  std::span<char> out_;
  std::size_t used_ = 0;
  bool overflow_ = false;
};

}  // namespace

std::size_t format_event_json(const Event& e, std::span<char> out) noexcept {
  Writer w(out);
  w.print("{\"event\":\"%.*s\",\"pid\":%d,\"tgid\":%d,\"cpu\":%u,\"timestamp_ns\":%llu",
          static_cast<int>(connector::event_type_name(e.type).size()), connector::event_type_name(e.type).data(), e.pid,
          e.tgid, e.cpu, static_cast<unsigned long long>(e.timestamp_ns));
  switch (e.type) {
    case EventType::kFork:
      w.print(",\"parent_pid\":%d,\"parent_tgid\":%d,\"thread\":%s", e.parent_pid, e.parent_tgid,
              e.is_thread() ? "true" : "false");
      break;
    case EventType::kExit: {
      const connector::ExitStatus status = connector::decode_exit_status(e.exit_code);
      if (status.kind == connector::ExitStatus::Kind::kSignaled) {
        const std::string_view name = connector::signal_name(status.signal);
        w.print(",\"signal\":\"%.*s\"", static_cast<int>(name.size()), name.data());
      } else {
        w.print(",\"exit_code\":%d", status.code);
      }
      w.print(",\"core_dumped\":%s,\"exit_signal\":%d,\"parent_pid\":%d,\"parent_tgid\":%d,\"thread\":%s",
              status.core_dumped ? "true" : "false", static_cast<int>(e.exit_signal), e.parent_pid, e.parent_tgid,
              e.is_thread() ? "true" : "false");
      break;
    }
    case EventType::kComm:
      w.print(",\"comm\":");
      w.string(e.comm_view());
      break;
    case EventType::kUid:
    case EventType::kGid:
      w.print(",\"real\":%u,\"effective\":%u", e.real_id, e.effective_id);
      break;
    case EventType::kPtrace:
      w.print(",\"op\":\"%s\",\"tracer_pid\":%d,\"tracer_tgid\":%d", e.is_ptrace_attach() ? "attach" : "detach",
              e.parent_pid, e.parent_tgid);
      break;
    case EventType::kCoredump:
      w.print(",\"parent_pid\":%d,\"parent_tgid\":%d", e.parent_pid, e.parent_tgid);
      break;
    case EventType::kAck:
      w.print(",\"error\":%u", e.ack_error);
      break;
    case EventType::kUnknown:
      w.print(",\"what\":%u", e.what);
      break;
    case EventType::kExec:
    case EventType::kSid:
      break;
  }
  w.print("}");
  return w.result();
}

std::size_t format_lost_json(std::uint64_t count, std::span<char> out) noexcept {
  Writer w(out);
  w.print("{\"event\":\"lost\",\"count\":%llu}", static_cast<unsigned long long>(count));
  return w.result();
}

int run_tail(const TailOptions& options) {
  connector::ConnectorOptions connector_options;
  connector_options.receive_buffer_bytes = options.receive_buffer_bytes;
  connector::SysError error;
  auto connector = connector::ProcConnector::open(connector_options, &error);
  if (!connector) {
    std::fprintf(stderr, "procevents_exporter --tail: cannot open the connector: %s; %s\n", error.message().c_str(),
                 no_events_hint().c_str());
    return 1;
  }
  const connector::SubscribeResult subscription = connector->subscribe(options.event_mask);
  if (subscription.error) {
    std::fprintf(stderr, "procevents_exporter --tail: cannot subscribe: %s; %s\n", subscription.error.message().c_str(),
                 no_events_hint().c_str());
    return 1;
  }

  struct sigaction action {};
  action.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR and we notice the flag
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options.seconds);
  std::uint64_t lost_reported = 0;
  char line[512];
  while (!g_stop.load()) {
    if (options.seconds > 0 && std::chrono::steady_clock::now() >= deadline) break;
    (void)connector->receive_batch(std::chrono::milliseconds(200), [&](const Event& event) {
      const std::size_t n = format_event_json(event, line);
      if (n > 0) {
        std::fwrite(line, 1, n, stdout);
        std::fputc('\n', stdout);
      }
    });
    const connector::ConnectorStats& stats = connector->stats();
    // Exact from sequence gaps when every event reaches us; otherwise each overrun lost at least one.
    const std::uint64_t lost = connector->loss_exact() ? std::max(stats.lost_events, stats.enobufs) : stats.enobufs;
    if (lost > lost_reported) {
      const std::size_t n = format_lost_json(lost - lost_reported, line);
      std::fwrite(line, 1, n, stdout);
      std::fputc('\n', stdout);
      lost_reported = lost;
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace procevents::app
