// The exporter-toolkit web config: TLS, headers and bcrypt users.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "http/web_config_loader.h"
#include "support/refusal.h"

using procevents::testing::Refusal;
using namespace procevents::http;

TEST_CASE("web config: TLS, headers and bcrypt users load", "[http][web]") {
  const char* hash = "$2y$10$abcdefghijklmnopqrstuuYx9Y7n1Jw5rY5m5m5m5m5m5m5m5m5m5";
  const std::string yaml = std::string("basic_auth_users:\n  alice: '") + hash +
                           "'\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n"
                           "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  min_version: TLS13\n";
  WebConfigResult r = load_web_config_string(yaml, "web.yml");
  INFO((r.errors.empty() ? "" : r.errors[0].to_string()));
  REQUIRE(r.config);
  CHECK(r.config->basic_auth_users.at("alice") == hash);
  CHECK(r.config->headers.at("X-Frame-Options") == "deny");
  CHECK(r.config->tls.enabled());
  CHECK(r.config->tls.min_version == "TLS13");
  CHECK(load_web_config_string("", "web.yml").config);  // empty = no TLS, no auth
}

TEST_CASE("web config: exporter-toolkit's TLS settings load by Go's names", "[http][web]") {
  const std::string yaml =
      "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  max_version: TLS12\n"
      "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]\n"
      "  curve_preferences: [CurveP256, X25519]\n  prefer_server_cipher_suites: false\n";
  WebConfigResult r = load_web_config_string(yaml, "web.yml");
  INFO((r.errors.empty() ? "" : r.errors[0].to_string()));
  REQUIRE(r.config);
  CHECK(r.warnings.empty());
  CHECK(r.config->tls.max_version == "TLS12");
  CHECK(r.config->tls.cipher_suites ==
        std::vector<std::string>{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"});
  CHECK(r.config->tls.curve_preferences == std::vector<std::string>{"CurveP256", "X25519"});
  CHECK_FALSE(r.config->tls.prefer_server_cipher_suites);
  CHECK(load_web_config_string("tls_server_config:\n  cert_file: c\n  key_file: k\n", "w")
            .config->tls.prefer_server_cipher_suites);  // exporter-toolkit's default
}

TEST_CASE("web config: what would weaken security if ignored is an error", "[http][web]") {
  const Refusal rows[] = {
      {"basic_auth_users:\n  bob: plaintext\n", "bob"},
      {"basic_auth_users:\n  'a:b': '$2y$10$abcdefghijklmnopqrstuuYx9Y7n1Jw5rY5m5m5m5m5m5m5m5m5m5'\n", "user name"},
      {"tls_server_config:\n  cert_file: a.pem\n", "key_file is missing"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Maybe\n", "client_auth_type"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n",
       "needs client_ca_file"},
      {"tls_server_config:\n  cert: inline\n  cert_file: a\n  key_file: b\n", "inline PEM"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n", "not supported"},
      {"http_server_config:\n  headers:\n    X-Frame-Options: maybe\n", "X-Frame-Options"},
      {"tls_server_config: [1]\n", "expected a mapping"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  max_version: TLS11\n", "not supported"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n",
       "min_version TLS13 is above max_version TLS12"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256]\n",
       "unknown cipher suite \"ECDHE-RSA-AES128-GCM-SHA256\" (Go's names"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [P-256]\n",
       "unknown curve \"P-256\" (CurveP256, CurveP384, CurveP521 or X25519)"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: TLS_AES_128_GCM_SHA256\n",
       "cipher_suites"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  prefer_server_cipher_suites: maybe\n",
       "prefer_server_cipher_suites"},
  };
  for (const Refusal& row : rows) {
    INFO(row.input);
    WebConfigResult r = load_web_config_string(row.input, "web.yml");
    CHECK_FALSE(r.config);
    REQUIRE_FALSE(r.errors.empty());
    CHECK_THAT(r.errors[0].to_string(), Catch::Contains(row.reason));
    CHECK(r.errors[0].line > 0);
  }
}

TEST_CASE("web config: ignored settings are warnings", "[http][web]") {
  WebConfigResult r = load_web_config_string("http_server_config:\n  http2: true\nrate_limit: {}\n", "web.yml");
  REQUIRE(r.config);
  CHECK(r.warnings.size() == 2);
}

TEST_CASE("web config files: relative names resolve against the file, which must be readable", "[http][web]") {
  WebConfigResult missing = load_web_config_file("/nonexistent/web.yml");
  CHECK_FALSE(missing.config);
  REQUIRE(missing.errors.size() == 1);
  CHECK(missing.errors[0].line == 0);
}
