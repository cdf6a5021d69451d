#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/unique_fd.h"
#include "live/live_collector.h"

using namespace procevents;
using procfs::UsageCounter;

namespace {

/// A scratch proc root with hand-written stat/io/limits files.
class FakeProc {
 public:
  FakeProc() {
    char path[] = "/tmp/live-fixture-XXXXXX";
    REQUIRE(::mkdtemp(path) != nullptr);
    root_ = path;
  }
  ~FakeProc() { std::system(("rm -rf " + root_).c_str()); }
  const std::string& root() const { return root_; }

  /// utime/stime in ticks, rss in pages, threads, start ticks.
  void process(int pid, char state, std::uint64_t utime, std::uint64_t stime, std::uint64_t threads,
               std::uint64_t start, std::uint64_t rss_pages, std::uint64_t read_bytes = 0) {
    const std::string dir = root_ + "/" + std::to_string(pid);
    ::mkdir(dir.c_str(), 0755);
    ::mkdir((dir + "/fd").c_str(), 0755);
    write(dir + "/stat", std::to_string(pid) + " (p) " + state + " 1 1 1 0 -1 0 100 0 3 0 " + std::to_string(utime) + " " +
                             std::to_string(stime) + " 0 0 20 0 " + std::to_string(threads) + " 0 " + std::to_string(start) +
                             " 8192 " + std::to_string(rss_pages) + "\n");
    write(dir + "/io", "read_bytes: " + std::to_string(read_bytes) + "\nwrite_bytes: 0\n");
    write(dir + "/limits", "Max open files            8                 8               files     \n");
    write(dir + "/fd/0", "");
    write(dir + "/fd/1", "");
  }
  void remove(int pid) { std::system(("rm -rf " + root_ + "/" + std::to_string(pid)).c_str()); }

 static void write(const std::string& path, const std::string& text) {
    const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    REQUIRE(fd.get() >= 0);
    REQUIRE(::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  }
 private:
  std::string root_;
};

aggregator::Snapshot two_groups() {
  aggregator::Snapshot snapshot;
  snapshot.groups.resize(2);
  snapshot.groups[0].name = "web";
  snapshot.groups[1].name = "db";
  return snapshot;
}

double ticks_to_seconds(std::uint64_t ticks) {
  return static_cast<double>(ticks) / static_cast<double>(procfs::ProcReader::clock_ticks_per_second());
}

}  // namespace

TEST_CASE("LiveCollector sums each group's live processes over what is counted already", "[live]") {
  FakeProc proc;
  proc.process(10, 'S', 300, 100, 4, 50, 10, 4096);
  proc.process(11, 'R', 200, 0, 1, 60, 5, 0);
  proc.process(20, 'Z', 7, 7, 1, 70, 0, 0);
  aggregator::Snapshot snapshot = two_groups();
  snapshot.groups[0].counters.usage[procfs::index(UsageCounter::kCpuUser)] = 1'500'000;  // 1.5 s finished
  snapshot.live = {
      {.pid = 10, .group = 0, .counted = {}},
      {.pid = 11, .group = 0, .counted = procfs::UsageVector{static_cast<std::uint64_t>(ticks_to_seconds(100) * 1e6)}},
      {.pid = 20, .group = 1},
  };
  live::LiveCollector collector({.proc_root = proc.root(), .parts = {.io = true, .fds = true}, .boot_time_seconds = 1000});
  collector.collect(snapshot);
  CHECK(snapshot.live_read);
  const aggregator::LiveFigures& web = snapshot.groups[0].live;
  CHECK(web.usage[procfs::index(UsageCounter::kCpuUser)] == Approx(1.5 + ticks_to_seconds(300) + ticks_to_seconds(100)));
  CHECK(web.usage[procfs::index(UsageCounter::kCpuSystem)] == Approx(ticks_to_seconds(100)));
  CHECK(web.usage[procfs::index(UsageCounter::kReadBytes)] == 4096);
  CHECK(web.usage[procfs::index(UsageCounter::kMinorFaults)] == 200);
  CHECK(web.processes_read == 2);
  CHECK(web.threads == 5);
  CHECK(web.resident_bytes == 15u * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
  CHECK(web.virtual_bytes == 2u * 8192);
  CHECK(web.open_fds == 4);
  CHECK(web.worst_fd_ratio == Approx(0.25));
  CHECK(web.oldest_start_seconds == Approx(1000 + ticks_to_seconds(50)));
  CHECK(web.states[static_cast<std::size_t>(procfs::ProcessState::kSleeping)] == 1);
  CHECK(web.states[static_cast<std::size_t>(procfs::ProcessState::kRunning)] == 1);
  CHECK(snapshot.groups[1].live.states[static_cast<std::size_t>(procfs::ProcessState::kZombie)] == 1);
  CHECK(snapshot.live_read_failures == std::array<std::uint64_t, aggregator::kLiveReadFailureCount>{});
}

TEST_CASE("LiveCollector's counters never go down, whatever the readings do", "[live]") {
  FakeProc proc;
  proc.process(10, 'S', 500, 0, 1, 50, 1);
  aggregator::Snapshot snapshot = two_groups();
  snapshot.live = {{.pid = 10, .group = 0}};
  live::LiveCollector collector({.proc_root = proc.root(), .parts = {}});
  const auto cpu = [&] {
    collector.collect(snapshot);
    return snapshot.groups[0].live.usage[procfs::index(UsageCounter::kCpuUser)];
  };
  const double first = cpu();
  CHECK(first == Approx(ticks_to_seconds(500)));

  // Gone between the snapshot and the read: its live part waits for its exit record.
  proc.remove(10);
  CHECK(cpu() == Approx(first));
  // The record lands, a tick short of the last reading: still no step down, then growth again.
  snapshot.live.clear();
  snapshot.groups[0].counters.usage[procfs::index(UsageCounter::kCpuUser)] = static_cast<std::int64_t>(ticks_to_seconds(499) * 1e6);
  CHECK(cpu() == Approx(first));
  snapshot.groups[0].counters.usage[procfs::index(UsageCounter::kCpuUser)] = static_cast<std::int64_t>(ticks_to_seconds(700) * 1e6);
  CHECK(cpu() == Approx(ticks_to_seconds(700)));
}

TEST_CASE("LiveCollector skips a reused pid and counts what it could not read", "[live]") {
  FakeProc proc;
  proc.process(10, 'S', 500, 0, 1, 900, 1);  // started at tick 900: not the process tracked
  proc.process(11, 'S', 1, 0, 1, 50, 1);
  proc.write(proc.root() + "/11/limits", "Max open files  lots\n");  // malformed: counted, never 0
  aggregator::Snapshot snapshot = two_groups();
  snapshot.live = {{.pid = 10, .group = 0, .started_by_ticks = 100}, {.pid = 11, .group = 1}, {.pid = 12, .group = 7}};
  live::LiveCollector collector({.proc_root = proc.root(), .parts = {.fds = true}});
  collector.collect(snapshot);
  CHECK(snapshot.groups[0].live.processes_read == 0);
  CHECK(snapshot.groups[0].live.usage[procfs::index(UsageCounter::kCpuUser)] == 0);
  // Its fds are unreadable: counted as such, and the rest of it still read.
  CHECK(snapshot.groups[1].live.processes_read == 1);
  CHECK(snapshot.groups[1].live.open_fds == 0);
  using aggregator::LiveReadFailure;
  CHECK(snapshot.live_read_failures[static_cast<std::size_t>(LiveReadFailure::kFds)] == 1);
  CHECK(snapshot.live_read_failures[static_cast<std::size_t>(LiveReadFailure::kProcess)] == 0);  // 12 is gone, not failed
  // Cumulative, like process-exporter's error counters.
  collector.collect(snapshot);
  CHECK(snapshot.live_read_failures[static_cast<std::size_t>(LiveReadFailure::kFds)] == 2);
}
