#include "metrics/protobuf_writer.h"

#include <cmath>
#include <cstdint>
#include <utility>

#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>

#include "io/prometheus/client/metrics.pb.h"

namespace procevents::metrics {

namespace pb = io::prometheus::client;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {

pb::MetricType proto_type(MetricType type) {
  switch (type) {
    case MetricType::Counter: return pb::COUNTER;
    case MetricType::Gauge: return pb::GAUGE;
    case MetricType::Summary: return pb::SUMMARY;
    case MetricType::Histogram: return pb::HISTOGRAM;
    default: return pb::UNTYPED;
  }
}

/// Classic buckets as the text writer prints them: a +Inf bucket (= the count) closes the list.
void classic_histogram(const ClientMetric::Histogram& in, pb::Histogram& out) {
  out.set_sample_count(in.sample_count);
  out.set_sample_sum(in.sample_sum);
  if (in.bucket.empty()) return;  // a native histogram's series alone
  for (const auto& bucket : in.bucket) {
    pb::Bucket* b = out.add_bucket();
    b->set_cumulative_count(bucket.cumulative_count);
    b->set_upper_bound(bucket.upper_bound);
  }
  if (in.bucket.back().upper_bound != INFINITY) {
    pb::Bucket* b = out.add_bucket();
    b->set_cumulative_count(in.sample_count);
    b->set_upper_bound(INFINITY);
  }
}

/// Spans over the non-empty buckets, each bucket's count as the change from the one before. A gap of up
/// to two empty buckets stays inside the span as zero counts: cheaper than a new span (the Go client's rule).
void native_histogram(const aggregator::NativeHistogram& in, pb::Histogram& out) {
  constexpr std::int32_t kMaxGapInSpan = 2;
  out.set_schema(in.schema);
  out.set_zero_threshold(aggregator::NativeHistogram::kZeroThreshold);
  out.set_zero_count(in.zero_count);
  pb::BucketSpan* span = nullptr;
  std::int32_t next_index = 0;  // index after the last bucket written
  std::int64_t previous = 0;
  for (std::size_t k = 0; k < in.counts.size(); ++k) {
    if (in.counts[k] == 0) continue;
    const std::int32_t index = in.first_index + static_cast<std::int32_t>(k);
    const std::int32_t gap = index - next_index;
    if (span == nullptr || gap > kMaxGapInSpan) {
      span = out.add_positive_span();
      span->set_offset(out.positive_span_size() == 1 ? index : gap);
      span->set_length(0);
    } else {
      for (std::int32_t g = 0; g < gap; ++g) out.add_positive_delta(-std::exchange(previous, 0));
      span->set_length(span->length() + static_cast<std::uint32_t>(gap));
    }
    const auto count = static_cast<std::int64_t>(in.counts[k]);
    out.add_positive_delta(count - previous);
    previous = count;
    span->set_length(span->length() + 1);
    next_index = index + 1;
  }
}

void fill_metric(MetricType type, const ClientMetric& in, pb::Metric& out) {
  for (const auto& label : in.label) {
    pb::LabelPair* pair = out.add_label();
    pair->set_name(label.name);
    pair->set_value(label.value);
  }
  switch (type) {
    case MetricType::Counter: out.mutable_counter()->set_value(in.counter.value); break;
    case MetricType::Gauge: out.mutable_gauge()->set_value(in.gauge.value); break;
    case MetricType::Summary: {
      pb::Summary* summary = out.mutable_summary();
      summary->set_sample_count(in.summary.sample_count);
      summary->set_sample_sum(in.summary.sample_sum);
      for (const auto& q : in.summary.quantile) {
        pb::Quantile* quantile = summary->add_quantile();
        quantile->set_quantile(q.quantile);
        quantile->set_value(q.value);
      }
      break;
    }
    case MetricType::Histogram: classic_histogram(in.histogram, *out.mutable_histogram()); break;
    default: out.mutable_untyped()->set_value(in.untyped.value); break;
  }
  if (in.timestamp_ms != 0) out.set_timestamp_ms(in.timestamp_ms);
}

void append_delimited(const pb::MetricFamily& message, std::string& out) {
  const std::size_t size = message.ByteSizeLong();
  std::uint8_t header[10];
  const std::uint8_t* header_end =
      google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(static_cast<std::uint32_t>(size), header);
  out.append(reinterpret_cast<const char*>(header), static_cast<std::size_t>(header_end - header));
  const std::size_t at = out.size();
  out.resize(at + size);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(out.data() + at));
}

}  // namespace

void write_protobuf(const std::vector<MetricFamily>& families, const NativeSamples& native, std::string& out) {
  // One message on an arena, reused: Clear() keeps the sub-messages and strings for the next family, and
  // nothing is freed piecemeal at the end.
  google::protobuf::Arena arena;
  pb::MetricFamily& message = *google::protobuf::Arena::CreateMessage<pb::MetricFamily>(&arena);
  auto next_native = native.begin();
  for (const MetricFamily& family : families) {
    message.Clear();
    message.set_name(family.name);
    message.set_help(family.help);
    message.set_type(proto_type(family.type));
    for (std::size_t i = 0; i < family.metric.size(); ++i) {
      pb::Metric* metric = message.add_metric();
      fill_metric(family.type, family.metric[i], *metric);
      if (next_native != native.end() && next_native->metric == i && next_native->family == family.name) {
        native_histogram(*next_native->histogram, *metric->mutable_histogram());
        ++next_native;
      }
    }
    append_delimited(message, out);
  }
}

}  // namespace procevents::metrics
