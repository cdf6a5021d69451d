// Loading the two configuration files, with every warning and error logged: at start-up, on
// SIGHUP and when the web config file changes.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "http/web_config.h"
#include "metrics/exposition.h"

namespace procevents::app {

/// Loads --config.file (or the built-in defaults); logs warnings; nullopt after logging errors.
std::optional<config::Config> load_config(const std::string& path);

/// Loads --web.config.file (or none); nullopt after logging errors.
std::optional<http::WebConfig> load_web_config(const std::string& path);

/// What is in force, written by the main loop (start-up and reloads) and read by scrapes and the
/// landing page: the outcome of each file's last load and the configuration text shown at "/".
class ConfigStatus {
 public:
  enum File : unsigned char { kConfig, kWebConfig };

  /// `web_config`: whether --web.config.file is in use (its series exist only then).
  ConfigStatus(std::string text, bool web_config);

  /// Records a load of `file` now: a success stamps the time, a failure keeps the last success's.
  void loaded(File file, bool successful);
  void set_text(std::string text);

  std::string text() const;
  std::vector<metrics::ConfigReload> reloads() const;

 private:
  mutable std::mutex mutex_;
  std::string text_;
  std::array<metrics::ConfigReload, 2> reloads_;
  bool web_config_;
};

}  // namespace procevents::app
