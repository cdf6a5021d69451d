// Table-driven tests of the aggregator's pieces on their own: the held-exec FIFO, the rates, the
// group registry, the identifier, the exit join and the table audit.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "aggregator/event_rates.h"
#include "aggregator/exit_join.h"
#include "aggregator/group_registry.h"
#include "aggregator/held_execs.h"
#include "aggregator/process_identifier.h"
#include "aggregator/table_audit.h"
#include "config/config.h"
#include "fake_inspector.h"
#include "naming/group_namer.h"

using namespace procevents;
using namespace procevents::aggregator;
using testing::FakeInspector;

namespace {

constexpr std::size_t kUser = 3;  // attribution::kLabels row of "user"
constexpr std::size_t kUnit = 0;  // and of "unit"

std::shared_ptr<const naming::GroupNamer> namer_of(const char* yaml) {
  config::LoadResult loaded = config::load_config_string(yaml, "t.yml");
  REQUIRE(loaded.config);
  return std::make_shared<const naming::GroupNamer>(*loaded.config);
}

GroupRegistryOptions registry_options(std::size_t max_groups, std::size_t label = kAttributionLabelCount,
                                      std::size_t limit = 0) {
  GroupRegistryOptions options{.max_groups = max_groups, .lifetime_buckets = 2, .peak_rss_buckets = 2};
  if (label < kAttributionLabelCount) {
    options.attribution[label] = true;
    options.attribution_limits[label] = limit;
  }
  return options;
}

taskstats::ExitRecord record_of(std::int32_t pid, const char* comm, std::int32_t ppid = 0) {
  taskstats::ExitRecord r;
  r.pid = r.tgid = pid;
  r.ppid = ppid;
  r.user_cpu_us = 10;
  std::snprintf(r.comm.data(), r.comm.size(), "%s", comm);
  return r;
}

/// An exit join with what it works on: comm names, a table of 16, a 3 s timeout.
struct JoinFixture {
  FakeInspector inspector;
  GroupRegistry groups{registry_options(10)};
  ProcessTable table{16};
  ProcessIdentifier identifier{inspector, groups, table, nullptr, false};
  UsageLedger usage{16};
  ExitJoin join;
  explicit JoinFixture(bool records_expected)
      : join({.records_expected = records_expected, .timeout = std::chrono::seconds(3), .peak_rss_bounds = {1.0}},
             table, groups, identifier, usage) {}
};

}  // namespace

TEST_CASE("held execs leave oldest first, by deadline, and a full FIFO hands back its oldest", "[aggregator][held]") {
  struct Case {
    const char* what;
    std::size_t capacity;
    std::vector<std::uint64_t> deadlines;   // pushed in order, tgid = index + 1
    std::vector<std::int32_t> displaced;    // tgids push() handed back
    std::uint64_t now;
    std::vector<std::int32_t> expired;      // tgids pop_expired(now) gives, in order
  };
  const std::vector<Case> cases = {
      {"none due", 4, {10, 20}, {}, 5, {}},
      {"due ones in order", 4, {10, 20, 30}, {}, 20, {1, 2}},
      {"stops at the first not due", 4, {10, 30, 20}, {}, 25, {1}},
      {"full: the oldest makes room", 2, {10, 20, 30}, {1}, 100, {2, 3}},
      {"wraps around", 2, {10, 20, 30, 40}, {1, 2}, 35, {3}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    HeldExecs held(c.capacity);
    std::vector<std::int32_t> displaced;
    for (std::size_t i = 0; i < c.deadlines.size(); ++i) {
      if (auto oldest = held.push({static_cast<std::int32_t>(i + 1), 0, c.deadlines[i]})) displaced.push_back(oldest->tgid);
    }
    CHECK(displaced == c.displaced);
    std::vector<std::int32_t> expired;
    while (auto due = held.pop_expired(c.now)) expired.push_back(due->tgid);
    CHECK(expired == c.expired);
    CHECK(held.size() == c.deadlines.size() - c.displaced.size() - c.expired.size());
  }
}

TEST_CASE("rates: events over their busy span, then decay alone, and no update within a tick", "[aggregator][rates]") {
  struct Case {
    const char* what;
    std::uint64_t events;
    double busy;     // seconds after the first advance when they were seen
    double elapsed;  // seconds to the update
    double expected_1m;
  };
  const double w = 60;
  const std::vector<Case> cases = {
      {"none: zero", 0, 1, 60, 0},
      {"busy second, quiet rest", 60, 1, 60, 60 * -std::expm1(-1 / w) * std::exp(-59 / w)},
      {"busy throughout", 300, 5, 5, 60 * -std::expm1(-5 / w)},
      {"within a tick: not yet", 60, 1, 4, 0},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    EventRates rates;
    const std::chrono::steady_clock::time_point t0{};
    const auto at = [&](double s) { return t0 + std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s)); };
    rates.advance(at(0));
    for (std::uint64_t i = 0; i < c.events; ++i) rates.count(RateEvent::kExec);
    rates.advance(at(c.busy));
    rates.advance(at(c.elapsed));
    CHECK(rates.rates()[static_cast<std::size_t>(RateEvent::kExec)][0] == Approx(c.expected_1m).margin(1e-12));
    CHECK(rates.rates()[static_cast<std::size_t>(RateEvent::kFork)][0] == 0);
  }
}

TEST_CASE("the group registry keys groups by name and labels and overflows to other", "[aggregator][registry]") {
  struct Case {
    const char* what;
    std::size_t max_groups;
    std::vector<const char*> names;  // added in order
    std::vector<GroupId> ids;
    std::uint64_t overflows;
  };
  const std::vector<Case> cases = {
      {"one per name", 3, {"a", "b", "a"}, {0, 1, 0}, 0},
      {"past the limit: other, created then", 1, {"a", "b", "c"}, {0, 1, 1}, 2},
      {"other does not count against the limit", 1, {"other", "a", "b"}, {0, 1, 0}, 1},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    GroupRegistry groups(registry_options(c.max_groups));
    std::vector<GroupId> ids;
    for (const char* name : c.names) ids.push_back(groups.named(name));
    CHECK(ids == c.ids);
    Snapshot s;
    groups.fill(s);
    CHECK(s.group_overflows == c.overflows);
  }
}

TEST_CASE("the registry tells named groups, moves live counts and limits label values", "[aggregator][registry]") {
  GroupRegistry groups(registry_options(10, kUser, 1));
  const GroupId a = groups.named("a"), other = groups.named("other"), unknown = groups.named("unknown");
  struct Named {
    GroupId group;
    bool named;
  };
  for (const Named& n : {Named{a, true}, Named{other, false}, Named{unknown, false}, Named{kIgnoredGroup, false}}) {
    CHECK(groups.is_named(n.group) == n.named);
  }
  ProcessEntry entry{10, a};
  groups.add_live(a);
  groups.move(entry, other);
  groups.move(entry, kIgnoredGroup);  // counted nowhere
  CHECK(entry.group == kIgnoredGroup);
  CHECK(groups.at(a)->live == 0);
  CHECK(groups.at(other)->live == 0);

  struct Label {
    const char* user;
    std::string_view admitted;
  };
  for (const Label& l : {Label{"alice", "alice"}, Label{"bob", "other"}, Label{"alice", "alice"}, Label{"", ""}}) {
    INFO(l.user);
    CHECK(groups.attribution_labels(std::nullopt, nullptr, l.user)[kUser] == l.admitted);
  }
  // Without a user, the base group's label is kept.
  const GroupId alices = groups.find_or_add("a", groups.attribution_labels(std::nullopt, nullptr, "alice"));
  CHECK(groups.attribution_labels(alices, nullptr, std::nullopt)[kUser] == "alice");
  CHECK(alices != a);
}

TEST_CASE("the identifier reads, checks the pid and names, and the parent's cgroup is the caller's", "[aggregator][identifier]") {
  struct Case {
    const char* what;
    const char* yaml;  // null: names are comm
    std::int32_t pid;
    std::uint64_t expected_start_ns;
    bool read;
    EnrichmentFailure failure;
    const char* group;  // when read; null for kIgnoredGroup
    bool parent_cgroup;
  };
  const char* named = "process_names:\n  - name: web\n    comm: [nginx]\n";
  const char* ignore = "unmatched: ignore\nchildren: false\nprocess_names:\n  - name: web\n    comm: [nginx]\n";
  const std::vector<Case> cases = {
      {"comm without rules", nullptr, 20, 0, true, {}, "sh", false},
      {"a rule names it", named, 30, 0, true, {}, "web", false},
      {"unmatched child of a named parent joins it", named, 20, 0, true, {}, "web", false},
      {"unmatched: other", named, 40, 0, true, {}, "other", false},
      {"unmatched: ignore", ignore, 40, 0, true, {}, nullptr, false},
      {"gone", nullptr, 99, 0, false, EnrichmentFailure::kGone, nullptr, false},
      {"pid reused: started 5 s after the fork we know", nullptr, 20, 1'000'000'000, false,
       EnrichmentFailure::kPidReused, nullptr, false},
      {"same process: started with its fork", nullptr, 20, 6'000'000'000, true, {}, "sh", false},
      {"exiting: labelled with its parent's cgroup", nullptr, 50, 0, true, {}, "zombie", true},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    FakeInspector inspector;
    inspector.comms = {{10, "nginx"}, {20, "sh"}, {30, "nginx"}, {40, "cat"}, {50, "zombie"}};
    inspector.ppids = {{20, 10}, {50, 10}};
    inspector.cgroups = {{10, "0::/system.slice/web.service\n"}, {50, "0::/\n"}};
    inspector.exiting = {50};
    inspector.tick_seconds = 0.01;
    inspector.start_ticks = {{20, 600}};  // 6 s after boot
    GroupRegistry groups(registry_options(10, kUnit, 10));
    ProcessTable table(16);
    ProcessIdentifier identifier(inspector, groups, table, c.yaml ? namer_of(c.yaml) : nullptr, false);
    REQUIRE(identifier.reads_cgroup());  // the unit label needs it
    const GroupId parent = c.yaml ? groups.named("web") : groups.named("nginx");
    table.upsert({10, parent});
    Identification id = identifier.read(c.pid, c.expected_start_ns, {});
    REQUIRE(id.read == c.read);
    if (!c.read) {
      CHECK(id.failure == c.failure);
      CHECK_FALSE(id.group);
      continue;
    }
    CHECK(id.relabel_parent == (c.parent_cgroup ? 10 : 0));
    CHECK(table.find(10)->group == parent);  // read() moved nothing
    identifier.name(c.pid, id);
    REQUIRE(id.group);
    if (!c.group) {
      CHECK(*id.group == kIgnoredGroup);
      continue;
    }
    CHECK(groups.at(*id.group)->name == c.group);
    if (c.parent_cgroup) CHECK(groups.at(*id.group)->attribution[kUnit] == "web.service");
  }
}

TEST_CASE("one place decides what the identifier reads", "[aggregator][identifier]") {
  struct Case {
    const char* what;
    const char* yaml;
    std::size_t label;  // enabled attribution label, or kAttributionLabelCount
    bool forced;
    bool cgroup, cmdline, exe, uids;
  };
  const std::vector<Case> cases = {
      {"comm names read stat alone", nullptr, kAttributionLabelCount, false, false, false, false, false},
      {"forced cgroup", nullptr, kAttributionLabelCount, true, true, false, false, false},
      {"unit label", nullptr, kUnit, false, true, false, false, false},
      {"user label", nullptr, kUser, false, false, false, false, true},
      {"names by unit", "process_names:\n  - name: '{{.Unit}}'\n    comm: [x]\n", kAttributionLabelCount, false, true,
       false, false, false},
      {"names by exe", "process_names:\n  - name: x\n    exe: [x]\n", kAttributionLabelCount, false, false, true, true,
       false},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    FakeInspector inspector;
    GroupRegistry groups(registry_options(10, c.label, 10));
    ProcessTable table(4);
    ProcessIdentifier identifier(inspector, groups, table, c.yaml ? namer_of(c.yaml) : nullptr, c.forced);
    CHECK(identifier.reads_cgroup() == c.cgroup);
    CHECK(inspector.parts.cmdline == c.cmdline);
    CHECK(inspector.parts.exe == c.exe);
    CHECK(inspector.parts.uids == c.uids);
    // A reload never turns cgroup reads off once on (the cache stays).
    identifier.set_namer(nullptr);
    CHECK(identifier.reads_cgroup() == c.cgroup);
  }
}

TEST_CASE("the exit join pairs records with exits and settles the rest in time", "[aggregator][join]") {
  struct Case {
    const char* what;
    bool expected;
    bool store;          // a record for pid 20 arrives
    bool claim;          // pid 20's connector exit arrives
    std::uint64_t wait;  // ns after the record, then expire()
    ExitJoinStats stats;
    std::uint64_t charged_us;  // to pid 20's group
  };
  constexpr std::uint64_t kSec = 1'000'000'000;
  const std::vector<Case> cases = {
      {"joined", true, true, true, 0, {.joined = 1}, 0},
      {"exit without record", true, false, true, 0, {.exits_without_record = 1}, 0},
      {"not expected: not counted", false, false, true, 0, {}, 0},
      {"record waits within the timeout", true, true, false, 2 * kSec, {}, 0},
      {"record unclaimed past the timeout: charged", true, true, false, 4 * kSec, {.records_without_exit = 1}, 10},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    JoinFixture f(c.expected);
    auto& [inspector, groups, table, identifier, usage, join] = f;
    const GroupId sh = groups.named("sh");
    table.upsert({20, sh});
    join.expire(10 * kSec);
    if (c.store) join.store(record_of(20, "sh"));
    if (c.claim) CHECK(join.claim(20).has_value() == c.store);
    join.expire(10 * kSec + c.wait);
    CHECK(join.stats().joined == c.stats.joined);
    CHECK(join.stats().exits_without_record == c.stats.exits_without_record);
    CHECK(join.stats().records_without_exit == c.stats.records_without_exit);
    CHECK(groups.at(sh)->counters.cpu_user_us == c.charged_us);
    CHECK(join.waiting_count() == (c.store && !c.claim && c.stats.records_without_exit == 0 ? 1u : 0u));
  }
}

TEST_CASE("a held exec is counted where its record names it, or where it is when time is up", "[aggregator][join]") {
  struct Case {
    const char* what;
    bool record;    // its exit record came
    bool time_up;   // else: settled at its exit
    const char* counted_in;
    std::uint64_t named_from_record, gone;
  };
  const std::vector<Case> cases = {
      {"record names it", true, false, "cat", 1, 0},
      {"no record: inherited group, gone", false, false, "sh", 0, 1},
      {"time up: where it is", false, true, "sh", 0, 1},
  };
  constexpr std::uint64_t kSec = 1'000'000'000;
  for (const Case& c : cases) {
    INFO(c.what);
    JoinFixture f(true);
    auto& [inspector, groups, table, identifier, usage, join] = f;
    join.expire(10 * kSec);
    const GroupId sh = groups.named("sh");
    table.upsert({20, sh, 5});
    join.hold(*table.find(20));
    CHECK(join.stats().pending_execs == 1);
    if (c.time_up) {
      join.expire(20 * kSec);
    } else {
      const taskstats::ExitRecord record = record_of(20, "cat");
      join.settle_execs(*table.find(20), c.record ? &record : nullptr);
    }
    CHECK(join.stats().pending_execs == 0);
    CHECK(join.stats().named_from_record == c.named_from_record);
    CHECK(identifier.failures()[static_cast<std::size_t>(EnrichmentFailure::kGone)] == c.gone);
    for (std::size_t g = 0; g < groups.size(); ++g) {
      INFO(groups.at(static_cast<GroupId>(g))->name);
      CHECK(groups.at(static_cast<GroupId>(g))->counters.execs == (groups.at(static_cast<GroupId>(g))->name == c.counted_in ? 1u : 0u));
    }
  }
}

TEST_CASE("the table audit corrects only differences seen twice", "[aggregator][audit]") {
  struct Case {
    const char* what;
    std::vector<std::int32_t> tracked, alive, hidden;
    std::uint64_t evictions;  // since the first pass
    std::size_t stale, missing;
  };
  const std::vector<Case> cases = {
      {"in step", {1, 2}, {1, 2}, {}, 0, 0, 0},
      {"gone", {1, 2, 3}, {1, 2}, {}, 0, 1, 0},
      {"hidden is not gone", {1, 2, 3}, {1, 2}, {3}, 0, 0, 0},
      {"untracked", {1}, {1, 2, 5}, {}, 0, 0, 2},
      {"untracked while evicting: not drift", {1}, {1, 2}, {}, 1, 0, 0},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    FakeInspector inspector;
    for (const std::int32_t pid : c.alive) inspector.comms[pid] = "p";
    inspector.hidden.insert(c.hidden.begin(), c.hidden.end());
    ProcessTable table(16);
    for (const std::int32_t pid : c.tracked) table.upsert({pid, 0});
    std::vector<std::int32_t> forgotten, adopted;
    TableAudit audit(std::chrono::seconds(30), inspector,
                     {.forget_gone = [&](const ProcessEntry& e) { forgotten.push_back(e.pid); },
                      .adopt_live = [&](const std::vector<std::int32_t>& pids) {
                        for (const std::int32_t pid : pids) {
                          adopted.push_back(pid);
                          table.upsert({pid, 0});
                        }
                      }});
    const std::chrono::steady_clock::time_point t0{};
    audit.run(t0, table, 0);  // suspects only
    CHECK(forgotten.empty());
    CHECK(adopted.empty());
    const bool suspects = c.stale + c.missing > 0 || c.evictions > 0;
    CHECK(audit.next_due() == t0 + (suspects ? std::chrono::seconds(1) : std::chrono::seconds(30)));
    audit.run(t0 + std::chrono::seconds(1), table, c.evictions);
    CHECK(forgotten.size() == c.stale);
    CHECK(adopted.size() == c.missing);
    CHECK(audit.stats().drift[static_cast<std::size_t>(DriftKind::kStale)] == c.stale);
    CHECK(audit.stats().drift[static_cast<std::size_t>(DriftKind::kMissing)] == c.missing);
    CHECK(audit.stats().corrected == c.stale + c.missing);
    CHECK(audit.stats().audits == (suspects ? 2u : 1u));
  }
}
