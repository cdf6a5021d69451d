#include "app/config_check.h"

#include <string>

#include "config/config.h"
#include "http/web_config_loader.h"

namespace procevents::app {

namespace {

/// Prints the warnings and errors of a config or web config LoadResult; whether it loaded.
template <class Result>
bool report(const Result& result, const std::string& file, std::FILE* err) {
  for (const std::string& warning : result.warnings) std::fprintf(err, "%s: warning: %s\n", file.c_str(), warning.c_str());
  for (const config::ConfigError& error : result.errors) std::fprintf(err, "%s\n", error.to_string().c_str());
  return result.config.has_value();
}

std::string config_summary(const config::Config& cfg) {
  std::string attribution;
  for (const std::string& label : cfg.attribution) attribution += (attribution.empty() ? "" : ",") + label;
  return cfg.source + " (" + std::to_string(cfg.process_names.size()) + " process_names entries, " +
         std::to_string(cfg.events.size()) + " events, attribution [" + attribution + "], max_groups " +
         std::to_string(cfg.max_groups) + ")";
}

std::string web_config_summary(const std::string& file, const http::WebConfig& web) {
  return file + " (TLS " + (web.tls.enabled() ? "on" : "off") + ", " + std::to_string(web.basic_auth_users.size()) +
         " basic auth users)";
}

}  // namespace

int run_config_check(const Flags& flags, std::FILE* out, std::FILE* err) {
  std::string summary = "configuration OK: ";
  bool ok = true;
  if (flags.config_file.empty()) {
    summary += "no --config.file, built-in defaults";
  } else {
    const config::LoadResult result = config::load_config_file(flags.config_file);
    ok = report(result, flags.config_file, err) && ok;
    if (result.config) summary += config_summary(*result.config);
  }
  if (!flags.web_config_file.empty()) {
    const http::WebConfigResult result = http::load_web_config_file(flags.web_config_file);
    ok = report(result, flags.web_config_file, err) && ok;
    if (result.config) summary += "; web config " + web_config_summary(flags.web_config_file, *result.config);
  }
  if (!ok) {
    std::fprintf(err, "configuration check failed\n");
    return 2;
  }
  std::fprintf(out, "%s\n", summary.c_str());
  return 0;
}

}  // namespace procevents::app
