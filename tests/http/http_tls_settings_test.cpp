// exporter-toolkit's TLS settings over real sockets (max_version, cipher_suites, curve_preferences,
// prefer_server_cipher_suites), and reload(): certificates, users and headers replaced without a restart
// and without failing a scrape.
#include <catch2/catch.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "http_client.h"
#include "test_certificates.h"
#include "test_server.h"

namespace procevents::http::test {
namespace {

/// Opens a TLS connection; "" when the handshake fails, else "<protocol> <cipher> <server CN>".
std::string handshake(int port, const TlsClientOptions& client) {
  const std::optional<Connection> connection = Connection::open(port, std::chrono::seconds(2), &client);
  if (!connection) return "";
  return connection->protocol() + " " + connection->cipher() + " " + connection->peer_common_name();
}

TEST_CASE("TLS settings: max_version TLS12 refuses a TLS 1.3-only client", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  ServerOptions options = tls.options();
  options.web.tls.max_version = "TLS12";
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  INFO(running.error);
  REQUIRE(running.server);
  TlsClientOptions tls13_only;
  tls13_only.min_version = TLS1_3_VERSION;
  CHECK(handshake(running.port, tls13_only).empty());
  CHECK(handshake(running.port, TlsClientOptions{}).starts_with("TLSv1.2 "));
  CHECK(fetch(running.port, "GET", "/metrics", "", &tls13_only) == std::nullopt);
}

TEST_CASE("TLS settings: cipher_suites restrict TLS 1.2 and leave TLS 1.3 its defaults", "[http][tls]") {
  const TlsSetup tls;  // EC keys: ECDSA suites
  REQUIRE(tls.pki.ok);
  ServerOptions options = tls.options();
  options.web.tls.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  INFO(running.error);
  REQUIRE(running.server);
  TlsClientOptions other_cipher;
  other_cipher.max_version = TLS1_2_VERSION;
  other_cipher.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305";
  CHECK(handshake(running.port, other_cipher).empty());
  TlsClientOptions listed_cipher = other_cipher;
  listed_cipher.ciphers += ":ECDHE-ECDSA-AES256-GCM-SHA384";
  CHECK(handshake(running.port, listed_cipher) == "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 localhost");
  CHECK(handshake(running.port, TlsClientOptions{}).starts_with("TLSv1.3 "));
}

TEST_CASE("TLS settings: a TLS 1.3 suite listed restricts TLS 1.3", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  ServerOptions options = tls.options();
  options.web.tls.cipher_suites = {"TLS_CHACHA20_POLY1305_SHA256"};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  TlsClientOptions aes_only;
  aes_only.min_version = TLS1_3_VERSION;
  aes_only.ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";
  CHECK(handshake(running.port, aes_only).empty());
  CHECK(handshake(running.port, TlsClientOptions{}) == "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 localhost");
}

TEST_CASE("TLS settings: curve_preferences are the only groups offered for key exchange", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  ServerOptions options = tls.options();
  options.web.tls.curve_preferences = {"CurveP384"};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  // TLS 1.3: the groups are only the key exchange's (in TLS 1.2 they also constrain the ECDSA certificate's curve).
  TlsClientOptions x25519;
  x25519.min_version = TLS1_3_VERSION;
  x25519.groups = "X25519:P-256";
  CHECK(handshake(running.port, x25519).empty());
  TlsClientOptions with_p384 = x25519;
  with_p384.groups = "X25519:P-384";
  CHECK(handshake(running.port, with_p384).starts_with("TLSv1.3 "));
}

TEST_CASE("TLS settings: prefer_server_cipher_suites picks whose order wins", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  TlsClientOptions client;
  client.max_version = TLS1_2_VERSION;
  client.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256";
  for (const bool server_order : {true, false}) {
    INFO(server_order);
    ServerOptions options = tls.options();
    options.web.tls.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"};
    options.web.tls.prefer_server_cipher_suites = server_order;
    const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
    REQUIRE(running.server);
    CHECK(handshake(running.port, client) ==
          (server_order ? "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 localhost" : "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 localhost"));
  }
}

void copy_over(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

TEST_CASE("reload: a rotated certificate goes to the next connection, an open one keeps serving", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  ServerOptions options = tls.options();
  options.web.tls.cert_file = tls.dir.file("live-cert.pem");
  options.web.tls.key_file = tls.dir.file("live-key.pem");
  copy_over(tls.pki.server_cert, options.web.tls.cert_file);
  copy_over(tls.pki.server_key, options.web.tls.key_file);
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  INFO(running.error);
  REQUIRE(running.server);
  const TlsClientOptions client;
  std::optional<Connection> open = Connection::open(running.port, std::chrono::seconds(2), &client);
  REQUIRE(open);
  CHECK(open->peer_common_name() == "localhost");
  const std::string keep_alive = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(open->send(keep_alive));
  REQUIRE(open->read_response());

  // The "rogue" certificate stands in for the renewed one.
  copy_over(tls.pki.rogue_cert, options.web.tls.cert_file);
  copy_over(tls.pki.rogue_key, options.web.tls.key_file);
  std::string error;
  REQUIRE(running.server->reload(options.web, &error));
  CHECK(handshake(running.port, client).ends_with(" rogue"));
  REQUIRE(open->send(keep_alive));
  const auto response = open->read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
}

TEST_CASE("reload: scrapes during repeated reloads all succeed", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  ServerOptions options = tls.options();
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  WebConfig rogue = options.web;
  rogue.tls.cert_file = tls.pki.rogue_cert;
  rogue.tls.key_file = tls.pki.rogue_key;
  std::atomic<bool> done{false};
  std::atomic<int> reloads{0}, failed_reloads{0};
  std::thread reloader([&] {
    while (!done.load()) {
      std::string error;
      if (!running.server->reload(reloads % 2 ? options.web : rogue, &error)) ++failed_reloads;
      ++reloads;
    }
  });
  const TlsClientOptions client;
  int ok = 0;
  for (int i = 0; i < 60; ++i) {
    const auto response = fetch(running.port, "GET", "/metrics", "", &client);
    if (response && response->status == 200 && response->body == sample_exposition()) ++ok;
  }
  done = true;
  reloader.join();
  CHECK(ok == 60);
  CHECK(failed_reloads == 0);
  CHECK(reloads > 10);
}

TEST_CASE("reload: what cannot apply is refused and the old configuration stays", "[http][tls]") {
  const TlsSetup tls;
  REQUIRE(tls.pki.ok);
  const ServerOptions options = tls.options();
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  std::string error;
  WebConfig broken = options.web;
  broken.tls.key_file = tls.pki.client_key;
  CHECK_FALSE(running.server->reload(broken, &error));
  CHECK_THAT(error, Catch::Contains("key values mismatch"));
  WebConfig plain;
  CHECK_FALSE(running.server->reload(plain, &error));
  CHECK_THAT(error, Catch::Contains("needs a restart"));
  WebConfig bad_cipher = options.web;
  bad_cipher.tls.cipher_suites = {"TLS_RSA_WITH_3DES_EDE_CBC_SHA"};
  CHECK_FALSE(running.server->reload(bad_cipher, &error));
  CHECK(handshake(running.port, TlsClientOptions{}).ends_with(" localhost"));
}

TEST_CASE("reload: users and headers change for the next request", "[http]") {
  ServerOptions options = local_options();
  options.web.basic_auth_users = {{"old", bcrypt_hash("pw", 4)}};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  const std::string old_user = "Authorization: " + basic_credentials("old", "pw") + "\r\n";
  const std::string new_user = "Authorization: " + basic_credentials("new", "pw2") + "\r\n";
  CHECK(fetch(running.port, "GET", "/metrics", old_user)->status == 200);
  WebConfig fresh;
  fresh.basic_auth_users = {{"new", bcrypt_hash("pw2", 4)}};
  fresh.headers = {{"X-Frame-Options", "deny"}};
  std::string error;
  REQUIRE(running.server->reload(fresh, &error));
  CHECK(fetch(running.port, "GET", "/metrics", old_user)->status == 401);
  const auto response = fetch(running.port, "GET", "/metrics", new_user);
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->header("X-Frame-Options") == "deny");
}

}  // namespace
}  // namespace procevents::http::test
