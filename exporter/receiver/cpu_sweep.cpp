#include "receiver/cpu_sweep.h"

#include <sched.h>

#include <system_error>

namespace procevents::receiver {

CpuSweep::~CpuSweep() {
  if (thread_.joinable()) thread_.join();
}

bool CpuSweep::start() noexcept {
  if (running_.exchange(true, std::memory_order_acq_rel)) return false;
  if (thread_.joinable()) thread_.join();  // the previous sweep, finished
  try {
    thread_ = std::jthread([this] { run(); });
    return true;
  } catch (const std::system_error&) {
    running_.store(false, std::memory_order_release);
    return false;
  }
}

void CpuSweep::run() noexcept {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &allowed)) continue;
      bool reached = false;
      try {
        // Created here, it moves to `cpu` before it exits: its exit event is that CPU's.
        std::thread pinned([cpu, &reached] {
          cpu_set_t one;
          CPU_ZERO(&one);
          CPU_SET(cpu, &one);
          reached = sched_setaffinity(0, sizeof one, &one) == 0;
        });
        pinned.join();
      } catch (const std::system_error&) {
        continue;  // out of threads: this CPU waits for its next event
      }
      if (reached) cpus_reached_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  sweeps_.fetch_add(1, std::memory_order_relaxed);
  running_.store(false, std::memory_order_release);
}

}  // namespace procevents::receiver
