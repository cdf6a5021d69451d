#include <catch2/catch.hpp>
#include <algorithm>
#include <optional>

#include "aggregator/usage_ledger.h"

using namespace procevents;
using namespace procevents::aggregator;
using procfs::index;
using procfs::UsageCounter;
using procfs::UsageVector;

namespace {

constexpr std::size_t kCpu = index(UsageCounter::kCpuUser);
constexpr std::size_t kMinor = index(UsageCounter::kMinorFaults);
constexpr std::size_t kRead = index(UsageCounter::kReadBytes);

taskstats::ExitRecord record(std::uint64_t cpu_us, std::uint64_t minor_faults = 0, std::uint64_t read_bytes = 0) {
  taskstats::ExitRecord r;
  r.user_cpu_us = cpu_us;
  r.minor_faults = minor_faults;
  r.read_bytes = read_bytes;
  return r;
}

UsageVector usage(std::uint64_t cpu_us, std::uint64_t minor_faults = 0, std::uint64_t read_bytes = 0) {
  UsageVector u{};
  u[kCpu] = cpu_us;
  u[kMinor] = minor_faults;
  u[kRead] = read_bytes;
  return u;
}

/// A stat reading whose CPU is `cpu_us` (a whole number of ticks) and faults `minor_faults`.
procfs::StatUsage stat(std::uint64_t cpu_us, std::uint64_t minor_faults) {
  procfs::StatUsage s;
  s.utime_ticks = cpu_us / (1'000'000 / static_cast<std::uint64_t>(procfs::ProcReader::clock_ticks_per_second()));
  s.minor_faults = minor_faults;
  return s;
}

}  // namespace

TEST_CASE("the usage ledger counts each unit once, in the group the process had when it used it", "[aggregator][usage]") {
  struct Case {
    const char* what;
    std::optional<UsageVector> seen, exited_before;  // first seen alive (else forked while we run)
    std::vector<std::uint64_t> thread_records_us;    // its threads' exits, while it lives
    std::optional<std::uint64_t> exec_reading_us;    // an exec into group 1, stat read then
    std::optional<std::uint64_t> own_record_us;      // its exit's record (none: found gone)
    std::int64_t group0_cpu_us, group1_cpu_us;
  };
  const std::vector<Case> cases = {
      {"forked, exits", {}, {}, {}, {}, 120'000, 120'000, 0},
      {"forked, two threads exit first", {}, {}, {30'000, 20'000}, {}, 100'000, 150'000, 0},
      {"forked, found gone: its threads only", {}, {}, {30'000}, {}, {}, 30'000, 0},
      // Seen with 500 ms used, 50 of them by threads gone before: counts from there.
      {"first seen alive, exits", usage(500'000), usage(50'000), {}, {}, 480'000, 30'000, 0},
      {"first seen alive, a thread alive then exits later", usage(500'000), usage(50'000), {200'000}, {}, 330'000,
       80'000, 0},
      // Forked in group 0, exec'd into group 1 with 40 ms used: 40 stay, the rest goes to group 1.
      {"exec moves it: what it used before stays", {}, {}, {}, 40'000, 100'000, 40'000, 60'000},
      {"exec after a thread exited", {}, {}, {10'000}, 40'000, 100'000, 40'000, 70'000},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    UsageLedger ledger(8);
    std::array<GroupCounters, 2> groups{};
    ProcessEntry entry{.pid = 42, .group = 0};
    ledger.open(entry, c.seen ? &*c.seen : nullptr, c.exited_before ? &*c.exited_before : nullptr);
    for (const std::uint64_t us : c.thread_records_us) ledger.thread_exited(entry, record(us));
    GroupCounters* group = &groups[0];
    if (c.exec_reading_us) {
      ledger.settle(entry, stat(*c.exec_reading_us, 0), &groups[0]);
      group = &groups[1];
    }
    const taskstats::ExitRecord own = record(c.own_record_us.value_or(0));
    ledger.process_exited(entry, c.own_record_us ? &own : nullptr, group);
    CHECK(groups[0].usage[kCpu] == c.group0_cpu_us);
    CHECK(groups[1].usage[kCpu] == c.group1_cpu_us);
    CHECK(ledger.open_count() == 0);
    CHECK(entry.usage_slot == kNoUsageSlot);
  }
}

TEST_CASE("the usage ledger lists open books for the scrape, and frees closed ones", "[aggregator][usage]") {
  UsageLedger ledger(4);
  ProcessTable table(4);
  table.upsert({.pid = 10, .group = 3});
  table.upsert({.pid = 11, .group = kIgnoredGroup});
  table.upsert({.pid = 12, .group = 1});
  const UsageVector seen = usage(7'000, 3, 4096);
  for (const std::int32_t pid : {10, 11, 12}) ledger.open(*table.find(pid), pid == 10 ? &seen : nullptr);
  ledger.set_start_ticks(*table.find(10), 555);
  std::vector<LiveProcess> live;
  ledger.fill(table, [](const ProcessEntry&, std::uint64_t ticks) { return ticks == 0 ? 9u : ticks; }, live);
  REQUIRE(live.size() == 2);  // an ignored process counts nowhere
  std::sort(live.begin(), live.end(), [](const LiveProcess& a, const LiveProcess& b) { return a.pid < b.pid; });
  CHECK(live[0].pid == 10);
  CHECK(live[0].group == 3);
  CHECK(live[0].started_by_ticks == 555);
  CHECK(live[0].counted == seen);
  CHECK(live[1].started_by_ticks == 9);

  // Full: a fifth process gets no books (the table evicts first in practice), and closing frees.
  ProcessEntry extra{.pid = 13}, more{.pid = 14};
  ledger.open(extra);
  ledger.open(more);
  CHECK(more.usage_slot == kNoUsageSlot);
  ledger.close(*table.find(12));
  ledger.open(more);
  CHECK(more.usage_slot != kNoUsageSlot);
  CHECK(ledger.open_count() == 4);
}

TEST_CASE("a finished task of an untracked process charges its whole record", "[aggregator][usage]") {
  GroupCounters group;
  UsageLedger::charge_untracked(record(5'000, 9, 512), &group);
  CHECK(group.usage[kCpu] == 5'000);
  CHECK(group.usage[kMinor] == 9);
  CHECK(group.usage[kRead] == 512);
  UsageLedger::charge_untracked(record(5'000), nullptr);  // kIgnoredGroup: counted nowhere
}

TEST_CASE("an exec's reading below what is counted settles nothing", "[aggregator][usage]") {
  UsageLedger ledger(2);
  ProcessEntry entry{.pid = 5};
  const UsageVector seen = usage(100'000, 50);
  ledger.open(entry, &seen);
  GroupCounters from;
  ledger.settle(entry, stat(90'000, 40), &from);  // a tick's rounding below the first sight
  CHECK(from.usage[kCpu] == 0);
  CHECK(from.usage[kMinor] == 0);
  ledger.settle(entry, stat(130'000, 70), &from);
  CHECK(from.usage[kCpu] == 30'000);
  CHECK(from.usage[kMinor] == 20);
}
