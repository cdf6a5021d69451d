// Snapshot + pipeline status -> Prometheus metric families -> text format 0.0.4.
//
// Pure functions of plain inputs (no globals, no I/O), so a scrape's
// output is fully determined by what the caller copied: golden tests feed fixed inputs.
// Every metric name, HELP and TYPE is declared beside the code that fills it: exposition.cpp (one
// function per source) and group_families.cpp (the per-group rows).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "aggregator/snapshot.h"
#include "config/group_detail.h"
#include "connector/event.h"
#include "connector/parser.h"
#include "connector/proc_connector.h"
#include "procfs/procfs.h"
#include "receiver/receiver_stats.h"
#include "taskstats/taskstats_source.h"

namespace procevents::metrics {

/// The last load of one configuration file: at start, then at each reload (SIGHUP, a web config change).
struct ConfigReload {
  std::string file;  // the `file` label: "config" or "web_config"
  bool successful = true;
  double success_timestamp_seconds = 0;  // Unix time of the last load that succeeded
};

/// What the sources, the receiver, the ring and the kernel say, copied at scrape time: each
/// source's stats record whole, so a counter added there is one edit here.
struct PipelineStatus {
  connector::ConnectorStats connector;
  std::optional<taskstats::SourceStats> taskstats;  // nullopt: the taskstats source is not active
  receiver::ReceiverStats receiver;
  std::uint64_t ring_capacity = 0;
  std::uint64_t ring_used = 0;
  std::uint64_t ring_high_watermark = 0;
  std::optional<std::uint64_t> kernel_forks;  // /proc/stat "processes"
  bool connector_up = false;
  bool kernel_filter_active = false;
  std::int64_t receive_buffer_bytes = 0;
  std::int64_t taskstats_receive_buffer_bytes = 0;
  std::vector<ConfigReload> config_reloads;  // one per configuration file in use
};

/// procevents_build_info's labels, prometheus/common's set with C++ for Go (compiler for goversion, os and
/// arch for goos and goarch).
struct BuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string compiler;
  std::string os;
  std::string arch;
};

/// The native histogram of one histogram sample, which prometheus-cpp's ClientMetric has no field for:
/// sample `metric` of the family named `family` (a descriptor's name, static storage). `histogram` points
/// into the snapshot the families were built from: render before that snapshot goes.
struct NativeSample {
  std::string_view family;
  std::size_t metric = 0;
  const aggregator::NativeHistogram* histogram = nullptr;
};
using NativeSamples = std::vector<NativeSample>;

/// The exporter's own families (everything except process_*). `per_group`: the families exported
/// per group that are per host by default (config/group_detail.h). With `native` (a protobuf scrape),
/// every histogram family is per group, each sample's native histogram goes to `native`, and classic
/// buckets stay only where `per_group` asks for them: a group's distribution costs one series.
/// `process_exporter_names` (--compat.process-exporter): the live families under process-exporter's
/// names instead of ours.
std::vector<prometheus::MetricFamily> exporter_families(const aggregator::Snapshot& snapshot,
                                                        const PipelineStatus& status, const BuildInfo& build,
                                                        const config::GroupDetails& per_group = {},
                                                        NativeSamples* native = nullptr,
                                                        bool process_exporter_names = false);

/// The standard process_* families of this process from its usage (procfs::read_self_usage);
/// a part that could not be read is omitted.
std::vector<prometheus::MetricFamily> process_self_families(const procfs::SelfUsage& usage);

/// Prometheus text exposition format 0.0.4 (see text_writer.h).
std::string render_text(const std::vector<prometheus::MetricFamily>& families);

/// The same families as length-delimited io.prometheus.client.MetricFamily messages (protobuf_writer.h),
/// with `native`'s histograms in their samples.
std::string render_protobuf(const std::vector<prometheus::MetricFamily>& families, const NativeSamples& native = {});

}  // namespace procevents::metrics
