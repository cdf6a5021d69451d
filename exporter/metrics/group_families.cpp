// The families with groupname: the aggregator's per-group counters, one row per family (two for
// forks, split by kind), each row with its descriptor and the counters it reads. Which families are
// per host unless a per_group option says otherwise is config/group_detail.h's concern; the series
// budget they add up to is the README's "Series budget".
#include <optional>
#include <string>
#include <string_view>

#include "connector/event.h"
#include "metrics/family_builder.h"

namespace procevents::metrics::detail {

namespace {

using aggregator::GroupSnapshot;
using aggregator::Snapshot;
using config::GroupDetail;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

/// A row without a name adds more series to the family of the row above (forks by kind).
constexpr Descriptor kSameFamily{nullptr, MetricType::Untyped, nullptr};

struct GroupFamily {
  Descriptor descriptor;
  /// nullopt: per group. Else per host (series at 0 from the start) unless that option is on.
  std::optional<GroupDetail> per_host_unless = std::nullopt;
  bool every_group = false;        // a series for every group, 0 included (a gauge worth reading at 0)
  bool from_exit_records = false;  // taskstats: only while that source is active
  bool only_nonzero = false;       // no series at all until one is above 0, even for the host
  /// Read from the live processes at scrape time (GroupSnapshot::live): only when the live layer ran.
  bool live = false;
  /// Needs a /proc read beyond stat: exported (per group) only when its per_host_unless option is
  /// on, never per host (which would read every process for one sum).
  bool only_with_option = false;
  /// process_exporter_families() serves it under process-exporter's name with --compat.process-exporter.
  bool process_exporter_has_it = false;
  void (*series)(const GroupSnapshot&, const Snapshot&, SeriesOut&) = nullptr;
};

using procfs::UsageCounter;
double usage(const GroupSnapshot& g, UsageCounter counter) { return g.live.usage[procfs::index(counter)]; }

// In exposition order.
const GroupFamily kGroupFamilies[] = {
    {.descriptor = {"procevents_forks_total", MetricType::Counter,
                    "Forks by the group of the parent process; kind=process for new processes, thread for new threads (those per host unless per_group: [threads])."},
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(double(g.counters.forks_process), "kind", "process");
     }},
    {.descriptor = kSameFamily,
     .per_host_unless = GroupDetail::kThreads,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(double(g.counters.forks_thread), "kind", "thread");
     }},
    {.descriptor = {"procevents_execs_total", MetricType::Counter,
                    "Execs, by the group of the program after exec."},
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.execs)); }},
    {.descriptor = {"procevents_exits_total", MetricType::Counter,
                    "Process exits (thread-group leaders) by outcome: success (status 0), failure (non-zero status), signal."},
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       for (std::size_t o = 0; o < aggregator::kExitOutcomeCount; ++o) {
         out.value(double(g.counters.exits[o]), "outcome", aggregator::kExitOutcomeNames[o]);
       }
     }},
    // Only signals that happened (64 zero series per group would be noise).
    {.descriptor = {"procevents_signal_exits_total", MetricType::Counter,
                    "Processes killed by a signal, by signal name."},
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       for (std::size_t s = 1; s <= aggregator::kMaxSignal; ++s) {
         if (g.counters.signal_exits[s] == 0) continue;
         out.value(double(g.counters.signal_exits[s]), "signal", std::string(connector::signal_name(static_cast<int>(s))));
       }
     }},
    {.descriptor = {"procevents_coredumps_total", MetricType::Counter,
                    "Core dumps written. Per host unless per_group: [coredumps]."},
     .per_host_unless = GroupDetail::kCoredumps,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.coredumps)); }},
    {.descriptor = {"procevents_comm_changes_total", MetricType::Counter,
                    "Task renames (prctl(PR_SET_NAME) or writes to /proc/<pid>/comm). Per host unless per_group: [identity]."},
     .per_host_unless = GroupDetail::kIdentity,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.comm_changes)); }},
    {.descriptor = {"procevents_uid_changes_total", MetricType::Counter,
                    "User id changes; to_root=true when the new effective uid is 0. Per host unless per_group: [identity]."},
     .per_host_unless = GroupDetail::kIdentity,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(double(g.counters.uid_changes_to_root), "to_root", "true");
       out.value(double(g.counters.uid_changes_to_nonroot), "to_root", "false");
     }},
    {.descriptor = {"procevents_gid_changes_total", MetricType::Counter,
                    "Group id changes. Per host unless per_group: [identity]."},
     .per_host_unless = GroupDetail::kIdentity,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.gid_changes)); }},
    {.descriptor = {"procevents_sid_changes_total", MetricType::Counter,
                    "New sessions (setsid). Per host unless per_group: [identity]."},
     .per_host_unless = GroupDetail::kIdentity,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.sid_changes)); }},
    {.descriptor = {"procevents_ptrace_total", MetricType::Counter,
                    "ptrace attaches and detaches of the group's processes. Per host unless per_group: [identity]."},
     .per_host_unless = GroupDetail::kIdentity,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(double(g.counters.ptrace_attach), "op", "attach");
       out.value(double(g.counters.ptrace_detach), "op", "detach");
     }},
    {.descriptor = {"procevents_process_lifetime_seconds", MetricType::Histogram,
                    "Process lifetime from fork to exit, from kernel timestamps. Processes already running at start-up are not observed. Per host unless per_group: [lifetime_buckets]."},
     .per_host_unless = GroupDetail::kLifetimeBuckets,
     .series = [](const GroupSnapshot& g, const Snapshot& s, SeriesOut& out) {
       out.histogram(g.counters.lifetime, s.lifetime_bounds);
     }},
    {.descriptor = {"procevents_group_process_lifetime_seconds", MetricType::Summary,
                    "Lifetime of the group's exited processes as sum and count (their mean), always per group; the distribution is procevents_process_lifetime_seconds."},
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.summary(g.counters.lifetime); }},
    {.descriptor = {"procevents_processes", MetricType::Gauge,
                    "Live processes."},
     .every_group = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.live_processes)); }},
    // What the live processes use now, and the usage counters live + finished (exporter/live).
    {.descriptor = {"procevents_cpu_seconds_total", MetricType::Counter,
                    "CPU time used by the group's processes since the exporter started, live and finished, by mode: each CPU-second once, in the group the process was in when it used it (to the resolution of the /proc read at exec); a process alive at start-up counts from its first reading. Finished ones from their exit records, which miss the CPU of their own teardown (see the README)."},
     .live = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       // Both modes once either is above 0 or a process of the group has exited (as exited_cpu: a short
       // process often ends before the scheduler's first tick).
       out.keep_zeros_if(usage(g, UsageCounter::kCpuUser) + usage(g, UsageCounter::kCpuSystem) > 0 ||
                         g.counters.peak_rss.count > 0);
       out.value(usage(g, UsageCounter::kCpuUser), "mode", "user");
       out.value(usage(g, UsageCounter::kCpuSystem), "mode", "system");
     }},
    {.descriptor = {"procevents_memory_bytes", MetricType::Gauge,
                    "Memory of the group's live processes by memtype: resident; virtual (per host unless per_group: [memory]); swapped (with per_group: [memory], which reads status)."},
     .live = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(double(g.live.resident_bytes), "memtype", "resident");
     }},
    {.descriptor = kSameFamily,
     .per_host_unless = GroupDetail::kMemory,
     .live = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(double(g.live.virtual_bytes), "memtype", "virtual");
     }},
    {.descriptor = kSameFamily,
     .per_host_unless = GroupDetail::kMemory,
     .live = true,
     .only_with_option = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.keep_zeros_if(g.live.processes_read > 0);
       out.value(double(g.live.swapped_bytes), "memtype", "swapped");
     }},
    {.descriptor = {"procevents_threads", MetricType::Gauge,
                    "Threads of the group's live processes. Per host unless per_group: [threads]."},
     .per_host_unless = GroupDetail::kThreads,
     .live = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.live.threads)); }},
    {.descriptor = {"procevents_page_faults_total", MetricType::Counter,
                    "Page faults of the group's processes since the exporter started, live and finished, by fault (minor, major). Per host unless per_group: [faults]."},
     .per_host_unless = GroupDetail::kFaults,
     .live = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(usage(g, UsageCounter::kMinorFaults), "fault", "minor");
       out.value(usage(g, UsageCounter::kMajorFaults), "fault", "major");
     }},
    {.descriptor = {"procevents_storage_read_bytes_total", MetricType::Counter,
                    "Bytes the group's processes caused to be read from storage since the exporter started, live and finished. With per_group: [storage] (reads /proc/<pid>/io, which needs ptrace rights over the process: see procevents_live_read_errors_total)."},
     .per_host_unless = GroupDetail::kStorage,
     .live = true,
     .only_with_option = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(usage(g, UsageCounter::kReadBytes)); }},
    {.descriptor = {"procevents_storage_written_bytes_total", MetricType::Counter,
                    "Bytes the group's processes caused to be written to storage since the exporter started, live and finished. With per_group: [storage]."},
     .per_host_unless = GroupDetail::kStorage,
     .live = true,
     .only_with_option = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(usage(g, UsageCounter::kWriteBytes)); }},
    {.descriptor = {"procevents_context_switches_total", MetricType::Counter,
                    "Context switches of the group's processes since the exporter started, live (each process's thread-group leader, as /proc/<pid>/status shows) and finished (every task), by ctxswitchtype. With per_group: [context_switches]."},
     .per_host_unless = GroupDetail::kContextSwitches,
     .live = true,
     .only_with_option = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(usage(g, UsageCounter::kVoluntarySwitches), "ctxswitchtype", "voluntary");
       out.value(usage(g, UsageCounter::kInvoluntarySwitches), "ctxswitchtype", "nonvoluntary");
     }},
    {.descriptor = {"procevents_open_fds", MetricType::Gauge,
                    "Open file descriptors of the group's live processes. With per_group: [fds] (reads the fd table, which needs ptrace rights)."},
     .per_host_unless = GroupDetail::kFds,
     .live = true,
     .only_with_option = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.keep_zeros_if(g.live.processes_read > 0);
       out.value(double(g.live.open_fds));
     }},
    {.descriptor = {"procevents_worst_fd_ratio", MetricType::Gauge,
                    "The highest ratio of open file descriptors to the soft limit among the group's live processes. With per_group: [fds]."},
     .per_host_unless = GroupDetail::kFds,
     .live = true,
     .only_with_option = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.keep_zeros_if(g.live.processes_read > 0);
       out.value(g.live.worst_fd_ratio);
     }},
    {.descriptor = {"procevents_oldest_start_time_seconds", MetricType::Gauge,
                    "Start time (seconds since the epoch) of the group's oldest live process. Per host unless per_group: [states]."},
     .per_host_unless = GroupDetail::kStates,
     .live = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(g.live.oldest_start_seconds); }},
    {.descriptor = {"procevents_process_states", MetricType::Gauge,
                    "The group's live processes by state: Running, Sleeping, Waiting (uninterruptible), Zombie, Other. Per host unless per_group: [states]."},
     .per_host_unless = GroupDetail::kStates,
     .live = true,
     .process_exporter_has_it = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.keep_zeros_if(g.live.processes_read > 0);
       for (std::size_t s = 0; s < procfs::kProcessStateCount; ++s) {
         out.value(double(g.live.states[s]), "state", procfs::kProcessStateNames[s]);
       }
     }},
    // What finished tasks cost (taskstats exit records): every task once, in its process's group.
    {.descriptor = {"procevents_exited_cpu_seconds_total", MetricType::Counter,
                    "CPU time used by tasks that have exited, by mode (user, system); threads count in their process's group."},
     .from_exit_records = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       // Both modes once a process of the group has exited: CPU comes in scheduler ticks, and a short
       // process often has none in either mode.
       out.keep_zeros_if(g.counters.peak_rss.count > 0);
       out.value(double(g.counters.cpu_user_us) / 1e6, "mode", "user");
       out.value(double(g.counters.cpu_system_us) / 1e6, "mode", "system");
     }},
    {.descriptor = {"procevents_exited_peak_resident_memory_bytes", MetricType::Histogram,
                    "Peak resident memory (high-water RSS) of processes that have exited. Per host unless per_group: [peak_memory]."},
     .per_host_unless = GroupDetail::kPeakMemory,
     .from_exit_records = true,
     .series = [](const GroupSnapshot& g, const Snapshot& s, SeriesOut& out) {
       out.histogram(g.counters.peak_rss, s.peak_rss_bounds);
     }},
    {.descriptor = {"procevents_exited_storage_read_bytes_total", MetricType::Counter,
                    "Bytes tasks that have exited caused to be read from storage. Per host unless per_group: [storage]."},
     .per_host_unless = GroupDetail::kStorage,
     .from_exit_records = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.storage_read_bytes)); }},
    {.descriptor = {"procevents_exited_storage_written_bytes_total", MetricType::Counter,
                    "Bytes tasks that have exited caused to be written to storage. Per host unless per_group: [storage]."},
     .per_host_unless = GroupDetail::kStorage,
     .from_exit_records = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.storage_write_bytes)); }},
    {.descriptor = {"procevents_exited_context_switches_total", MetricType::Counter,
                    "Context switches of tasks that have exited, by ctxswitchtype (voluntary, nonvoluntary). Per host unless per_group: [context_switches]."},
     .per_host_unless = GroupDetail::kContextSwitches,
     .from_exit_records = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(double(g.counters.voluntary_switches), "ctxswitchtype", "voluntary");
       out.value(double(g.counters.involuntary_switches), "ctxswitchtype", "nonvoluntary");
     }},
    // Zero unless delay accounting is on (kernel.task_delayacct): no series until there is one.
    {.descriptor = {"procevents_exited_cpu_delay_seconds_total", MetricType::Counter,
                    "Time tasks that have exited spent runnable but waiting for a CPU (needs delay accounting: kernel.task_delayacct=1). Per host unless per_group: [delays]."},
     .per_host_unless = GroupDetail::kDelays,
     .from_exit_records = true,
     .only_nonzero = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.cpu_delay_ns) / 1e9); }},
    {.descriptor = {"procevents_exited_blkio_delay_seconds_total", MetricType::Counter,
                    "Time tasks that have exited spent waiting for block I/O (needs delay accounting: kernel.task_delayacct=1). Per host unless per_group: [delays]."},
     .per_host_unless = GroupDetail::kDelays,
     .from_exit_records = true,
     .only_nonzero = true,
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.blkio_delay_ns) / 1e9); }},
};

}  // namespace

/// Each row per group or, for the host, once over the sum of all groups.
namespace {

/// Whether `row` is left out of this exposition; a continuation row follows its family's first.
bool left_out(const GroupFamily& row, const Snapshot& snapshot, const GroupFamilyOptions& options) {
  if (row.from_exit_records && !options.exit_records) return true;
  if (row.live && !snapshot.live_read) return true;
  if (row.process_exporter_has_it && options.process_exporter_names) return true;
  return row.only_with_option && row.per_host_unless && !options.per_group.has(*row.per_host_unless);
}

}  // namespace

void group_families(const Snapshot& snapshot, const GroupFamilyOptions& options, std::vector<MetricFamily>& out) {
  const config::GroupDetails& per_group = options.per_group;
  NativeSamples* native = options.native;
  std::vector<Labels> label_sets;  // built once: every row labels every group the same way
  label_sets.reserve(snapshot.groups.size());
  GroupSnapshot host;
  for (const GroupSnapshot& group : snapshot.groups) {
    label_sets.push_back(group_labels(snapshot, group));
    host.counters.add(group.counters);
    host.live_processes += group.live_processes;
    host.live.add(group.live);
  }
  const Labels no_labels;
  std::vector<MetricFamily> families;
  bool family_left_out = false;
  for (const GroupFamily& row : kGroupFamilies) {
    const bool continuation = row.descriptor.name == nullptr;
    if (left_out(row, snapshot, options) || (continuation && family_left_out)) {
      if (!continuation) family_left_out = true;
      continue;
    }
    family_left_out = false;
    if (!continuation) families.push_back(family(row.descriptor));
    MetricFamily& f = families.back();
    const bool per_host = row.per_host_unless && !per_group.has(*row.per_host_unless);
    // A native histogram costs one series whatever its buckets: per group for protobuf scrapers.
    const bool native_row = native != nullptr && f.type == MetricType::Histogram;
    if (per_host && !native_row) {
      SeriesOut series(f, no_labels, row.only_nonzero);
      row.series(host, snapshot, series);
      continue;
    }
    for (std::size_t g = 0; g < snapshot.groups.size(); ++g) {
      SeriesOut series = native_row ? SeriesOut(f, label_sets[g], !row.every_group, native, row.descriptor.name, !per_host)
                                    : SeriesOut(f, label_sets[g], !row.every_group);
      row.series(snapshot.groups[g], snapshot, series);
    }
  }
  for (MetricFamily& f : families) {
    if (!f.metric.empty()) out.push_back(std::move(f));
  }
  if (options.process_exporter_names && snapshot.live_read) process_exporter_families(snapshot, label_sets, out);
}

}  // namespace procevents::metrics::detail
