#include "metrics/exposition.h"

#include <optional>

#include "metrics/text_writer.h"

namespace procevents::metrics {

using aggregator::GroupSnapshot;
using aggregator::Snapshot;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {

struct Descriptor {
  const char* name;
  MetricType type;
  const char* help;
};

// Every exported name in one place. Counters carry `_total` here: the serializer prints names as given.
constexpr Descriptor kForks{"procevents_forks_total", MetricType::Counter,
                           "Forks by the group of the parent process; kind=process for new processes, thread for new threads (those per host unless per_group: [threads])."};
constexpr Descriptor kExecs{"procevents_execs_total", MetricType::Counter, "Execs, by the group of the program after exec."};
constexpr Descriptor kExits{"procevents_exits_total", MetricType::Counter,
                           "Process exits (thread-group leaders) by outcome: success (status 0), failure (non-zero status), signal."};
constexpr Descriptor kSignalExits{"procevents_signal_exits_total", MetricType::Counter,
                                 "Processes killed by a signal, by signal name."};
constexpr Descriptor kCoredumps{"procevents_coredumps_total", MetricType::Counter, "Core dumps written. Per host unless per_group: [coredumps]."};
constexpr Descriptor kCommChanges{"procevents_comm_changes_total", MetricType::Counter,
                                 "Task renames (prctl(PR_SET_NAME) or writes to /proc/<pid>/comm). Per host unless per_group: [identity]."};
constexpr Descriptor kUidChanges{"procevents_uid_changes_total", MetricType::Counter,
                                "User id changes; to_root=true when the new effective uid is 0. Per host unless per_group: [identity]."};
constexpr Descriptor kGidChanges{"procevents_gid_changes_total", MetricType::Counter, "Group id changes. Per host unless per_group: [identity]."};
constexpr Descriptor kSidChanges{"procevents_sid_changes_total", MetricType::Counter, "New sessions (setsid). Per host unless per_group: [identity]."};
constexpr Descriptor kPtrace{"procevents_ptrace_total", MetricType::Counter, "ptrace attaches and detaches of the group's processes. Per host unless per_group: [identity]."};
constexpr Descriptor kLifetime{"procevents_process_lifetime_seconds", MetricType::Histogram,
                              "Process lifetime from fork to exit, from kernel timestamps. Processes already running at start-up are not observed. Per host unless per_group: [lifetime_buckets]."};
constexpr Descriptor kGroupLifetime{"procevents_group_process_lifetime_seconds", MetricType::Summary,
                                   "Lifetime of the group's exited processes as sum and count (their mean), always per group; the distribution is procevents_process_lifetime_seconds."};
constexpr Descriptor kProcesses{"procevents_processes", MetricType::Gauge, "Live processes."};
// What finished tasks cost (taskstats exit records): every task once, in its process's group.
constexpr Descriptor kExitedCpu{"procevents_exited_cpu_seconds_total", MetricType::Counter,
                                "CPU time used by tasks that have exited, by mode (user, system); threads count in their process's group."};
constexpr Descriptor kExitedPeakRss{"procevents_exited_peak_resident_memory_bytes", MetricType::Histogram,
                                    "Peak resident memory (high-water RSS) of processes that have exited. Per host unless per_group: [peak_memory]."};
constexpr Descriptor kExitedRead{"procevents_exited_storage_read_bytes_total", MetricType::Counter,
                                 "Bytes tasks that have exited caused to be read from storage. Per host unless per_group: [storage]."};
constexpr Descriptor kExitedWritten{"procevents_exited_storage_written_bytes_total", MetricType::Counter,
                                    "Bytes tasks that have exited caused to be written to storage. Per host unless per_group: [storage]."};
constexpr Descriptor kExitedSwitches{"procevents_exited_context_switches_total", MetricType::Counter,
                                     "Context switches of tasks that have exited, by ctxswitchtype (voluntary, nonvoluntary). Per host unless per_group: [context_switches]."};
constexpr Descriptor kExitedCpuDelay{"procevents_exited_cpu_delay_seconds_total", MetricType::Counter,
                                     "Time tasks that have exited spent runnable but waiting for a CPU (needs delay accounting: kernel.task_delayacct=1). Per host unless per_group: [delays]."};
constexpr Descriptor kExitedBlkioDelay{"procevents_exited_blkio_delay_seconds_total", MetricType::Counter,
                                       "Time tasks that have exited spent waiting for block I/O (needs delay accounting: kernel.task_delayacct=1). Per host unless per_group: [delays]."};
constexpr Descriptor kEventRate{"procevents_event_rate", MetricType::Gauge,
                               "Events per second (threads included), exponentially weighted over the window, like the load average."};
constexpr Descriptor kEvents{"procevents_events_total", MetricType::Counter,
                            "Events received from the kernel by type, acks and unknown types included."};
constexpr Descriptor kProcessed{"procevents_events_processed_total", MetricType::Counter,
                                "Events the aggregator has handled; with no loss it equals the sum of procevents_events_total minus what waits in the ring."};
constexpr Descriptor kLost{"procevents_events_lost_total", MetricType::Counter,
                          "Events lost: kernel_overrun = dropped by the kernel for a full socket buffer (exact from per-CPU sequence numbers when subscribed to all events, else at least one per overrun); ring_full = dropped because the aggregator fell behind."};
constexpr Descriptor kSocketOverruns{"procevents_socket_overruns_total", MetricType::Counter,
                                    "Receive calls that failed with ENOBUFS (the socket buffer overflowed)."};
constexpr Descriptor kRingCapacity{"procevents_ring_capacity", MetricType::Gauge, "Slots in the receiver-to-aggregator ring."};
constexpr Descriptor kRingUsed{"procevents_ring_used", MetricType::Gauge, "Events waiting in the ring at scrape time."};
constexpr Descriptor kRingHigh{"procevents_ring_high_watermark", MetricType::Gauge, "Most events ever waiting in the ring since start."};
constexpr Descriptor kParseErrors{"procevents_parse_errors_total", MetricType::Counter, "Netlink messages that could not be used, by reason."};
constexpr Descriptor kEnrichment{"procevents_enrichment_failures_total", MetricType::Counter,
                                "Processes whose /proc entry could not be read when needed, by reason; they are grouped from what is known."};
constexpr Descriptor kTracked{"procevents_tracked_processes", MetricType::Gauge, "Processes in the process table."};
constexpr Descriptor kEvictions{"procevents_table_evictions_total", MetricType::Counter,
                               "Processes dropped from the full process table to make room."};
constexpr Descriptor kResyncs{"procevents_table_resyncs_total", MetricType::Counter,
                             "Re-synchronisations of the whole process table from /proc after lost events."};
constexpr Descriptor kAudits{"procevents_table_audits_total", MetricType::Counter,
                             "Self-audits of the process table against /proc's process list."};
constexpr Descriptor kDrift{"procevents_table_drift_total", MetricType::Counter,
                            "Process table entries a self-audit found wrong twice in a row: stale = tracked but gone, missing = alive but untracked. 0 unless events were missed unnoticed."};
constexpr Descriptor kDriftCorrected{"procevents_table_drift_corrected_total", MetricType::Counter,
                                     "Drifted entries the self-audit put right (gone ones dropped, untracked ones identified and tracked)."};
constexpr Descriptor kGroups{"procevents_groups", MetricType::Gauge, "Groups (label sets) exported."};
constexpr Descriptor kGroupOverflows{"procevents_group_overflows_total", MetricType::Counter,
                                    "Processes put into group \"other\" because max_groups was reached."};
constexpr Descriptor kAttributionOverflows{"procevents_attribution_overflows_total", MetricType::Counter,
                                          "Attribution label values replaced by \"other\" because the label's limit was reached."};
constexpr Descriptor kKernelForks{"procevents_kernel_forks_total", MetricType::Counter,
                                 "The kernel's own fork counter (/proc/stat processes, threads included), for cross-checks."};
constexpr Descriptor kConnectorUp{"procevents_connector_up", MetricType::Gauge, "1 when subscribed to the process events connector."};
constexpr Descriptor kFilterActive{"procevents_kernel_filter_active", MetricType::Gauge,
                                  "1 when the kernel filters events for us (Linux >= 6.6 proc_input), 0 when filtering happens here."};
constexpr Descriptor kReceiveBuffer{"procevents_socket_receive_buffer_bytes", MetricType::Gauge,
                                   "Receive buffer size of the netlink socket as granted by the kernel."};
constexpr Descriptor kFiltered{"procevents_events_filtered_total", MetricType::Counter,
                              "Events dropped by the user-space filter (kernels without per-socket filtering, with a narrowed events list)."};
constexpr Descriptor kReceiveErrors{"procevents_receive_errors_total", MetricType::Counter,
                                    "Receive calls that failed for another reason than a full socket buffer, by source."};
constexpr Descriptor kTaskstatsUp{"procevents_taskstats_up", MetricType::Gauge,
                                  "1 when registered for the kernel's taskstats exit records; 0 when unavailable or turned off."};
constexpr Descriptor kTaskstatsRecords{"procevents_taskstats_records_total", MetricType::Counter,
                                       "Taskstats exit records received, by scope: task (one per exiting task), thread_group (sent with a multi-threaded process's last task)."};
constexpr Descriptor kTaskstatsLost{"procevents_taskstats_records_lost_total", MetricType::Counter,
                                    "Exit records received but dropped because the receiver-to-aggregator ring was full (reason=ring_full)."};
constexpr Descriptor kTaskstatsOverruns{"procevents_taskstats_socket_overruns_total", MetricType::Counter,
                                        "Receive calls on the taskstats socket that failed with ENOBUFS (exit records were dropped)."};
constexpr Descriptor kTaskstatsParseErrors{"procevents_taskstats_parse_errors_total", MetricType::Counter,
                                           "Taskstats messages that could not be used, by reason."};
constexpr Descriptor kTaskstatsBuffer{"procevents_taskstats_socket_receive_buffer_bytes", MetricType::Gauge,
                                      "Receive buffer size of the taskstats socket as granted by the kernel."};
constexpr Descriptor kExitsUnmatched{"procevents_exits_unmatched_total", MetricType::Counter,
                                     "Task exits seen by only one source: source=connector (no exit record came), source=taskstats (no connector exit claimed the record). Stays 0 without loss."};
constexpr Descriptor kExitsJoined{"procevents_exits_joined_total", MetricType::Counter,
                                  "Task exits seen by both the connector and taskstats."};
constexpr Descriptor kNamedFromRecord{"procevents_execs_named_from_exit_record_total", MetricType::Counter,
                                      "Execs whose process was gone before /proc could be read, named from its taskstats exit record."};
constexpr Descriptor kAwaitingRecord{"procevents_execs_awaiting_exit_record", MetricType::Gauge,
                                     "Execs of vanished processes held until their exit record names them."};
constexpr Descriptor kBuildInfo{"procevents_build_info", MetricType::Gauge,
                               "A metric with a constant '1' value labeled by version, revision, branch, compiler, os and arch from which procevents_exporter was built."};

// The standard process_* families (client_golang's process collector).
constexpr Descriptor kProcessCpu{"process_cpu_seconds_total", MetricType::Counter,
                                 "Total user and system CPU time spent in seconds."};
constexpr Descriptor kProcessVirtualMemory{"process_virtual_memory_bytes", MetricType::Gauge, "Virtual memory size in bytes."};
constexpr Descriptor kProcessResidentMemory{"process_resident_memory_bytes", MetricType::Gauge,
                                            "Resident memory size in bytes."};
constexpr Descriptor kProcessStartTime{"process_start_time_seconds", MetricType::Gauge,
                                       "Start time of the process since unix epoch in seconds."};
constexpr Descriptor kProcessOpenFds{"process_open_fds", MetricType::Gauge, "Number of open file descriptors."};
constexpr Descriptor kProcessMaxFds{"process_max_fds", MetricType::Gauge, "Maximum number of open file descriptors."};


MetricFamily family(const Descriptor& d) { return MetricFamily{d.name, d.help, d.type, {}}; }

ClientMetric::Label label(const char* name, std::string value) { return {name, std::move(value)}; }

ClientMetric with_value(MetricType type, double value, std::vector<ClientMetric::Label> labels) {
  ClientMetric metric;
  metric.label = std::move(labels);
  if (type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return metric;
}

void add(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels = {}) {
  f.metric.push_back(with_value(f.type, value, std::move(labels)));
}

MetricFamily single(const Descriptor& d, double value) {
  MetricFamily f = family(d);
  add(f, value);
  return f;
}

/// groupname plus every enabled attribution label.
std::vector<ClientMetric::Label> group_labels(const Snapshot& snapshot, const GroupSnapshot& group) {
  std::vector<ClientMetric::Label> labels;
  labels.push_back(label("groupname", group.name));
  for (std::size_t i = 0; i < aggregator::kAttributionLabelCount; ++i) {
    if (snapshot.attribution_enabled[i]) labels.push_back(label(attribution::kLabels[i].name, group.attribution[i]));
  }
  return labels;
}

/// One histogram sample from per-bucket counts (the serializer appends le="+Inf" = sample_count).
ClientMetric histogram(std::vector<ClientMetric::Label> labels, const aggregator::Histogram& h,
                       const std::vector<double>& bounds) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.histogram.sample_count = h.count;
  metric.histogram.sample_sum = h.sum;
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < bounds.size() && b < h.buckets.size(); ++b) {
    cumulative += h.buckets[b];
    metric.histogram.bucket.push_back({cumulative, bounds[b]});
  }
  return metric;
}

using Labels = std::vector<ClientMetric::Label>;

/// Adds one family's series for one label set (a group's, or none for the host). With `skip_zero`
/// a series exists only once it has something to say: a counter above 0, a histogram with a sample.
class SeriesOut {
 public:
  SeriesOut(MetricFamily& family, const Labels& labels, bool skip_zero)
      : family_(family), labels_(labels), skip_zero_(skip_zero) {}

  void value(double v) {
    if (!skip_zero_ || v != 0) family_.metric.push_back(with_value(family_.type, v, labels_));
  }
  void value(double v, const char* name, std::string label_value) {
    if (skip_zero_ && v == 0) return;
    Labels labels = labels_;
    labels.push_back(label(name, std::move(label_value)));
    family_.metric.push_back(with_value(family_.type, v, std::move(labels)));
  }
  void histogram(const aggregator::Histogram& h, const std::vector<double>& bounds) {
    if (!skip_zero_ || h.count != 0) family_.metric.push_back(metrics::histogram(labels_, h, bounds));
  }
  /// From now on zeros count as something to say when `measured` (a cost that was measured as 0).
  void keep_zeros_if(bool measured) {
    if (measured) skip_zero_ = false;
  }
  /// Sum and count only (a summary without quantiles).
  void summary(const aggregator::Histogram& h) {
    if (skip_zero_ && h.count == 0) return;
    ClientMetric metric;
    metric.label = labels_;
    metric.summary.sample_count = h.count;
    metric.summary.sample_sum = h.sum;
    family_.metric.push_back(std::move(metric));
  }

 private:
  MetricFamily& family_;
  const Labels& labels_;
  bool skip_zero_;
};

struct GroupFamily {
  const Descriptor* descriptor;  // rows of one family are adjacent
  /// nullopt: per group. Else per host (series at 0 from the start) unless that option is on.
  std::optional<config::GroupDetail> per_host_unless;
  bool every_group;        // a series for every group, 0 included (a gauge worth reading at 0)
  bool from_exit_records;  // taskstats: only while that source is active
  bool only_nonzero;       // no series at all until one is above 0, even for the host
  void (*series)(const GroupSnapshot&, const Snapshot&, SeriesOut&);
};

using config::GroupDetail;
constexpr std::nullopt_t kPerGroup = std::nullopt;

// Every family with groupname, in exposition order: one row each (two for forks, split by kind). A
// family per host unless a per_group option says otherwise is config/group_detail.h's concern; the
// series budget they add up to is the README's "Series budget".
const GroupFamily kGroupFamilies[] = {
    {&kForks, kPerGroup, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.forks_process), "kind", "process"); }},
    {&kForks, GroupDetail::kThreads, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.forks_thread), "kind", "thread"); }},
    {&kExecs, kPerGroup, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.execs)); }},
    {&kExits, kPerGroup, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       for (std::size_t o = 0; o < aggregator::kExitOutcomeCount; ++o) {
         out.value(double(g.counters.exits[o]), "outcome", aggregator::kExitOutcomeNames[o]);
       }
     }},
    // Only signals that happened (64 zero series per group would be noise).
    {&kSignalExits, kPerGroup, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       for (std::size_t s = 1; s <= aggregator::kMaxSignal; ++s) {
         if (g.counters.signal_exits[s] == 0) continue;
         out.value(double(g.counters.signal_exits[s]), "signal", std::string(connector::signal_name(static_cast<int>(s))));
       }
     }},
    {&kCoredumps, GroupDetail::kCoredumps, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.coredumps)); }},
    {&kCommChanges, GroupDetail::kIdentity, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.comm_changes)); }},
    {&kUidChanges, GroupDetail::kIdentity, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(double(g.counters.uid_changes_to_root), "to_root", "true");
       out.value(double(g.counters.uid_changes_to_nonroot), "to_root", "false");
     }},
    {&kGidChanges, GroupDetail::kIdentity, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.gid_changes)); }},
    {&kSidChanges, GroupDetail::kIdentity, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.sid_changes)); }},
    {&kPtrace, GroupDetail::kIdentity, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(double(g.counters.ptrace_attach), "op", "attach");
       out.value(double(g.counters.ptrace_detach), "op", "detach");
     }},
    {&kLifetime, GroupDetail::kLifetimeBuckets, false, false, false,
     [](const GroupSnapshot& g, const Snapshot& s, SeriesOut& out) { out.histogram(g.counters.lifetime, s.lifetime_bounds); }},
    {&kGroupLifetime, kPerGroup, false, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.summary(g.counters.lifetime); }},
    {&kProcesses, kPerGroup, true, false, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.live_processes)); }},
    {&kExitedCpu, kPerGroup, false, true, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       // Both modes once a process of the group has exited: CPU comes in scheduler ticks, and a short
       // process often has none in either mode.
       out.keep_zeros_if(g.counters.peak_rss.count > 0);
       out.value(double(g.counters.cpu_user_us) / 1e6, "mode", "user");
       out.value(double(g.counters.cpu_system_us) / 1e6, "mode", "system");
     }},
    {&kExitedPeakRss, GroupDetail::kPeakMemory, false, true, false,
     [](const GroupSnapshot& g, const Snapshot& s, SeriesOut& out) { out.histogram(g.counters.peak_rss, s.peak_rss_bounds); }},
    {&kExitedRead, GroupDetail::kStorage, false, true, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.storage_read_bytes)); }},
    {&kExitedWritten, GroupDetail::kStorage, false, true, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.storage_write_bytes)); }},
    {&kExitedSwitches, GroupDetail::kContextSwitches, false, true, false,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) {
       out.value(double(g.counters.voluntary_switches), "ctxswitchtype", "voluntary");
       out.value(double(g.counters.involuntary_switches), "ctxswitchtype", "nonvoluntary");
     }},
    // Zero unless delay accounting is on (kernel.task_delayacct): no series until there is one.
    {&kExitedCpuDelay, GroupDetail::kDelays, false, true, true,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.cpu_delay_ns) / 1e9); }},
    {&kExitedBlkioDelay, GroupDetail::kDelays, false, true, true,
     [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.counters.blkio_delay_ns) / 1e9); }},
};

/// The families of kGroupFamilies: each row per group or, for the host, once over the sum of all groups.
void group_families(const Snapshot& snapshot, bool exit_records, const config::GroupDetails& per_group,
                    std::vector<MetricFamily>& out) {
  std::vector<Labels> label_sets;  // built once: every row labels every group the same way
  label_sets.reserve(snapshot.groups.size());
  GroupSnapshot host;
  for (const GroupSnapshot& group : snapshot.groups) {
    label_sets.push_back(group_labels(snapshot, group));
    host.counters.add(group.counters);
    host.live_processes += group.live_processes;
  }
  const Labels no_labels;
  std::vector<MetricFamily> families;
  for (const GroupFamily& row : kGroupFamilies) {
    if (row.from_exit_records && !exit_records) continue;
    if (families.empty() || families.back().name != row.descriptor->name) families.push_back(family(*row.descriptor));
    MetricFamily& f = families.back();
    if (row.per_host_unless && !per_group.has(*row.per_host_unless)) {
      SeriesOut series(f, no_labels, row.only_nonzero);
      row.series(host, snapshot, series);
      continue;
    }
    for (std::size_t g = 0; g < snapshot.groups.size(); ++g) {
      SeriesOut series(f, label_sets[g], !row.every_group);
      row.series(snapshot.groups[g], snapshot, series);
    }
  }
  for (MetricFamily& f : families) {
    if (!f.metric.empty()) out.push_back(std::move(f));
  }
}

}  // namespace

std::vector<MetricFamily> exporter_families(const Snapshot& snapshot, const PipelineStatus& status,
                                            const BuildInfo& build, const config::GroupDetails& per_group) {
  std::vector<MetricFamily> out;
  out.reserve(40);
  group_families(snapshot, status.taskstats.has_value(), per_group, out);

  MetricFamily rates = family(kEventRate);
  for (std::size_t e = 0; e < aggregator::kRateEventCount; ++e) {
    for (std::size_t w = 0; w < aggregator::kRateWindowCount; ++w) {
      add(rates, snapshot.rates[e][w], {label("event", aggregator::kRateEventNames[e]), label("window", aggregator::kRateWindowNames[w])});
    }
  }
  out.push_back(std::move(rates));

  MetricFamily events = family(kEvents);
  for (std::size_t t = 0; t < connector::kEventTypeCount; ++t) {
    add(events, static_cast<double>(status.connector.events_by_type[t]),
        {label("event", std::string(connector::event_type_name(static_cast<connector::EventType>(t))))});
  }
  out.push_back(std::move(events));
  out.push_back(single(kProcessed, static_cast<double>(snapshot.events_processed)));

  // Without exact sequence tracking an overrun still proves at least one lost event.
  const std::uint64_t kernel_lost = std::max(status.connector.lost_events, status.connector.enobufs);
  MetricFamily lost = family(kLost);
  add(lost, static_cast<double>(kernel_lost), {label("reason", "kernel_overrun")});
  add(lost, static_cast<double>(status.receiver.ring_full_drops), {label("reason", "ring_full")});
  out.push_back(std::move(lost));
  out.push_back(single(kSocketOverruns, static_cast<double>(status.connector.enobufs)));
  out.push_back(single(kFiltered, static_cast<double>(status.connector.filtered_out)));
  MetricFamily receive_errors = family(kReceiveErrors);
  add(receive_errors, static_cast<double>(status.receiver.connector_receive_errors), {label("source", "connector")});
  add(receive_errors, static_cast<double>(status.receiver.taskstats_receive_errors), {label("source", "taskstats")});
  out.push_back(std::move(receive_errors));
  out.push_back(single(kRingCapacity, static_cast<double>(status.ring_capacity)));
  out.push_back(single(kRingUsed, static_cast<double>(status.ring_used)));
  out.push_back(single(kRingHigh, static_cast<double>(status.ring_high_watermark)));

  MetricFamily parse = family(kParseErrors);
  for (std::size_t r = 1; r < connector::kMalformedReasonCount; ++r) {  // 0 is kNone
    add(parse, static_cast<double>(status.connector.malformed[r]),
        {label("reason", std::string(connector::malformed_reason_name(static_cast<connector::MalformedReason>(r))))});
  }
  add(parse, static_cast<double>(status.connector.netlink_errors), {label("reason", "netlink_error")});
  add(parse, static_cast<double>(status.connector.truncated_datagrams), {label("reason", "truncated_datagram")});
  add(parse, static_cast<double>(status.connector.foreign_datagrams), {label("reason", "foreign_sender")});
  out.push_back(std::move(parse));

  out.push_back(single(kTaskstatsUp, status.taskstats ? 1 : 0));
  if (status.taskstats) {
    const taskstats::SourceStats& ts = *status.taskstats;
    MetricFamily records = family(kTaskstatsRecords);
    add(records, static_cast<double>(ts.task_records), {label("scope", "task")});
    add(records, static_cast<double>(ts.thread_group_records), {label("scope", "thread_group")});
    out.push_back(std::move(records));
    out.push_back(single(kTaskstatsOverruns, static_cast<double>(ts.enobufs)));
    MetricFamily records_lost = family(kTaskstatsLost);
    add(records_lost, static_cast<double>(status.receiver.ring_full_record_drops), {label("reason", "ring_full")});
    out.push_back(std::move(records_lost));
    MetricFamily ts_parse = family(kTaskstatsParseErrors);
    for (std::size_t r = 1; r < taskstats::kMalformedReasonCount; ++r) {  // 0 is kNone
      add(ts_parse, static_cast<double>(ts.malformed[r]),
          {label("reason", std::string(taskstats::malformed_reason_name(static_cast<taskstats::MalformedReason>(r))))});
    }
    add(ts_parse, static_cast<double>(ts.netlink_errors), {label("reason", "netlink_error")});
    add(ts_parse, static_cast<double>(ts.netlink_overruns), {label("reason", "netlink_overrun")});
    add(ts_parse, static_cast<double>(ts.truncated_datagrams), {label("reason", "truncated_datagram")});
    add(ts_parse, static_cast<double>(ts.foreign_datagrams), {label("reason", "foreign_sender")});
    out.push_back(std::move(ts_parse));
    out.push_back(single(kTaskstatsBuffer, static_cast<double>(status.taskstats_receive_buffer_bytes)));
    const aggregator::ExitJoinStats& join = snapshot.exit_join;
    MetricFamily unmatched = family(kExitsUnmatched);
    add(unmatched, static_cast<double>(join.exits_without_record), {label("source", "connector")});
    add(unmatched, static_cast<double>(join.records_without_exit), {label("source", "taskstats")});
    out.push_back(std::move(unmatched));
    out.push_back(single(kExitsJoined, static_cast<double>(join.joined)));
    out.push_back(single(kNamedFromRecord, static_cast<double>(join.named_from_record)));
    out.push_back(single(kAwaitingRecord, static_cast<double>(join.pending_execs)));
  }

  MetricFamily enrichment = family(kEnrichment);
  for (std::size_t r = 0; r < aggregator::kEnrichmentFailureCount; ++r) {
    add(enrichment, static_cast<double>(snapshot.enrichment_failures[r]), {label("reason", aggregator::kEnrichmentFailureNames[r])});
  }
  out.push_back(std::move(enrichment));

  out.push_back(single(kTracked, static_cast<double>(snapshot.tracked_processes)));
  out.push_back(single(kEvictions, static_cast<double>(snapshot.table_evictions)));
  out.push_back(single(kResyncs, static_cast<double>(snapshot.resyncs)));
  out.push_back(single(kAudits, static_cast<double>(snapshot.audit.audits)));
  MetricFamily drift = family(kDrift);
  for (std::size_t k = 0; k < aggregator::kDriftKindCount; ++k) {
    add(drift, static_cast<double>(snapshot.audit.drift[k]), {label("kind", aggregator::kDriftKindNames[k])});
  }
  out.push_back(std::move(drift));
  out.push_back(single(kDriftCorrected, static_cast<double>(snapshot.audit.corrected)));
  out.push_back(single(kGroups, static_cast<double>(snapshot.groups.size())));
  out.push_back(single(kGroupOverflows, static_cast<double>(snapshot.group_overflows)));
  MetricFamily attribution = family(kAttributionOverflows);
  for (std::size_t i = 0; i < aggregator::kAttributionLabelCount; ++i) {
    if (!snapshot.attribution_enabled[i]) continue;
    add(attribution, static_cast<double>(snapshot.attribution_overflows[i]),
        {label("label", attribution::kLabels[i].name)});
  }
  if (!attribution.metric.empty()) out.push_back(std::move(attribution));
  if (status.kernel_forks) out.push_back(single(kKernelForks, static_cast<double>(*status.kernel_forks)));
  out.push_back(single(kConnectorUp, status.connector_up ? 1 : 0));
  out.push_back(single(kFilterActive, status.kernel_filter_active ? 1 : 0));
  out.push_back(single(kReceiveBuffer, static_cast<double>(status.receive_buffer_bytes)));

  MetricFamily info = family(kBuildInfo);
  add(info, 1, {label("arch", build.arch), label("branch", build.branch), label("compiler", build.compiler), label("os", build.os),
               label("revision", build.revision), label("version", build.version)});
  out.push_back(std::move(info));
  return out;
}

std::vector<MetricFamily> process_self_families(const procfs::SelfUsage& usage) {
  std::vector<MetricFamily> out;
  if (usage.stat) {
    out.push_back(single(kProcessCpu, usage.stat->cpu_seconds));
    out.push_back(single(kProcessVirtualMemory, usage.stat->virtual_memory_bytes));
    out.push_back(single(kProcessResidentMemory, usage.stat->resident_memory_bytes));
    out.push_back(single(kProcessStartTime, usage.stat->start_time_seconds));
  }
  if (usage.open_fds) out.push_back(single(kProcessOpenFds, static_cast<double>(*usage.open_fds)));
  if (usage.max_fds) out.push_back(single(kProcessMaxFds, static_cast<double>(*usage.max_fds)));
  return out;
}

std::string render_text(const std::vector<MetricFamily>& families) {
  std::string out;
  out.reserve(1 << 16);
  write_text(families, out);
  return out;
}

}  // namespace procevents::metrics
