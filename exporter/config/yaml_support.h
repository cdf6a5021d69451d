// Internal to the config layer: yaml-cpp helpers shared by the config and web config loaders.
// Includes yaml-cpp, which is private to procevents_config: never include this from a public header.
// Every function reports problems into Diagnostics instead of throwing; yaml-cpp exceptions are
// caught here or in the loaders' outermost try.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config_error.h"

namespace procevents::config::detail {

/// The errors and warnings of one file. yaml-cpp marks are 0-based; reports are 1-based.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(const YAML::Mark& mark, std::string message);
  void error(const YAML::Node& node, std::string message) { error(node.Mark(), std::move(message)); }
  void error_at_line(int line, int column, std::string message);  // 1-based; 0 = no position
  void warn(const YAML::Mark& mark, const std::string& message);
  void warn(const YAML::Node& node, const std::string& message) { warn(node.Mark(), message); }

  const std::string& file() const { return file_; }
  std::vector<ConfigError> errors;
  std::vector<std::string> warnings;  // "file:line:col: message"

 private:
  std::string file_;
};

/// One entry of a mapping. `mark` is where to point for the value: a null value (`key:`) has no
/// position of its own, so it is the key's.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
  YAML::Mark mark;
};

/// The entries of `map` (which must be a map) with scalar keys, in file order. A non-scalar key
/// is an error and skipped; a repeated key is a warning and only its last occurrence is kept, as
/// Go's YAML parser does for process-exporter. `where` prefixes messages ("process_names[0]").
std::vector<Entry> entries(Diagnostics& diag, const YAML::Node& map, std::string_view where);

/// Reads a whole file; false and `error` ("cannot open: No such file or directory") on failure.
bool read_file(const std::string& path, std::string& out, std::string& error);

/// A loader's result (LoadResult, WebConfigResult): the diagnostics, and `value` only when there
/// are no errors.
template <class Result, class Value>
Result finish_result(Diagnostics& diag, Value&& value) {
  Result result;
  result.errors = std::move(diag.errors);
  result.warnings = std::move(diag.warnings);
  if (result.errors.empty()) result.config = std::forward<Value>(value);
  return result;
}

/// The result for a file that cannot be read: one error without a position.
template <class Result>
Result unreadable_result(const std::string& path, std::string error) {
  Result result;
  result.errors.push_back({path, 0, 0, std::move(error)});
  return result;
}

/// UTF-8 and NUL check of the raw text, then YAML parse, then "the top level is a mapping".
/// nullopt after reporting. A document with nothing in it is an error when `empty_is_error`,
/// otherwise an empty mapping.
std::optional<YAML::Node> parse_document(Diagnostics& diag, std::string_view text, bool empty_is_error);

// Typed readers: false after reporting at `at`. `what` names the setting in messages.
bool read_string(Diagnostics& diag, const YAML::Node& node, const YAML::Mark& at, std::string_view what,
                 std::string& out);
bool read_bool(Diagnostics& diag, const YAML::Node& node, const YAML::Mark& at, std::string_view what, bool& out);
/// An integer in [min, max]; "-1", "1.5", "1e3" and out-of-range values are errors.
bool read_count(Diagnostics& diag, const YAML::Node& node, const YAML::Mark& at, std::string_view what,
                std::size_t& out, std::size_t min, std::size_t max);
bool read_number(Diagnostics& diag, const YAML::Node& node, const YAML::Mark& at, std::string_view what,
                 double& out);
/// A sequence of strings. A single string where the list belongs is an error that shows the fix.
bool read_string_list(Diagnostics& diag, const YAML::Node& node, const YAML::Mark& at, std::string_view what,
                      std::vector<std::string>& out);

}  // namespace procevents::config::detail
