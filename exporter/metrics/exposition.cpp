#include "metrics/exposition.h"

#include <algorithm>
#include <string>

#include "metrics/family_builder.h"
#include "metrics/protobuf_writer.h"
#include "metrics/text_writer.h"

namespace procevents::metrics {

using aggregator::Snapshot;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {

using detail::add;
using detail::Descriptor;
using detail::family;
using detail::label;
using detail::single;

// One function per source, each with the descriptors of what it emits; called in exposition order.

constexpr Descriptor kEventRate{"procevents_event_rate", MetricType::Gauge,
                               "Events per second (threads included), exponentially weighted over the window, like the load average."};

/// The aggregator's EWMA rates.
void rate_families(const Snapshot& snapshot, std::vector<MetricFamily>& out) {
  MetricFamily rates = family(kEventRate);
  for (std::size_t e = 0; e < aggregator::kRateEventCount; ++e) {
    for (std::size_t w = 0; w < aggregator::kRateWindowCount; ++w) {
      add(rates, snapshot.rates[e][w], {label("event", aggregator::kRateEventNames[e]), label("window", aggregator::kRateWindowNames[w])});
    }
  }
  out.push_back(std::move(rates));
}

constexpr Descriptor kEvents{"procevents_events_total", MetricType::Counter,
                            "Events received from the kernel by type, acks and unknown types included."};
constexpr Descriptor kProcessed{"procevents_events_processed_total", MetricType::Counter,
                                "Events the aggregator has handled; with no loss it equals the sum of procevents_events_total minus what waits in the ring."};
constexpr Descriptor kLost{"procevents_events_lost_total", MetricType::Counter,
                          "Events lost: kernel_overrun = dropped by the kernel for a full socket buffer (exact from per-CPU sequence numbers when subscribed to all events, else at least one per overrun); ring_full = dropped because the aggregator fell behind."};
constexpr Descriptor kSocketOverruns{"procevents_socket_overruns_total", MetricType::Counter,
                                    "Receive calls that failed with ENOBUFS (the socket buffer overflowed)."};
constexpr Descriptor kFiltered{"procevents_events_filtered_total", MetricType::Counter,
                              "Events dropped by the user-space filter (kernels without per-socket filtering, with a narrowed events list)."};
constexpr Descriptor kReceiveErrors{"procevents_receive_errors_total", MetricType::Counter,
                                    "Receive calls that failed for another reason than a full socket buffer, by source."};

/// Events through the pipeline: received by type, handled, lost, filtered, failed receives.
void event_flow_families(const Snapshot& snapshot, const PipelineStatus& status, std::vector<MetricFamily>& out) {
  MetricFamily events = family(kEvents);
  for (const connector::EventTypeRow& row : connector::kEventTypes) {
    add(events, static_cast<double>(status.connector.events_by_type[static_cast<std::size_t>(row.type)]),
        {label("event", std::string(row.name))});
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
}

constexpr Descriptor kRingCapacity{"procevents_ring_capacity", MetricType::Gauge, "Slots in the receiver-to-aggregator ring."};
constexpr Descriptor kRingUsed{"procevents_ring_used", MetricType::Gauge, "Events waiting in the ring at scrape time."};
constexpr Descriptor kRingHigh{"procevents_ring_high_watermark", MetricType::Gauge, "Most events ever waiting in the ring since start."};

void ring_families(const PipelineStatus& status, std::vector<MetricFamily>& out) {
  out.push_back(single(kRingCapacity, static_cast<double>(status.ring_capacity)));
  out.push_back(single(kRingUsed, static_cast<double>(status.ring_used)));
  out.push_back(single(kRingHigh, static_cast<double>(status.ring_high_watermark)));
}

constexpr Descriptor kParseErrors{"procevents_parse_errors_total", MetricType::Counter, "Netlink messages that could not be used, by reason."};

void connector_parse_families(const connector::ConnectorStats& stats, std::vector<MetricFamily>& out) {
  MetricFamily parse = family(kParseErrors);
  for (std::size_t r = 1; r < connector::kMalformedReasonCount; ++r) {  // 0 is kNone
    add(parse, static_cast<double>(stats.malformed[r]),
        {label("reason", std::string(connector::malformed_reason_name(static_cast<connector::MalformedReason>(r))))});
  }
  add(parse, static_cast<double>(stats.netlink_errors), {label("reason", "netlink_error")});
  add(parse, static_cast<double>(stats.truncated_datagrams), {label("reason", "truncated_datagram")});
  add(parse, static_cast<double>(stats.foreign_datagrams), {label("reason", "foreign_sender")});
  out.push_back(std::move(parse));
}

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

/// The taskstats source: up, and while up its records, losses and parse errors.
void taskstats_families(const PipelineStatus& status, std::vector<MetricFamily>& out) {
  out.push_back(single(kTaskstatsUp, status.taskstats ? 1 : 0));
  if (!status.taskstats) return;
  const taskstats::SourceStats& ts = *status.taskstats;
  MetricFamily records = family(kTaskstatsRecords);
  add(records, static_cast<double>(ts.task_records), {label("scope", "task")});
  add(records, static_cast<double>(ts.thread_group_records), {label("scope", "thread_group")});
  out.push_back(std::move(records));
  out.push_back(single(kTaskstatsOverruns, static_cast<double>(ts.enobufs)));
  MetricFamily records_lost = family(kTaskstatsLost);
  add(records_lost, static_cast<double>(status.receiver.ring_full_record_drops), {label("reason", "ring_full")});
  out.push_back(std::move(records_lost));
  MetricFamily parse = family(kTaskstatsParseErrors);
  for (std::size_t r = 1; r < taskstats::kMalformedReasonCount; ++r) {  // 0 is kNone
    add(parse, static_cast<double>(ts.malformed[r]),
        {label("reason", std::string(taskstats::malformed_reason_name(static_cast<taskstats::MalformedReason>(r))))});
  }
  add(parse, static_cast<double>(ts.netlink_errors), {label("reason", "netlink_error")});
  add(parse, static_cast<double>(ts.netlink_overruns), {label("reason", "netlink_overrun")});
  add(parse, static_cast<double>(ts.truncated_datagrams), {label("reason", "truncated_datagram")});
  add(parse, static_cast<double>(ts.foreign_datagrams), {label("reason", "foreign_sender")});
  out.push_back(std::move(parse));
  out.push_back(single(kTaskstatsBuffer, static_cast<double>(status.taskstats_receive_buffer_bytes)));
}

constexpr Descriptor kExitsUnmatched{"procevents_exits_unmatched_total", MetricType::Counter,
                                     "Task exits seen by only one source: source=connector (no exit record came), source=taskstats (no connector exit claimed the record). Stays 0 without loss."};
constexpr Descriptor kExitsJoined{"procevents_exits_joined_total", MetricType::Counter,
                                  "Task exits seen by both the connector and taskstats."};
constexpr Descriptor kNamedFromRecord{"procevents_execs_named_from_exit_record_total", MetricType::Counter,
                                      "Execs whose process was gone before /proc could be read, named from its taskstats exit record."};
constexpr Descriptor kAwaitingRecord{"procevents_execs_awaiting_exit_record", MetricType::Gauge,
                                     "Execs of vanished processes held until their exit record names them."};

/// How the aggregator joined exit records with exit events (only while taskstats is up).
void exit_join_families(const aggregator::ExitJoinStats& join, std::vector<MetricFamily>& out) {
  MetricFamily unmatched = family(kExitsUnmatched);
  add(unmatched, static_cast<double>(join.exits_without_record), {label("source", "connector")});
  add(unmatched, static_cast<double>(join.records_without_exit), {label("source", "taskstats")});
  out.push_back(std::move(unmatched));
  out.push_back(single(kExitsJoined, static_cast<double>(join.joined)));
  out.push_back(single(kNamedFromRecord, static_cast<double>(join.named_from_record)));
  out.push_back(single(kAwaitingRecord, static_cast<double>(join.pending_execs)));
}

constexpr Descriptor kEnrichment{"procevents_enrichment_failures_total", MetricType::Counter,
                                "Processes whose /proc entry could not be read when needed, by reason; they are grouped from what is known."};

void enrichment_families(const Snapshot& snapshot, std::vector<MetricFamily>& out) {
  MetricFamily enrichment = family(kEnrichment);
  for (std::size_t r = 0; r < aggregator::kEnrichmentFailureCount; ++r) {
    add(enrichment, static_cast<double>(snapshot.enrichment_failures[r]), {label("reason", aggregator::kEnrichmentFailureNames[r])});
  }
  out.push_back(std::move(enrichment));
}

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

/// The process table: size, evictions, re-synchronisations and the self-audit.
void table_families(const Snapshot& snapshot, std::vector<MetricFamily>& out) {
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
}

constexpr Descriptor kGroups{"procevents_groups", MetricType::Gauge, "Groups (label sets) exported."};
constexpr Descriptor kGroupOverflows{"procevents_group_overflows_total", MetricType::Counter,
                                    "Processes put into group \"other\" because max_groups was reached."};
constexpr Descriptor kAttributionOverflows{"procevents_attribution_overflows_total", MetricType::Counter,
                                          "Attribution label values replaced by \"other\" because the label's limit was reached."};

/// The group registry: groups, overflows to "other", attribution values over their limit.
void group_registry_families(const Snapshot& snapshot, std::vector<MetricFamily>& out) {
  out.push_back(single(kGroups, static_cast<double>(snapshot.groups.size())));
  out.push_back(single(kGroupOverflows, static_cast<double>(snapshot.group_overflows)));
  MetricFamily attribution = family(kAttributionOverflows);
  for (std::size_t i = 0; i < aggregator::kAttributionLabelCount; ++i) {
    if (!snapshot.attribution_enabled[i]) continue;
    add(attribution, static_cast<double>(snapshot.attribution_overflows[i]), {label("label", attribution::kLabels[i].name)});
  }
  if (!attribution.metric.empty()) out.push_back(std::move(attribution));
}

constexpr Descriptor kKernelForks{"procevents_kernel_forks_total", MetricType::Counter,
                                 "The kernel's own fork counter (/proc/stat processes, threads included), for cross-checks."};
constexpr Descriptor kConnectorUp{"procevents_connector_up", MetricType::Gauge, "1 when subscribed to the process events connector."};
constexpr Descriptor kFilterActive{"procevents_kernel_filter_active", MetricType::Gauge,
                                  "1 when the kernel filters events for us (Linux >= 6.6 proc_input), 0 when filtering happens here."};
constexpr Descriptor kReceiveBuffer{"procevents_socket_receive_buffer_bytes", MetricType::Gauge,
                                   "Receive buffer size of the netlink socket as granted by the kernel."};

/// The kernel's own fork count and the connector's subscription.
void kernel_families(const PipelineStatus& status, std::vector<MetricFamily>& out) {
  if (status.kernel_forks) out.push_back(single(kKernelForks, static_cast<double>(*status.kernel_forks)));
  out.push_back(single(kConnectorUp, status.connector_up ? 1 : 0));
  out.push_back(single(kFilterActive, status.kernel_filter_active ? 1 : 0));
  out.push_back(single(kReceiveBuffer, static_cast<double>(status.receive_buffer_bytes)));
}

// Prometheus' and Alertmanager's names, with a `file` label: one alert covers both files.
constexpr Descriptor kReloadSuccessful{"procevents_config_last_reload_successful", MetricType::Gauge,
                                      "Whether the last load of the configuration file succeeded (1) or was refused, the previous configuration staying (0)."};
constexpr Descriptor kReloadTimestamp{"procevents_config_last_reload_success_timestamp_seconds", MetricType::Gauge,
                                     "Unix time of the last successful load of the configuration file."};

void config_reload_families(const PipelineStatus& status, std::vector<MetricFamily>& out) {
  if (status.config_reloads.empty()) return;
  MetricFamily successful = family(kReloadSuccessful);
  MetricFamily timestamp = family(kReloadTimestamp);
  for (const ConfigReload& reload : status.config_reloads) {
    add(successful, reload.successful ? 1 : 0, {label("file", reload.file)});
    add(timestamp, reload.success_timestamp_seconds, {label("file", reload.file)});
  }
  out.push_back(std::move(successful));
  out.push_back(std::move(timestamp));
}

constexpr Descriptor kBuildInfo{"procevents_build_info", MetricType::Gauge,
                               "A metric with a constant '1' value labeled by version, revision, branch, compiler, os and arch from which procevents_exporter was built."};

MetricFamily build_info_family(const BuildInfo& build) {
  MetricFamily info = family(kBuildInfo);
  add(info, 1, {label("arch", build.arch), label("branch", build.branch), label("compiler", build.compiler), label("os", build.os),
               label("revision", build.revision), label("version", build.version)});
  return info;
}

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

constexpr Descriptor kLiveReadErrors{"procevents_live_read_errors_total", MetricType::Counter,
                                     "Live processes whose /proc entry could not be read at a scrape, by part: process (stat itself), status, io and fds (refused without ptrace rights over the process, e.g. another user's under the least-privilege capability set); their figures are missing from the live families."};
constexpr Descriptor kScrapeErrors{"namedprocess_scrape_errors", MetricType::Counter,
                                   "general scrape errors: no proc metrics collected during a cycle"};
constexpr Descriptor kProcreadErrors{"namedprocess_scrape_procread_errors", MetricType::Counter,
                                     "incremented each time a proc's metrics collection fails"};
constexpr Descriptor kPartialErrors{"namedprocess_scrape_partial_errors", MetricType::Counter,
                                    "incremented each time a tracked proc's metrics collection fails partially, e.g. unreadable I/O stats"};

/// What the live layer could not read, under our name or process-exporter's.
void live_read_families(const Snapshot& snapshot, bool process_exporter_names, std::vector<MetricFamily>& out) {
  if (!snapshot.live_read) return;
  const auto failures = [&](aggregator::LiveReadFailure f) {
    return static_cast<double>(snapshot.live_read_failures[static_cast<std::size_t>(f)]);
  };
  if (process_exporter_names) {
    out.push_back(single(kScrapeErrors, 0));
    out.push_back(single(kProcreadErrors, failures(aggregator::LiveReadFailure::kProcess)));
    out.push_back(single(kPartialErrors, failures(aggregator::LiveReadFailure::kStatus) +
                                             failures(aggregator::LiveReadFailure::kIo) +
                                             failures(aggregator::LiveReadFailure::kFds)));
    return;
  }
  MetricFamily errors = family(kLiveReadErrors);
  for (std::size_t f = 0; f < aggregator::kLiveReadFailureCount; ++f) {
    add(errors, static_cast<double>(snapshot.live_read_failures[f]), {label("part", aggregator::kLiveReadFailureNames[f])});
  }
  out.push_back(std::move(errors));
}

}  // namespace

std::vector<MetricFamily> exporter_families(const Snapshot& snapshot, const PipelineStatus& status,
                                            const BuildInfo& build, const config::GroupDetails& per_group,
                                            NativeSamples* native, bool process_exporter_names) {
  std::vector<MetricFamily> out;
  out.reserve(40);
  detail::group_families(snapshot,
                         {.exit_records = status.taskstats.has_value(), .per_group = per_group,
                          .process_exporter_names = process_exporter_names, .native = native},
                         out);
  live_read_families(snapshot, process_exporter_names, out);
  rate_families(snapshot, out);
  event_flow_families(snapshot, status, out);
  ring_families(status, out);
  connector_parse_families(status.connector, out);
  taskstats_families(status, out);
  if (status.taskstats) exit_join_families(snapshot.exit_join, out);
  enrichment_families(snapshot, out);
  table_families(snapshot, out);
  group_registry_families(snapshot, out);
  kernel_families(status, out);
  config_reload_families(status, out);
  out.push_back(build_info_family(build));
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

std::string render_protobuf(const std::vector<MetricFamily>& families, const NativeSamples& native) {
  // Sized up front: a sample takes some 40 bytes (labels, value and framing), a native histogram a few
  // dozen more; growing by doubling would copy the body several times.
  std::size_t estimate = 64 * native.size();
  for (const MetricFamily& family : families) estimate += 128 + 48 * family.metric.size();
  std::string out;
  out.reserve(estimate);
  write_protobuf(families, native, out);
  return out;
}

}  // namespace procevents::metrics
