// A Prometheus native histogram's state: exponential buckets chosen by the client, the whole distribution
// in one series. prometheus-cpp's data model has no field for it, so it travels beside the classic buckets
// (aggregator::Histogram) to the protobuf writer.
//
// Bucket i of schema s holds (2^((i-1)/2^s), 2^(i/2^s)], the boundaries every Prometheus client uses.
// Schema 3 (8 buckets per doubling, ~4% relative error on a quantile) to start: lifetimes span µs to
// days (2^40) and peak memory KiB to TiB (2^30), so one program's values usually fit in a few doublings.
// Bounded like the Go client's NativeHistogramMaxBucketNumber: when the counted window (first to last
// non-empty bucket, gaps included) would exceed kMaxBuckets, the schema drops by one and neighbouring
// buckets merge, until it fits. 160 buckets hold 20 doublings at schema 3 and 40 (µs to 12 days) at
// schema 2. Counts live in one vector over that window: it grows only when a value lands outside, so a
// steady stream of samples allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace procevents::aggregator {

struct NativeHistogram {
  static constexpr std::int32_t kInitialSchema = 3;
  static constexpr std::int32_t kMinSchema = -4;
  static constexpr std::size_t kMaxBuckets = 160;
  /// Go's DefNativeHistogramZeroThreshold (2^-128): values up to it count in the zero bucket. Non-zero,
  /// so that Prometheus takes the histogram as native even before its first sample.
  static constexpr double kZeroThreshold = 0x1p-128;

  std::int32_t schema = kInitialSchema;
  std::int32_t first_index = 0;         // bucket index of counts[0]
  std::vector<std::uint64_t> counts;    // per bucket (not cumulative), first_index onwards
  std::uint64_t zero_count = 0;

  void observe(double value);
  /// Adds another histogram; the result takes the coarser schema of the two (or coarser still, to fit).
  void add(const NativeHistogram& other);
  std::uint64_t count() const;
  /// Bucket index of `value` (> kZeroThreshold) under `schema`, as the Go client computes it.
  static std::int32_t index_of(double value, std::int32_t schema);

 private:
  void reduce_schema();
  /// Makes [low, high] (indices at the current schema) part of the window, reducing the schema as needed;
  /// the arguments are updated to the final schema.
  void cover(std::int32_t& low, std::int32_t& high);
};

}  // namespace procevents::aggregator
