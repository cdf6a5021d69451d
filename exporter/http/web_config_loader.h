// Loader for the exporter-toolkit web configuration (`--web.config.file`) into web_config.h, with the
// config layer's YAML helpers (config/yaml_support.h) and errors (config/config_error.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"
#include "http/web_config.h"

namespace procevents::http {

struct WebConfigResult {
  std::optional<WebConfig> config;    // set exactly when errors is empty
  std::vector<config::ConfigError> errors;
  std::vector<std::string> warnings;  // ignored settings; log each once
};

/// Reads and validates `path`. Accepted: tls_server_config {cert_file, key_file, client_ca_file,
/// client_auth_type, min_version, max_version, cipher_suites and curve_preferences (exporter-toolkit's
/// Go names; unknown names are errors), prefer_server_cipher_suites}, http_server_config {headers; http2 is
/// ignored}, basic_auth_users {user: bcrypt hash}. Settings that would weaken security if ignored
/// (inline cert/key, client_allowed_sans) are errors. Relative file names are resolved against the
/// directory of `path`, as exporter-toolkit does, and must be readable. An empty file is valid (no
/// TLS, no auth). Never throws except std::bad_alloc.
WebConfigResult load_web_config_file(const std::string& path);

/// As load_web_config_file() on `text`; `name` stands for the file in messages. File names are
/// kept as written and not checked.
WebConfigResult load_web_config_string(std::string_view text, const std::string& name);

}  // namespace procevents::http
