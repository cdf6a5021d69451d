// TLS through OpenSSL: handshake, client certificates, minimum version, failures.
#include <catch2/catch.hpp>

#include <openssl/ssl.h>

#include "http_client.h"
#include "test_certificates.h"
#include "test_server.h"

namespace procevents::http::test {
namespace {

TEST_CASE("TLS: handshake and GET /metrics, /, /healthz over TLS", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  const RunningServer running = start_server(tls.options(), fixed_scrape(), always_healthy());
  INFO(running.error);
  REQUIRE(running.server);
  const TlsClientOptions client;
  const auto metrics = fetch(running.port, "GET", "/metrics", "Accept-Encoding: gzip\r\n", &client);
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(gunzip(metrics->body) == sample_exposition());
  CHECK(fetch(running.port, "GET", "/", "", &client)->status == 200);
  CHECK(fetch(running.port, "GET", "/healthz", "", &client)->body == "ok\n");
  CHECK(fetch(running.port, "GET", "/nope", "", &client)->status == 404);

  // Many handshakes in a row.
  for (int i = 0; i < 20; ++i) REQUIRE(fetch(running.port, "GET", "/healthz", "", &client));
}

TEST_CASE("TLS: a scrape larger than a TLS record arrives whole, compressed or not", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  std::string large;
  while (large.size() < 256 * 1024) large += sample_exposition();
  const RunningServer running = start_server(tls.options(), [&](ExpositionFormat) { return large; }, always_healthy());
  REQUIRE(running.server);
  const TlsClientOptions client;
  const auto plain = fetch(running.port, "GET", "/metrics", "", &client);
  REQUIRE(plain);
  CHECK(plain->body == large);
  const auto compressed = fetch(running.port, "GET", "/metrics", "Accept-Encoding: gzip\r\n", &client);
  REQUIRE(compressed);
  CHECK(gunzip(compressed->body) == large);
}

TEST_CASE("TLS: plain HTTP to a TLS port is refused without hurting the server", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  const RunningServer running = start_server(tls.options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  const auto plain = fetch(running.port, "GET", "/metrics");
  if (plain) CHECK(plain->status != 200);
  std::optional<Connection> garbage = Connection::open(running.port);
  REQUIRE(garbage);
  if (garbage->send(std::string(5000, '\x16'))) CHECK(garbage->wait_closed(std::chrono::seconds(5)));
  const TlsClientOptions client;
  const auto response = fetch(running.port, "GET", "/metrics", "", &client);
  REQUIRE(response);
  CHECK(response->status == 200);
}

TEST_CASE("TLS: min_version TLS13 refuses a TLS 1.2 client", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  ServerOptions options = tls.options();
  options.web.tls.min_version = "TLS13";
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  TlsClientOptions old_client;
  old_client.max_version = TLS1_2_VERSION;
  CHECK_FALSE(fetch(running.port, "GET", "/metrics", "", &old_client));
  const TlsClientOptions client;
  const auto response = fetch(running.port, "GET", "/metrics", "", &client);
  REQUIRE(response);
  CHECK(response->status == 200);
}

TEST_CASE("TLS: the default minimum is TLS 1.2", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  const RunningServer running = start_server(tls.options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  TlsClientOptions tls12;
  tls12.max_version = TLS1_2_VERSION;
  const auto response = fetch(running.port, "GET", "/metrics", "", &tls12);
  REQUIRE(response);
  CHECK(response->status == 200);
  TlsClientOptions tls11;
  tls11.max_version = TLS1_1_VERSION;
  CHECK_FALSE(fetch(running.port, "GET", "/metrics", "", &tls11));
}

TEST_CASE("TLS: each client_auth_type accepts the clients exporter-toolkit's does", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  struct Row {
    const char* client_auth_type;
    bool with_ca;  // client_ca_file set
    bool anonymous, trusted, rogue;  // which clients get /metrics
  };
  const Row rows[] = {
      {"NoClientCert", false, true, true, true},
      {"RequestClientCert", false, true, true, true},
      {"RequireAnyClientCert", false, false, true, true},
      {"VerifyClientCertIfGiven", true, true, true, false},
      {"RequireAndVerifyClientCert", true, false, true, false},
  };
  TlsClientOptions trusted, rogue;
  trusted.cert_file = tls.pki.client_cert;
  trusted.key_file = tls.pki.client_key;
  rogue.cert_file = tls.pki.rogue_cert;
  rogue.key_file = tls.pki.rogue_key;
  const TlsClientOptions anonymous;
  for (const Row& row : rows) {
    INFO(row.client_auth_type);
    ServerOptions options = tls.options();
    options.web.tls.client_auth_type = row.client_auth_type;
    if (row.with_ca) options.web.tls.client_ca_file = tls.pki.ca_cert;
    const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
    INFO(running.error);
    REQUIRE(running.server);
    // A refusal means no response at all (with TLS 1.3 it may come after the client's handshake).
    auto served = [&](const TlsClientOptions& client) {
      const auto response = fetch(running.port, "GET", "/metrics", "", &client);
      return response && response->status == 200;
    };
    CHECK(served(trusted) == row.trusted);
    CHECK(served(anonymous) == row.anonymous);
    CHECK(served(rogue) == row.rogue);
    CHECK(served(trusted) == row.trusted);  // a refused client leaves the server working
  }
}

TEST_CASE("TLS with basic auth: both are required", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  ServerOptions options = tls.options();
  options.web.basic_auth_users = {{"prometheus", bcrypt_hash("pw", 4)}};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  const TlsClientOptions client;
  CHECK(fetch(running.port, "GET", "/metrics", "", &client)->status == 401);
  const std::string good = "Authorization: " + basic_credentials("prometheus", "pw") + "\r\n";
  CHECK(fetch(running.port, "GET", "/metrics", good, &client)->status == 200);
}

TEST_CASE("TLS: unusable certificate settings fail start with the reason", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  struct Case {
    const char* what;
    void (*change)(ServerOptions&, const TestPki&);
    const char* expected;
  };
  const Case cases[] = {
      {"key of another certificate",
       [](ServerOptions& o, const TestPki& p) { o.web.tls.key_file = p.client_key; }, "key values mismatch"},
      {"certificate is a key", [](ServerOptions& o, const TestPki& p) { o.web.tls.cert_file = p.server_key; },
       "certificate"},
      {"missing key", [](ServerOptions& o, const TestPki& p) { o.web.tls.key_file = p.server_key + ".missing"; },
       ".missing"},
      {"verification without a CA",
       [](ServerOptions& o, const TestPki&) { o.web.tls.client_auth_type = "RequireAndVerifyClientCert"; },
       "client_ca_file"},
      {"unreadable CA",
       [](ServerOptions& o, const TestPki&) {
         o.web.tls.client_auth_type = "VerifyClientCertIfGiven";
         o.web.tls.client_ca_file = "/nonexistent/ca.pem";
       },
       "/nonexistent/ca.pem"},
      {"unknown client_auth_type",
       [](ServerOptions& o, const TestPki&) { o.web.tls.client_auth_type = "Sometimes"; }, "Sometimes"},
      {"a cipher suite this OpenSSL lacks",
       [](ServerOptions& o, const TestPki&) { o.web.tls.cipher_suites = {"TLS_RSA_WITH_RC4_128_SHA"}; },
       "cipher suite TLS_RSA_WITH_RC4_128_SHA is not available in this OpenSSL"},
      {"min_version above max_version",
       [](ServerOptions& o, const TestPki&) {
         o.web.tls.min_version = "TLS13";
         o.web.tls.max_version = "TLS12";
       },
       "min_version TLS13 is above max_version TLS12"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    ServerOptions options = tls.options();
    c.change(options, tls.pki);
    std::string error;
    CHECK_FALSE(HttpServer::start(options, fixed_scrape(), always_healthy(), &error));
    INFO(error);
    CHECK(error.find(c.expected) != std::string::npos);
  }
}

}  // namespace
}  // namespace procevents::http::test
