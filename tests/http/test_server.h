// Starting an HttpServer on an ephemeral loopback port for a test, and making bcrypt hashes.
#pragma once

#include <memory>
#include <string>

#include "http/http_server.h"
#include "test_certificates.h"

namespace procevents::http::test {

/// The options every test starts from: 127.0.0.1:0, version "1.2.3-test", 64 threads, short timeouts.
ServerOptions local_options();

/// local_options() with the exporter's own thread count and timeouts (ServerOptions' defaults).
ServerOptions exporter_like_options();

/// A throwaway PKI in its own directory, and local_options() serving TLS with its server certificate.
struct TlsSetup {
  TempDir dir;
  TestPki pki{dir};
  ServerOptions options() const;
};

struct RunningServer {
  std::unique_ptr<HttpServer> server;  // null when start failed; `error` says why
  std::string error;
  int port = 0;                        // the first listening port
};

RunningServer start_server(ServerOptions options, HttpServer::ScrapeFn scrape, HttpServer::HealthFn health);

/// A fixed scrape body and an always-healthy check, for tests that do not care.
std::string sample_exposition();
HttpServer::ScrapeFn fixed_scrape();
HttpServer::HealthFn always_healthy();

/// bcrypt ($2b$) hash of `password` at `cost`, via libxcrypt; "" on failure.
std::string bcrypt_hash(const std::string& password, unsigned cost);

}  // namespace procevents::http::test
