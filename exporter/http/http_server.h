// The exporter's HTTP endpoints, on civetweb (kept private to this layer).
//
//   GET <telemetry path>   the scrape: text format 0.0.4, gzip when accepted
//   GET /                  landing page: name, version, links, active configuration
//   GET /healthz           200 "ok" or 503 with the reason
// HEAD works everywhere GET does; other methods get 405, unknown paths 404. With basic_auth_users
// every path needs credentials (bcrypt, verified once per distinct credential and then cached);
// with a TLS config every port speaks only TLS.
//
// prometheus-cpp's Exposer is deliberately not used: it adds exposer_* metrics about the scrape
// itself, which exporter conventions rule out.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/web_config.h"

namespace procevents::http {

struct Health {
  bool ok = true;
  std::string reason;
};

struct ServerOptions {
  std::vector<std::string> listen_addresses{":9662"};  // ":9662", "127.0.0.1:0", "[::1]:9662"
  std::string telemetry_path = "/metrics";
  config::WebConfig web;
  std::string version;
  std::string active_config_text;  // shown on the landing page (escaped here)
  int num_threads = 256;  // civetweb serves one connection per thread: idle clients must not starve scrapes
};

class HttpServer {
 public:
  using ScrapeFn = std::function<std::string()>;  // exposition text; called on a server thread
  using HealthFn = std::function<Health()>;

  /// Starts listening; nullptr with `error` set when it cannot (bad address, port in use, TLS files).
  static std::unique_ptr<HttpServer> start(ServerOptions options, ScrapeFn scrape, HealthFn health, std::string* error);

  ~HttpServer();  // stops accepting, finishes running requests, joins the server threads
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The bound ports, in listen address order (resolves ":0").
  std::vector<int> listening_ports() const;

  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

/// ":9662" -> "9662", "127.0.0.1:0" -> "127.0.0.1:0", "[::1]:9662" -> "[::1]:9662"; false if malformed.
bool to_civetweb_port(const std::string& address, bool tls, std::string& out);

}  // namespace procevents::http
