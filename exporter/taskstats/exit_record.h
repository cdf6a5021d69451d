// One decoded taskstats exit record: what the kernel reports about a task as it exits.
//
// Flat and trivially copyable like connector::Event, so it travels through the same ring. Units
// are normalised here (seconds are not: integers keep sums exact); fields an older kernel's
// shorter `struct taskstats` does not carry are 0 and their bit in `present` is clear.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace procevents::taskstats {

/// TASKSTATS_TYPE_AGGR_PID (one task) or TASKSTATS_TYPE_AGGR_TGID (a whole thread group, sent
/// with the last thread's record when the process had several threads; at exit the kernel sums
/// only delay accounting into it, so CPU and I/O come from the per-task records).
enum class RecordScope : std::uint8_t { kTask, kThreadGroup };

/// Optional parts of a record, by the kernel version that added them (struct taskstats only grows).
namespace present {
inline constexpr std::uint32_t kMemory = 1u << 0;           // hiwater_rss
inline constexpr std::uint32_t kStorageIo = 1u << 1;        // read_bytes / write_bytes
inline constexpr std::uint32_t kContextSwitches = 1u << 2;  // nvcsw / nivcsw
inline constexpr std::uint32_t kTgid = 1u << 3;             // ac_tgid (version 12)
inline constexpr std::uint32_t kExe = 1u << 4;              // ac_exe_dev / ac_exe_inode (version 12)
}  // namespace present

/// ac_flag bits (<linux/acct.h>).
namespace flags {
inline constexpr std::uint8_t kForkedNoExec = 0x01;  // AFORK: forked but never exec'd
inline constexpr std::uint8_t kSuperuser = 0x02;     // ASU
inline constexpr std::uint8_t kCoreDumped = 0x08;    // ACORE
inline constexpr std::uint8_t kSignaled = 0x10;      // AXSIG: killed by a signal
}  // namespace flags

struct ExitRecord {
  RecordScope scope = RecordScope::kTask;
  std::uint8_t flags = 0;     // ac_flag
  std::uint16_t version = 0;  // struct taskstats version the kernel sent
  std::uint32_t present = 0;  // present:: bits
  std::int32_t pid = 0;       // task id (kTask) or thread-group id (kThreadGroup), from the attribute
  std::int32_t tgid = 0;      // ac_tgid when present, else 0
  std::int32_t ppid = 0;      // ac_ppid
  std::uint32_t uid = 0;      // ac_uid: real uid
  std::uint32_t gid = 0;      // ac_gid
  std::uint32_t exit_code = 0;  // ac_exitcode: wait(2)-style status
  std::uint64_t elapsed_us = 0;      // ac_etime: wall time from start to exit
  std::uint64_t user_cpu_us = 0;     // ac_utime
  std::uint64_t system_cpu_us = 0;   // ac_stime
  std::uint64_t minor_faults = 0;    // ac_minflt
  std::uint64_t major_faults = 0;    // ac_majflt
  std::uint64_t peak_rss_kib = 0;    // hiwater_rss (per address space)
  std::uint64_t read_bytes = 0;      // storage bytes read (block layer)
  std::uint64_t write_bytes = 0;     // storage bytes written
  std::uint64_t voluntary_switches = 0;
  std::uint64_t involuntary_switches = 0;
  std::uint64_t cpu_delay_ns = 0;    // waiting for a CPU (delay accounting; 0 when it is off)
  std::uint64_t blkio_delay_ns = 0;  // waiting for block I/O (delay accounting)
  std::uint64_t exe_dev = 0;         // device of the program binary (new_encode_dev, as st_dev)
  std::uint64_t exe_inode = 0;
  std::array<char, 16> comm{};       // task name at exit, NUL-terminated (the kernel's TASK_COMM_LEN)

  bool has(std::uint32_t part) const noexcept { return (present & part) != 0; }
  std::string_view comm_view() const noexcept;
};
static_assert(std::is_trivially_copyable_v<ExitRecord>, "ExitRecord must travel through the ring by memcpy");

}  // namespace procevents::taskstats
