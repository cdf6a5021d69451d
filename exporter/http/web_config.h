// The exporter-toolkit compatible web configuration (`--web.config.file`): TLS and basic auth.
// Plain data; loaded by web_config_loader.h, consumed by http_server.h and tls_context.h.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace procevents::http {

struct TlsConfig {
  std::string cert_file;        // PEM certificate (chain); TLS is on when cert_file and key_file are set
  std::string key_file;         // PEM private key
  std::string client_ca_file;   // CA bundle to verify client certificates against
  std::string client_auth_type = "NoClientCert";  // or RequireAndVerifyClientCert, ...
  std::string min_version;      // "TLS12", "TLS13" or empty (TLS12)
  std::string max_version;      // "TLS12", "TLS13" or empty (TLS13)
  std::vector<std::string> cipher_suites;      // Go's (IANA) names; empty: OpenSSL's defaults
  std::vector<std::string> curve_preferences;  // CurveP256, CurveP384, CurveP521, X25519; empty: defaults
  bool prefer_server_cipher_suites = true;
  bool enabled() const { return !cert_file.empty() && !key_file.empty(); }
};

struct WebConfig {
  TlsConfig tls;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash ($2a$/$2b$/$2y$)
  std::map<std::string, std::string> headers;           // http_server_config.headers
};

}  // namespace procevents::http
