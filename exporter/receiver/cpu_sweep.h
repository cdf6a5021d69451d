// One process event on every CPU we may run on, made on demand after a socket overrun.
//
// Why: the exact number of events an overrun lost on a CPU is known only when that CPU's next
// event arrives (its cn_msg.seq jumps; see connector/seq_tracker.h). On a quiet host that can take
// minutes. A sweep starts one short-lived thread pinned to each CPU of our affinity mask; its exit
// event is emitted on that CPU, so every pending gap is counted within milliseconds. (The sweep's
// own thread creations and exits are ordinary events of the exporter's own group.)
//
// Nothing runs at rest: a sweep is a thread started by start() and joined by the next start() or
// the destructor. CPUs outside our affinity mask (a container's cpuset) cannot be swept: their
// gaps still wait for their next event.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace procevents::receiver {

class CpuSweep {
 public:
  CpuSweep() = default;
  ~CpuSweep();  // joins a running sweep (it takes a few milliseconds)
  CpuSweep(const CpuSweep&) = delete;
  CpuSweep& operator=(const CpuSweep&) = delete;

  /// Starts a sweep unless one is still running (then returns false). Never throws: a thread
  /// that cannot be created is a sweep that does not happen (returns false).
  bool start() noexcept;
  /// Sweeps finished so far, and CPUs they reached (relaxed; for tests and logs).
  std::uint64_t sweeps() const noexcept { return sweeps_.load(std::memory_order_relaxed); }
  std::uint64_t cpus_reached() const noexcept { return cpus_reached_.load(std::memory_order_relaxed); }

 private:
  void run() noexcept;

  std::atomic<bool> running_{false};
  std::atomic<std::uint64_t> sweeps_{0};
  std::atomic<std::uint64_t> cpus_reached_{0};
  std::jthread thread_;
};

}  // namespace procevents::receiver
