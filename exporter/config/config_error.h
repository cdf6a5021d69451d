// One problem found while loading a configuration file.
#pragma once

#include <string>

namespace procevents::config {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 = not tied to a position (e.g. the file cannot be read)
  int column = 0;  // 1-based; 0 with line
  std::string message;

  /// "file:line:col: message", or "file: message" without a position.
  std::string to_string() const {
    if (line <= 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  }
};

}  // namespace procevents::config
