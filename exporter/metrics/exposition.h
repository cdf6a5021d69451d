// Snapshot + pipeline status -> Prometheus metric families -> text format 0.0.4.
//
// Pure functions of plain inputs (no globals, no I/O except process_self_families), so a scrape's
// output is fully determined by what the caller copied: golden tests feed fixed inputs.
// Every metric name, HELP and TYPE is declared in exposition.cpp's descriptor table.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "aggregator/snapshot.h"
#include "connector/event.h"
#include "connector/parser.h"

namespace procevents::metrics {

/// What the receiver, the ring and the kernel say, copied at scrape time.
struct PipelineStatus {
  std::array<std::uint64_t, connector::kEventTypeCount> events_by_type{};
  std::uint64_t kernel_lost_events = 0;  // exact per-CPU sequence gaps
  std::uint64_t socket_overruns = 0;     // ENOBUFS results
  std::uint64_t ring_full_drops = 0;
  std::uint64_t ring_capacity = 0;
  std::uint64_t ring_used = 0;
  std::uint64_t ring_high_watermark = 0;
  std::array<std::uint64_t, connector::kMalformedReasonCount> malformed{};
  std::uint64_t netlink_errors = 0;
  std::uint64_t truncated_datagrams = 0;
  std::uint64_t foreign_datagrams = 0;
  std::optional<std::uint64_t> kernel_forks;  // /proc/stat "processes"
  bool connector_up = false;
  bool kernel_filter_active = false;
  std::int64_t receive_buffer_bytes = 0;
};

struct BuildInfo {
  std::string version;
  std::string revision;
  std::string compiler;
};

/// The exporter's own families (everything except process_*).
std::vector<prometheus::MetricFamily> exporter_families(const aggregator::Snapshot& snapshot,
                                                        const PipelineStatus& status, const BuildInfo& build);

/// The standard process_* families of this process, read from /proc/self (empty families are omitted
/// when a file cannot be read).
std::vector<prometheus::MetricFamily> process_self_families();

/// Prometheus text exposition format 0.0.4 (see text_writer.h).
std::string render_text(const std::vector<prometheus::MetricFamily>& families);

}  // namespace procevents::metrics
