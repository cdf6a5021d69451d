// Internal to the metrics layer: the few pieces every family is built from. A family's Descriptor
// (name, TYPE, HELP) stands beside the function that fills it, node_exporter's way; those
// functions live in exposition.cpp (the pipeline's own families) and group_families.cpp (the
// aggregator's per-group counters).
#pragma once

#include <string_view>
#include <string>
#include <utility>
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

/// groupname plus every enabled attribution label.
Labels group_labels(const aggregator::Snapshot& snapshot, const aggregator::GroupSnapshot& group);

/// Adds one family's series for one label set (a group's, or none for the host). With `skip_zero`
/// a series exists only once it has something to say: a counter above 0, a histogram with a sample.
class SeriesOut {
 public:
  SeriesOut(prometheus::MetricFamily& family, const Labels& labels, bool skip_zero)
      : family_(family), labels_(labels), skip_zero_(skip_zero) {}
  /// For a protobuf scrape: histograms also give their native histogram to `native` under
  /// `family_name`, with their classic buckets only when `classic_buckets`.
  SeriesOut(prometheus::MetricFamily& family, const Labels& labels, bool skip_zero, NativeSamples* native,
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
    prometheus::ClientMetric metric;
    metric.label = labels_;
    metric.summary.sample_count = h.count;
    metric.summary.sample_sum = h.sum;
    family_.metric.push_back(std::move(metric));
  }

 private:
  prometheus::MetricFamily& family_;
  const Labels& labels_;
  bool skip_zero_;
  NativeSamples* native_ = nullptr;
  std::string_view native_family_;
  bool classic_buckets_ = true;
};

struct GroupFamilyOptions {
  bool exit_records = false;  // the taskstats source is active
  config::GroupDetails per_group;
  bool process_exporter_names = false;  // --compat.process-exporter
  NativeSamples* native = nullptr;      // as in exporter_families
};

/// The families with groupname (group_families.cpp), appended to `out` in exposition order.
void group_families(const aggregator::Snapshot& snapshot, const GroupFamilyOptions& options,
                    std::vector<prometheus::MetricFamily>& out);

/// process-exporter's namedprocess_namegroup_* families from the live figures, for every group as it
/// serves them (process_exporter_families.cpp); `label_sets` are the groups' labels, in order.
void process_exporter_families(const aggregator::Snapshot& snapshot, const std::vector<Labels>& label_sets,
                               std::vector<prometheus::MetricFamily>& out);

}  // namespace procevents::metrics::detail
