// One decoded process event of the Linux Process Events Connector.
//
// `Event` is a flat, trivially copyable value: it travels from the receiver thread
// through the lock-free ring to the aggregator, so it holds no pointers and allocates
// nothing. Field meaning follows <linux/cn_proc.h>: the kernel's `pid` is the thread id
// and `tgid` the process id; a task is a process (thread-group leader) iff pid == tgid.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace procevents::connector {

/// The kernel's event bits (`enum proc_cn_event` in <linux/cn_proc.h>): an event's `what`, and
/// the subscription mask of `proc_input`. kAll, the mask of every event, follows the table below.
namespace event_bits {
inline constexpr std::uint32_t kNone = 0x00000000;
inline constexpr std::uint32_t kFork = 0x00000001;
inline constexpr std::uint32_t kExec = 0x00000002;
inline constexpr std::uint32_t kUid = 0x00000004;
inline constexpr std::uint32_t kGid = 0x00000040;
inline constexpr std::uint32_t kSid = 0x00000080;
inline constexpr std::uint32_t kPtrace = 0x00000100;
inline constexpr std::uint32_t kComm = 0x00000200;
inline constexpr std::uint32_t kNonzeroExit = 0x20000000;  // mask only: exits with exit_code != 0
inline constexpr std::uint32_t kCoredump = 0x40000000;
inline constexpr std::uint32_t kExit = 0x80000000;
}  // namespace event_bits

enum class EventType : std::uint8_t {
  kAck,       // PROC_EVENT_NONE: the kernel's answer to a (un)subscribe request
  kFork,      // a task was cloned: new process (child pid == tgid) or new thread
  kExec,      // a process replaced its image
  kUid,       // real/effective uid changed
  kGid,       // real/effective gid changed
  kSid,       // setsid()
  kPtrace,    // ptrace attach (tracer set) or detach (tracer 0)
  kComm,      // the task's name changed (exec, prctl(PR_SET_NAME), /proc/<pid>/comm)
  kCoredump,  // a core dump was written
  kExit,      // a task exited (every thread, not just processes)
  kUnknown,   // a `what` this build does not know; reported, never fatal. Stays last.
};

struct EventTypeRow {
  EventType type;
  std::string_view name;  // stable lower-case name: JSON, metric labels, `events:` and --tail.events
  std::uint32_t bit;      // the kernel's `what` for this type (and its subscription bit)
  int listed;             // position in the names users choose from (help texts), or kNotListed
};
inline constexpr int kNotListed = -1;

/// Every event type, one row each, in EventType order (the order of procevents_events_total).
/// Users' lists (config errors, --help) put the lifecycle first: that is `listed`.
inline constexpr auto kEventTypes = std::to_array<EventTypeRow>({
    {EventType::kAck, "ack", event_bits::kNone, kNotListed},
    {EventType::kFork, "fork", event_bits::kFork, 0},
    {EventType::kExec, "exec", event_bits::kExec, 1},
    {EventType::kUid, "uid", event_bits::kUid, 4},
    {EventType::kGid, "gid", event_bits::kGid, 5},
    {EventType::kSid, "sid", event_bits::kSid, 6},
    {EventType::kPtrace, "ptrace", event_bits::kPtrace, 7},
    {EventType::kComm, "comm", event_bits::kComm, 3},
    {EventType::kCoredump, "coredump", event_bits::kCoredump, 8},
    {EventType::kExit, "exit", event_bits::kExit, 2},
    {EventType::kUnknown, "unknown", event_bits::kNone, kNotListed},
});
inline constexpr std::size_t kEventTypeCount = kEventTypes.size();
/// Not an event type but a subscription choice: failed exits only.
inline constexpr std::string_view kNonzeroExitName = "nonzero_exit";

namespace detail {
constexpr bool event_table_is_consistent() {
  int listed = 0;
  for (std::size_t i = 0; i < kEventTypeCount; ++i) {
    const EventTypeRow& row = kEventTypes[i];
    if (static_cast<std::size_t>(row.type) != i) return false;  // rows in enum order
    if ((row.listed == kNotListed) != (row.bit == event_bits::kNone)) return false;  // every kernel event is selectable
    if (row.name == kNonzeroExitName || row.bit == event_bits::kNonzeroExit) return false;
    if (row.listed != kNotListed) ++listed;
    for (std::size_t j = 0; j < i; ++j) {
      const EventTypeRow& other = kEventTypes[j];
      if (other.name == row.name) return false;
      if (row.listed != kNotListed && (other.bit == row.bit || other.listed == row.listed)) return false;
    }
  }
  for (const EventTypeRow& row : kEventTypes) {
    if (row.listed >= listed) return false;  // positions 0..n-1, each once (distinct, checked above)
  }
  return true;
}
}  // namespace detail
static_assert(kEventTypeCount == static_cast<std::size_t>(EventType::kUnknown) + 1,
              "one kEventTypes row per EventType (kUnknown stays last)");
static_assert(detail::event_table_is_consistent(),
              "kEventTypes: rows in EventType order; names, bits and listed positions distinct; listed iff a bit");

namespace event_bits {
/// Every event type's bit: what subscribing to "all events" means.
inline constexpr std::uint32_t kAll = [] {
  std::uint32_t all = 0;
  for (const EventTypeRow& row : kEventTypes) all |= row.bit;
  return all;
}();
}  // namespace event_bits

/// The row's name ("fork", "exit", ...); "unknown" for a value outside the enum.
std::string_view event_type_name(EventType type) noexcept;

/// The event bit for a listed name or "nonzero_exit"; 0 when unknown.
std::uint32_t event_bit_for_name(std::string_view name) noexcept;

/// The names users may choose, in `listed` order, then "nonzero_exit", joined by `separator`:
/// "fork, exec, exit, ...". For help texts and error messages.
std::string event_names_list(std::string_view separator);

/// How a task ended, decoded from the wait(2)-style `exit_code` of an EXIT event.
struct ExitStatus {
  enum class Kind : std::uint8_t { kExited, kSignaled };
  Kind kind = Kind::kExited;
  int code = 0;       // exit status when kind == kExited
  int signal = 0;     // terminating signal when kind == kSignaled
  bool core_dumped = false;
};
ExitStatus decode_exit_status(std::uint32_t raw) noexcept;

/// "SIGKILL", "SIGSEGV", ... for 1..64 ("SIGRTMIN+3" style for real-time ones); "SIG0" style never
/// allocates: unknown numbers give "UNKNOWN".
std::string_view signal_name(int signal) noexcept;

struct Event {
  EventType type = EventType::kUnknown;
  std::uint32_t what = 0;          // raw `what` from the kernel
  std::uint32_t cpu = 0;           // CPU that emitted it (0xffffffff for acks)
  std::uint32_t seq = 0;           // cn_msg.seq: per-CPU counter (our own seq for acks)
  std::uint32_t ack = 0;           // cn_msg.ack: for acks, our request's ack + 1
  std::uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC nanoseconds (ktime_get_ns)

  // The subject task. For kFork: the child.
  std::int32_t pid = 0;   // kernel pid = thread id
  std::int32_t tgid = 0;  // kernel tgid = process id

  // kFork: the parent; kExit/kCoredump: the parent (0 if already reaped);
  // kPtrace: the tracer (0 on detach).
  std::int32_t parent_pid = 0;
  std::int32_t parent_tgid = 0;

  std::uint32_t exit_code = 0;    // kExit: raw wait status
  std::uint32_t exit_signal = 0;  // kExit: signal sent to the parent (0xffffffff for threads)
  std::uint32_t real_id = 0;      // kUid/kGid: ruid/rgid
  std::uint32_t effective_id = 0; // kUid/kGid: euid/egid
  std::uint32_t ack_error = 0;    // kAck: positive errno, 0 = success
  std::array<char, 16> comm{};    // kComm: NUL-terminated task name

  bool is_thread() const noexcept { return pid != tgid; }
  bool is_ptrace_attach() const noexcept { return parent_pid != 0; }
  std::string_view comm_view() const noexcept;
};
static_assert(std::is_trivially_copyable_v<Event>, "Event must travel through the ring by memcpy");

}  // namespace procevents::connector
