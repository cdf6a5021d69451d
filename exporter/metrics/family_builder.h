// Internal to the metrics layer: the few pieces every family is built from. A family's Descriptor
// (name, TYPE, HELP) stands beside the function that fills it, node_exporter's way; those
// functions live in exposition.cpp (the pipeline's own families) and group_families.cpp (the
// aggregator's per-group counters).
#pragma once

#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "aggregator/snapshot.h"
#include "config/group_detail.h"
#include "metrics/exposition.h"

namespace procevents::metrics::detail {

using Labels = std::vector<prometheus::ClientMetric::Label>;

/// Counters carry `_total` in `name`: the serializer prints names as given.
struct Descriptor {
  const char* name;
  prometheus::MetricType type;
  const char* help;
};

prometheus::MetricFamily family(const Descriptor& d);
prometheus::ClientMetric::Label label(const char* name, std::string value);
prometheus::ClientMetric with_value(prometheus::MetricType type, double value, Labels labels);
/// Appends one counter or gauge sample.
void add(prometheus::MetricFamily& f, double value, Labels labels = {});
/// A family of one unlabelled sample.
prometheus::MetricFamily single(const Descriptor& d, double value);
/// One histogram sample from per-bucket counts (the serializer appends le="+Inf" = sample_count).
prometheus::ClientMetric histogram(Labels labels, const aggregator::Histogram& h, const std::vector<double>& bounds);

/// The families with groupname (group_families.cpp), appended to `out` in exposition order; `native` as
/// in exporter_families.
void group_families(const aggregator::Snapshot& snapshot, bool exit_records, const config::GroupDetails& per_group,
                    std::vector<prometheus::MetricFamily>& out, NativeSamples* native = nullptr);

}  // namespace procevents::metrics::detail
