// Real-kernel tests: subscribe, spawn children, and see their events with the right pids.
//
// They need root (CAP_NET_ADMIN in the initial user namespace, host network and PID namespaces).
// Elsewhere they say why and skip, except when the CI environment variable is set: CI runs as
// root, so there a skip is a failure. Other processes on the machine produce events too, so every
// check filters by the pids we spawned, and every wait has a deadline.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.h"
#include "connector/proc_connector.h"
#include "datagram_builder.h"

using namespace procevents::connector;
using namespace std::chrono_literals;

namespace {

using Pred = std::function<bool(const Event&)>;
constexpr auto kDeadline = 5s;

/// Opens (and by default subscribes) a connector, or explains why this environment cannot and
/// returns null: WARN and skip normally, FAIL when $CI is set.
std::unique_ptr<ProcConnector> open_live(std::uint32_t mask = event_bits::kAll, ConnectorOptions options = {},
                                         bool subscribe = true) {
  std::string reason;
  std::unique_ptr<ProcConnector> connector;
  if (geteuid() != 0) {
    reason = "needs root/CAP_NET_ADMIN to subscribe to process events (euid " + std::to_string(geteuid()) + ")";
  } else {
    SysError error;
    connector = ProcConnector::open(options, &error);
    if (!connector) {
      reason = "cannot open the process events connector (" + error.message() +
               "): not in the host network namespace, or a kernel without CONFIG_PROC_EVENTS?";
    } else if (subscribe) {
      const SubscribeResult result = connector->subscribe(mask);
      if (result.error) {
        reason = "subscribe failed (" + result.error.message() + "): needs CAP_NET_ADMIN in the initial user namespace";
      } else if (!result.acknowledged) {
        reason = "the kernel never acknowledged the subscription: not in the host PID/user namespace?";
      }
    }
  }
  if (reason.empty()) return connector;
  if (std::getenv("CI")) FAIL("live connector test cannot run under CI: " << reason);
  WARN("skipped: " << reason);
  return nullptr;
}

std::uint64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000000u + static_cast<std::uint64_t>(now.tv_nsec);
}

/// Reads events until one matches `last` or `limit` passes; returns every event read.
std::vector<Event> collect(ProcConnector& c, const Pred& last, std::chrono::milliseconds limit = kDeadline) {
  std::vector<Event> events;
  bool done = false;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    (void)c.receive_batch(50ms, [&](const Event& e) {
      events.push_back(e);
      done = done || last(e);
    });
  }
  return events;
}

std::size_t find(const std::vector<Event>& events, const Pred& pred, std::size_t from = 0) {
  for (std::size_t i = from; i < events.size(); ++i) {
    if (pred(events[i])) return i;
  }
  return events.size();
}
bool has(const std::vector<Event>& events, const Pred& pred) { return find(events, pred) < events.size(); }
std::size_t count(const std::vector<Event>& events, const Pred& pred) {
  std::size_t n = 0;
  for (const Event& e : events) n += pred(e);
  return n;
}

Pred is(EventType type, pid_t pid) {
  return [=](const Event& e) { return e.type == type && e.pid == pid; };
}
Pred exit_of(pid_t pid) { return is(EventType::kExit, pid); }

using procevents::testing::reap;
using procevents::testing::run;
using procevents::testing::spawn;

pid_t current_tid() { return static_cast<pid_t>(gettid()); }

/// The CPUs this process may run on.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

/// Makes every allowed CPU emit events (a pinned child forks and reaps a grandchild) and reads
/// until they arrive: afterwards the per-CPU sequence tracker has seen every CPU's counter.
/// `pinned_children` receives the children's pids.
std::vector<Event> touch_every_cpu(ProcConnector& c, std::vector<pid_t>* pinned_children = nullptr) {
  std::vector<Event> all;
  for (const int cpu : allowed_cpus()) {
    const pid_t pinned = run([cpu] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0) _exit(1);
      const pid_t grandchild = fork();
      if (grandchild == 0) _exit(0);
      waitpid(grandchild, nullptr, 0);
    });
    if (pinned_children) pinned_children->push_back(pinned);
    const auto events = collect(c, exit_of(pinned));
    all.insert(all.end(), events.begin(), events.end());
  }
  return all;
}

/// Unblocks a stuck blocking receive: after `after` it spawns a short-lived child (fresh events).
class Watchdog {
 public:
  explicit Watchdog(std::chrono::milliseconds after)
      : thread_([this, after] {
          std::unique_lock lock(mutex_);
          if (!wake_.wait_for(lock, after, [this] { return stop_; })) {
            fired_ = true;
            const pid_t child = fork();
            if (child == 0) _exit(0);
            if (child > 0) waitpid(child, nullptr, 0);
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  bool fired() const { return fired_; }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;  // last: starts after the members it uses exist
};

std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

TEST_CASE("fork, exec and exit with code 3 carry the right pids, parents and timestamps", "[live][connector]") {
  auto c = open_live();
  if (!c) return;
  const std::uint64_t before = monotonic_ns();
  int status = 0;
  const pid_t child = run([] { execl("/bin/sh", "sh", "-c", "exit 3", static_cast<char*>(nullptr)); }, &status);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 3);
  const auto events = collect(*c, exit_of(child));
  const std::uint64_t after = monotonic_ns();

  const std::size_t fork_at = find(events, is(EventType::kFork, child));
  const std::size_t exec_at = find(events, is(EventType::kExec, child));
  const std::size_t exit_at = find(events, exit_of(child));
  REQUIRE(fork_at < events.size());
  REQUIRE(exec_at < events.size());
  REQUIRE(exit_at < events.size());
  CHECK(fork_at < exec_at);
  CHECK(exec_at < exit_at);

  const Event& f = events[fork_at];
  CHECK(f.tgid == child);
  CHECK_FALSE(f.is_thread());
  CHECK(f.parent_pid == current_tid());
  CHECK(f.parent_tgid == getpid());
  CHECK(events[exec_at].tgid == child);

  const Event& x = events[exit_at];
  CHECK(x.tgid == child);
  CHECK(x.exit_code == static_cast<std::uint32_t>(status));  // the very status waitpid() saw
  const ExitStatus s = decode_exit_status(x.exit_code);
  CHECK(s.kind == ExitStatus::Kind::kExited);
  CHECK(s.code == 3);
  CHECK(x.exit_signal == SIGCHLD);
  CHECK(x.parent_tgid == getpid());

  // Timestamps are CLOCK_MONOTONIC nanoseconds, read from an unaligned offset of a real datagram.
  CHECK(before <= f.timestamp_ns);
  CHECK(f.timestamp_ns <= events[exec_at].timestamp_ns);
  CHECK(events[exec_at].timestamp_ns <= x.timestamp_ns);
  CHECK(x.timestamp_ns <= after);
  const auto cpus = static_cast<std::uint32_t>(sysconf(_SC_NPROCESSORS_CONF));
  for (const std::size_t i : {fork_at, exec_at, exit_at}) CHECK(events[i].cpu < cpus);
}

TEST_CASE("death by SIGKILL is a signaled exit without a core", "[live][connector]") {
  auto c = open_live();
  if (!c) return;
  const pid_t child = spawn([] {
    for (;;) pause();
  });
  kill(child, SIGKILL);
  const int status = reap(child);
  const auto events = collect(*c, exit_of(child));
  const std::size_t exit_at = find(events, exit_of(child));
  REQUIRE(exit_at < events.size());
  CHECK(events[exit_at].exit_code == static_cast<std::uint32_t>(status));
  const ExitStatus s = decode_exit_status(events[exit_at].exit_code);
  CHECK(s.kind == ExitStatus::Kind::kSignaled);
  CHECK(s.signal == SIGKILL);
  CHECK(signal_name(s.signal) == "SIGKILL");
  CHECK_FALSE(s.core_dumped);
  CHECK_FALSE(has(events, [&](const Event& e) { return e.type == EventType::kCoredump && e.tgid == child; }));
}

TEST_CASE("a core-dumping crash shows as a COREDUMP event or the core_dumped flag", "[live][connector]") {
  auto c = open_live();
  if (!c) return;
  const std::string pattern = read_first_line("/proc/sys/kernel/core_pattern");
  char dir[] = "/tmp/procevents-core-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  int status = 0;
  const pid_t child = run(
      [&] {
        // Allow a core, and write it where we clean up.
        rlimit limit{RLIM_INFINITY, RLIM_INFINITY};
        if (setrlimit(RLIMIT_CORE, &limit) != 0 && getrlimit(RLIMIT_CORE, &limit) == 0) {
          limit.rlim_cur = limit.rlim_max;
          setrlimit(RLIMIT_CORE, &limit);
        }
        prctl(PR_SET_DUMPABLE, 1);
        if (chdir(dir) != 0) _exit(1);
        raise(SIGSEGV);
        _exit(2);
      },
      &status);
  const auto events = collect(*c, exit_of(child));
  const bool core_file = !std::filesystem::is_empty(dir);
  std::filesystem::remove_all(dir);
  CAPTURE(pattern, status);

  REQUIRE(WIFSIGNALED(status));
  const std::size_t exit_at = find(events, exit_of(child));
  REQUIRE(exit_at < events.size());
  const ExitStatus s = decode_exit_status(events[exit_at].exit_code);
  CHECK(s.kind == ExitStatus::Kind::kSignaled);
  CHECK(s.signal == SIGSEGV);
  CHECK(s.core_dumped == static_cast<bool>(WCOREDUMP(status)));

  const std::size_t coredump = find(events, is(EventType::kCoredump, child));
  CHECK((coredump < events.size() || s.core_dumped));
  if (coredump < events.size()) {
    CHECK(events[coredump].tgid == child);
    CHECK(events[coredump].parent_tgid == getpid());
    CHECK(coredump < exit_at);
  }
  // A plain relative pattern ("core", "core.%p") writes into the child's cwd: there a core must exist,
  // unless the host refuses any (a hard RLIMIT_CORE of 0, a file system that cannot take it).
  const bool local_pattern = !pattern.empty() && pattern[0] != '|' && pattern.find('/') == std::string::npos;
  if (local_pattern && !core_file && !s.core_dumped) {
    rlimit limit{};
    getrlimit(RLIMIT_CORE, &limit);
    const std::string reason = "the kernel wrote no core (core_pattern " + pattern + ", hard RLIMIT_CORE " +
                               (limit.rlim_max == RLIM_INFINITY ? "unlimited" : std::to_string(limit.rlim_max)) + ")";
    if (std::getenv("CI")) FAIL(reason << ", and CI requires this test");
    WARN("skipped: " << reason);
    return;
  }
  if (local_pattern) {
    CHECK(s.core_dumped);
    CHECK(core_file);
  } else if (!pattern.empty() && pattern[0] == '/') {
    WARN("core_pattern " << pattern << " writes cores outside the test's directory; one may have been left there");
  }
}

TEST_CASE("prctl(PR_SET_NAME) is a COMM event with the new name, cut to 15 bytes", "[live][connector]") {
  auto c = open_live();
  if (!c) return;
  const pid_t child = run([] {
    prctl(PR_SET_NAME, "pe-renamed", 0, 0, 0);
    prctl(PR_SET_NAME, "pe-a-much-longer-name", 0, 0, 0);
  });
  const auto events = collect(*c, exit_of(child));
  const std::size_t first = find(events, is(EventType::kComm, child));
  REQUIRE(first < events.size());
  CHECK(events[first].comm_view() == "pe-renamed");
  CHECK(events[first].tgid == child);
  const std::size_t second = find(events, is(EventType::kComm, child), first + 1);
  REQUIRE(second < events.size());
  CHECK(events[second].comm_view() == "pe-a-much-longe");
}

TEST_CASE("setsid, setegid/setgid and seteuid/setuid are SID, GID and UID events with real and effective ids",
          "[live][connector]") {
  auto c = open_live();
  if (!c) return;
  int status = 0;
  const pid_t child = run(
      [] {
        if (setsid() < 0) _exit(10);
        if (setegid(4321) != 0 || setegid(0) != 0) _exit(11);
        if (seteuid(1234) != 0 || seteuid(0) != 0) _exit(12);
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(13);
      },
      &status);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const auto events = collect(*c, exit_of(child));
  CHECK(has(events, is(EventType::kSid, child)));

  struct Expected {
    EventType type;
    std::uint32_t real;
    std::uint32_t effective;
  };
  const Expected sequence[] = {
      {EventType::kGid, 0, 4321},      {EventType::kGid, 0, 0},         {EventType::kUid, 0, 1234},
      {EventType::kUid, 0, 0},         {EventType::kGid, 65534, 65534}, {EventType::kUid, 65534, 65534},
  };
  std::size_t position = 0;
  for (const Expected& want : sequence) {
    CAPTURE(event_type_name(want.type), want.real, want.effective);
    position = find(
        events,
        [&](const Event& e) {
          return e.type == want.type && e.pid == child && e.real_id == want.real && e.effective_id == want.effective;
        },
        position);
    REQUIRE(position < events.size());
    CHECK(events[position].tgid == child);
    ++position;
  }
}

TEST_CASE("ptrace attach and detach of a stopped child are two PTRACE events: tracer, then 0", "[live][connector]") {
  auto c = open_live();
  if (!c) return;
  for (const auto request : {PTRACE_ATTACH, PTRACE_SEIZE}) {
    CAPTURE(request == PTRACE_ATTACH ? "PTRACE_ATTACH" : "PTRACE_SEIZE");
    const pid_t child = spawn([] {
      for (;;) pause();
    });
    kill(child, SIGSTOP);
    int status = 0;
    REQUIRE(waitpid(child, &status, WUNTRACED) == child);
    REQUIRE(WIFSTOPPED(status));
    REQUIRE(ptrace(static_cast<__ptrace_request>(request), child, nullptr, nullptr) == 0);
    // Reap the ptrace-stop report if there is one; detaching does not depend on it.
    const auto until = std::chrono::steady_clock::now() + 500ms;
    while (waitpid(child, &status, __WALL | WNOHANG) == 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    CHECK(ptrace(PTRACE_DETACH, child, nullptr, nullptr) == 0);
    kill(child, SIGKILL);
    reap(child);

    const auto events = collect(*c, exit_of(child));
    const Pred ptrace_event = is(EventType::kPtrace, child);
    CHECK(count(events, ptrace_event) == 2);
    const std::size_t attach = find(events, ptrace_event);
    REQUIRE(attach < events.size());
    CHECK(events[attach].is_ptrace_attach());
    CHECK(events[attach].tgid == child);
    CHECK(events[attach].parent_pid == current_tid());
    CHECK(events[attach].parent_tgid == getpid());
    const std::size_t detach = find(events, ptrace_event, attach + 1);
    REQUIRE(detach < events.size());
    CHECK_FALSE(events[detach].is_ptrace_attach());
    CHECK(events[detach].parent_pid == 0);
    CHECK(events[detach].parent_tgid == 0);
  }
}

TEST_CASE("a thread's fork and exit have pid != tgid", "[live][connector]") {
  auto c = open_live();
  if (!c) return;
  static std::atomic<pid_t> thread_tid{0};
  pthread_t thread;
  REQUIRE(pthread_create(
              &thread, nullptr,
              [](void*) -> void* {
                thread_tid = static_cast<pid_t>(gettid());
                return nullptr;
              },
              nullptr) == 0);
  pthread_join(thread, nullptr);
  const pid_t tid = thread_tid;
  const pid_t me = getpid();
  REQUIRE(tid != me);
  const auto events = collect(*c, exit_of(tid));

  const std::size_t fork_at = find(events, is(EventType::kFork, tid));
  REQUIRE(fork_at < events.size());
  CHECK(events[fork_at].tgid == me);
  CHECK(events[fork_at].is_thread());
  // A thread's kernel "real parent" is its process's parent, not the process itself.
  CHECK(events[fork_at].parent_tgid == getppid());

  const std::size_t exit_at = find(events, exit_of(tid));
  REQUIRE(exit_at < events.size());
  CHECK(events[exit_at].tgid == me);
  CHECK(events[exit_at].is_thread());
  CHECK(events[exit_at].exit_signal == 0xffffffffu);  // threads signal nobody
  CHECK(decode_exit_status(events[exit_at].exit_code).code == 0);
}

TEST_CASE("an EXEC|EXIT subscription is filtered by the kernel: no FORK while a child forks and execs",
          "[live][connector]") {
  auto c = open_live(event_bits::kExec | event_bits::kExit);
  if (!c) return;
  CHECK(c->kernel_filter_active());  // Linux >= 6.6 has per-socket filters (struct proc_input)
  CHECK(c->mask() == (event_bits::kExec | event_bits::kExit));
  CHECK_FALSE(c->loss_exact());  // other sockets' events take sequence numbers we never see
  const pid_t child = run([] {
    const pid_t grandchild = fork();
    if (grandchild == 0) {
      prctl(PR_SET_NAME, "pe-not-wanted", 0, 0, 0);
      execl("/bin/true", "true", static_cast<char*>(nullptr));
      _exit(127);
    }
    waitpid(grandchild, nullptr, 0);
  });
  // The grandchild's exit event may come after the child's (see the receive_batch test): read until both.
  bool child_exited = false, grandchild_exited = false;
  const auto events = collect(*c, [&](const Event& e) {
    child_exited = child_exited || exit_of(child)(e);
    grandchild_exited = grandchild_exited || (e.type == EventType::kExit && e.parent_tgid == child);
    return child_exited && grandchild_exited;
  });
  const std::size_t grandchild_exit =
      find(events, [&](const Event& e) { return e.type == EventType::kExit && e.parent_tgid == child; });
  REQUIRE(grandchild_exit < events.size());
  CHECK(has(events, is(EventType::kExec, events[grandchild_exit].pid)));
  CHECK(has(events, exit_of(child)));
  // Nothing else reached the socket, from anyone: the kernel filtered, not us.
  CHECK_FALSE(has(events, [](const Event& e) { return e.type != EventType::kExec && e.type != EventType::kExit; }));
  CHECK(c->stats().events_by_type[static_cast<std::size_t>(EventType::kFork)] == 0);
  CHECK(c->stats().events_by_type[static_cast<std::size_t>(EventType::kComm)] == 0);
  CHECK(c->stats().filtered_out == 0);
}

TEST_CASE("a nonzero_exit-only subscription delivers failing exits only", "[live][connector]") {
  auto c = open_live(event_bits::kNonzeroExit);
  if (!c) return;
  CHECK(c->kernel_filter_active());
  const pid_t ok = run([] { _exit(0); });
  const pid_t failed = run([] { _exit(7); });
  const pid_t killed = spawn([] {
    for (;;) pause();
  });
  kill(killed, SIGTERM);
  reap(killed);
  const auto events = collect(*c, exit_of(killed));
  CHECK_FALSE(has(events, exit_of(ok)));
  const std::size_t f = find(events, exit_of(failed));
  REQUIRE(f < events.size());
  CHECK(decode_exit_status(events[f].exit_code).code == 7);
  const std::size_t k = find(events, exit_of(killed));
  REQUIRE(k < events.size());
  CHECK(decode_exit_status(events[k].exit_code).signal == SIGTERM);
  for (const Event& e : events) {
    CHECK(e.type == EventType::kExit);
    CHECK(e.exit_code != 0);
  }
}

TEST_CASE("two connectors in one process both receive every event", "[live][connector]") {
  auto a = open_live();
  if (!a) return;
  auto b = open_live();
  REQUIRE(b);
  const pid_t child = run([] {});
  for (ProcConnector* c : {a.get(), b.get()}) {
    const auto events = collect(*c, exit_of(child));
    CHECK(has(events, is(EventType::kFork, child)));
    CHECK(has(events, exit_of(child)));
  }
}

TEST_CASE("unsubscribe stops delivery and subscribing again resumes it", "[live][connector]") {
  auto c = open_live();
  if (!c) return;
  REQUIRE(c->subscribed());
  REQUIRE_FALSE(c->unsubscribe());
  CHECK_FALSE(c->subscribed());
  const pid_t unseen = run([] {});
  CHECK_FALSE(has(collect(*c, exit_of(unseen), 500ms), exit_of(unseen)));

  const SubscribeResult again = c->subscribe();
  REQUIRE_FALSE(again.error);
  CHECK(again.acknowledged);
  CHECK(c->subscribed());
  const pid_t seen = run([] {});
  CHECK(has(collect(*c, exit_of(seen)), exit_of(seen)));

  // Subscribing while subscribed (e.g. to change the mask) works too.
  REQUIRE_FALSE(c->subscribe(event_bits::kExit).error);
  CHECK(c->kernel_filter_active());
  const pid_t filtered = run([] {});
  const auto events = collect(*c, exit_of(filtered));
  CHECK(has(events, exit_of(filtered)));
  CHECK_FALSE(has(events, is(EventType::kFork, filtered)));
}

TEST_CASE("receive with a zero timeout returns at once and a negative timeout waits for an event", "[live][connector]") {
  auto c = open_live();
  if (!c) return;
  Event e;
  // Drain what is queued (the machine keeps producing events, so bound the loop).
  for (int i = 0; i < 100000 && c->receive(e, 0ms).status == RecvStatus::kOk; ++i) {
  }
  bool timed_out = false;
  for (int i = 0; i < 50 && !timed_out; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const RecvResult r = c->receive(e, 0ms);
    CHECK(std::chrono::steady_clock::now() - start < 50ms);
    CHECK((r.status == RecvStatus::kOk || r.status == RecvStatus::kTimeout));
    timed_out = r.status == RecvStatus::kTimeout;
  }
  CHECK(timed_out);

  const pid_t child = run([] {});  // queues a fork and an exit for us
  {
    Watchdog watchdog(5s);
    const auto start = std::chrono::steady_clock::now();
    CHECK(c->receive(e, -1ms).status == RecvStatus::kOk);
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK_FALSE(watchdog.fired());
  }
  // collect() uses receive_batch(), which must first hand out what receive() left in its batch.
  CHECK(has(collect(*c, exit_of(child)), exit_of(child)));
}

TEST_CASE("a non-blocking connector waits only as long as the timeout says", "[live][connector]") {
  ConnectorOptions options;
  options.non_blocking = true;
  auto c = open_live(event_bits::kAll, options);
  if (!c) return;
  CHECK((fcntl(c->fd(), F_GETFL) & O_NONBLOCK) != 0);
  Event e;
  for (int i = 0; i < 100000 && c->receive(e, 0ms).status == RecvStatus::kOk; ++i) {
  }
  const auto start = std::chrono::steady_clock::now();
  (void)c->receive(e, 0ms);
  CHECK(std::chrono::steady_clock::now() - start < 50ms);

  const pid_t child = run([] {});
  bool seen = false;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!seen && std::chrono::steady_clock::now() < deadline) {
    const RecvResult r = c->receive(e, 100ms);
    REQUIRE(r.status != RecvStatus::kError);
    seen = r.status == RecvStatus::kOk && e.type == EventType::kExit && e.pid == child;
  }
  CHECK(seen);

  REQUIRE_FALSE(c->set_non_blocking(false));
  CHECK((fcntl(c->fd(), F_GETFL) & O_NONBLOCK) == 0);
  REQUIRE_FALSE(c->set_non_blocking(true));
  CHECK((fcntl(c->fd(), F_GETFL) & O_NONBLOCK) != 0);
}

TEST_CASE("receive_batch delivers many events per call and counts them", "[live][connector]") {
  ConnectorOptions options;
  options.batch_datagrams = 16;
  // The events are read only once the children are done, with everything else on the host queued
  // too: the kernel's default buffer (~200 datagrams) can overflow on a busy host.
  options.receive_buffer_bytes = 8 << 20;
  auto c = open_live(event_bits::kAll, options);
  if (!c) return;
  constexpr int kChildren = 50;
  const pid_t parent = run([] {
    for (int i = 0; i < kChildren; ++i) {
      const pid_t child = fork();
      if (child == 0) _exit(0);
      waitpid(child, nullptr, 0);
    }
  });
  // Almost everything is queued already: each call drains up to 16 datagrams. The kernel sends a
  // task's exit event after waking its parent (exit_notify() precedes proc_exit_connector()), so
  // the last child's may come after the parent's own, and name another parent when the parent has
  // exited meanwhile: the children are known by the pids their fork events gave, and read until
  // every one of them and the parent have exited.
  std::vector<Event> events;
  std::size_t most_in_one_call = 0;
  bool parent_exited = false;
  std::set<pid_t> children;
  int child_exits = 0;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!(parent_exited && child_exits == kChildren) && std::chrono::steady_clock::now() < deadline) {
    std::size_t in_call = 0;
    const RecvResult r = c->receive_batch(100ms, [&](const Event& e) {
      events.push_back(e);
      ++in_call;
      if (e.type == EventType::kFork && e.parent_tgid == parent) children.insert(e.pid);
      if (e.type != EventType::kExit) return;
      parent_exited = parent_exited || e.pid == parent;
      child_exits += children.count(e.pid) != 0;
    });
    REQUIRE(r.status != RecvStatus::kError);
    most_in_one_call = std::max(most_in_one_call, in_call);
  }
  REQUIRE(parent_exited);
  CAPTURE(c->stats().enobufs, c->stats().lost_events);  // a miscount with loss is the buffer's, not the batching's
  CHECK(most_in_one_call > 1);
  CHECK(most_in_one_call <= 16);
  CHECK(count(events, [&](const Event& e) { return e.type == EventType::kFork && e.parent_tgid == parent; }) ==
        kChildren);
  CHECK(count(events, [&](const Event& e) { return e.type == EventType::kExit && children.count(e.pid) != 0; }) ==
        kChildren);
  const ConnectorStats& stats = c->stats();
  CHECK(stats.datagrams >= events.size());
  CHECK(stats.events_by_type[static_cast<std::size_t>(EventType::kFork)] >= kChildren + 1);
  CHECK(stats.events_by_type[static_cast<std::size_t>(EventType::kExit)] >= kChildren + 1);
}

TEST_CASE("datagrams not sent by the kernel are ignored, oversized ones counted", "[live][connector]") {
  auto c = open_live();
  if (!c) return;
  sockaddr_nl self{};
  socklen_t length = sizeof self;
  REQUIRE(getsockname(c->fd(), reinterpret_cast<sockaddr*>(&self), &length) == 0);
  REQUIRE(self.nl_pid != 0);

  const int forger = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  REQUIRE(forger >= 0);
  sockaddr_nl target{};
  target.nl_family = AF_NETLINK;
  target.nl_pid = self.nl_pid;  // unicast straight to the connector's socket
  constexpr std::uint32_t kForgedPid = 0x3fff0001;
  const auto forged = procevents::testing::connector_message(
      procevents::testing::proc_event(event_bits::kExit, 0, 1, {kForgedPid, kForgedPid, 0, 17, 1, 1}));
  const std::vector<std::byte> oversized(4000);
  CHECK(sendto(forger, forged.data(), forged.size(), 0, reinterpret_cast<const sockaddr*>(&target), sizeof target) ==
        static_cast<ssize_t>(forged.size()));
  CHECK(sendto(forger, oversized.data(), oversized.size(), 0, reinterpret_cast<const sockaddr*>(&target),
               sizeof target) == static_cast<ssize_t>(oversized.size()));
  close(forger);

  const pid_t child = run([] {});  // sent after the forgeries, so reading up to its exit reads them
  const auto events = collect(*c, exit_of(child));
  CHECK(has(events, exit_of(child)));
  CHECK_FALSE(has(events, [](const Event& e) { return e.pid == static_cast<pid_t>(kForgedPid); }));
  CHECK(c->stats().foreign_datagrams == 1);
  CHECK(c->stats().truncated_datagrams == 1);
}

TEST_CASE("a tiny receive buffer overruns: kOverrun, exact loss from sequence gaps, and reading continues",
          "[live][connector]") {
  ConnectorOptions options;
  options.receive_buffer_bytes = 4096;
  auto c = open_live(event_bits::kAll, options);
  if (!c) return;
  REQUIRE(c->loss_exact());
  CHECK(c->receive_buffer_bytes() <= 65536);
  std::size_t received = touch_every_cpu(*c).size();  // every CPU's counter has a baseline now
  const std::uint64_t lost_before = c->stats().lost_events;

  // 2000 threads = 4000 events while nobody reads: far more than a few KiB can queue.
  constexpr int kThreads = 2000;
  const pid_t storm = run([] {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < kThreads; ++i) {
      pthread_t t;
      if (pthread_create(&t, &attr, [](void*) -> void* { return nullptr; }, nullptr) != 0) _exit(1);
      pthread_join(t, nullptr);
    }
  });

  bool overrun = false;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!overrun && std::chrono::steady_clock::now() < deadline) {
    const RecvResult r = c->receive_batch(100ms, [&](const Event&) { ++received; });
    REQUIRE(r.status != RecvStatus::kError);
    overrun = r.status == RecvStatus::kOverrun;
  }
  REQUIRE(overrun);
  CHECK(c->stats().enobufs >= 1);

  // A gap shows once a later event of the same CPU arrives: make every CPU emit some, and read on.
  std::vector<pid_t> pinned;
  std::vector<Event> after;
  for (int round = 0; round < 2; ++round) {
    const auto events = touch_every_cpu(*c, &pinned);
    after.insert(after.end(), events.begin(), events.end());
  }
  received += after.size();
  CHECK(has(after, exit_of(pinned.back())));  // reading goes on after the overrun
  const std::uint64_t lost = c->stats().lost_events - lost_before;
  CAPTURE(received, lost, c->stats().enobufs, storm);
  CHECK(lost > 0);
  CHECK(lost < 1000000);  // a real count, not a wrapped or reset counter
  // Every storm event was either read or counted lost (the rest of the machine only adds to both).
  CHECK(received + lost >= 2 * kThreads);
}
