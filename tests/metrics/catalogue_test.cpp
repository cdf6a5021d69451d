// tests/deploy/metric_names.txt against the exposition itself: every family the exporter can emit,
// with exactly the catalogued labels, and every value of a fixed-set label both emitted and
// listed. (tests/deploy/check_catalogue.py checks names and types against the source and the
// dashboard's and rules' queries against the catalogue.)
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "attribution/labels.h"
#include "exposition_fixtures.h"
#include "metrics/exposition.h"

using namespace procevents;

namespace {

using LabelValues = std::map<std::string, std::set<std::string>>;  // label -> values (catalogue: empty = any)

struct Family {
  std::string type;
  LabelValues labels;
};

std::set<std::string> split(const std::string& text, char separator) {
  std::set<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, separator);) parts.insert(part);
  return parts;
}

std::string joined(const std::set<std::string>& parts, char separator) {
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : std::string(1, separator)) + part;
  return text;
}

/// name -> type and labels, as metric_names.txt writes them ("label=a|b" or "label", "-" for none).
std::map<std::string, Family> read_catalogue() {
  std::ifstream in(PROCEVENTS_CATALOGUE);
  REQUIRE(in);
  std::map<std::string, Family> catalogue;
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    std::istringstream fields(line);
    std::string name, type, labels;
    if (!(fields >> name >> type >> labels)) continue;
    Family& family = catalogue[name];
    family.type = type;
    if (labels == "-") continue;
    for (const std::string& item : split(labels, ',')) {
      const auto equals = item.find('=');
      family.labels[item.substr(0, equals)] =
          equals == std::string::npos ? std::set<std::string>{} : split(item.substr(equals + 1), '|');
    }
  }
  return catalogue;
}

/// name -> type and every label value seen, from text format 0.0.4. Samples belong to the family of
/// the last # TYPE line (histogram and summary suffixes included); `le` is the histograms' own.
std::map<std::string, Family> read_exposition(const std::string& text) {
  std::map<std::string, Family> families;
  Family* current = nullptr;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream fields(line.substr(7));
      std::string name, type;
      fields >> name >> type;
      current = &families[name];
      current->type = type;
      continue;
    }
    if (line.empty() || line[0] == '#' || current == nullptr) continue;
    const auto open = line.find('{');
    const auto close = line.rfind('}');
    if (open == std::string::npos || close == std::string::npos) continue;
    // The fixtures' label values hold no quotes, commas or '='.
    for (const std::string& pair : split(line.substr(open + 1, close - open - 1), ',')) {
      const auto equals = pair.find('=');
      const std::string label = pair.substr(0, equals);
      if (label == "le") continue;
      current->labels[label].insert(pair.substr(equals + 2, pair.size() - equals - 3));
    }
  }
  return families;
}

/// Everything the exporter can emit at once: every source up, every attribution label and per_group
/// option on, a sample of every signal, the process_* families.
std::string everything() {
  aggregator::Snapshot snapshot = testing::full_snapshot(true);
  snapshot.attribution_enabled.fill(true);
  for (auto& group : snapshot.groups) {
    for (std::size_t i = 0; i < attribution::kLabelCount; ++i) group.attribution[i] = "value";
    group.live = {.processes_read = 1, .threads = 2, .resident_bytes = 3, .virtual_bytes = 4, .swapped_bytes = 5,
                  .open_fds = 6, .worst_fd_ratio = 0.5, .oldest_start_seconds = 7};
    group.live.usage.fill(1);
    group.live.states.fill(1);
  }
  snapshot.live_read = true;
  for (std::size_t s = 1; s <= aggregator::kMaxSignal; ++s) snapshot.groups[0].counters.signal_exits[s] = s;
  auto families = metrics::exporter_families(snapshot, testing::full_status(true), {"1", "r", "b", "c", "linux", "amd64"},
                                             config::GroupDetails::all());
  // And process-exporter's names for the live families (--compat.process-exporter).
  for (auto& family : metrics::exporter_families(snapshot, testing::full_status(true), {"1", "r", "b", "c", "linux", "amd64"},
                                                 config::GroupDetails::all(), nullptr, true)) {
    if (family.name.rfind("namedprocess_", 0) == 0) families.push_back(std::move(family));
  }
  procfs::SelfUsage usage;
  usage.stat = procfs::SelfUsage::Stat{.cpu_seconds = 1, .virtual_memory_bytes = 2, .resident_memory_bytes = 3,
                                       .start_time_seconds = 4};
  usage.open_fds = 5;
  usage.max_fds = 6;
  for (auto& family : metrics::process_self_families(usage)) families.push_back(std::move(family));
  return metrics::render_text(families);
}

}  // namespace

TEST_CASE("metric_names.txt lists the exposition's families with their labels and values", "[metrics][catalogue]") {
  const std::map<std::string, Family> catalogue = read_catalogue();
  const std::map<std::string, Family> exposed = read_exposition(everything());
  REQUIRE(catalogue.size() > 50);
  for (const auto& [name, family] : catalogue) {
    CAPTURE(name);
    CHECK(exposed.count(name) == 1);
  }
  for (const auto& [name, seen] : exposed) {
    CAPTURE(name);
    const auto listed = catalogue.find(name);
    REQUIRE(listed != catalogue.end());
    CHECK(seen.type == listed->second.type);
    // Per-group families carry the attribution labels too: the catalogue implies them by groupname.
    LabelValues labels = seen.labels;
    if (listed->second.labels.count("groupname")) {
      for (const attribution::AttributionLabel& attribution : attribution::kLabels) {
        CHECK(labels.erase(attribution.name) == 1);
      }
    }
    std::set<std::string> seen_names, listed_names;
    for (const auto& [label, values] : labels) seen_names.insert(label);
    for (const auto& [label, values] : listed->second.labels) listed_names.insert(label);
    CHECK(joined(seen_names, ',') == joined(listed_names, ','));
    for (const auto& [label, values] : listed->second.labels) {
      if (values.empty() || !labels.count(label)) continue;  // any value
      CAPTURE(label);
      CHECK(joined(labels.at(label), '|') == joined(values, '|'));
    }
  }
}
