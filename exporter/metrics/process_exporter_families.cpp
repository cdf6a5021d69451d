// --compat.process-exporter: the live figures under process-exporter's own family names, types,
// HELP texts and labels (namedprocess_namegroup_*, as Debian's 0.7.10 serves them), for every group,
// so that its dashboards and alerts keep working after swapping the binary. Our families with the
// same data are then left out (group_families.cpp: process_exporter_has_it); the per-thread-name
// families and threads_wchan are not served (see the README's migration section).
#include "metrics/family_builder.h"

namespace procevents::metrics::detail {

namespace {

using aggregator::GroupSnapshot;
using procfs::UsageCounter;
using prometheus::MetricFamily;
using prometheus::MetricType;

double usage(const GroupSnapshot& g, UsageCounter counter) { return g.live.usage[procfs::index(counter)]; }

struct ProcessExporterFamily {
  Descriptor descriptor;
  void (*series)(const GroupSnapshot&, SeriesOut&);
};

// In process-exporter's order.
const ProcessExporterFamily kProcessExporterFamilies[] = {
    {{"namedprocess_namegroup_num_procs", MetricType::Gauge, "number of processes in this group"},
     [](const GroupSnapshot& g, SeriesOut& out) { out.value(double(g.live_processes)); }},
    {{"namedprocess_namegroup_cpu_seconds_total", MetricType::Counter, "Cpu user usage in seconds"},
     [](const GroupSnapshot& g, SeriesOut& out) {
       out.value(usage(g, UsageCounter::kCpuUser), "mode", "user");
       out.value(usage(g, UsageCounter::kCpuSystem), "mode", "system");
     }},
    {{"namedprocess_namegroup_read_bytes_total", MetricType::Counter, "number of bytes read by this group"},
     [](const GroupSnapshot& g, SeriesOut& out) { out.value(usage(g, UsageCounter::kReadBytes)); }},
    {{"namedprocess_namegroup_write_bytes_total", MetricType::Counter, "number of bytes written by this group"},
     [](const GroupSnapshot& g, SeriesOut& out) { out.value(usage(g, UsageCounter::kWriteBytes)); }},
    {{"namedprocess_namegroup_major_page_faults_total", MetricType::Counter, "Major page faults"},
     [](const GroupSnapshot& g, SeriesOut& out) { out.value(usage(g, UsageCounter::kMajorFaults)); }},
    {{"namedprocess_namegroup_minor_page_faults_total", MetricType::Counter, "Minor page faults"},
     [](const GroupSnapshot& g, SeriesOut& out) { out.value(usage(g, UsageCounter::kMinorFaults)); }},
    {{"namedprocess_namegroup_context_switches_total", MetricType::Counter, "Context switches"},
     [](const GroupSnapshot& g, SeriesOut& out) {
       out.value(usage(g, UsageCounter::kVoluntarySwitches), "ctxswitchtype", "voluntary");
       out.value(usage(g, UsageCounter::kInvoluntarySwitches), "ctxswitchtype", "nonvoluntary");
     }},
    {{"namedprocess_namegroup_num_threads", MetricType::Gauge, "Number of threads"},
     [](const GroupSnapshot& g, SeriesOut& out) { out.value(double(g.live.threads)); }},
    {{"namedprocess_namegroup_states", MetricType::Gauge,
      "Number of processes in states Running, Sleeping, Waiting, Zombie, or Other"},
     [](const GroupSnapshot& g, SeriesOut& out) {
       for (std::size_t s = 0; s < procfs::kProcessStateCount; ++s) {
         out.value(double(g.live.states[s]), "state", procfs::kProcessStateNames[s]);
       }
     }},
    {{"namedprocess_namegroup_memory_bytes", MetricType::Gauge, "number of bytes of memory in use"},
     [](const GroupSnapshot& g, SeriesOut& out) {
       out.value(double(g.live.resident_bytes), "memtype", "resident");
       out.value(double(g.live.swapped_bytes), "memtype", "swapped");
       out.value(double(g.live.virtual_bytes), "memtype", "virtual");
     }},
    {{"namedprocess_namegroup_open_filedesc", MetricType::Gauge, "number of open file descriptors for this group"},
     [](const GroupSnapshot& g, SeriesOut& out) { out.value(double(g.live.open_fds)); }},
    {{"namedprocess_namegroup_worst_fd_ratio", MetricType::Gauge,
      "the worst (closest to 1) ratio between open fds and max fds among all procs in this group"},
     [](const GroupSnapshot& g, SeriesOut& out) { out.value(g.live.worst_fd_ratio); }},
    {{"namedprocess_namegroup_oldest_start_time_seconds", MetricType::Gauge,
      "start time in seconds since 1970/01/01 of oldest process in group"},
     [](const GroupSnapshot& g, SeriesOut& out) { out.value(g.live.oldest_start_seconds); }},
};

}  // namespace

void process_exporter_families(const aggregator::Snapshot& snapshot, const std::vector<Labels>& label_sets,
                               std::vector<MetricFamily>& out) {
  for (const ProcessExporterFamily& row : kProcessExporterFamilies) {
    MetricFamily f = family(row.descriptor);
    // Every group, zeros included, as process-exporter serves the groups it knows.
    for (std::size_t g = 0; g < snapshot.groups.size(); ++g) {
      SeriesOut series(f, label_sets[g], false);
      row.series(snapshot.groups[g], series);
    }
    if (!f.metric.empty()) out.push_back(std::move(f));
  }
}

}  // namespace procevents::metrics::detail
