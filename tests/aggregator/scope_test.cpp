// The scope (`scope:`): processes outside the cgroup subtree are counted nowhere, their forks stay
// out without a read, and the re-check moves processes that crossed the border without an event.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fake_inspector.h"
#include "snapshot_lookup.h"
#include "aggregator/aggregator.h"

using namespace procevents;
using aggregator::Aggregator;
using aggregator::AggregatorOptions;
using aggregator::GroupSnapshot;
using aggregator::RateEvent;
using aggregator::Snapshot;
using connector::Event;
using connector::EventType;
using testing::group;

namespace {

Event event(EventType type, std::int32_t pid, std::int32_t parent = 0) {
  Event e;
  e.type = type;
  e.pid = e.tgid = pid;
  e.parent_pid = e.parent_tgid = parent;
  e.timestamp_ns = 1'000'000'000;
  return e;
}

struct Fixture {
  testing::FakeInspector inspector;
  AggregatorOptions options;
  std::unique_ptr<Aggregator> aggregator;
  Fixture() {
    inspector.comms = {{1, "init"}, {50, "sshd"}, {100, "bash"}};
    inspector.cgroups = {{1, "0::/\n"}, {50, "0::/system.slice/ssh.service\n"}, {100, "0::/pod/c1\n"}};
    options.scope = attribution::CgroupScope("/pod");
    options.audit_interval = std::chrono::milliseconds(0);
  }
  Aggregator& make() {
    aggregator = std::make_unique<Aggregator>(options, nullptr, inspector);
    aggregator->seed();
    return *aggregator;
  }
  Snapshot snap() const {
    Snapshot s;
    aggregator->fill_snapshot(s);
    return s;
  }
  void run(std::int32_t parent, std::int32_t child, const std::string& comm, const std::string& cgroup) {
    aggregator->handle(event(EventType::kFork, child, parent));
    inspector.comms[child] = comm;
    inspector.cgroups[child] = "0::" + cgroup + "\n";
    aggregator->handle(event(EventType::kExec, child));
    aggregator->handle(event(EventType::kExit, child));
  }
};

}  // namespace

TEST_CASE("scope: processes outside the subtree are counted nowhere", "[aggregator][scope]") {
  Fixture f;
  f.make();
  f.run(100, 200, "ls", "/pod/c1");
  f.run(100, 201, "make", "/pod/c2");
  const int before = f.inspector.inspections;
  f.run(50, 300, "secret", "/system.slice/ssh.service");
  CHECK(f.inspector.inspections == before);  // the cgroup alone decided: no other read
  const Snapshot s = f.snap();
  for (const char* outside : {"secret", "sshd", "init"}) {
    CAPTURE(outside);
    CHECK_FALSE(group(s, outside));
  }
  REQUIRE(group(s, "bash"));
  CHECK(group(s, "bash")->counters.forks_process == 2);
  CHECK(group(s, "bash")->live_processes == 1);
  REQUIRE(group(s, "make"));
  CHECK(group(s, "make")->counters.execs == 1);
  CHECK(s.tracked_processes == 3);  // the table follows the host: init, sshd, bash
}

TEST_CASE("scope: a fork outside stays out until its exec reads it in", "[aggregator][scope]") {
  Fixture f;
  Aggregator& a = f.make();
  a.handle(event(EventType::kFork, 400, 50));
  f.inspector.comms[400] = "sshd";
  f.inspector.cgroups[400] = "0::/pod/c1\n";  // moved into the pod before its exec
  a.handle(event(EventType::kUid, 400));       // counted nowhere while out
  CHECK_FALSE(group(f.snap(), "sshd"));
  f.inspector.comms[400] = "worker";
  a.handle(event(EventType::kExec, 400));
  const Snapshot s = f.snap();
  REQUIRE(group(s, "worker"));
  CHECK(group(s, "worker")->live_processes == 1);
  CHECK(group(s, "worker")->counters.execs == 1);
  CHECK_FALSE(group(s, "sshd"));
}

TEST_CASE("scope: the re-check moves processes that crossed the border without an event", "[aggregator][scope]") {
  namespace fs = std::filesystem;
  const fs::path pod = fs::temp_directory_path() / ("scope_watch_test_" + std::to_string(::getpid()));
  fs::create_directories(pod / "c1");
  fs::create_directories(pod / "c2");
  Fixture f;
  f.options.scope_directory = pod.string();
  f.inspector.comms[60] = "mover";
  f.inspector.cgroups[60] = "0::/user.slice\n";
  Aggregator& a = f.make();
  const auto start = std::chrono::steady_clock::now();
  std::ofstream(pod / "c1/cgroup.procs") << "100\n";
  a.audit(start);
  CHECK(group(f.snap(), "bash")->live_processes == 1);
  CHECK_FALSE(group(f.snap(), "mover"));
  // mover is written into c2's cgroup.procs, bash into a cgroup outside.
  f.inspector.cgroups[60] = "0::/pod/c2\n";
  f.inspector.cgroups[100] = "0::/elsewhere\n";
  std::ofstream(pod / "c1/cgroup.procs") << "";
  std::ofstream(pod / "c2/cgroup.procs") << "60\n";
  a.audit(start + std::chrono::milliseconds(1));  // not due yet
  CHECK_FALSE(group(f.snap(), "mover"));
  REQUIRE(a.next_tick_due());
  a.audit(*a.next_tick_due());
  const Snapshot s = f.snap();
  REQUIRE(group(s, "mover"));
  CHECK(group(s, "mover")->live_processes == 1);
  CHECK(group(s, "bash")->live_processes == 0);
  a.handle(event(EventType::kExit, 100));  // gone out: its exit is no longer counted
  CHECK(group(f.snap(), "bash")->counters.exits[static_cast<int>(aggregator::ExitOutcome::kSuccess)] == 0);
  fs::remove_all(pod);
}

TEST_CASE("scope: rates count the processes in the scope only", "[aggregator][scope]") {
  Fixture f;
  Aggregator& a = f.make();
  const auto start = std::chrono::steady_clock::now();
  a.tick(start);
  f.run(50, 300, "secret", "/system.slice/ssh.service");
  f.run(100, 200, "ls", "/pod/c1");
  a.tick(start + Aggregator::kRateTick);
  const Snapshot s = f.snap();
  const auto& forks = s.rates[static_cast<std::size_t>(RateEvent::kFork)];
  const auto& execs = s.rates[static_cast<std::size_t>(RateEvent::kExec)];
  CHECK(forks[0] == Approx(execs[0]));  // one each, not two
  CHECK(forks[0] > 0);
}
