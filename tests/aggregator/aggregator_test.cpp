// Table-driven tests: synthetic event sequences -> exact counters, gauges and histograms.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <string>

#include "fake_inspector.h"
#include "snapshot_lookup.h"
#include "aggregator/aggregator.h"
#include "aggregator/process_table.h"
#include "config/config.h"
#include "naming/group_namer.h"
#include "procfs/procfs_inspector.h"

using namespace procevents;
using aggregator::Aggregator;
using aggregator::AggregatorOptions;
using aggregator::DriftKind;
using aggregator::kDriftKindCount;
using aggregator::ExitOutcome;
using aggregator::GroupSnapshot;
using aggregator::Snapshot;
using connector::Event;
using connector::EventType;

namespace {

using testing::FakeInspector;
using testing::group;

constexpr std::uint64_t kSecond = 1'000'000'000;

Event fork_event(std::int32_t parent, std::int32_t child, std::uint64_t t, std::int32_t child_tgid = 0) {
  Event e;
  e.type = EventType::kFork;
  e.parent_pid = e.parent_tgid = parent;
  e.pid = child;
  e.tgid = child_tgid ? child_tgid : child;
  e.timestamp_ns = t;
  return e;
}
Event exec_event(std::int32_t pid, std::uint64_t t) {
  Event e;
  e.type = EventType::kExec;
  e.pid = e.tgid = pid;
  e.timestamp_ns = t;
  return e;
}
Event exit_event(std::int32_t pid, std::uint32_t raw_status, std::uint64_t t, std::int32_t tgid = 0) {
  Event e;
  e.type = EventType::kExit;
  e.pid = pid;
  e.tgid = tgid ? tgid : pid;
  e.exit_code = raw_status;
  e.timestamp_ns = t;
  return e;
}
Event simple(EventType type, std::int32_t pid) {
  Event e;
  e.type = type;
  e.pid = e.tgid = pid;
  return e;
}

struct Fixture {
  FakeInspector inspector;
  AggregatorOptions options;
  std::unique_ptr<Aggregator> aggregator;
  Fixture() { inspector.comms = {{1, "init"}, {100, "bash"}}; }
  Aggregator& make(std::shared_ptr<const naming::GroupNamer> namer = nullptr) {
    aggregator = std::make_unique<Aggregator>(options, std::move(namer), inspector);
    aggregator->seed();
    return *aggregator;
  }
  Snapshot snap() const {
    Snapshot s;
    aggregator->fill_snapshot(s);
    return s;
  }
};

}  // namespace

TEST_CASE("fork, exec and exit of a process give exact counters and a lifetime", "[aggregator]") {
  Fixture f;
  Aggregator& a = f.make();
  a.handle(fork_event(100, 200, 10 * kSecond));
  f.inspector.comms[200] = "ls";
  a.handle(exec_event(200, 10 * kSecond + 1000));
  a.handle(exit_event(200, 0, 12 * kSecond + 500'000'000));  // lived 2.5 s

  const Snapshot s = f.snap();
  const GroupSnapshot* bash = group(s, "bash");
  const GroupSnapshot* ls = group(s, "ls");
  REQUIRE(bash);
  REQUIRE(ls);
  CHECK(bash->counters.forks_process == 1);
  CHECK(ls->counters.execs == 1);
  CHECK(ls->counters.exits[static_cast<int>(ExitOutcome::kSuccess)] == 1);
  CHECK(ls->counters.lifetime.count == 1);
  CHECK(ls->counters.lifetime.sum == Approx(2.5));
  // Buckets 0.001 0.01 0.1 1 10 ...: 2.5 s lands in the le=10 bucket (index 4).
  CHECK(ls->counters.lifetime.buckets[4] == 1);
  CHECK(ls->live_processes == 0);
  CHECK(bash->live_processes == 1);
  CHECK(s.tracked_processes == 2);  // init and bash, seeded
}

TEST_CASE("exit statuses map to outcomes and signals", "[aggregator]") {
  struct Row {
    std::uint32_t raw;
    ExitOutcome outcome;
    int signal;
  };
  const Row rows[] = {
      {0, ExitOutcome::kSuccess, 0},
      {3 << 8, ExitOutcome::kFailure, 0},
      {255 << 8, ExitOutcome::kFailure, 0},
      {9, ExitOutcome::kSignal, 9},            // SIGKILL
      {11 | 0x80, ExitOutcome::kSignal, 11},   // SIGSEGV with core dump
      {6, ExitOutcome::kSignal, 6},            // SIGABRT
  };
  for (const Row& row : rows) {
    Fixture f;
    Aggregator& a = f.make();
    a.handle(fork_event(100, 300, kSecond));
    a.handle(exit_event(300, row.raw, 2 * kSecond));
    const Snapshot s = f.snap();
    const GroupSnapshot* bash = group(s, "bash");
    REQUIRE(bash);
    CAPTURE(row.raw);
    CHECK(bash->counters.exits[static_cast<int>(row.outcome)] == 1);
    if (row.signal) CHECK(bash->counters.signal_exits[row.signal] == 1);
  }
}

TEST_CASE("non-leader thread fork and exit are thread events, not process events", "[aggregator]") {
  Fixture f;
  Aggregator& a = f.make();
  // Thread 101 of process 100; the kernel names the process's parent (1) as "parent".
  a.handle(fork_event(1, 101, kSecond, 100));
  a.handle(exit_event(101, 0, 2 * kSecond, 100));
  const Snapshot s = f.snap();
  CHECK(group(s, "bash")->counters.forks_thread == 1);
  CHECK(group(s, "bash")->counters.exits[0] == 0);
  CHECK(group(s, "init")->counters.forks_process == 0);
  CHECK(group(s, "bash")->live_processes == 1);
}

TEST_CASE("seeded processes count as live but their exits have no lifetime", "[aggregator]") {
  Fixture f;
  Aggregator& a = f.make();
  a.handle(exit_event(100, 0, 5 * kSecond));
  const Snapshot s = f.snap();
  const GroupSnapshot* bash = group(s, "bash");
  CHECK(bash->counters.exits[0] == 1);
  CHECK(bash->counters.lifetime.count == 0);
  CHECK(bash->live_processes == 0);
}

TEST_CASE("exits of unknown pids are grouped from /proc, else the parent, else unknown", "[aggregator]") {
  Fixture f;
  Aggregator& a = f.make();
  f.inspector.comms[500] = "zombie";  // still readable
  a.handle(exit_event(500, 0, kSecond));
  Event orphan = exit_event(600, 1 << 8, kSecond);
  orphan.parent_pid = orphan.parent_tgid = 100;  // parent bash is known
  a.handle(orphan);
  a.handle(exit_event(700, 0, kSecond));  // nothing known at all
  const Snapshot s = f.snap();
  CHECK(group(s, "zombie")->counters.exits[0] == 1);
  CHECK(group(s, "bash")->counters.exits[1] == 1);
  CHECK(group(s, "unknown")->counters.exits[0] == 1);
  CHECK(s.enrichment_failures[static_cast<int>(aggregator::EnrichmentFailure::kGone)] == 2);
}

TEST_CASE("a reused pid replaces the stale process without double counting", "[aggregator]") {
  Fixture f;
  Aggregator& a = f.make();
  a.handle(fork_event(100, 200, kSecond));
  // The exit of 200 was missed; the pid comes back as a new child of init.
  a.handle(fork_event(1, 200, 5 * kSecond));
  const Snapshot s = f.snap();
  CHECK(group(s, "bash")->live_processes == 1);  // only bash itself
  CHECK(group(s, "init")->live_processes == 2);  // init and the new 200
  CHECK(s.tracked_processes == 3);
}

TEST_CASE("a full process table evicts and counts it", "[aggregator]") {
  Fixture f;
  f.options.max_processes = 3;
  Aggregator& a = f.make();  // init, bash
  a.handle(fork_event(100, 201, kSecond));
  a.handle(fork_event(100, 202, kSecond));
  a.handle(fork_event(100, 203, kSecond));
  const Snapshot s = f.snap();
  CHECK(s.tracked_processes == 3);
  // Which resident is evicted is arbitrary; evicting bash itself makes its next fork re-identify it.
  CHECK(s.table_evictions >= 2);
  std::int64_t live = 0;
  for (const auto& g : s.groups) live += g.live_processes;
  CHECK(live == 3);
}

TEST_CASE("groups beyond max_groups overflow into other", "[aggregator]") {
  Fixture f;
  f.options.max_groups = 3;  // init, bash, and one more
  Aggregator& a = f.make();
  for (int i = 0; i < 3; ++i) {
    const std::int32_t pid = 300 + i;
    a.handle(fork_event(100, pid, kSecond));
    f.inspector.comms[pid] = "prog" + std::to_string(i);
    a.handle(exec_event(pid, kSecond));
  }
  const Snapshot s = f.snap();
  CHECK(group(s, "prog0"));
  CHECK_FALSE(group(s, "prog1"));
  REQUIRE(group(s, "other"));
  CHECK(group(s, "other")->counters.execs == 2);
  CHECK(s.group_overflows == 2);
}

TEST_CASE("exec and comm renames move the process to its new group", "[aggregator]") {
  Fixture f;
  Aggregator& a = f.make();
  a.handle(fork_event(100, 400, kSecond));
  f.inspector.comms[400] = "python3";
  a.handle(exec_event(400, kSecond));
  Event rename = simple(EventType::kComm, 400);
  std::memcpy(rename.comm.data(), "worker", 7);
  a.handle(rename);
  const Snapshot s = f.snap();
  CHECK(group(s, "python3")->live_processes == 0);
  CHECK(group(s, "python3")->counters.comm_changes == 1);
  CHECK(group(s, "worker")->live_processes == 1);
  CHECK(group(s, "bash")->live_processes == 1);
}

TEST_CASE("uid, gid, sid, ptrace and coredump events count on the process's group", "[aggregator]") {
  Fixture f;
  Aggregator& a = f.make();
  Event to_root = simple(EventType::kUid, 100);
  to_root.effective_id = 0;
  Event to_user = simple(EventType::kUid, 100);
  to_user.effective_id = 1000;
  Event attach = simple(EventType::kPtrace, 100);
  attach.parent_pid = attach.parent_tgid = 1;
  const Event detach = simple(EventType::kPtrace, 100);
  for (const Event& e : {to_root, to_user, simple(EventType::kGid, 100), simple(EventType::kSid, 100), attach, detach,
                         simple(EventType::kCoredump, 100)}) {
    a.handle(e);
  }
  const Snapshot s = f.snap();
  const auto& c = group(s, "bash")->counters;
  CHECK(c.uid_changes_to_root == 1);
  CHECK(c.uid_changes_to_nonroot == 1);
  CHECK(c.gid_changes == 1);
  CHECK(c.sid_changes == 1);
  CHECK(c.ptrace_attach == 1);
  CHECK(c.ptrace_detach == 1);
  CHECK(c.coredumps == 1);
}

TEST_CASE("resync drops vanished processes and adopts unseen ones", "[aggregator]") {
  Fixture f;
  Aggregator& a = f.make();
  f.inspector.comms.erase(100);
  f.inspector.comms[900] = "newcomer";
  a.resync();
  const Snapshot s = f.snap();
  CHECK(group(s, "bash")->live_processes == 0);
  CHECK(group(s, "newcomer")->live_processes == 1);
  CHECK(s.tracked_processes == 2);
  CHECK(s.resyncs == 1);
}

TEST_CASE("zombies found at start-up or at a resync are not counted live", "[aggregator]") {
  // Their exit event came before we looked (or is on its way): no later event would ever end them.
  Fixture f;
  f.inspector.comms[300] = "defunct";
  f.inspector.exiting.insert(300);
  Aggregator& a = f.make();
  CHECK(f.snap().tracked_processes == 2);  // init and bash
  f.inspector.comms[301] = "defunct";
  f.inspector.exiting.insert(301);
  a.resync();
  CHECK(f.snap().tracked_processes == 2);
  // An exit event that was on its way still counts the exit, and no live process goes negative.
  a.handle(exit_event(300, 0, kSecond));
  f.inspector.comms.erase(300);
  f.inspector.comms.erase(301);
  const Snapshot s = f.snap();
  REQUIRE(group(s, "defunct"));
  CHECK(group(s, "defunct")->live_processes == 0);
  CHECK(group(s, "defunct")->counters.exits[static_cast<int>(ExitOutcome::kSuccess)] == 1);
}

namespace {
std::shared_ptr<const naming::GroupNamer> namer_from(const std::string& yaml) {
  const config::LoadResult loaded = config::load_config_string(yaml, "t.yml");
  REQUIRE(loaded.config);
  return std::make_shared<const naming::GroupNamer>(*loaded.config);
}
}  // namespace

TEST_CASE("children: unmatched descendants of a named process count in its group", "[aggregator][children]") {
  // process-exporter's -children: a process no entry names joins its parent's group when an entry
  // (or, through its own parent, this rule) named the parent; "other" and ignored parents pass nothing on.
  struct Row {
    const char* name;
    const char* extra_config;
    std::int64_t svc, other;  // live processes after start-up
    std::int64_t svc_after, other_after;  // after a named and an unnamed parent each start a curl
  };
  const Row rows[] = {
      {"children on (the default)", "", 5, 2, 6, 3},
      {"children off", "children: false\n", 2, 5, 2, 7},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      Fixture f;
      // 200 svcd > 201 sleep > 202 sh; 300 svcd > 150 helper (a child listed before its parent: pids wrap).
      f.inspector.comms = {{1, "init"}, {100, "bash"}, {200, "svcd"}, {201, "sleep"}, {202, "sh"}, {300, "svcd"}, {150, "helper"}};
      f.inspector.ppids = {{100, 1}, {200, 1}, {201, 200}, {202, 201}, {300, 1}, {150, 300}};
      Aggregator& a = f.make(namer_from("process_names:\n  - name: svc\n    comm: [svcd]\n" + std::string(row.extra_config)));
      Snapshot s = f.snap();
      CHECK(group(s, "svc")->live_processes == row.svc);
      CHECK(group(s, "other")->live_processes == row.other);

      for (const auto& [parent, child] : {std::pair{200, 210}, std::pair{100, 110}}) {
        a.handle(fork_event(parent, child, 10 * kSecond));
        f.inspector.comms[child] = "curl";
        f.inspector.ppids[child] = parent;
        a.handle(exec_event(child, 10 * kSecond + 1000));
      }
      s = f.snap();
      CHECK(group(s, "svc")->live_processes == row.svc_after);
      CHECK(group(s, "other")->live_processes == row.other_after);
      CHECK(group(s, "svc")->counters.execs == static_cast<std::uint64_t>(row.svc_after - row.svc));
    }
  }
}

TEST_CASE("children: a matching rule wins over the parent's group", "[aggregator][children]") {
  Fixture f;
  f.inspector.comms = {{1, "init"}, {200, "svcd"}, {201, "python3"}};
  f.inspector.ppids = {{200, 1}, {201, 200}};
  f.make(namer_from("process_names:\n  - name: svc\n    comm: [svcd]\n  - name: py\n    comm: [python3]\nunmatched: ignore\n"));
  const Snapshot s = f.snap();
  CHECK(group(s, "svc")->live_processes == 1);
  CHECK(group(s, "py")->live_processes == 1);
  CHECK_FALSE(group(s, "other"));  // init: ignored
}

TEST_CASE("self-audit: drift seen on two passes is counted and corrected, fresh differences are not", "[aggregator]") {
  Fixture f;
  f.options.audit_interval = std::chrono::seconds(30);
  f.inspector.comms[300] = "zombie";  // e.g. a process whose exit predates start-up
  Aggregator& a = f.make();
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  a.audit(t0);
  CHECK(f.snap().audit.audits == 1);

  // Injected drift: a process vanishes and another appears, without any event.
  f.inspector.comms.erase(300);
  f.inspector.comms[900] = "unseen";
  a.audit(t0 + std::chrono::seconds(29));  // not due yet
  CHECK(f.snap().audit.audits == 1);
  a.audit(t0 + std::chrono::seconds(30));  // first sight: suspects only (their events may be on the way)
  Snapshot s = f.snap();
  CHECK(s.audit.audits == 2);
  CHECK(s.audit.drift == std::array<std::uint64_t, kDriftKindCount>{0, 0});
  CHECK(group(s, "zombie")->live_processes == 1);

  a.audit(t0 + std::chrono::seconds(30) + Aggregator::kAuditConfirmDelay);  // confirmation comes early
  s = f.snap();
  CHECK(s.audit.audits == 3);
  CHECK(s.audit.drift[static_cast<std::size_t>(DriftKind::kStale)] == 1);
  CHECK(s.audit.drift[static_cast<std::size_t>(DriftKind::kMissing)] == 1);
  CHECK(s.audit.corrected == 2);
  CHECK(group(s, "zombie")->live_processes == 0);
  CHECK(group(s, "unseen")->live_processes == 1);
  CHECK(s.tracked_processes == 3);
  CHECK(s.resyncs == 0);

  // Corrected: later passes find nothing.
  a.audit(t0 + std::chrono::seconds(70));
  a.audit(t0 + std::chrono::seconds(110));
  CHECK(f.snap().audit.corrected == 2);
}

TEST_CASE("self-audit: differences explained by events before the next pass are not drift", "[aggregator]") {
  Fixture f;
  f.options.audit_interval = std::chrono::seconds(30);
  Aggregator& a = f.make();
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  f.inspector.comms[200] = "child";  // forked, its event still in the ring
  f.inspector.comms.erase(100);      // exited, its event still in the ring
  a.audit(t0);
  a.handle(fork_event(1, 200, 10 * kSecond));
  a.handle(exit_event(100, 0, 11 * kSecond));
  f.inspector.comms[400] = "zombie";  // exited and counted, not yet reaped: listed but exiting
  f.inspector.exiting.insert(400);
  a.handle(fork_event(1, 400, 12 * kSecond));
  a.handle(exit_event(400, 0, 13 * kSecond));
  a.audit(t0 + Aggregator::kAuditConfirmDelay);
  a.audit(t0 + Aggregator::kAuditConfirmDelay * 2);
  const Snapshot s = f.snap();
  CHECK(s.audit.drift == std::array<std::uint64_t, kDriftKindCount>{0, 0});
  CHECK(s.audit.corrected == 0);
}

TEST_CASE("threads that outlive their process's exit event do not track the exited process again", "[aggregator]") {
  // exit_group: the leader's exit event may come before its threads' (found by the self-audit).
  Fixture f;
  Aggregator& a = f.make();
  a.handle(fork_event(100, 700, 10 * kSecond));
  f.inspector.comms[700] = "python3";
  a.handle(exec_event(700, 10 * kSecond + 1000));
  a.handle(exit_event(700, 0, 11 * kSecond));
  f.inspector.exiting.insert(700);  // a zombie until its last thread is gone
  a.handle(fork_event(700, 702, 11 * kSecond + 10, 700));  // a thread created meanwhile
  a.handle(exit_event(701, 0, 11 * kSecond + 20, 700));
  const Snapshot s = f.snap();
  CHECK(group(s, "python3")->live_processes == 0);
  CHECK(group(s, "python3")->counters.forks_thread == 1);
  CHECK(s.tracked_processes == 2);
}

TEST_CASE("self-audit: processes hidden by hidepid are alive, not stale", "[aggregator]") {
  Fixture f;
  f.options.audit_interval = std::chrono::seconds(30);
  Aggregator& a = f.make();
  a.handle(fork_event(1, 500, 10 * kSecond));
  f.inspector.hidden.insert(500);  // /proc does not list it, but the pid exists
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  for (int pass = 0; pass < 3; ++pass) a.audit(t0 + std::chrono::seconds(30) * pass);
  const Snapshot s = f.snap();
  CHECK(s.audit.audits == 3);
  CHECK(s.audit.drift == std::array<std::uint64_t, kDriftKindCount>{0, 0});
  CHECK(s.tracked_processes == 3);
}

TEST_CASE("rates follow an exponentially weighted average", "[aggregator]") {
  Fixture f;
  Aggregator& a = f.make();
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  a.tick(t0);
  for (int i = 0; i < 50; ++i) a.handle(fork_event(100, 1000 + i, kSecond));
  a.tick(t0 + std::chrono::seconds(5));
  const Snapshot s = f.snap();
  const double rate = 50.0 / 5.0;
  CHECK(s.rates[0][0] == Approx(rate * (1 - std::exp(-5.0 / 60))));
  CHECK(s.rates[0][2] == Approx(rate * (1 - std::exp(-5.0 / 900))));
}

TEST_CASE("attribution labels: the effective uid's user, and cgroup names made valid UTF-8", "[aggregator]") {
  Fixture f;
  f.options.read_cgroup = true;
  f.options.attribution = {true, false, false, true};  // unit, user
  // An unprivileged user names cgroups freely below their delegated user@.service.
  f.inspector.comms[300] = "app";
  f.inspector.euids[300] = 1000;
  f.inspector.cgroups[300] = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/bad\xff.service\n";
  Aggregator& a = f.make();
  a.handle(exec_event(300, kSecond));
  const Snapshot s = f.snap();
  const GroupSnapshot* app = group(s, "app");
  REQUIRE(app);
  CHECK(app->attribution[3] == "user1000");
  CHECK(app->attribution[0] == "bad\xef\xbf\xbd.service");
}

TEST_CASE("process table survives heavy churn with backward-shift deletion", "[aggregator]") {
  aggregator::ProcessTable table(1000);
  std::map<std::int32_t, std::uint32_t> model;
  std::uint32_t state = 12345;
  for (int step = 0; step < 200000; ++step) {
    state = state * 1103515245u + 12345u;
    const auto pid = static_cast<std::int32_t>(1 + (state >> 8) % 3000);
    if ((state >> 4) & 1) {
      if (model.size() < 1000 || model.count(pid)) {
        table.upsert({pid, static_cast<std::uint32_t>(step), 0});
        model[pid] = static_cast<std::uint32_t>(step);
      }
    } else {
      CHECK(table.erase(pid) == (model.erase(pid) == 1));
    }
  }
  CHECK(table.size() == model.size());
  for (const auto& [pid, value] : model) {
    const auto* entry = table.find(pid);
    REQUIRE(entry);
    CHECK(entry->group == value);
  }
}
