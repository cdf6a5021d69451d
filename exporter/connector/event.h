// One decoded process event of the Linux Process Events Connector.
//
// `Event` is a flat, trivially copyable value: it travels from the receiver thread
// through the lock-free ring to the aggregator, so it holds no pointers and allocates
// nothing. Field meaning follows <linux/cn_proc.h>: the kernel's `pid` is the thread id
// and `tgid` the process id; a task is a process (thread-group leader) iff pid == tgid.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace procevents::connector {

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
  kUnknown,   // a `what` this build does not know; reported, never fatal
};
inline constexpr std::size_t kEventTypeCount = 11;

/// Stable lower-case name ("fork", "exit", ...) used in JSON and metric labels.
std::string_view event_type_name(EventType type) noexcept;

/// The kernel's event bits (`enum proc_cn_event`); also the subscription mask of `proc_input`.
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
inline constexpr std::uint32_t kAll =
    kFork | kExec | kUid | kGid | kSid | kPtrace | kComm | kCoredump | kExit;
}  // namespace event_bits

/// The event bit for a lower-case name ("fork", ..., "exit", "nonzero_exit"); 0 when unknown.
std::uint32_t event_bit_for_name(std::string_view name) noexcept;
inline constexpr std::string_view kEventNamesHelp =
    "fork, exec, exit, comm, uid, gid, sid, ptrace, coredump, nonzero_exit";

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
