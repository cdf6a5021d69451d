// Loading the two configuration files, with every warning and error logged: at start-up, on
// SIGHUP and when the web config file changes.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"
#include "http/web_config.h"

namespace procevents::app {

/// Loads --config.file (or the built-in defaults); logs warnings; nullopt after logging errors.
std::optional<config::Config> load_config(const std::string& path);

/// Loads --web.config.file (or none); nullopt after logging errors.
std::optional<http::WebConfig> load_web_config(const std::string& path);

}  // namespace procevents::app
