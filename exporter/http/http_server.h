// The exporter's HTTP endpoints, on civetweb (a private dependency of this layer).
//
//   GET <telemetry path>   the scrape: text format 0.0.4, gzip when the client accepts it
//   GET /                  landing page: name, version, links, the active configuration
//   GET /healthz           200 "ok" or 503 with the reason
// HEAD works wherever GET does; other methods get 405 (Allow: GET, HEAD), other paths 404. With
// basic_auth_users every path but /healthz needs credentials (401 otherwise; /healthz is exempt so that
// kubelet and container probes need none, and it reveals only "ok" or a reason); with a TLS config every
// port speaks only TLS, /healthz included; web.headers go on every response this layer writes.
// reload() replaces the web configuration (certificates, TLS settings, users, headers) without a restart:
// new connections get it, connections already open (a scrape in flight) finish with what they have.
//
// prometheus-cpp's Exposer is deliberately not used: it adds exposer_* metrics about the scrape itself,
// which exporter conventions rule out.
//
// Lifecycle:
//   1. HttpServer::start()  validates the options, binds every address, starts the worker threads.
//   2. requests             each runs on a worker thread; ScrapeFn/HealthFn are called there.
//   3. ~HttpServer()        stops accepting, waits for running requests, joins the threads.
//
// Limits (abuse must not take the server down): a request line plus headers over max_request_bytes, or
// anything unparsable, gets a 4xx from civetweb (with web.headers too) and the connection is closed; a
// client silent for request_timeout_ms is dropped; an idle keep-alive connection is closed after
// keep_alive_timeout_ms. civetweb serves one connection per worker thread, so num_threads bounds the
// connections served at once; more wait in the accept queue.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/web_config.h"

namespace procevents::http {

/// What /healthz reports: 200 "ok", or 503 with `reason` as the body.
struct Health {
  bool ok = true;
  std::string reason;
};

/// The hostile-client guarantee: with this many connections idle or stalled mid-request (each holds a
/// worker until request_timeout_ms), a scrape still succeeds at once. Tested with exactly this many.
inline constexpr int kIdleConnectionsTolerated = 200;
/// Workers left for scrapes and health checks meanwhile (a pair of Prometheus servers, probes, curl).
inline constexpr int kScrapeWorkers = 8;

struct ServerOptions {
  /// exporter-toolkit style: ":9662" (all IPv4 interfaces), "127.0.0.1:0" (ephemeral port), "host:9662".
  /// "[::1]:9662" works only with a civetweb built with IPv6; Debian's 1.15 is not, and start() says so.
  std::vector<std::string> listen_addresses{":9662"};
  std::string telemetry_path = "/metrics";  // must start with '/', and not be "/" or "/healthz"
  WebConfig web;                    // TLS, basic auth, extra response headers
  std::string version;                      // shown on the landing page
  std::string active_config_text;           // plain text, shown (HTML-escaped) on the landing page
  // 1..1024. civetweb 1.15 (Debian bookworm) starts every worker at start-up (on-demand workers,
  // prespawn_threads, came in 1.16) and gives each connection a worker for its whole life, so the
  // guarantee above sets the count: no fewer will do. Idle workers block on a condition variable
  // without a timeout: no wake-ups at rest, only their memory.
  int num_threads = kIdleConnectionsTolerated + kScrapeWorkers;
  int request_timeout_ms = 10000;           // per read/write on a connection
  int keep_alive_timeout_ms = 5000;         // idle time before a keep-alive connection is closed
  int max_request_bytes = 16384;            // request line plus headers
};

/// Not copyable or movable. Thread-safe: listening_ports() may be called from any thread.
class HttpServer {
 public:
  /// The exposition text (format 0.0.4). Called for every GET/HEAD of the telemetry path, concurrently
  /// from several worker threads, so it must be thread-safe. An exception becomes a 500.
  using ScrapeFn = std::function<std::string()>;
  /// Called for every /healthz request, concurrently like ScrapeFn. An exception becomes a 503.
  using HealthFn = std::function<Health()>;

  /// Binds and starts serving. nullptr with `error` set when it cannot: a malformed or IPv6-only address,
  /// a port in use, bad options or headers, unreadable or mismatched TLS files, a cipher suite or curve
  /// this OpenSSL lacks, TLS unavailable.
  static std::unique_ptr<HttpServer> start(ServerOptions options, ScrapeFn scrape, HealthFn health,
                                           std::string* error);

  /// Stops accepting, finishes running requests, joins the worker threads. Milliseconds when idle; up to
  /// ~2 s while clients hold connections open (civetweb's poll quantum).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Puts `web` in force for the next requests and TLS handshakes. False + `error`, the old configuration
  /// staying, when it cannot: unreadable or mismatched TLS files, unknown cipher suites or curves, bad
  /// headers, or TLS switched on or off (that needs a restart). Thread-safe.
  bool reload(const WebConfig& web, std::string* error);

  /// The bound ports in listen address order (the real port for ":0").
  std::vector<int> listening_ports() const;

 private:
  struct Impl;
  struct Key {  // passkey: only start() can construct, without a raw new
    explicit Key() = default;
  };

 public:
  HttpServer(Key, std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace procevents::http
