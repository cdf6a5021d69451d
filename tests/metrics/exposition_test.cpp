#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "metrics/exposition.h"
#include "metrics/text_writer.h"

using namespace procevents;

namespace {
aggregator::Snapshot sample_snapshot() {
  aggregator::Snapshot s;
  s.lifetime_bounds = {0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400};
  s.peak_rss_bounds = {4194304};
  for (int i = 0; i < 3; ++i) {
    aggregator::GroupSnapshot g;
    g.name = i == 2 ? "we\"ird\\name\nx" : "group" + std::to_string(i);
    g.live_processes = i;
    g.counters.execs = 12345678901ull;
    g.counters.forks_process = 5;
    g.counters.uid_changes_to_root = i;
    g.counters.forks_thread = 7;
    g.counters.coredumps = 1;
    g.counters.comm_changes = 2;
    g.counters.storage_write_bytes = 4096;
    g.counters.involuntary_switches = 3;
    g.counters.cpu_delay_ns = 1000;
    g.counters.peak_rss.buckets = {1, 1};
    g.counters.peak_rss.count = 2;
    g.counters.peak_rss.sum = 5e6;
    g.counters.exits = {1, 2, 3};
    g.counters.signal_exits[9] = 2;
    g.counters.lifetime.buckets = {1, 0, 2, 0, 0, 0, 0, 0, 0, 1};
    g.counters.lifetime.count = 4;
    g.counters.lifetime.sum = 123456.789012345678;
    s.groups.push_back(g);
  }
  s.rates[0][0] = 1.0 / 3.0;
  s.rates[1][2] = 1e-20;
  s.rates[2][1] = 12345678912345.0;
  return s;
}

/// sample_snapshot() as the live layer leaves it: what each group's live processes use.
aggregator::Snapshot with_live(aggregator::Snapshot s) {
  s.live_read = true;
  for (std::size_t i = 0; i < s.groups.size(); ++i) {
    aggregator::LiveFigures& live = s.groups[i].live;
    const double n = static_cast<double>(i + 1);
    live.usage = {1.5 * n, 0.5 * n, 100 * n, n, 4096 * n, 512 * n, 7 * n, 3 * n};
    live.processes_read = i + 1;
    live.threads = 2 * (i + 1);
    live.resident_bytes = (i + 1) << 20;
    live.virtual_bytes = (i + 1) << 24;
    live.swapped_bytes = 4096;
    live.open_fds = 10 * (i + 1);
    live.worst_fd_ratio = 0.01 * n;
    live.oldest_start_seconds = 1.7e9 + n;
    live.states[1] = i + 1;
  }
  s.live_read_failures[static_cast<std::size_t>(aggregator::LiveReadFailure::kIo)] = 2;
  return s;
}

/// The sum of every series of `samples` by name and labels other than groupname: what a
/// `sum without (groupname)` gives.
std::map<std::string, double> sums_without_groupname(const std::map<std::string, double>& samples) {
  std::map<std::string, double> sums;
  for (const auto& [series, value] : samples) {
    std::string key = series;
    const auto at = key.find("groupname=\"");
    if (at != std::string::npos) {
      std::size_t end = at + 11;
      while (key[end] != '"') end += key[end] == '\\' ? 2 : 1;  // past escaped quotes and backslashes
      key.erase(at, end + 1 - at + (key[end + 1] == ',' ? 1 : 0));
    }
    sums[key] += value;
  }
  return sums;
}
}  // namespace

TEST_CASE("our text writer is byte-for-byte prometheus-cpp's TextSerializer", "[metrics]") {
  metrics::PipelineStatus status;
  status.kernel_forks = 987654321;
  status.taskstats = taskstats::SourceStats{};
  const config::GroupDetails per_group = GENERATE(config::GroupDetails{}, config::GroupDetails::all());
  auto families = metrics::exporter_families(sample_snapshot(), status, {"1.0", "abc", "main", "GNU 12", "linux", "amd64"},
                                             per_group);
  REQUIRE(families[0].name == "procevents_forks_total");
  REQUIRE(families[0].metric.size() >= 2);
  // Odd values the serializer special-cases.
  families[0].metric[0].counter.value = NAN;
  families[0].metric[1].counter.value = INFINITY;
  std::ostringstream expected;
  prometheus::TextSerializer().Serialize(expected, families);
  std::string ours;
  metrics::write_text(families, ours);
  CHECK(ours == expected.str());
}

TEST_CASE("the exposition has the catalogue's names and a group's labels", "[metrics]") {
  const std::string text = metrics::render_text(metrics::exporter_families(sample_snapshot(), {}, {"1", "r", "b", "c", "linux", "amd64"}));
  for (const char* needle : {"procevents_forks_total{groupname=\"group0\",kind=\"process\"} 5",
                             "procevents_exits_total{groupname=\"group1\",outcome=\"signal\"} 3",
                             "procevents_signal_exits_total{groupname=\"group0\",signal=\"SIGKILL\"} 2",
                             "procevents_group_process_lifetime_seconds_count{groupname=\"group0\"} 4",
                             "procevents_process_lifetime_seconds_bucket{le=\"0.1\"} 9",
                             "procevents_process_lifetime_seconds_bucket{le=\"+Inf\"} 12",
                             "procevents_events_lost_total{reason=\"ring_full\"} 0",
                             "procevents_event_rate{event=\"fork\",window=\"1m\"}",
                             "procevents_build_info{arch=\"amd64\",branch=\"b\",compiler=\"c\",os=\"linux\",revision=\"r\",version=\"1\"} 1",
                             "groupname=\"we\\\"ird\\\\name\\nx\""}) {
    CAPTURE(needle);
    CHECK(text.find(needle) != std::string::npos);
  }
  CHECK(text.find("exposer_") == std::string::npos);
}

namespace {
/// name{labels} -> value of every sample line.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

/// The sum of every sample of `name` (exactly that name, any labels).

std::size_t count_with(const std::map<std::string, double>& all, const std::string& needle) {
  std::size_t n = 0;
  for (const auto& entry : all) n += entry.first.find(needle) != std::string::npos;
  return n;
}
}  // namespace

TEST_CASE("by default a group has only the series that have something to say", "[metrics]") {
  aggregator::Snapshot s;
  s.lifetime_bounds = {0.1, 1, 10};
  s.peak_rss_bounds = {1e6, 1e8};
  aggregator::GroupSnapshot idle;  // a daemon found at start-up: nothing happened yet
  idle.name = "idle";
  idle.live_processes = 1;
  aggregator::GroupSnapshot command;  // a program started twice that exited 0, costs from its exit records
  command.name = "command";
  auto& c = command.counters;
  c.execs = 2;
  c.forks_thread = 4;
  c.exits = {2, 0, 0};
  c.lifetime.buckets = {2, 0, 0, 0};
  c.lifetime.count = 2;
  c.lifetime.sum = 0.01;
  c.cpu_user_us = 300;
  c.cpu_system_us = 200;
  c.storage_read_bytes = 4096;
  c.voluntary_switches = 3;
  c.peak_rss.buckets = {2, 0, 0};
  c.peak_rss.count = 2;
  c.comm_changes = 1;
  aggregator::GroupSnapshot tickless = command;  // exited before the scheduler's first tick: CPU measured as 0
  tickless.name = "tickless";
  tickless.counters.cpu_user_us = tickless.counters.cpu_system_us = 0;
  s.groups = {idle, command, tickless};
  metrics::PipelineStatus status;
  status.taskstats = taskstats::SourceStats{};
  const auto all = samples(metrics::render_text(metrics::exporter_families(s, status, {"1", "r", "b", "c", "linux", "amd64"})));

  CHECK(count_with(all, "groupname=\"idle\"") == 1);
  CHECK(all.count("procevents_processes{groupname=\"idle\"}") == 1);
  // execs, exits{success}, lifetime sum and count, CPU user and system, live processes: 7.
  CHECK(count_with(all, "groupname=\"command\"") == 7);
  CHECK(all.count("procevents_exits_total{groupname=\"command\",outcome=\"failure\"}") == 0);
  CHECK(all.at("procevents_exited_cpu_seconds_total{groupname=\"tickless\",mode=\"user\"}") == 0);
  CHECK(all.count("procevents_exited_cpu_seconds_total{groupname=\"idle\",mode=\"user\"}") == 0);
  // What is per host by default exists from the start, at 0 until something happens.
  CHECK(all.at("procevents_forks_total{kind=\"thread\"}") == 8);
  CHECK(all.at("procevents_uid_changes_total{to_root=\"true\"}") == 0);
  CHECK(all.at("procevents_ptrace_total{op=\"attach\"}") == 0);
  CHECK(all.at("procevents_coredumps_total") == 0);
  CHECK(all.at("procevents_comm_changes_total") == 2);
  CHECK(all.at("procevents_process_lifetime_seconds_bucket{le=\"0.1\"}") == 4);
  CHECK(all.at("procevents_exited_peak_resident_memory_bytes_count") == 4);
  CHECK(all.at("procevents_exited_storage_written_bytes_total") == 0);
  // Delay accounting off: no series at all.
  CHECK(count_with(all, "procevents_exited_cpu_delay_seconds_total") == 0);
}

TEST_CASE("per_group options move families from the host to the groups, and every sum stays the same", "[metrics]") {
  metrics::PipelineStatus status;
  status.taskstats = taskstats::SourceStats{};
  const aggregator::Snapshot snapshot = with_live(sample_snapshot());
  const auto by_host = samples(metrics::render_text(metrics::exporter_families(snapshot, status, {"1", "r", "b", "c", "linux", "amd64"})));
  for (const config::GroupDetailOption& option : config::kGroupDetails) {
    CAPTURE(option.name);
    config::GroupDetails per_group;
    per_group.set(option.detail);
    const auto by_group =
        samples(metrics::render_text(metrics::exporter_families(snapshot, status, {"1", "r", "b", "c", "linux", "amd64"}, per_group)));
    // Every sum over the groups is the host's; series that need a read only the option asks for
    // (swapped memory, storage, context switches, fds) exist only with it.
    const auto host_sums = sums_without_groupname(by_host);
    for (const auto& [key, sum] : sums_without_groupname(by_group)) {
      CAPTURE(key);
      if (host_sums.count(key)) CHECK(host_sums.at(key) == Approx(sum));
    }
    CHECK(count_with(by_group, "groupname=") > count_with(by_host, "groupname="));
    // Host series move to the groups; fds has none per host (it reads the fd table only when asked).
    const std::size_t host_series = by_host.size() - count_with(by_host, "groupname=");
    const std::size_t host_series_left = by_group.size() - count_with(by_group, "groupname=");
    if (option.detail == config::GroupDetail::kFds) {
      CHECK(host_series_left == host_series);
    } else {
      CHECK(host_series_left < host_series);
    }
  }
  // Each family is per host or per group, never both: no event is counted twice.
  const auto detailed = samples(
      metrics::render_text(metrics::exporter_families(snapshot, status, {"1", "r", "b", "c", "linux", "amd64"}, config::GroupDetails::all())));
  for (const auto& [series, value] : detailed) {
    if (series.rfind("procevents_process_lifetime_seconds", 0) == 0 || series.rfind("procevents_uid_changes", 0) == 0 ||
        series.rfind("procevents_exited_peak", 0) == 0) {
      CAPTURE(series);
      CHECK(series.find("groupname=") != std::string::npos);
    }
  }
  CHECK(detailed.at("procevents_process_lifetime_seconds_bucket{groupname=\"group0\",le=\"0.1\"}") == 3);
  CHECK(detailed.at("procevents_uid_changes_total{groupname=\"group1\",to_root=\"true\"}") == 1);
  CHECK(detailed.count("procevents_uid_changes_total{groupname=\"group0\",to_root=\"true\"}") == 0);  // 0: none yet
}

TEST_CASE("process_* families: client_golang's names, HELP and TYPE, from a SelfUsage", "[metrics]") {
  procfs::SelfUsage usage;
  usage.stat = procfs::SelfUsage::Stat{.cpu_seconds = 36.19,
                                       .virtual_memory_bytes = 44445696,
                                       .resident_memory_bytes = 12316672,
                                       .start_time_seconds = 1795586915.13};
  usage.open_fds = 9;
  usage.max_fds = 1048576;
  CHECK(metrics::render_text(metrics::process_self_families(usage)) ==
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
        "# TYPE process_cpu_seconds_total counter\n"
        "process_cpu_seconds_total 36.19\n"
        "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
        "# TYPE process_virtual_memory_bytes gauge\n"
        "process_virtual_memory_bytes 44445696\n"
        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
        "# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes 12316672\n"
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
        "# TYPE process_start_time_seconds gauge\n"
        "process_start_time_seconds 1795586915.13\n"
        "# HELP process_open_fds Number of open file descriptors.\n"
        "# TYPE process_open_fds gauge\n"
        "process_open_fds 9\n"
        "# HELP process_max_fds Maximum number of open file descriptors.\n"
        "# TYPE process_max_fds gauge\n"
        "process_max_fds 1048576\n");

  // What could not be read is left out.
  procfs::SelfUsage partial;
  partial.max_fds = 1024;
  const auto families = metrics::process_self_families(partial);
  REQUIRE(families.size() == 1);
  CHECK(families[0].name == "process_max_fds");
  CHECK(metrics::process_self_families({}).empty());
}
