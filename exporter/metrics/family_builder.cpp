#include "metrics/family_builder.h"

namespace procevents::metrics::detail {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(const Descriptor& d) { return MetricFamily{d.name, d.help, d.type, {}}; }

ClientMetric::Label label(const char* name, std::string value) { return {name, std::move(value)}; }

ClientMetric with_value(MetricType type, double value, Labels labels) {
  ClientMetric metric;
  metric.label = std::move(labels);
  if (type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return metric;
}

void add(MetricFamily& f, double value, Labels labels) { f.metric.push_back(with_value(f.type, value, std::move(labels))); }

MetricFamily single(const Descriptor& d, double value) {
  MetricFamily f = family(d);
  add(f, value);
  return f;
}

ClientMetric histogram(Labels labels, const aggregator::Histogram& h, const std::vector<double>& bounds) {
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

Labels group_labels(const aggregator::Snapshot& snapshot, const aggregator::GroupSnapshot& group) {
  Labels labels;
  labels.push_back(label("groupname", group.name));
  for (std::size_t i = 0; i < aggregator::kAttributionLabelCount; ++i) {
    if (snapshot.attribution_enabled[i]) labels.push_back(label(attribution::kLabels[i].name, group.attribution[i]));
  }
  return labels;
}

}  // namespace procevents::metrics::detail
