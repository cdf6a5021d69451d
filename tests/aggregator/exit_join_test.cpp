// The join of taskstats exit records with connector events: table-driven sequences of events and
// records (in the orders the receiver can deliver them) -> names, counts and costs.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "fake_inspector.h"
#include "aggregator/aggregator.h"
#include "aggregator/aggregator_worker.h"
#include "config/config.h"
#include "naming/group_namer.h"
#include "procfs/procfs_inspector.h"

using namespace procevents;
using aggregator::Aggregator;
using aggregator::AggregatorOptions;
using aggregator::GroupSnapshot;
using aggregator::Snapshot;
using connector::Event;
using connector::EventType;
using taskstats::ExitRecord;

namespace {

using testing::FakeInspector;

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::int32_t kShell = 100;

Event fork_of(std::int32_t parent, std::int32_t child, std::int32_t tgid = 0) {
  Event e;
  e.type = EventType::kFork;
  e.parent_pid = e.parent_tgid = parent;
  e.pid = child;
  e.tgid = tgid ? tgid : child;
  e.timestamp_ns = 1000 * kMs;
  return e;
}
Event exec_of(std::int32_t pid) {
  Event e;
  e.type = EventType::kExec;
  e.pid = e.tgid = pid;
  e.timestamp_ns = 1001 * kMs;
  return e;
}
Event exit_of(std::int32_t pid, std::int32_t tgid = 0, std::uint32_t status = 0) {
  Event e;
  e.type = EventType::kExit;
  e.pid = pid;
  e.tgid = tgid ? tgid : pid;
  e.parent_pid = e.parent_tgid = kShell;
  e.exit_code = status;
  e.timestamp_ns = 1003 * kMs;
  return e;
}
ExitRecord record_of(std::int32_t pid, const char* comm, std::int32_t tgid = 0) {
  ExitRecord r;
  r.pid = pid;
  r.tgid = tgid ? tgid : pid;
  r.ppid = kShell;
  r.uid = 1000;
  r.version = 16;
  r.present = taskstats::present::kMemory | taskstats::present::kStorageIo | taskstats::present::kContextSwitches |
              taskstats::present::kTgid | taskstats::present::kExe;
  std::snprintf(r.comm.data(), r.comm.size(), "%s", comm);
  r.user_cpu_us = 3000;
  r.system_cpu_us = 1000;
  r.peak_rss_kib = 2048;
  r.read_bytes = 4096;
  r.write_bytes = 8192;
  r.voluntary_switches = 2;
  r.involuntary_switches = 1;
  r.exe_dev = 7;
  r.exe_inode = 1000 + std::strlen(comm);
  return r;
}

using Step = std::variant<Event, ExitRecord>;

struct Fixture {
  FakeInspector inspector;
  AggregatorOptions options;
  std::unique_ptr<Aggregator> aggregator;
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
  Fixture() {
    inspector.comms = {{1, "init"}, {kShell, "bash"}};
    options.exit_records_expected = true;
  }
  Aggregator& make(std::shared_ptr<const naming::GroupNamer> namer = nullptr) {
    aggregator = std::make_unique<Aggregator>(options, std::move(namer), inspector);
    aggregator->seed();
    aggregator->tick(now);
    return *aggregator;
  }
  void run(const std::vector<Step>& steps) {
    for (const Step& step : steps) std::visit([&](const auto& item) { aggregator->handle(item); }, step);
  }
  void advance(std::chrono::milliseconds by) {
    now += by;
    aggregator->tick(now);
  }
  Snapshot snap() const {
    Snapshot s;
    aggregator->fill_snapshot(s);
    return s;
  }
};

const GroupSnapshot* group(const Snapshot& s, const std::string& name) {
  for (const auto& g : s.groups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}
std::uint64_t execs(const Snapshot& s, const std::string& name) {
  const GroupSnapshot* g = group(s, name);
  return g ? g->counters.execs : 0;
}
std::uint64_t exits(const Snapshot& s, const std::string& name) {
  const GroupSnapshot* g = group(s, name);
  if (!g) return 0;
  std::uint64_t n = 0;
  for (auto count : g->counters.exits) n += count;
  return n;
}

}  // namespace

TEST_CASE("a process gone before /proc is read is named by its exit record, in every arrival order", "[aggregator][join]") {
  struct Row {
    const char* order;
    std::vector<Step> steps;
  };
  const std::vector<Row> rows = {
      // The receiver's usual order: record before the connector exit of the same task.
      {"exec, record, exit", {fork_of(kShell, 200), exec_of(200), record_of(200, "true"), exit_of(200)}},
      // A record can overtake the exec (queued on the taskstats socket first).
      {"record, exec, exit", {fork_of(kShell, 200), record_of(200, "true"), exec_of(200), exit_of(200)}},
      // Two execs in a row (sh -c 'exec prog'), both gone.
      {"exec, exec, record, exit",
       {fork_of(kShell, 200), exec_of(200), exec_of(200), record_of(200, "true"), exit_of(200)}},
  };
  for (const Row& row : rows) {
    DYNAMIC_SECTION(row.order) {
      Fixture f;
      f.make();
      f.run(row.steps);
      const Snapshot s = f.snap();
      const std::uint64_t expected_execs = row.steps.size() == 5 ? 2 : 1;
      CHECK(execs(s, "true") == expected_execs);
      CHECK(exits(s, "true") == 1);
      CHECK(execs(s, "bash") == 0);
      CHECK(exits(s, "bash") == 0);
      CHECK(group(s, "true")->counters.lifetime.count == 1);
      CHECK(group(s, "true")->live_processes == 0);
      CHECK(group(s, "bash")->live_processes == 1);
      CHECK(s.exit_join.named_from_record == expected_execs);
      CHECK(s.exit_join.joined == 1);
      CHECK(s.exit_join.exits_without_record == 0);
      CHECK(s.exit_join.records_without_exit == 0);
      CHECK(s.exit_join.pending_execs == 0);
      CHECK(s.enrichment_failures[static_cast<std::size_t>(aggregator::EnrichmentFailure::kGone)] == 0);
    }
  }
}

TEST_CASE("without an exit record the held exec falls back to the parent's group", "[aggregator][join]") {
  SECTION("the connector exit arrives without a record") {
    Fixture f;
    f.make();
    f.run({fork_of(kShell, 200), exec_of(200), exit_of(200)});
    const Snapshot s = f.snap();
    CHECK(execs(s, "bash") == 1);
    CHECK(exits(s, "bash") == 1);
    CHECK(s.exit_join.exits_without_record == 1);
    CHECK(s.enrichment_failures[static_cast<std::size_t>(aggregator::EnrichmentFailure::kGone)] == 1);
    CHECK(s.exit_join.pending_execs == 0);
  }
  SECTION("no exit at all: counted when the join timeout passes, not before") {
    Fixture f;
    f.make();
    f.run({fork_of(kShell, 200), exec_of(200)});
    CHECK(execs(f.snap(), "bash") == 0);
    CHECK(f.snap().exit_join.pending_execs == 1);
    f.advance(f.options.join_timeout + std::chrono::milliseconds(1100));
    const Snapshot s = f.snap();
    CHECK(execs(s, "bash") == 1);
    CHECK(s.exit_join.pending_execs == 0);
  }
  SECTION("taskstats off: counted at once, as before") {
    Fixture f;
    f.options.exit_records_expected = false;
    f.make();
    f.run({fork_of(kShell, 200), exec_of(200)});
    CHECK(execs(f.snap(), "bash") == 1);
    f.run({exit_of(200)});
    CHECK(f.snap().exit_join.exits_without_record == 0);
  }
}

TEST_CASE("costs of finished tasks go to their process's group, each task once", "[aggregator][join]") {
  Fixture f;
  f.make();
  f.inspector.comms[300] = "worker";
  f.run({fork_of(kShell, 300), exec_of(300)});
  // Two threads exit while the process lives on, then the process.
  f.run({fork_of(300, 301, 300), record_of(301, "worker-t", 300), exit_of(301, 300)});
  f.run({fork_of(300, 302, 300), record_of(302, "worker-t", 300), exit_of(302, 300)});
  ExitRecord group_aggregate = record_of(300, "worker");
  group_aggregate.scope = taskstats::RecordScope::kThreadGroup;  // overlaps the per-task records: ignored
  f.run({record_of(300, "worker"), group_aggregate, exit_of(300)});
  const Snapshot s = f.snap();
  const GroupSnapshot* worker = group(s, "worker");
  REQUIRE(worker);
  CHECK(worker->counters.cpu_user_us == 3 * 3000);
  CHECK(worker->counters.cpu_system_us == 3 * 1000);
  CHECK(worker->counters.storage_read_bytes == 3 * 4096);
  CHECK(worker->counters.storage_write_bytes == 3 * 8192);
  CHECK(worker->counters.voluntary_switches == 3 * 2);
  CHECK(worker->counters.involuntary_switches == 3);
  // Peak memory is the address space's: one observation, from the process's own record.
  CHECK(worker->counters.peak_rss.count == 1);
  CHECK(worker->counters.peak_rss.sum == 2048.0 * 1024);
  CHECK(s.exit_join.joined == 3);
  CHECK(exits(s, "worker") == 1);
  CHECK(group(s, "bash")->counters.cpu_user_us == 0);
}

TEST_CASE("records no connector exit claims are charged after the timeout and counted", "[aggregator][join]") {
  Fixture f;
  f.make();
  f.inspector.comms[400] = "daemon";
  f.run({fork_of(kShell, 400), exec_of(400), record_of(400, "daemon")});  // its exit event was lost
  CHECK(f.snap().exit_join.records_without_exit == 0);
  f.advance(f.options.join_timeout + std::chrono::milliseconds(1100));
  const Snapshot s = f.snap();
  CHECK(s.exit_join.records_without_exit == 1);
  CHECK(group(s, "daemon")->counters.cpu_user_us == 3000);
  // A record for a task nobody knows is named from the record itself.
  f.run({record_of(999, "stranger")});
  f.advance(f.options.join_timeout + std::chrono::milliseconds(1100));
  CHECK(group(f.snap(), "stranger"));
}

TEST_CASE("exe rules match a vanished process through the binary learned from earlier reads", "[aggregator][join]") {
  Fixture f;
  config::LoadResult loaded = config::load_config_string(
      "process_names:\n  - name: tools\n    exe: [/usr/bin/true]\n  - name: \"{{.Comm}}\"\n    cmdline: ['.*']\n", "t.yml");
  REQUIRE(loaded.config);
  f.make(std::make_shared<const naming::GroupNamer>(*loaded.config));
  // A live run teaches the exporter /usr/bin/true = (7, 1004).
  f.inspector.comms[500] = "true";
  f.run({fork_of(kShell, 500), exec_of(500), record_of(500, "true"), exit_of(500)});
  f.inspector.comms.erase(500);
  // Then a run that is gone before /proc is read, and a renamed copy of another binary.
  f.run({fork_of(kShell, 501), exec_of(501), record_of(501, "true"), exit_of(501)});
  f.run({fork_of(kShell, 502), exec_of(502), record_of(502, "mytrue"), exit_of(502)});
  const Snapshot s = f.snap();
  CHECK(execs(s, "tools") == 2);
  CHECK(execs(s, "mytrue") == 1);
}

TEST_CASE("a vanished process takes the attribution of its parent's cgroup", "[aggregator][join]") {
  Fixture f;
  f.options.attribution[0] = true;  // unit
  f.options.read_cgroup = true;
  f.inspector.cgroups[kShell] = "0::/system.slice/demo.service\n";
  f.make();
  f.run({fork_of(kShell, 600), exec_of(600), record_of(600, "true"), exit_of(600)});
  const Snapshot s = f.snap();
  bool found = false;
  for (const GroupSnapshot& g : s.groups) {
    if (g.name != "true") continue;
    found = true;
    CHECK(g.attribution[0] == "demo.service");
    CHECK(g.counters.execs == 1);
  }
  CHECK(found);
}

TEST_CASE("a vanished process's cmdline is its program alone: catch-alls match, argument patterns do not", "[aggregator][join]") {
  Fixture f;
  config::LoadResult loaded = config::load_config_string(
      "process_names:\n"
      "  - name: with-config\n    cmdline: ['--config']\n"
      "  - name: \"{{.Comm}}\"\n    cmdline: ['.+']\n",
      "t.yml");
  REQUIRE(loaded.config);
  f.make(std::make_shared<const naming::GroupNamer>(*loaded.config));
  f.run({fork_of(kShell, 700), exec_of(700), record_of(700, "quick"), exit_of(700)});
  const Snapshot s = f.snap();
  CHECK(execs(s, "quick") == 1);
  CHECK(execs(s, "with-config") == 0);
  CHECK(execs(s, "other") == 0);
}

TEST_CASE("children: a vanished child no entry names is counted in its named parent's group", "[aggregator][join][children]") {
  for (const bool children : {true, false}) {
    Fixture f;
    f.inspector.comms[300] = "svcd";
    config::LoadResult loaded = config::load_config_string(
        std::string("process_names:\n  - name: svc\n    comm: [svcd]\nchildren: ") + (children ? "true" : "false") + "\n",
        "t.yml");
    REQUIRE(loaded.config);
    f.make(std::make_shared<const naming::GroupNamer>(*loaded.config));
    f.run({fork_of(300, 301), exec_of(301), record_of(301, "true"), exit_of(301)});
    const Snapshot s = f.snap();
    CAPTURE(children);
    CHECK(execs(s, "svc") == (children ? 1 : 0));
    CHECK(execs(s, "other") == (children ? 0 : 1));
  }
}

TEST_CASE("a thread's exit after its leader's does not bring the exited process back", "[aggregator][join]") {
  // The leader exits first and stays a zombie until its last thread is gone; that thread's exit (and
  // its record, charged to the process's group) must not re-adopt the zombie as a live process.
  Fixture f;
  f.make();
  f.inspector.comms[300] = "worker";
  f.run({fork_of(kShell, 300), exec_of(300), fork_of(300, 301, 300)});
  f.inspector.exiting.insert(300);
  f.run({record_of(300, "worker", 300), exit_of(300), record_of(301, "worker", 300), exit_of(301, 300)});
  f.inspector.comms.erase(300);
  const Snapshot s = f.snap();
  CHECK(s.tracked_processes == 2);  // init and bash
  CHECK(group(s, "worker")->live_processes == 0);
  CHECK(group(s, "worker")->counters.cpu_user_us == 6000);  // both tasks' records
}

namespace {
std::shared_ptr<const naming::GroupNamer> namer_of(const char* yaml) {
  config::LoadResult loaded = config::load_config_string(yaml, "t.yml");
  REQUIRE(loaded.config);
  return std::make_shared<const naming::GroupNamer>(*loaded.config);
}
}  // namespace

TEST_CASE("/proc is read for only what names and labels use", "[aggregator]") {
  struct Case {
    const char* what;
    const char* yaml;  // nullptr: no namer (names are comm)
    bool user_label;
    procfs::ReadParts expected;
  };
  const Case cases[] = {
      {"no namer", nullptr, false, {false, false, false, false}},
      {"built-in: one group per comm", "{}\n", false, {false, false, false, false}},
      {"catch-all cmdline", "process_names:\n  - name: x\n    cmdline: ['.+']\n", false, {false, false, false, false}},
      {"cmdline pattern", "process_names:\n  - name: x\n    cmdline: ['--flag']\n", false, {true, false, false, false}},
      {"exe selector (argv[0] too)", "process_names:\n  - name: x\n    exe: [sh]\n", false, {true, true, true, false}},
      {"ExeBase", "process_names:\n  - name: '{{.ExeBase}}'\n    comm: [sh]\n", false, {true, true, true, false}},
      {"Username", "process_names:\n  - name: '{{.Username}}'\n    comm: [sh]\n", false, {false, false, false, true}},
      {"user label", "{}\n", true, {false, false, false, true}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Fixture f;
    f.options.attribution[3] = c.user_label;
    f.make(c.yaml ? namer_of(c.yaml) : nullptr);
    CHECK(f.inspector.parts.cmdline == c.expected.cmdline);
    CHECK(f.inspector.parts.exe == c.expected.exe);
    CHECK(f.inspector.parts.exe_identity == c.expected.exe_identity);
    CHECK(f.inspector.parts.uids == c.expected.uids);
  }
  // A reload asks again.
  Fixture f;
  f.make();
  CHECK_FALSE(f.inspector.parts.cmdline);
  f.aggregator->set_namer(namer_of("process_names:\n  - name: x\n    cmdline: ['a']\n"), {});
  CHECK(f.inspector.parts.cmdline);
}

TEST_CASE("the aggregator's own timer is due only while execs or exit records wait, or for the audit", "[aggregator][join]") {
  Fixture f;
  f.options.audit_interval = std::chrono::milliseconds(0);
  Aggregator& a = f.make();
  CHECK_FALSE(a.next_tick_due());  // at rest: nothing to wake up for
  f.run({fork_of(kShell, 800), exec_of(800)});  // gone before /proc is read: its exec is held
  REQUIRE(a.next_tick_due());
  CHECK(*a.next_tick_due() <= f.now + std::chrono::seconds(1));
  f.run({record_of(800, "quick"), exit_of(800)});
  CHECK_FALSE(a.next_tick_due());
  f.run({record_of(801, "stranger")});  // a record no exit claims (yet)
  CHECK(a.next_tick_due());
  f.advance(f.options.join_timeout + std::chrono::milliseconds(1100));
  CHECK_FALSE(a.next_tick_due());
  // With the self-audit on, its next pass is due: one timer of seconds at rest.
  Fixture audited;
  audited.options.audit_interval = std::chrono::seconds(30);
  Aggregator& b = audited.make();
  b.audit(audited.now);
  REQUIRE(b.next_tick_due());
  CHECK(*b.next_tick_due() <= audited.now + std::chrono::seconds(30));
  CHECK(*b.next_tick_due() > audited.now);
}

TEST_CASE("rates caught up after a quiet gap count the events where they happened", "[aggregator]") {
  Fixture f;
  f.make();
  for (int i = 0; i < 60; ++i) f.run({fork_of(kShell, 2000 + i)});
  f.advance(std::chrono::seconds(1));   // the worker's tick after the batch: too early to update
  f.advance(std::chrono::seconds(59));  // the next scrape, a minute later
  const double busy = 1, quiet = 59, window = 60;
  const double expected = 60 / busy * -std::expm1(-busy / window) * std::exp(-quiet / window);
  CHECK(f.snap().rates[0][0] == Approx(expected));
  // Quiet from then on: only decay, the same in one step as in many.
  f.advance(std::chrono::seconds(300));
  CHECK(f.snap().rates[0][0] == Approx(expected * std::exp(-300 / window)));
}

TEST_CASE("the worker sleeps without a timer at rest, handles what it is woken for or a snapshot needs, and stops promptly",
          "[aggregator]") {
  FakeInspector inspector;
  inspector.comms = {{1, "init"}, {kShell, "bash"}};
  auto ring = receiver::EventRing::create(64);
  REQUIRE(ring);
  auto worker = std::make_unique<aggregator::AggregatorWorker>(
      std::make_unique<Aggregator>(AggregatorOptions{}, nullptr, inspector), *ring, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // asleep, with no time limit
  REQUIRE(ring->try_push(receiver::PipelineItem(fork_of(kShell, 900))));
  ring->notify_consumer();
  // Read under the worker's lock without a snapshot's catch-up: only the wake-up made it handle it.
  const auto handled = [&] {
    Snapshot s;
    worker->with_aggregator([&](Aggregator& a) { a.fill_snapshot(s); });
    return s.events_processed;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (handled() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(handled() == 1);
  // Pushed without waking it (the receiver waits up to its batch delay): a snapshot still sees it.
  REQUIRE(ring->try_push(receiver::PipelineItem(fork_of(kShell, 901))));
  CHECK(worker->snapshot().events_processed == 2);
  const auto start = std::chrono::steady_clock::now();
  worker.reset();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("the built-in grouping tells kernel threads from processes without reading command lines", "[aggregator]") {
  Fixture f;
  f.inspector.comms[2] = "kthreadd";
  f.inspector.argvs[2] = {};  // a kernel thread
  f.make(namer_of("{}\n"));
  CHECK_FALSE(f.inspector.parts.cmdline);
  const Snapshot s = f.snap();
  CHECK(group(s, "bash"));
  CHECK_FALSE(group(s, "kthreadd"));  // unmatched: counted in "other"
  CHECK(group(s, "other"));
}
