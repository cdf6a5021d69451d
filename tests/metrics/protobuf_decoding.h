// Reading the protobuf exposition back with the protobuf library, for tests: the delimited stream into
// messages, the messages into prometheus-cpp families (to print as text), native buckets into counts.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <prometheus/metric_family.h>

#include "io/prometheus/client/metrics.pb.h"

namespace procevents::testing {

namespace pb = io::prometheus::client;

/// Every length-delimited MetricFamily in `body`; throws on a malformed stream.
inline std::vector<pb::MetricFamily> decode_delimited(const std::string& body) {
  google::protobuf::io::ArrayInputStream input(body.data(), static_cast<int>(body.size()));
  std::vector<pb::MetricFamily> out;
  for (;;) {
    pb::MetricFamily family;
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&family, &input, &clean_eof)) {
      if (clean_eof) return out;
      throw std::runtime_error("malformed delimited MetricFamily stream");
    }
    out.push_back(std::move(family));
  }
}

inline prometheus::MetricType from_proto(pb::MetricType type) {
  switch (type) {
    case pb::COUNTER: return prometheus::MetricType::Counter;
    case pb::GAUGE: return prometheus::MetricType::Gauge;
    case pb::SUMMARY: return prometheus::MetricType::Summary;
    case pb::HISTOGRAM: return prometheus::MetricType::Histogram;
    default: return prometheus::MetricType::Untyped;
  }
}

inline prometheus::ClientMetric from_proto(const pb::Metric& in) {
  prometheus::ClientMetric out;
  for (const auto& label : in.label()) out.label.push_back({label.name(), label.value()});
  out.counter.value = in.counter().value();
  out.gauge.value = in.gauge().value();
  out.untyped.value = in.untyped().value();
  out.summary.sample_count = in.summary().sample_count();
  out.summary.sample_sum = in.summary().sample_sum();
  for (const auto& q : in.summary().quantile()) out.summary.quantile.push_back({q.quantile(), q.value()});
  out.histogram.sample_count = in.histogram().sample_count();
  out.histogram.sample_sum = in.histogram().sample_sum();
  for (const auto& b : in.histogram().bucket()) out.histogram.bucket.push_back({b.cumulative_count(), b.upper_bound()});
  out.timestamp_ms = in.timestamp_ms();
  return out;
}

inline std::vector<prometheus::MetricFamily> to_families(const std::vector<pb::MetricFamily>& decoded) {
  std::vector<prometheus::MetricFamily> out;
  for (const auto& family : decoded) {
    prometheus::MetricFamily f{family.name(), family.help(), from_proto(family.type()), {}};
    for (const auto& metric : family.metric()) f.metric.push_back(from_proto(metric));
    out.push_back(std::move(f));
  }
  return out;
}

/// A native histogram's positive buckets, index -> count (non-empty ones), from spans and deltas.
inline std::map<std::int32_t, std::uint64_t> native_buckets(const pb::Histogram& h) {
  std::map<std::int32_t, std::uint64_t> out;
  std::int32_t index = 0;
  std::int64_t count = 0;
  int delta = 0;
  for (const auto& span : h.positive_span()) {
    index += span.offset();
    for (std::uint32_t i = 0; i < span.length(); ++i, ++index) {
      count += h.positive_delta(delta++);
      if (count != 0) out[index] = static_cast<std::uint64_t>(count);
    }
  }
  if (delta != h.positive_delta_size()) throw std::runtime_error("more deltas than the spans hold");
  return out;
}

}  // namespace procevents::testing
