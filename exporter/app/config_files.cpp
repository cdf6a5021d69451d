#include "app/config_files.h"

#include "app/log.h"
#include "http/web_config_loader.h"

namespace procevents::app {

namespace {

void log_config_error(const config::ConfigError& error) {
  if (error.line <= 0) {
    log(LogLevel::kError, "invalid configuration", {{"file", error.file}, {"err", error.message}});
  } else {
    log(LogLevel::kError, "invalid configuration", {{"file", error.file}, {"line", std::to_string(error.line)},
                                                    {"column", std::to_string(error.column)}, {"err", error.message}});
  }
}

}  // namespace

/// Loads --config.file (or the built-in defaults); logs warnings; nullopt after logging errors.
std::optional<config::Config> load_config(const std::string& path) {
  if (path.empty()) return config::default_config();
  config::LoadResult result = config::load_config_file(path);
  for (const std::string& warning : result.warnings) log(LogLevel::kWarn, "configuration warning", {{"detail", warning}});
  if (!result.config) {
    for (const config::ConfigError& error : result.errors) log_config_error(error);
    return std::nullopt;
  }
  return std::move(*result.config);
}

/// Loads --web.config.file (or none); nullopt after logging errors.
std::optional<http::WebConfig> load_web_config(const std::string& path) {
  if (path.empty()) return http::WebConfig{};
  http::WebConfigResult loaded = http::load_web_config_file(path);
  for (const std::string& warning : loaded.warnings) log(LogLevel::kWarn, "web configuration warning", {{"detail", warning}});
  if (!loaded.config) {
    for (const config::ConfigError& error : loaded.errors) log_config_error(error);
    return std::nullopt;
  }
  return std::move(*loaded.config);
}

}  // namespace procevents::app
