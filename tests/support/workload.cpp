// A test workload with predictable process events. Symlink it under a unique name so its comm
// (the exec'd file's base name) identifies it in /metrics.
//   workload exit N        exit with status N
//   workload signal N      die by signal N (no core file: RLIMIT_CORE is set to 0)
//   workload sleep MS      sleep MS milliseconds, exit 0
//   workload threads N     create and join N threads, exit 0
//   workload forks N       fork N children that _exit(0), reap them, exit 0
//   workload rename NAME   prctl(PR_SET_NAME, NAME), exit 0
//   workload spin MS       burn MS milliseconds of CPU (user time), exit 0
//   workload hold-memory MIB  touch MIB MiB of private memory, then wait until killed
//   workload touch MIB        touch MIB MiB of private memory, burn 1 ms of CPU, exit 0
//   workload hold-threads N   start N threads that block, then wait until killed
//   workload hold-fds N       open N more descriptors (/dev/null), then wait until killed
//   workload identity UID  (as root) a child is ptrace-attached and detached by us, then calls setsid,
//                          renames itself to its own comm, sets its gid and euid to UID, its euid back
//                          to 0 and its uid to UID; exit 0 (every identity event once, in our group)
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace {
void* thread_body(void* arg) { return arg; }
void* blocked_thread(void* arg) {
  for (;;) pause();
  return arg;
}
/// Burns `ms` milliseconds of this process's CPU (user time).
void spin_ms(long ms) {
  timespec start{}, now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
  volatile unsigned long sink = 0;
  do {
    for (int i = 0; i < 10000; ++i) sink = sink + static_cast<unsigned long>(i);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
}
/// Says it is ready (a line on stdout, for tests that read /proc only once it is), then waits.
[[noreturn]] void wait_until_killed() {
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) pause();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s exit|signal|sleep|threads|forks|rename|spin|hold-memory|hold-threads|hold-fds|identity ARG\n",
                 argv[0]);
    return 64;
  }
  const char* mode = argv[1];
  const long n = std::strtol(argv[2], nullptr, 10);
  if (!std::strcmp(mode, "exit")) return static_cast<int>(n);
  if (!std::strcmp(mode, "signal")) {
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(static_cast<int>(n), SIG_DFL);
    raise(static_cast<int>(n));
    return 99;  // not reached for fatal signals
  }
  if (!std::strcmp(mode, "sleep")) {
    timespec ts{n / 1000, (n % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    return 0;
  }
  if (!std::strcmp(mode, "threads")) {
    for (long i = 0; i < n; ++i) {
      pthread_t thread;
      if (pthread_create(&thread, nullptr, thread_body, nullptr) == 0) pthread_join(thread, nullptr);
    }
    return 0;
  }
  if (!std::strcmp(mode, "forks")) {
    for (long i = 0; i < n; ++i) {
      const pid_t child = fork();
      if (child == 0) _exit(0);
      if (child > 0) waitpid(child, nullptr, 0);
    }
    return 0;
  }
  if (!std::strcmp(mode, "spin")) {
    spin_ms(n);
    return 0;
  }
  if (!std::strcmp(mode, "identity")) {
    int go[2];
    if (pipe(go) != 0) return 70;
    const pid_t child = fork();
    if (child < 0) return 71;
    if (child == 0) {
      char byte = 0;
      if (read(go[0], &byte, 1) != 1) _exit(72);  // until our parent has attached and detached
      char comm[16] = {};
      prctl(PR_GET_NAME, comm, 0, 0, 0);
      const auto id = static_cast<uid_t>(n);
      const bool ok = setsid() > 0 && prctl(PR_SET_NAME, comm, 0, 0, 0) == 0 && setgid(id) == 0 &&
                      seteuid(id) == 0 && seteuid(0) == 0 && setuid(id) == 0;
      _exit(ok ? 0 : 73);
    }
    int status = 0;
    const bool traced = ptrace(PTRACE_ATTACH, child, nullptr, nullptr) == 0 && waitpid(child, &status, 0) == child &&
                        ptrace(PTRACE_DETACH, child, nullptr, nullptr) == 0;
    if (write(go[1], "g", 1) != 1) return 74;
    waitpid(child, &status, 0);
    return traced && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 75;
  }
  if (!std::strcmp(mode, "touch")) {
    const std::size_t bytes = static_cast<std::size_t>(n) << 20;
    void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return 76;
    std::memset(memory, 1, bytes);
    spin_ms(1);
    return 0;  // the teardown unmaps it all: CPU the exit record does not see
  }
  if (!std::strcmp(mode, "hold-memory")) {
    const std::size_t bytes = static_cast<std::size_t>(n) << 20;
    void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return 76;
    std::memset(memory, 1, bytes);
    wait_until_killed();
  }
  if (!std::strcmp(mode, "hold-threads")) {
    for (long i = 0; i < n; ++i) {
      pthread_t thread;
      if (pthread_create(&thread, nullptr, blocked_thread, nullptr) != 0) return 77;
    }
    wait_until_killed();
  }
  if (!std::strcmp(mode, "hold-fds")) {
    for (long i = 0; i < n; ++i) {
      if (open("/dev/null", O_RDONLY) < 0) return 78;
    }
    wait_until_killed();
  }
  if (!std::strcmp(mode, "rename")) {
    prctl(PR_SET_NAME, argv[2], 0, 0, 0);
    return 0;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode);
  return 64;
}
