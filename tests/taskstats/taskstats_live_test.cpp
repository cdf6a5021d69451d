// Real-kernel tests of the taskstats source: register, spawn children, find their exit records.
//
// They need root (CAP_NET_ADMIN, the initial user and PID namespaces) and a kernel with
// CONFIG_TASKSTATS. Elsewhere they say why and skip, except when the CI environment variable is
// set: CI runs as root, so there a skip is a failure. Other processes on the machine exit too, so
// every check filters by the pids we spawned, and every wait has a deadline.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <linux/genetlink.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "taskstats/taskstats_source.h"

using namespace procevents::taskstats;
using procevents::RecvStatus;
using procevents::SysError;
using namespace std::chrono_literals;

namespace {

using Pred = std::function<bool(const ExitRecord&)>;
constexpr auto kDeadline = 2s;

std::string skip_reason;

/// Opens a source, or explains why this environment cannot and returns null: WARN and skip
/// normally, FAIL when $CI is set.
std::unique_ptr<TaskstatsSource> open_live(const SourceOptions& options = {}) {
  std::string reason;
  std::unique_ptr<TaskstatsSource> source;
  if (geteuid() != 0) {
    reason = "needs root/CAP_NET_ADMIN to register for taskstats (euid " + std::to_string(geteuid()) + ")";
  } else {
    SysError error;
    source = TaskstatsSource::open(options, &error);
    if (!source) {
      reason = "cannot open the taskstats source (" + error.message() +
               "): a kernel without CONFIG_TASKSTATS, or not in the initial user/PID namespace?";
    }
  }
  if (reason.empty()) return source;
  if (std::getenv("CI")) FAIL("live taskstats test cannot run under CI: " << reason);
  WARN("skipped: " << reason);
  return nullptr;
}

/// Reads records until one matches `last` or `limit` passes; returns every record read.
std::vector<ExitRecord> collect(TaskstatsSource& source, const Pred& last, std::chrono::milliseconds limit = kDeadline) {
  std::vector<ExitRecord> records;
  bool done = false;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    (void)source.receive_batch(50ms, [&](const ExitRecord& r) {
      records.push_back(r);
      done = done || last(r);
    });
  }
  return records;
}

const ExitRecord* find(const std::vector<ExitRecord>& records, const Pred& pred) {
  for (const ExitRecord& r : records) {
    if (pred(r)) return &r;
  }
  return nullptr;
}

Pred task_of(pid_t pid) {
  return [=](const ExitRecord& r) { return r.scope == RecordScope::kTask && r.pid == pid; };
}
Pred group_of(pid_t pid) {
  return [=](const ExitRecord& r) { return r.scope == RecordScope::kThreadGroup && r.pid == pid; };
}

using procevents::testing::reap;
using procevents::testing::run;
using procevents::testing::spawn;

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::size_t open_fds() {
  std::size_t n = 0;
  DIR* dir = opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  while (const dirent* entry = readdir(dir)) n += entry->d_name[0] != '.';
  closedir(dir);
  return n;
}

std::uint64_t cpu_us(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000u + static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
}

}  // namespace

TEST_CASE("open registers for every possible CPU and resolves the family", "[live][taskstats]") {
  auto source = open_live();
  if (!source) return;
  CHECK(source->fd() >= 0);
  CHECK(source->family_id() != 0);
  CHECK(source->family_id() >= GENL_MIN_ID);
  const std::string possible = first_line("/sys/devices/system/cpu/possible");
  CHECK(source->cpu_list() == possible);
  CHECK(source->cpu_list() == read_cpu_list("/sys/devices/system/cpu/possible"));
  CHECK(source->receive_buffer_bytes() > 0);
  CHECK(source->stats().datagrams == 0);
}

TEST_CASE("a child that execs /bin/true: pid, ppid, tgid, comm, exit code and program binary", "[live][taskstats]") {
  auto source = open_live();
  if (!source) return;
  int status = -1;
  const pid_t child = run([] { execl("/bin/true", "true", static_cast<char*>(nullptr)); }, &status);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  const auto records = collect(*source, task_of(child));
  const ExitRecord* r = find(records, task_of(child));
  REQUIRE(r != nullptr);
  CAPTURE(r->version, r->present);
  CHECK(r->ppid == getpid());
  CHECK(r->comm_view() == "true");
  CHECK(r->exit_code == static_cast<std::uint32_t>(status));
  CHECK((r->flags & flags::kForkedNoExec) == 0);  // it exec'd
  CHECK((r->flags & flags::kSignaled) == 0);
  CHECK(r->uid == getuid());
  CHECK(r->gid == getgid());
  CHECK(r->elapsed_us > 0);
  CHECK(r->elapsed_us < 2'000'000);
  CHECK(r->user_cpu_us + r->system_cpu_us < 1'000'000);
  // A modern kernel sends the whole struct (and more): everything before version 12 is there.
  CHECK(r->version >= 8);
  CHECK(r->has(present::kMemory));
  CHECK(r->has(present::kStorageIo));
  CHECK(r->has(present::kContextSwitches));
  CHECK(r->peak_rss_kib > 0);
  // No group record for a single-threaded process.
  CHECK(find(records, group_of(child)) == nullptr);
  if (r->version >= 12) {
    REQUIRE(r->has(present::kTgid));
    REQUIRE(r->has(present::kExe));
    CHECK(r->tgid == child);
    struct stat st {};
    REQUIRE(stat("/bin/true", &st) == 0);  // follows symlinks, like the kernel's exe_file
    CHECK(r->exe_inode == st.st_ino);
    CHECK(r->exe_dev == st.st_dev);
  } else {
    WARN("kernel taskstats version " << r->version << " < 12: no ac_tgid/ac_exe_*");
    CHECK_FALSE(r->has(present::kTgid));
    CHECK_FALSE(r->has(present::kExe));
  }
  CHECK(source->stats().task_records >= 1);
  CHECK(source->stats().datagrams >= 1);
}

TEST_CASE("_exit(3) without exec: wait-status exit code, forked flag, the parent's comm", "[live][taskstats]") {
  auto source = open_live();
  if (!source) return;
  int status = -1;
  const pid_t child = run(
      [] {
        usleep(2000);  // at least one voluntary context switch
        _exit(3);
      },
      &status);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 3);
  const auto records = collect(*source, task_of(child));
  const ExitRecord* r = find(records, task_of(child));
  REQUIRE(r != nullptr);
  // ac_exitcode is the task's exit_code: the wait(2) status, 3 << 8.
  CHECK(r->exit_code == 3u << 8);
  CHECK(r->exit_code == static_cast<std::uint32_t>(status));
  CHECK((r->flags & flags::kForkedNoExec) != 0);
  CHECK((r->flags & flags::kSignaled) == 0);
  CHECK(r->ppid == getpid());
  CHECK(r->comm_view() == first_line("/proc/self/comm"));
  CHECK(r->voluntary_switches >= 1);
  if (r->has(present::kTgid)) CHECK(r->tgid == child);
}

TEST_CASE("a child killed by SIGKILL: the signal in the exit code and the signaled flag", "[live][taskstats]") {
  auto source = open_live();
  if (!source) return;
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  const pid_t child = spawn([&] {
    close(ready[0]);
    (void)!write(ready[1], "x", 1);
    for (;;) pause();
  });
  close(ready[1]);
  char byte;
  REQUIRE(read(ready[0], &byte, 1) == 1);
  close(ready[0]);
  REQUIRE(kill(child, SIGKILL) == 0);
  const int status = reap(child);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);
  const auto records = collect(*source, task_of(child));
  const ExitRecord* r = find(records, task_of(child));
  REQUIRE(r != nullptr);
  CHECK(r->exit_code == static_cast<std::uint32_t>(SIGKILL));  // no core bit
  CHECK(r->exit_code == static_cast<std::uint32_t>(status));
  CHECK((r->flags & flags::kSignaled) != 0);
  CHECK((r->flags & flags::kCoreDumped) == 0);
  CHECK(r->ppid == getpid());
}

namespace {

void* report_tid(void* fd) {
  const auto tid = static_cast<pid_t>(syscall(SYS_gettid));
  (void)!write(*static_cast<int*>(fd), &tid, sizeof tid);
  return nullptr;
}

}  // namespace

TEST_CASE("a process with a thread: a thread record (pid != tgid), the leader's and the group's", "[live][taskstats]") {
  auto source = open_live();
  if (!source) return;
  int tids[2];
  REQUIRE(pipe(tids) == 0);
  const pid_t child = run([&] {
    close(tids[0]);
    pthread_t thread;
    if (pthread_create(&thread, nullptr, report_tid, &tids[1]) != 0) _exit(1);
    pthread_join(thread, nullptr);
    _exit(0);
  });
  close(tids[1]);
  pid_t tid = 0;
  REQUIRE(read(tids[0], &tid, sizeof tid) == sizeof tid);
  close(tids[0]);
  REQUIRE(tid != child);

  // The group record comes with the last thread's (the leader's) in the same message.
  const auto records = collect(*source, group_of(child));
  const ExitRecord* thread = find(records, task_of(tid));
  const ExitRecord* leader = find(records, task_of(child));
  const ExitRecord* group = find(records, group_of(child));
  REQUIRE(thread != nullptr);
  REQUIRE(leader != nullptr);
  REQUIRE(group != nullptr);
  CHECK(thread->pid != child);
  CHECK(thread->ppid == getpid());  // a thread's real_parent is its leader's parent
  CHECK(leader->ppid == getpid());
  if (thread->has(present::kTgid)) {
    CHECK(thread->tgid == child);
    CHECK(thread->tgid != thread->pid);
    CHECK(leader->tgid == child);
  }
  // The thread's record arrives before the leader's, and the group's right after the leader's.
  const auto index = [&](const ExitRecord* r) { return r - records.data(); };
  CHECK(index(thread) < index(leader));
  CHECK(index(group) == index(leader) + 1);
  CHECK(group->version == leader->version);
  CHECK(source->stats().thread_group_records >= 1);
}

TEST_CASE("a child spinning for ~200 ms of CPU reports a sane user CPU time", "[live][taskstats]") {
  auto source = open_live();
  if (!source) return;
  const pid_t child = run([] {
    const std::uint64_t start = cpu_us(CLOCK_PROCESS_CPUTIME_ID);
    volatile std::uint64_t sink = 0;
    while (cpu_us(CLOCK_PROCESS_CPUTIME_ID) - start < 200'000) {
      for (int i = 0; i < 10000; ++i) sink = sink + static_cast<std::uint64_t>(i);
    }
  });
  const auto records = collect(*source, task_of(child));
  const ExitRecord* r = find(records, task_of(child));
  REQUIRE(r != nullptr);
  CAPTURE(r->user_cpu_us, r->system_cpu_us, r->elapsed_us);
  const std::uint64_t cpu = r->user_cpu_us + r->system_cpu_us;
  CHECK(cpu >= 180'000);
  CHECK(cpu <= 2'000'000);
  CHECK(r->user_cpu_us >= 100'000);  // the loop is user time; clock_gettime is a vDSO call
  CHECK(r->elapsed_us >= cpu - 20'000);
}

TEST_CASE("a CPU list the kernel refuses fails open with a SysError", "[live][taskstats]") {
  if (geteuid() != 0) {
    WARN("skipped: needs root");
    return;
  }
  const std::string possible = first_line("/sys/devices/system/cpu/possible");
  const auto separator = possible.find_last_of("-,");
  const int last = std::stoi(separator == std::string::npos ? possible : possible.substr(separator + 1));
  // On 6.x, bitmap_parselist() refuses a CPU at or beyond nr_cpu_ids with ERANGE (so "0-9999" is
  // ERANGE, not EINVAL) and bad syntax with EINVAL; the listener code's own check that the mask is
  // a subset of the possible CPUs answers EINVAL. Either way: a SysError from the registration.
  const std::string refused[] = {"0-9999", std::to_string(last + 1), "0-" + std::to_string(last + 1), "banana",
                                 "0-1-2", "1-0"};
  const std::size_t fds = open_fds();
  for (const std::string& list : refused) {
    CAPTURE(list);
    SourceOptions options;
    options.cpu_list = list;
    SysError error;
    const auto source = TaskstatsSource::open(options, &error);
    CHECK(source == nullptr);
    CAPTURE(error.message());
    CHECK((error.code == EINVAL || error.code == ERANGE));
    CHECK(error.call == "register for taskstats exit records");
  }
  {
    SourceOptions options;
    options.cpu_list = "0-9999";
    SysError error;
    CHECK(TaskstatsSource::open(options, nullptr) == nullptr);  // no error out-parameter: still no crash
    CHECK(TaskstatsSource::open(options, &error) == nullptr);
    CHECK(error.code == ERANGE);
  }
  CHECK(open_fds() == fds);  // every refused socket was closed

  SECTION("an unreadable possible-CPUs file falls back to the configured CPU count") {
    SourceOptions options;
    options.possible_cpus_path = "/nonexistent/cpu/possible";
    SysError error;
    auto fallback = TaskstatsSource::open(options, &error);
    REQUIRE(fallback != nullptr);
    CHECK(fallback->cpu_list() == "0-" + std::to_string(sysconf(_SC_NPROCESSORS_CONF) - 1));
  }
}

TEST_CASE("destroying a source deregisters and closes, and another source keeps working", "[live][taskstats]") {
  if (!open_live()) return;  // opened and destroyed at once
  const std::size_t fds = open_fds();
  for (int round = 0; round < 3; ++round) {
    auto source = open_live();
    REQUIRE(source != nullptr);
    const pid_t child = run([] {});
    CHECK(find(collect(*source, task_of(child)), task_of(child)) != nullptr);
  }
  CHECK(open_fds() == fds);

  SECTION("two sources at once both receive the same record; destroying one leaves the other registered") {
    auto first = open_live();
    auto second = open_live();
    REQUIRE(first != nullptr);
    REQUIRE(second != nullptr);
    CHECK(first->fd() != second->fd());
    const pid_t child = run([] { _exit(7); });
    const auto a = collect(*first, task_of(child));
    const auto b = collect(*second, task_of(child));
    const ExitRecord* in_first = find(a, task_of(child));
    const ExitRecord* in_second = find(b, task_of(child));
    REQUIRE(in_first != nullptr);
    REQUIRE(in_second != nullptr);
    CHECK(in_first->exit_code == in_second->exit_code);
    CHECK(in_first->elapsed_us == in_second->elapsed_us);
    CHECK(in_first->user_cpu_us == in_second->user_cpu_us);

    first.reset();
    const pid_t later = run([] {});
    CHECK(find(collect(*second, task_of(later)), task_of(later)) != nullptr);
    second.reset();
    CHECK(open_fds() == fds);
  }
}

TEST_CASE("receive with a zero timeout returns at once", "[live][taskstats]") {
  auto source = open_live();
  if (!source) return;
  const auto start = std::chrono::steady_clock::now();
  const auto result = source->receive_batch(0ms, [](const ExitRecord&) {});
  CHECK((result.status == RecvStatus::kOk || result.status == RecvStatus::kTimeout));
  CHECK(std::chrono::steady_clock::now() - start < 100ms);
}
