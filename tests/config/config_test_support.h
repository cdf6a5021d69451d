// Helpers shared by the tests that load configuration files (config/, naming/, http/).
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "config/config.h"
#include "support/refusal.h"

namespace procevents::config::testing {

inline std::string source_path(const std::string& relative) { return std::string(PROCEVENTS_SOURCE_DIR "/") + relative; }
inline std::string fixture(const std::string& name) { return source_path("tests/config/fixtures/" + name); }

using procevents::testing::Refusal;

/// Loads `yaml`, which must be valid; the first error is shown if it is not.
inline Config load_ok(const std::string& yaml) {
  LoadResult result = load_config_string(yaml, "test.yml");
  INFO((result.errors.empty() ? std::string() : result.errors.front().to_string()));
  REQUIRE(result.config);
  return std::move(*result.config);
}

/// All errors of `result`, one per line, for failure messages.
template <class Result>
std::string all_errors(const Result& result) {
  std::string text;
  for (const ConfigError& e : result.errors) text += e.to_string() + "\n";
  return text;
}

template <class Result>
std::string all_warnings(const Result& result) {
  std::string text;
  for (const std::string& w : result.warnings) text += w + "\n";
  return text;
}

}  // namespace procevents::config::testing
