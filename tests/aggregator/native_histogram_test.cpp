// Native (exponential) buckets: the Go client's bucket boundaries, the bound on their number, merging.
#include <catch2/catch.hpp>

#include <cmath>

#include "aggregator/native_histogram.h"

using procevents::aggregator::NativeHistogram;

TEST_CASE("native bucket indices follow the Go client's boundaries", "[aggregator][native]") {
  struct Row {
    double value;
    std::int32_t schema;
    std::int32_t index;
  };
  // Bucket i of schema s is (2^((i-1)/2^s), 2^(i/2^s)]: a boundary belongs to the bucket below it.
  const Row rows[] = {
      {1.0, 3, 0},        {std::nextafter(1.0, 2.0), 3, 1}, {2.0, 3, 8},       {1.09, 3, 1},   {0.5, 3, -8},
      {1e-6, 3, -159},    {86400.0, 3, 132},               {1.0, 2, 0},        {2.0, 2, 4},    {3.0, 1, 4},
      {1.0, 0, 0},        {2.0, 0, 1},                     {3.0, 0, 2},        {4.0, 0, 2},    {4.0, -1, 1},
      {5.0, -1, 2},       {1024.0, -4, 1},                 {65536.0, -4, 1},   {65537.0, -4, 2},
  };
  for (const Row& row : rows) {
    CAPTURE(row.value, row.schema);
    CHECK(NativeHistogram::index_of(row.value, row.schema) == row.index);
  }
}

TEST_CASE("native buckets stay within their bound by reducing the schema", "[aggregator][native]") {
  NativeHistogram h;
  h.observe(1.0);
  CHECK(h.schema == 3);
  // One microsecond to ten days: 40 doublings, 320 buckets at schema 3.
  h.observe(1e-6);
  h.observe(864000.0);
  CHECK(h.counts.size() <= NativeHistogram::kMaxBuckets);
  CHECK(h.schema == 2);
  CHECK(h.count() == 3);
  // Extreme values still fit, at a coarser schema.
  h.observe(1e-30);
  h.observe(1e300);
  h.observe(0);
  h.observe(-1);
  CHECK(h.counts.size() <= NativeHistogram::kMaxBuckets);
  CHECK(h.schema >= NativeHistogram::kMinSchema);
  CHECK(h.count() == 7);
  CHECK(h.zero_count == 2);
  CHECK(h.counts[static_cast<std::size_t>(NativeHistogram::index_of(1.0, h.schema) - h.first_index)] == 1);
}

TEST_CASE("samples within the window allocate nothing", "[aggregator][native]") {
  NativeHistogram h;
  h.observe(0.001);
  h.observe(10.0);
  const auto* storage = h.counts.data();
  for (int i = 0; i < 100000; ++i) h.observe(0.001 + 1e-4 * (i % 10000));
  CHECK(h.counts.data() == storage);
  CHECK(h.count() == 100002);
}

TEST_CASE("adding native histograms merges to the coarser schema", "[aggregator][native]") {
  NativeHistogram fine, coarse;
  for (double v = 1; v < 100; v *= 1.05) fine.observe(v);
  coarse.observe(1e-6);
  coarse.observe(864000.0);  // schema 2 now
  coarse.observe(3.0);
  REQUIRE(coarse.schema == 2);
  NativeHistogram sum = fine;
  sum.add(coarse);
  CHECK(sum.schema == 2);
  CHECK(sum.count() == fine.count() + coarse.count());
  NativeHistogram other_way = coarse;
  other_way.add(fine);
  CHECK(other_way.schema == sum.schema);
  CHECK(other_way.first_index == sum.first_index);
  CHECK(other_way.counts == sum.counts);
  NativeHistogram empty;
  empty.add(NativeHistogram{});
  CHECK(empty.count() == 0);
}
