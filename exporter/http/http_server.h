// The exporter's HTTP endpoints, on Boost.Asio with Boost.Beast's request parser and OpenSSL (private
// dependencies of this layer).
//
//   GET <telemetry path>   the scrape: text format 0.0.4, or delimited protobuf when the Accept header prefers
//                          it (a Prometheus with native histograms); gzip when the client accepts it
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
//   1. HttpServer::start()  validates the options, binds every address, starts num_threads event loops.
//   2. requests             every connection is a state machine on those loops, not a thread: a slow or
//                           idle client costs its buffers, never a thread, so it cannot delay anyone else.
//                           ScrapeFn/HealthFn are called on a loop thread.
//   3. ~HttpServer()        stops the loops (open connections are closed), joins the threads.
//
// Limits (abuse must not take the server down, and must not delay a scrape): a request line plus headers
// over max_request_bytes, or anything unparsable, gets a 4xx (with web.headers too) and the connection is
// closed. A connection is dropped when its request headers (or its TLS handshake) are not complete within
// request_timeout_ms of its first byte (of the connection, for a new one), when it sits idle between
// requests for keep_alive_timeout_ms, and when a response makes no progress for request_timeout_ms or is
// not written within response_timeout_ms. Prometheus' own scrape timeout (10 s) is below all of them, so a
// scrape, however slowly read, never meets one.
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

/// The hostile-client guarantee: with this many connections idle or stalled mid-request, mid-handshake or
/// mid-response, a scrape on a new connection still succeeds at once. Tested with this many of each kind.
inline constexpr int kIdleConnectionsTolerated = 1000;

struct ServerOptions {
  /// exporter-toolkit style: ":9662" (all interfaces, IPv4 and IPv6), "127.0.0.1:0" (ephemeral port), "host:9662",
  /// "[::1]:9662" (IPv6).
  std::vector<std::string> listen_addresses{":9662"};
  std::string telemetry_path = "/metrics";  // must start with '/', and not be "/" or "/healthz"
  WebConfig web;                    // TLS, basic auth, extra response headers
  std::string version;                      // shown on the landing page
  std::string active_config_text;           // plain text, shown (HTML-escaped) on the landing page
  /// When set, replaces active_config_text: called for each landing page (concurrently, so thread-safe),
  /// so that a reloaded configuration shows.
  std::function<std::string()> active_config;
  // 1..64 event loop threads. Requests are served where they arrive, so more than one keeps a scrape
  // going while another thread renders a scrape or checks a bcrypt password.
  int num_threads = 2;
  int request_timeout_ms = 10000;           // request headers or TLS handshake; a response's progress
  int keep_alive_timeout_ms = 5000;         // idle time before a keep-alive connection is closed
  int max_request_bytes = 16384;            // request line plus headers
  int response_timeout_ms = 30000;          // writing one response, however slowly it is read
};

/// What a scrape asks for (the Accept header): text format 0.0.4, or length-delimited
/// io.prometheus.client.MetricFamily messages, the one format with native histograms.
enum class ExpositionFormat { kText, kProtobuf };

/// Not copyable or movable. Thread-safe: listening_ports() may be called from any thread.
class HttpServer {
 public:
  /// The exposition in the format the client negotiated. Called for every GET/HEAD of the telemetry path,
  /// concurrently from several server threads, so it must be thread-safe. An exception becomes a 500.
  using ScrapeFn = std::function<std::string(ExpositionFormat)>;
  /// Called for every /healthz request, concurrently like ScrapeFn. An exception becomes a 503.
  using HealthFn = std::function<Health()>;

  /// Binds and starts serving. nullptr with `error` set when it cannot: a malformed address, a port in use,
  /// bad options or headers, unreadable or mismatched TLS files, a cipher suite or curve this OpenSSL lacks.
  /// Like Go's runtime, it first raises the process's soft RLIMIT_NOFILE to the hard limit: every
  /// connection is a file descriptor.
  static std::unique_ptr<HttpServer> start(ServerOptions options, ScrapeFn scrape, HealthFn health,
                                           std::string* error);

  /// Stops accepting and closes every connection (a scrape being rendered finishes, unsent), joins the
  /// threads. Milliseconds.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Puts `web` in force for the next requests and new TLS connections (those open keep their handshake). False + `error`, the old configuration
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
