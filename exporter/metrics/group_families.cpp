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

/// groupname plus every enabled attribution label.
Labels group_labels(const Snapshot& snapshot, const GroupSnapshot& group) {
  Labels labels;
  labels.push_back(label("groupname", group.name));
  for (std::size_t i = 0; i < aggregator::kAttributionLabelCount; ++i) {
    if (snapshot.attribution_enabled[i]) labels.push_back(label(attribution::kLabels[i].name, group.attribution[i]));
  }
  return labels;
}

/// Adds one family's series for one label set (a group's, or none for the host). With `skip_zero`
/// a series exists only once it has something to say: a counter above 0, a histogram with a sample.
class SeriesOut {
 public:
  SeriesOut(MetricFamily& family, const Labels& labels, bool skip_zero)
      : family_(family), labels_(labels), skip_zero_(skip_zero) {}
  /// For a protobuf scrape: histograms also give their native histogram to `native` under
  /// `family_name`, with their classic buckets only when `classic_buckets`.
  SeriesOut(MetricFamily& family, const Labels& labels, bool skip_zero, NativeSamples* native,
            std::string_view family_name, bool classic_buckets)
      : family_(family), labels_(labels), skip_zero_(skip_zero), native_(native), native_family_(family_name),
        classic_buckets_(classic_buckets) {}

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
    if (skip_zero_ && h.count == 0) return;
    static const std::vector<double> kNoBounds;
    family_.metric.push_back(detail::histogram(labels_, h, classic_buckets_ ? bounds : kNoBounds));
    if (native_ != nullptr) native_->push_back({native_family_, family_.metric.size() - 1, &h.native});
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
  NativeSamples* native_ = nullptr;
  std::string_view native_family_;
  bool classic_buckets_ = true;
};

/// A row without a name adds more series to the family of the row above (forks by kind).
constexpr Descriptor kSameFamily{nullptr, MetricType::Untyped, nullptr};

struct GroupFamily {
  Descriptor descriptor;
  /// nullopt: per group. Else per host (series at 0 from the start) unless that option is on.
  std::optional<GroupDetail> per_host_unless = std::nullopt;
  bool every_group = false;        // a series for every group, 0 included (a gauge worth reading at 0)
  bool from_exit_records = false;  // taskstats: only while that source is active
  bool only_nonzero = false;       // no series at all until one is above 0, even for the host
  void (*series)(const GroupSnapshot&, const Snapshot&, SeriesOut&) = nullptr;
};

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
     .series = [](const GroupSnapshot& g, const Snapshot&, SeriesOut& out) { out.value(double(g.live_processes)); }},
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
void group_families(const Snapshot& snapshot, bool exit_records, const config::GroupDetails& per_group,
                    std::vector<MetricFamily>& out, NativeSamples* native) {
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
    if (row.descriptor.name != nullptr) families.push_back(family(row.descriptor));
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
}

}  // namespace procevents::metrics::detail
