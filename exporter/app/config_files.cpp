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

/// The loaded configuration of a config or web config LoadResult, after logging its warnings (as
/// `warning_message`) and, when it did not load, its errors.
template <class Result>
decltype(Result::config) logged_config(Result result, const char* warning_message) {
  for (const std::string& warning : result.warnings) log(LogLevel::kWarn, warning_message, {{"detail", warning}});
  if (!result.config) {
    for (const config::ConfigError& error : result.errors) log_config_error(error);
  }
  return std::move(result.config);
}

}  // namespace

std::optional<config::Config> load_config(const std::string& path) {
  if (path.empty()) return config::default_config();
  return logged_config(config::load_config_file(path), "configuration warning");
}

std::optional<http::WebConfig> load_web_config(const std::string& path) {
  if (path.empty()) return http::WebConfig{};
  return logged_config(http::load_web_config_file(path), "web configuration warning");
}

}  // namespace procevents::app
