#include "metrics/text_writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace procevents::metrics {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {

// TextSerializer prints doubles with precision max_digits10 - 1 (16) in the default float
// format, i.e. like "%.16g"; NaN and infinities have their own spellings.
void append_double(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "Nan";
  } else if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
  } else {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 16);
    out.append(buffer, result.ptr);
  }
}

void append_integer(std::string& out, std::uint64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void head(std::string& out, const MetricFamily& family, const ClientMetric& metric, std::string_view suffix,
          std::string_view extra_name = {}, std::string_view extra_value = {}) {
  out += family.name;
  out += suffix;
  if (!metric.label.empty() || !extra_name.empty()) {
    out += '{';
    const char* separator = "";
    for (const auto& label : metric.label) {
      out += separator;
      out += label.name;
      out += "=\"";
      append_escaped(out, label.value, true);
      out += '"';
      separator = ",";
    }
    if (!extra_name.empty()) {
      out += separator;
      out += extra_name;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

void tail(std::string& out, const ClientMetric& metric) {
  if (metric.timestamp_ms != 0) {
    out += ' ';
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, metric.timestamp_ms);
    out.append(buffer, result.ptr);
  }
  out += '\n';
}

void histogram(std::string& out, const MetricFamily& family, const ClientMetric& metric) {
  const auto& h = metric.histogram;
  head(out, family, metric, "_count");
  append_integer(out, h.sample_count);
  tail(out, metric);
  head(out, family, metric, "_sum");
  append_double(out, h.sample_sum);
  tail(out, metric);
  double last = -INFINITY;
  std::string bound;
  for (const auto& bucket : h.bucket) {
    bound.clear();
    append_double(bound, bucket.upper_bound);
    head(out, family, metric, "_bucket", "le", bound);
    last = bucket.upper_bound;
    append_integer(out, bucket.cumulative_count);
    tail(out, metric);
  }
  if (last != INFINITY) {
    head(out, family, metric, "_bucket", "le", "+Inf");
    append_integer(out, h.sample_count);
    tail(out, metric);
  }
}

/// As TextSerializer: _count, _sum, then the quantiles (we export none).
void summary(std::string& out, const MetricFamily& family, const ClientMetric& metric) {
  const auto& s = metric.summary;
  head(out, family, metric, "_count");
  append_integer(out, s.sample_count);
  tail(out, metric);
  head(out, family, metric, "_sum");
  append_double(out, s.sample_sum);
  tail(out, metric);
  std::string quantile;
  for (const auto& q : s.quantile) {
    quantile.clear();
    append_double(quantile, q.quantile);
    head(out, family, metric, "", "quantile", quantile);
    append_double(out, q.value);
    tail(out, metric);
  }
}

}  // namespace

void write_text(const std::vector<MetricFamily>& families, std::string& out) {
  for (const MetricFamily& family : families) {
    if (!family.help.empty()) {
      out += "# HELP ";
      out += family.name;
      out += ' ';
      append_escaped(out, family.help, false);
      out += '\n';
    }
    const char* type = "untyped";
    switch (family.type) {
      case MetricType::Counter: type = "counter"; break;
      case MetricType::Gauge: type = "gauge"; break;
      case MetricType::Summary: type = "summary"; break;
      case MetricType::Histogram: type = "histogram"; break;
      case MetricType::Untyped: type = "untyped"; break;
      default: break;
    }
    out += "# TYPE ";
    out += family.name;
    out += ' ';
    out += type;
    out += '\n';
    for (const ClientMetric& metric : family.metric) {
      switch (family.type) {
        case MetricType::Counter:
          head(out, family, metric, "");
          append_double(out, metric.counter.value);
          tail(out, metric);
          break;
        case MetricType::Gauge:
          head(out, family, metric, "");
          append_double(out, metric.gauge.value);
          tail(out, metric);
          break;
        case MetricType::Histogram:
          histogram(out, family, metric);
          break;
        case MetricType::Summary:
          summary(out, family, metric);
          break;
        default:  // we export no untyped metrics
          head(out, family, metric, "");
          append_double(out, metric.untyped.value);
          tail(out, metric);
          break;
      }
    }
  }
}

}  // namespace procevents::metrics
