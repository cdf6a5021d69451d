// /proc readers against the running kernel: this process, pid 1, a child running /bin/sleep with
// a known argv (alive, zombie, reaped), pids that do not exist, threads, and unprivileged reads.
#include <catch2/catch.hpp>

#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "procfs/procfs.h"

using namespace procevents::procfs;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> split_nul(const std::string& bytes) {
  std::vector<std::string> out;
  split_cmdline(bytes, out);
  return out;
}

double boottime_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// A child that execs /bin/sleep with argv {"sleep \xff\xfe (x)", "30", "0"}: argv[0] is free text
/// (not UTF-8, with spaces and parentheses) while comm still comes from the file name.
class SleepChild {
 public:
  static constexpr const char* kArgv0 = "sleep \xff\xfe (x)";
  SleepChild() {
    pid_ = ::fork();
    if (pid_ == 0) {
      const char* argv[] = {kArgv0, "30", "0", nullptr};
      ::execv("/bin/sleep", const_cast<char* const*>(argv));
      ::_exit(127);
    }
  }
  ~SleepChild() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  SleepChild(const SleepChild&) = delete;
  SleepChild& operator=(const SleepChild&) = delete;

  pid_t pid() const { return pid_; }
  /// Kills the child and waits until it is a zombie, without reaping it.
  bool make_zombie() {
    if (::kill(pid_, SIGKILL) != 0) return false;
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) == 0;
  }
  bool reap() {
    reaped_ = ::waitpid(pid_, nullptr, 0) == pid_;
    return reaped_;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

}  // namespace

TEST_CASE("this process reads back as itself", "[procfs][live]") {
  ProcReader reader;
  ProcessInfo info;
  REQUIRE(reader.read_process(::getpid(), true, info) == ReadError::kNone);

  std::string comm = read_file("/proc/self/comm");
  if (!comm.empty() && comm.back() == '\n') comm.pop_back();
  CHECK(info.comm == comm);
  CHECK(info.exe == std::filesystem::read_symlink("/proc/self/exe").string());
  CHECK(info.exe.ends_with("procfs_live_test"));
  CHECK(info.cmdline == split_nul(read_file("/proc/self/cmdline")));
  CHECK_FALSE(info.cmdline_truncated);
  CHECK(info.ruid == ::getuid());
  CHECK(info.euid == ::geteuid());
  CHECK(info.ppid == ::getppid());
  CHECK(info.cgroup == read_file("/proc/self/cgroup"));
  // We started after boot and before now.
  const long ticks = ProcReader::clock_ticks_per_second();
  REQUIRE(ticks > 0);
  CHECK(static_cast<double>(info.start_time_ticks) / static_cast<double>(ticks) <= boottime_seconds() + 1);

  std::uint64_t start = 0;
  std::int32_t ppid = 0;
  std::string stat_comm;
  REQUIRE(reader.read_stat(::getpid(), start, ppid, stat_comm) == ReadError::kNone);
  CHECK(start == info.start_time_ticks);
  CHECK(ppid == info.ppid);
  CHECK(stat_comm == info.comm);
}

TEST_CASE("this process's own usage: CPU, memory, start time and descriptors", "[procfs][live]") {
  ProcReader reader;
  const auto boot = reader.read_boot_time();
  REQUIRE(boot);
  std::size_t fds = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++fds;
  }
  const SelfUsage usage = read_self_usage();
  REQUIRE(usage.stat);
  CHECK(usage.stat->cpu_seconds >= 0);
  CHECK(usage.stat->resident_memory_bytes > 0);
  CHECK(usage.stat->virtual_memory_bytes >= usage.stat->resident_memory_bytes);
  CHECK(usage.stat->start_time_seconds >= static_cast<double>(*boot));
  CHECK(usage.stat->start_time_seconds <= static_cast<double>(::time(nullptr)) + 1);
  // directory_iterator's own descriptor was counted above, as read_self_usage leaves its own out.
  REQUIRE(usage.open_fds);
  CHECK(*usage.open_fds + 1 == fds);
  CHECK(usage.max_fds);
}

TEST_CASE("pid 1 reads with comm, stat and cgroup", "[procfs][live]") {
  ProcReader reader;
  ProcessInfo info;
  REQUIRE(reader.read_process(1, true, info) == ReadError::kNone);
  CHECK_FALSE(info.comm.empty());
  CHECK(info.ppid == 0);
  CHECK_FALSE(info.cgroup.empty());
  // exe may be empty even for root: reading it is a ptrace access check (pid 1 of this CI VM holds
  // a capability its root shell lacks, so even root is refused there). The read still succeeds.
  CHECK_FALSE(info.exe.ends_with(" (deleted)"));
}

TEST_CASE("a child running /bin/sleep: argv, exe, parent and start, then a zombie, then gone", "[procfs][live]") {
  ProcReader reader;
  ProcessInfo info;
  const double before = boottime_seconds();
  SleepChild child;
  REQUIRE(child.pid() > 0);

  // Wait for the exec to be complete. The forked copy still shows this test binary; inside execve
  // the new exe and comm are set a moment before the new argv is (cmdline reads empty then); and
  // one read_process() can see the old cmdline and the new exe. So: a read that starts after exe
  // was seen as sleep, with a non-empty cmdline, sees the finished exec.
  const std::string sleep_path = std::filesystem::canonical("/bin/sleep").string();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool exec_seen = false;
  while (std::chrono::steady_clock::now() < deadline) {
    const bool ok = reader.read_process(child.pid(), true, info) == ReadError::kNone;
    if (ok && exec_seen && !info.cmdline.empty()) break;
    exec_seen = ok && info.exe == sleep_path;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(info.exe == sleep_path);
  CHECK(info.comm == "sleep");
  CHECK(info.cmdline == std::vector<std::string>{SleepChild::kArgv0, "30", "0"});
  CHECK(info.ppid == ::getpid());
  CHECK(info.ruid == ::getuid());
  CHECK(info.euid == ::geteuid());
  CHECK(info.cgroup == read_file("/proc/self/cgroup"));  // children start in their parent's cgroup
  const double started = static_cast<double>(info.start_time_ticks) / static_cast<double>(ProcReader::clock_ticks_per_second());
  CHECK(started >= before - 1);
  CHECK(started <= boottime_seconds() + 1);
  const std::uint64_t start_ticks = info.start_time_ticks;

  // A zombie keeps stat (comm, ppid, start) but has no memory (cmdline) and no exe.
  REQUIRE(child.make_zombie());
  REQUIRE(reader.read_process(child.pid(), true, info) == ReadError::kNone);
  CHECK(info.comm == "sleep");
  CHECK(info.cmdline.empty());
  CHECK(info.exe.empty());
  CHECK(info.ppid == ::getpid());
  CHECK(info.start_time_ticks == start_ticks);

  // Reaped: gone. (The pid could in theory be reused at once; the kernel hands out pids in order.)
  REQUIRE(child.reap());
  CHECK(reader.read_process(child.pid(), true, info) == ReadError::kGone);
  std::uint64_t start = 0;
  std::int32_t ppid = 0;
  std::string comm;
  CHECK(reader.read_stat(child.pid(), start, ppid, comm) == ReadError::kGone);
}

TEST_CASE("a pid above pid_max is kGone", "[procfs][live]") {
  const long pid_max = std::stol(read_file("/proc/sys/kernel/pid_max"));
  REQUIRE(pid_max > 0);
  ProcReader reader;
  ProcessInfo info;
  CHECK(reader.read_process(static_cast<std::int32_t>(pid_max + 1), true, info) == ReadError::kGone);
  CHECK(reader.read_process(0x7fffffff, false, info) == ReadError::kGone);
}

TEST_CASE("for_each_pid lists live processes but not threads", "[procfs][live]") {
  std::mutex mutex;
  std::condition_variable done;
  bool stop = false;
  std::atomic<pid_t> tid{0};
  std::thread thread([&] {
    tid = ::gettid();
    std::unique_lock lock(mutex);
    done.wait(lock, [&] { return stop; });
  });
  while (tid == 0) std::this_thread::yield();

  ProcReader reader;
  std::vector<std::int32_t> pids;
  reader.for_each_pid([&](std::int32_t pid) { pids.push_back(pid); });
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  done.notify_all();
  thread.join();

  const auto has = [&](std::int32_t pid) { return std::find(pids.begin(), pids.end(), pid) != pids.end(); };
  CHECK(has(1));
  CHECK(has(::getpid()));
  CHECK_FALSE(has(tid.load()));
  CHECK(pids.size() > 2);
}

TEST_CASE("the kernel fork counter grows with forks and boot time is in the past", "[procfs][live]") {
  ProcReader reader;
  const auto before = reader.read_kernel_forks();
  REQUIRE(before);
  for (int i = 0; i < 3; ++i) {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    REQUIRE(child > 0);
    ::waitpid(child, nullptr, 0);
  }
  const auto after = reader.read_kernel_forks();
  REQUIRE(after);
  CHECK(*after >= *before + 3);

  const auto boot = reader.read_boot_time();
  REQUIRE(boot);
  const auto now = static_cast<std::uint64_t>(::time(nullptr));
  CHECK(*boot <= now);
  CHECK(*boot + static_cast<std::uint64_t>(boottime_seconds()) >= now - 5);  // btime + uptime ~ now
}

TEST_CASE("without ptrace rights exe is empty but the read still succeeds", "[procfs][live]") {
  if (::geteuid() != 0) {
    WARN("running as non-root: reading another user's pid 1 is already unprivileged");
  }
  const pid_t child = ::fork();
  if (child == 0) {
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
                             ::setresuid(65534, 65534, 65534) != 0)) {
      ::_exit(100);
    }
    ProcReader reader;
    ProcessInfo info;
    if (reader.read_process(1, true, info) != ReadError::kNone) ::_exit(1);
    if (!info.exe.empty()) ::_exit(2);  // pid 1 is not ours: no ptrace access, no exe
    if (info.comm.empty()) ::_exit(3);
    ::_exit(0);
  }
  REQUIRE(child > 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("processes exiting during the read are kNone or kGone, never an error", "[procfs][live]") {
  ProcReader reader;
  ProcessInfo info;
  int none = 0, gone = 0, other = 0;
  for (int i = 0; i < 300; ++i) {
    const pid_t child = ::fork();
    if (child == 0) {
      if (i % 2) {
        const char* argv[] = {"true", nullptr};
        ::execv("/bin/true", const_cast<char* const*>(argv));
      }
      ::_exit(0);
    }
    REQUIRE(child > 0);
    // Races the exit (and half the time an exec): any stage may be seen, including the zombie.
    switch (reader.read_process(child, true, info)) {
      case ReadError::kNone: ++none; break;
      case ReadError::kGone: ++gone; break;
      default: ++other; break;
    }
    ::waitpid(child, nullptr, 0);
    CHECK(reader.read_process(child, true, info) == ReadError::kGone);
  }
  CHECK(other == 0);
  CHECK(none + gone == 300);
}
