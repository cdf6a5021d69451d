#include "app/config_files.h"

#include <chrono>

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

ConfigStatus::ConfigStatus(std::string text, bool web_config)
    : text_(std::move(text)), reloads_{{{"config"}, {"web_config"}}}, web_config_(web_config) {
  loaded(kConfig, true);  // both were loaded before anything started
  loaded(kWebConfig, true);
}

void ConfigStatus::loaded(File file, bool successful) {
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::lock_guard lock(mutex_);
  reloads_[file].successful = successful;
  if (successful) reloads_[file].success_timestamp_seconds = now;
}

void ConfigStatus::set_text(std::string text) {
  std::lock_guard lock(mutex_);
  text_ = std::move(text);
}

std::string ConfigStatus::text() const {
  std::lock_guard lock(mutex_);
  return text_;
}

std::vector<metrics::ConfigReload> ConfigStatus::reloads() const {
  std::lock_guard lock(mutex_);
  if (!web_config_) return {reloads_[kConfig]};
  return {reloads_.begin(), reloads_.end()};
}

std::optional<config::Config> load_config(const std::string& path) {
  if (path.empty()) return config::default_config();
  return logged_config(config::load_config_file(path), "configuration warning");
}

std::optional<http::WebConfig> load_web_config(const std::string& path) {
  if (path.empty()) return http::WebConfig{};
  return logged_config(http::load_web_config_file(path), "web configuration warning");
}

}  // namespace procevents::app
