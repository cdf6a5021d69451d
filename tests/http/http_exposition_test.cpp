// The scrape over HTTP in both formats, from the metrics layer's real families: what Prometheus with native
// histograms asks for (delimited protobuf, gzip) decodes, through the protobuf library, to the same families,
// labels and values as the text a plain scrape of the same snapshot gets.
#include <catch2/catch.hpp>

#include <string>

#include "exposition_fixtures.h"
#include "http_client.h"
#include "metrics/exposition.h"
#include "protobuf_decoding.h"
#include "test_server.h"

using namespace procevents;
using namespace procevents::http;
using namespace procevents::http::test;

namespace {

constexpr char kNativeAccept[] =  // Prometheus 2.42 with --enable-feature=native-histograms
    "Accept: application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
    "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n";
constexpr char kProtobufType[] =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// The exporter's scrape callback over a fixed snapshot: per group, with taskstats and attribution.
HttpServer::ScrapeFn fixture_scrape() {
  return [](ExpositionFormat format) {
    const metrics::BuildInfo build{"1.2.3", "abcdef0", "main", "GNU 12.2.0", "linux", "amd64"};
    metrics::NativeSamples native;  // points into `snapshot`
    const bool protobuf = format == ExpositionFormat::kProtobuf;
    const aggregator::Snapshot snapshot = procevents::testing::full_snapshot(true);
    const auto families = metrics::exporter_families(snapshot, procevents::testing::full_status(true), build, {},
                                                     protobuf ? &native : nullptr);
    return protobuf ? metrics::render_protobuf(families, native) : metrics::render_text(families);
  };
}

}  // namespace

TEST_CASE("a native-histogram scrape gets delimited protobuf equal to the text of the same families", "[http]") {
  const RunningServer running = start_server(local_options(), fixture_scrape(), always_healthy());
  REQUIRE(running.server);
  const auto text = fetch(running.port, "GET", "/metrics");
  REQUIRE(text);
  CHECK(text->header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(text->header("Vary") == "Accept, Accept-Encoding");

  for (const bool gzip : {false, true}) {
    CAPTURE(gzip);
    const std::string headers = std::string(kNativeAccept) + (gzip ? "Accept-Encoding: gzip\r\n" : "");
    const auto response = fetch(running.port, "GET", "/metrics", headers);
    REQUIRE(response);
    REQUIRE(response->status == 200);
    CHECK(response->header("Content-Type") == kProtobufType);
    CHECK(response->has("Content-Encoding") == gzip);
    const auto body = gzip ? gunzip(response->body) : std::optional<std::string>(response->body);
    REQUIRE(body);
    const auto decoded = procevents::testing::decode_delimited(*body);
    // Families, HELP, TYPE, labels and values: the text again, except that histograms are per group in
    // protobuf (one native series each), per host in text by default.
    std::size_t native = 0;
    for (const auto& family : decoded) {
      for (const auto& metric : family.metric()) native += metric.histogram().has_schema() ? 1 : 0;
    }
    CHECK(native == 4);  // two groups, lifetime and peak memory
    metrics::NativeSamples samples;
    const aggregator::Snapshot snapshot = procevents::testing::full_snapshot(true);
    const auto families = metrics::exporter_families(snapshot, procevents::testing::full_status(true),
                                                     {"1.2.3", "abcdef0", "main", "GNU 12.2.0", "linux", "amd64"}, {},
                                                     &samples);
    CHECK(metrics::render_text(procevents::testing::to_families(decoded)) == metrics::render_text(families));
    // Every family of the text response is there, in the same order, with the same samples apart from
    // the histograms.
    const auto text_families = metrics::exporter_families(procevents::testing::full_snapshot(true),
                                                          procevents::testing::full_status(true),
                                                          {"1.2.3", "abcdef0", "main", "GNU 12.2.0", "linux", "amd64"});
    REQUIRE(metrics::render_text(text_families) == text->body);
    REQUIRE(decoded.size() == text_families.size());
    for (std::size_t f = 0; f < decoded.size(); ++f) {
      CHECK(decoded[f].name() == text_families[f].name);
      if (text_families[f].type != prometheus::MetricType::Histogram) {
        CHECK(static_cast<std::size_t>(decoded[f].metric_size()) == text_families[f].metric.size());
      }
    }
  }
}
