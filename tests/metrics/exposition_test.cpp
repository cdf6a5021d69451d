#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include <prometheus/text_serializer.h>

#include "metrics/exposition.h"
#include "metrics/text_writer.h"

using namespace procevents;

namespace {
aggregator::Snapshot sample_snapshot() {
  aggregator::Snapshot s;
  s.lifetime_bounds = {0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400};
  for (int i = 0; i < 3; ++i) {
    aggregator::GroupSnapshot g;
    g.name = i == 2 ? "we\"ird\\name\nx" : "group" + std::to_string(i);
    g.live_processes = i;
    g.counters.execs = 12345678901ull;
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
}  // namespace

TEST_CASE("our text writer is byte-for-byte prometheus-cpp's TextSerializer", "[metrics]") {
  metrics::PipelineStatus status;
  status.kernel_forks = 987654321;
  auto families = metrics::exporter_families(sample_snapshot(), status, {"1.0", "abc", "main", "GNU 12", "linux", "amd64"});
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
  for (const char* needle : {"procevents_forks_total{groupname=\"group0\",kind=\"process\"} 0",
                             "procevents_exits_total{groupname=\"group1\",outcome=\"signal\"} 3",
                             "procevents_signal_exits_total{groupname=\"group0\",signal=\"SIGKILL\"} 2",
                             "procevents_process_lifetime_seconds_bucket{groupname=\"group0\",le=\"0.1\"} 3",
                             "procevents_process_lifetime_seconds_bucket{groupname=\"group0\",le=\"+Inf\"} 4",
                             "procevents_events_lost_total{reason=\"ring_full\"} 0",
                             "procevents_event_rate{event=\"fork\",window=\"1m\"}",
                             "procevents_build_info{arch=\"amd64\",branch=\"b\",compiler=\"c\",os=\"linux\",revision=\"r\",version=\"1\"} 1",
                             "groupname=\"we\\\"ird\\\\name\\nx\""}) {
    CAPTURE(needle);
    CHECK(text.find(needle) != std::string::npos);
  }
  CHECK(text.find("exposer_") == std::string::npos);
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
