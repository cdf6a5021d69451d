#include "aggregator/native_histogram.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace procevents::aggregator {

namespace {

// The Go client's nativeHistogramBounds: for schema s > 0, the 2^s bucket boundaries within [0.5, 1)
// of a value's frexp fraction. Schemas above kInitialSchema are never used.
constexpr std::array<double, 2> kBounds1 = {0.5, 0.7071067811865475};
constexpr std::array<double, 4> kBounds2 = {0.5, 0.5946035575013605, 0.7071067811865475, 0.8408964152537144};
constexpr std::array<double, 8> kBounds3 = {0.5,
                                            0.5452538663326288,
                                            0.5946035575013605,
                                            0.6484197773255048,
                                            0.7071067811865475,
                                            0.7711054127039704,
                                            0.8408964152537144,
                                            0.9170040432046711};
static_assert(NativeHistogram::kInitialSchema == 3, "a bounds table per positive schema up to the initial one");

/// Buckets 2k-1 and 2k of schema s are bucket k of schema s-1: ceil(i / 2), for negative i too.
constexpr std::int32_t coarser(std::int32_t index) { return index >= 0 ? (index + 1) / 2 : -((-index) / 2); }
static_assert(coarser(-3) == -1 && coarser(-2) == -1 && coarser(-1) == 0 && coarser(0) == 0 && coarser(1) == 1 &&
              coarser(2) == 1 && coarser(3) == 2);

template <std::size_t N>
std::int32_t fine_index(const std::array<double, N>& bounds, double fraction, int exponent) {
  const auto within = std::lower_bound(bounds.begin(), bounds.end(), fraction) - bounds.begin();
  return static_cast<std::int32_t>(within) + (exponent - 1) * static_cast<std::int32_t>(N);
}

}  // namespace

std::int32_t NativeHistogram::index_of(double value, std::int32_t schema) {
  int exponent = 0;
  const double fraction = std::frexp(value, &exponent);  // value = fraction * 2^exponent, fraction in [0.5, 1)
  switch (schema) {
    case 3: return fine_index(kBounds3, fraction, exponent);
    case 2: return fine_index(kBounds2, fraction, exponent);
    case 1: return fine_index(kBounds1, fraction, exponent);
    default: break;
  }
  std::int32_t index = exponent;
  if (fraction == 0.5) --index;  // an exact power of two is the upper bound of the bucket below
  const std::int32_t shift = -schema;
  const std::int32_t offset = (1 << shift) - 1;
  return (index + offset) >> shift;  // arithmetic shift (C++20): a floor division
}

void NativeHistogram::reduce_schema() {
  const std::int32_t new_first = coarser(first_index);
  // In place: a bucket's new position is never after its old one.
  for (std::size_t k = 0; k < counts.size(); ++k) {
    const std::uint64_t c = counts[k];
    counts[k] = 0;
    counts[static_cast<std::size_t>(coarser(first_index + static_cast<std::int32_t>(k)) - new_first)] += c;
  }
  if (!counts.empty()) {
    const std::int32_t last = coarser(first_index + static_cast<std::int32_t>(counts.size()) - 1);
    counts.resize(static_cast<std::size_t>(last - new_first + 1));
  }
  first_index = new_first;
  --schema;
}

void NativeHistogram::cover(std::int32_t& low, std::int32_t& high) {
  if (!counts.empty()) {
    low = std::min(low, first_index);
    high = std::max(high, first_index + static_cast<std::int32_t>(counts.size()) - 1);
  }
  while (static_cast<std::size_t>(high - low) + 1 > kMaxBuckets && schema > kMinSchema) {
    reduce_schema();
    low = coarser(low);
    high = coarser(high);
  }
  if (counts.empty()) {
    counts.assign(static_cast<std::size_t>(high - low) + 1, 0);
    first_index = low;
    return;
  }
  if (low < first_index) {
    counts.insert(counts.begin(), static_cast<std::size_t>(first_index - low), 0);
    first_index = low;
  }
  counts.resize(static_cast<std::size_t>(high - first_index) + 1);
}

void NativeHistogram::observe(double value) {
  if (!(value > kZeroThreshold)) {  // NaN too: no bucket fits it
    ++zero_count;
    return;
  }
  std::int32_t index = index_of(value, schema);
  const auto end = first_index + static_cast<std::int32_t>(counts.size());
  if (counts.empty() || index < first_index || index >= end) {
    std::int32_t high = index;
    cover(index, high);
  }
  ++counts[static_cast<std::size_t>(index - first_index)];
}

void NativeHistogram::add(const NativeHistogram& other) {
  zero_count += other.zero_count;
  if (other.counts.empty()) return;
  while (schema > other.schema) reduce_schema();
  NativeHistogram finer;  // a copy only when the other is finer than this
  const NativeHistogram* source = &other;
  if (other.schema > schema) {
    finer = other;
    while (finer.schema > schema) finer.reduce_schema();
    source = &finer;
  }
  std::int32_t low = source->first_index;
  std::int32_t high = low + static_cast<std::int32_t>(source->counts.size()) - 1;
  const std::int32_t schema_before = schema;
  cover(low, high);
  if (schema != schema_before) {  // the sum did not fit: bring the source down too
    if (source != &finer) finer = other;
    while (finer.schema > schema) finer.reduce_schema();
    source = &finer;
  }
  for (std::size_t k = 0; k < source->counts.size(); ++k) {
    counts[static_cast<std::size_t>(source->first_index + static_cast<std::int32_t>(k) - first_index)] += source->counts[k];
  }
}

std::uint64_t NativeHistogram::count() const {
  return std::accumulate(counts.begin(), counts.end(), zero_count);
}

}  // namespace procevents::aggregator
