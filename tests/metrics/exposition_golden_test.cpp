// The whole /metrics text, byte for byte, against files under tests/metrics/golden/: names, HELP,
// TYPE, label order, family order and which series exist. Every counter of the inputs holds a
// value of its own, so a row that reads the wrong field shows up as a changed line.
//
// A deliberate change to the exposition regenerates the files:
//   PROCEVENTS_UPDATE_GOLDEN=1 build/tests/metrics/metrics_test '[golden]'
// and the diff of tests/metrics/golden/ is then part of the review.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "exposition_fixtures.h"
#include "metrics/exposition.h"

using namespace procevents;
using procevents::testing::full_snapshot;
using procevents::testing::full_status;

namespace {

const metrics::BuildInfo kBuild{"1.2.3", "abcdef0", "main", "GNU 12.2.0", "linux", "amd64"};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void check_golden(const std::string& name, const std::string& text) {
  const std::string path = std::string(PROCEVENTS_GOLDEN_DIR) + "/" + name;
  if (std::getenv("PROCEVENTS_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary) << text;
    WARN("wrote " + path);
    return;
  }
  const std::string expected = read_file(path);
  REQUIRE_FALSE(expected.empty());
  // Line by line first, so a failure names the line; then the whole text (final newline included).
  std::istringstream want(expected), got(text);
  std::string want_line, got_line;
  for (int number = 1; std::getline(want, want_line); ++number) {
    CAPTURE(name, number);
    REQUIRE(std::getline(got, got_line));
    REQUIRE(got_line == want_line);
  }
  CHECK_FALSE(std::getline(got, got_line));
  CHECK(text == expected);
}

}  // namespace

TEST_CASE("the /metrics text equals the golden files byte for byte", "[metrics][golden]") {
  SECTION("everything on: taskstats, attribution, per-host defaults") {
    check_golden("full.prom", metrics::render_text(metrics::exporter_families(full_snapshot(true), full_status(true), kBuild)));
  }
  SECTION("every per_group option on") {
    check_golden("per_group_all.prom", metrics::render_text(metrics::exporter_families(
                                           full_snapshot(true), full_status(true), kBuild, config::GroupDetails::all())));
  }
  SECTION("without taskstats, attribution or /proc/stat") {
    metrics::PipelineStatus status = full_status(false);
    status.kernel_forks.reset();
    check_golden("minimal.prom", metrics::render_text(metrics::exporter_families(full_snapshot(false), status, kBuild)));
  }
  SECTION("a fresh start: nothing counted yet") {
    check_golden("empty.prom", metrics::render_text(metrics::exporter_families({}, {}, {})));
  }
}
