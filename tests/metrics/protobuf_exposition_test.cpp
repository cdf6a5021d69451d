// The protobuf exposition against the text one of the same families: decoded with the protobuf library,
// turned back into prometheus-cpp families and printed by the text writer, it must give the text response
// byte for byte (every family, HELP, TYPE, label and value). Native histograms, which text cannot carry,
// are decoded from their spans and deltas and compared with the snapshot's buckets.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/delimited_message_util.h>

#include "exposition_fixtures.h"
#include "io/prometheus/client/metrics.pb.h"
#include "metrics/exposition.h"
#include "protobuf_decoding.h"

using namespace procevents;
using procevents::testing::full_snapshot;
using procevents::testing::full_status;
using procevents::testing::decode_delimited;
using procevents::testing::native_buckets;
using procevents::testing::to_families;

namespace {

const metrics::BuildInfo kBuild{"1.2.3", "abcdef0", "main", "GNU 12.2.0", "linux", "amd64"};

struct Case {
  const char* name;
  aggregator::Snapshot snapshot;
  metrics::PipelineStatus status;
  config::GroupDetails per_group;
};

std::vector<Case> cases() {
  metrics::PipelineStatus minimal = full_status(false);
  minimal.kernel_forks.reset();
  return {
      {"full", full_snapshot(true), full_status(true), {}},
      {"per_group_all", full_snapshot(true), full_status(true), config::GroupDetails::all()},
      {"minimal", full_snapshot(false), minimal, {}},
      {"empty", {}, {}, {}},
  };
}

/// index -> count of the non-empty buckets.
std::map<std::int32_t, std::uint64_t> expected_buckets(const aggregator::NativeHistogram& h) {
  std::map<std::int32_t, std::uint64_t> out;
  for (std::size_t k = 0; k < h.counts.size(); ++k) {
    if (h.counts[k] != 0) out[h.first_index + static_cast<std::int32_t>(k)] = h.counts[k];
  }
  return out;
}

}  // namespace

TEST_CASE("the protobuf exposition decodes to the text exposition of the same families", "[metrics][protobuf]") {
  for (const bool native_scrape : {false, true}) {
    for (const Case& c : cases()) {
      CAPTURE(c.name, native_scrape);
      metrics::NativeSamples native;
      const auto families = metrics::exporter_families(c.snapshot, c.status, kBuild, c.per_group,
                                                       native_scrape ? &native : nullptr);
      const std::string text = metrics::render_text(families);
      const auto decoded = decode_delimited(metrics::render_protobuf(families, native));
      REQUIRE(decoded.size() == families.size());
      CHECK(metrics::render_text(to_families(decoded)) == text);
    }
  }
}

TEST_CASE("a protobuf scrape gets each group's native histograms in one series", "[metrics][protobuf]") {
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    metrics::NativeSamples native;
    const auto families = metrics::exporter_families(c.snapshot, c.status, kBuild, c.per_group, &native);
    const auto decoded = decode_delimited(metrics::render_protobuf(families, native));
    std::size_t seen = 0;
    for (const auto& family : decoded) {
      if (family.type() != io::prometheus::client::HISTOGRAM) continue;
      for (const auto& metric : family.metric()) {
        CAPTURE(family.name(), metric.label(0).value());
        REQUIRE(metric.label(0).name() == "groupname");  // per group, whatever per_group says
        const auto& group = *std::find_if(c.snapshot.groups.begin(), c.snapshot.groups.end(),
                                          [&](const auto& g) { return g.name == metric.label(0).value(); });
        const aggregator::Histogram& h = family.name() == "procevents_process_lifetime_seconds"
                                             ? group.counters.lifetime
                                             : group.counters.peak_rss;
        const auto& got = metric.histogram();
        CHECK(got.schema() == h.native.schema);
        CHECK(h.native.counts.size() <= aggregator::NativeHistogram::kMaxBuckets);
        CHECK(got.schema() <= aggregator::NativeHistogram::kInitialSchema);
        CHECK(got.zero_threshold() == aggregator::NativeHistogram::kZeroThreshold);
        CHECK(got.zero_count() == h.native.zero_count);
        CHECK(native_buckets(got) == expected_buckets(h.native));
        CHECK(h.native.count() == got.sample_count());
        // Classic buckets only where text has them per group too.
        CHECK((got.bucket_size() > 0) == (c.per_group.has(config::GroupDetail::kLifetimeBuckets)));
        ++seen;
      }
    }
    // busy and other, lifetime and (with taskstats) peak memory; idle has no sample.
    CHECK(seen == (c.status.taskstats ? 4u : c.snapshot.groups.empty() ? 0u : 2u));
  }
}
