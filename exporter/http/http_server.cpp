#include "http/http_server.h"

#include <civetweb.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "http/basic_auth.h"
#include "http/compression.h"
#include "http/listen_address.h"
#include "http/tls_context.h"

namespace procevents::http {

namespace {

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kTextContentType[] = "text/plain; charset=utf-8";
constexpr char kHealthPath[] = "/healthz";
constexpr std::size_t kMaxErrorText = 200;  // of an exception message echoed in a 500
constexpr int kMaxThreads = 1024;           // civetweb's MAX_WORKER_THREADS

using HeaderList = std::initializer_list<std::pair<const char*, const char*>>;

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string landing_page(const ServerOptions& options) {
  const std::string path = html_escape(options.telemetry_path);
  return "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>procevents_exporter</title></head>\n<body>\n"
         "<h1>procevents_exporter</h1>\n"
         "<p>Prometheus exporter for the Linux Process Events Connector: every fork, exec and exit, "
         "short-lived processes included.</p>\n"
         "<p>Version: " + html_escape(options.version.empty() ? "unknown" : options.version) + "</p>\n"
         "<ul>\n<li><a href=\"" + path + "\">Metrics</a> (" + path + ")</li>\n"
         "<li><a href=\"/healthz\">Health</a> (/healthz)</li>\n</ul>\n"
         "<h2>Active configuration</h2>\n<pre>" + html_escape(options.active_config_text) + "</pre>\n"
         "</body>\n</html>\n";
}

// RFC 9110 token characters: header names come from the user's web config and go out verbatim.
bool is_token(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    if (!ok || c == '\0') return false;
  }
  return true;
}

bool check_options(const ServerOptions& options, std::string* error) {
  const auto fail = [error](std::string message) {
    if (error) *error = std::move(message);
    return false;
  };
  const std::string& path = options.telemetry_path;
  if (path.empty() || path[0] != '/' || path == "/" || path == kHealthPath ||
      path.find_first_of("?# \t\r\n") != std::string::npos) {
    return fail("invalid telemetry path \"" + path + "\": it must start with '/' and differ from / and /healthz");
  }
  if (options.num_threads < 1 || options.num_threads > kMaxThreads) {
    return fail("num_threads must be from 1 to " + std::to_string(kMaxThreads));
  }
  if (options.request_timeout_ms < 1 || options.keep_alive_timeout_ms < 0 || options.max_request_bytes < 1024) {
    return fail("request_timeout_ms must be positive, keep_alive_timeout_ms not negative, max_request_bytes >= 1024");
  }
  for (const auto& [name, value] : options.web.headers) {
    if (!is_token(name)) return fail("invalid response header name \"" + name + "\"");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return fail("the value of response header \"" + name + "\" contains a line break or NUL");
    }
  }
  return true;
}

}  // namespace

/// The part of the web configuration a reload replaces: one immutable snapshot per request or handshake.
struct WebState {
  explicit WebState(WebConfig web_in, std::shared_ptr<const ServerTls> tls_in)
      : web(std::move(web_in)), auth(std::make_unique<BasicAuth>(web.basic_auth_users)), tls(std::move(tls_in)) {}
  const WebConfig web;
  const std::unique_ptr<BasicAuth> auth;  // its cache of verified credentials is internally locked
  const std::shared_ptr<const ServerTls> tls;  // null without TLS
};

struct HttpServer::Impl final : TlsSource {
  Impl(ServerOptions options_in, ScrapeFn scrape_in, HealthFn health_in, std::shared_ptr<const ServerTls> tls)
      : options(std::move(options_in)),
        scrape(std::move(scrape_in)),
        health(std::move(health_in)),
        landing(landing_page(options)),
        state(std::make_shared<const WebState>(options.web, std::move(tls))) {}

  const ServerOptions options;  // options.web as at start; state holds the one in force
  const ScrapeFn scrape;
  const HealthFn health;
  const std::string landing;
  mg_context* context = nullptr;
  mutable std::mutex state_mutex;
  std::shared_ptr<const WebState> state;  // guarded by state_mutex; replaced whole by reload()

  std::shared_ptr<const WebState> current_state() const {
    std::lock_guard lock(state_mutex);
    return state;
  }
  std::shared_ptr<const ServerTls> current_tls() const override { return current_state()->tls; }

  void respond(mg_connection* conn, int status, const char* content_type, std::string_view body, bool send_body,
               HeaderList extra = {}) const {
    const std::shared_ptr<const WebState> web = current_state();
    mg_response_header_start(conn, status);
    mg_response_header_add(conn, "Content-Type", content_type, -1);
    mg_response_header_add(conn, "Content-Length", std::to_string(body.size()).c_str(), -1);
    for (const auto& [name, value] : extra) mg_response_header_add(conn, name, value, -1);
    for (const auto& [name, value] : web->web.headers) {
      mg_response_header_add(conn, name.c_str(), value.c_str(), static_cast<int>(value.size()));
    }
    mg_response_header_send(conn);
    // A failed write means the client went away; there is nobody left to tell.
    if (send_body && !body.empty()) (void)mg_write(conn, body.data(), body.size());
  }

  int handle(mg_connection* conn) {
    const mg_request_info* request = mg_get_request_info(conn);
    const std::string_view method = request && request->request_method ? request->request_method : "";
    const std::string_view uri = request && request->local_uri ? request->local_uri : "";
    const bool head = method == "HEAD";

    // Every path but /healthz is protected, as in exporter-toolkit: even 404s say nothing to strangers.
    // /healthz is exempt so that probes (kubelet, a container HEALTHCHECK) need no credentials in their
    // manifests; it says only "ok" or why the exporter is unhealthy. TLS, when on, still applies to it.
    const std::shared_ptr<const WebState> web = current_state();
    if (web->auth->enabled() && uri != kHealthPath) {
      const char* authorization = mg_get_header(conn, "Authorization");
      if (!web->auth->check(authorization ? authorization : "")) {
        respond(conn, 401, kTextContentType, "Unauthorized\n", !head,
                {{"WWW-Authenticate", "Basic realm=\"procevents_exporter\""}});
        return 401;
      }
    }
    const bool metrics = uri == options.telemetry_path;
    if (!metrics && uri != "/" && uri != kHealthPath) {
      respond(conn, 404, kTextContentType, "Not Found\n", !head);
      return 404;
    }
    if (method != "GET" && !head) {
      // The request body, if any, is not read: civetweb must not parse it as the next request.
      mg_disable_connection_keep_alive(conn);
      respond(conn, 405, kTextContentType, "Method Not Allowed\n", true, {{"Allow", "GET, HEAD"}});
      return 405;
    }
    if (metrics) return serve_metrics(conn, head);
    if (uri == kHealthPath) return serve_health(conn, head);
    respond(conn, 200, "text/html; charset=utf-8", landing, !head);
    return 200;
  }

  int serve_metrics(mg_connection* conn, bool head) {
    std::string body;
    std::optional<std::string> failure;
    try {
      body = scrape();
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    if (failure) {
      if (failure->size() > kMaxErrorText) failure->resize(kMaxErrorText);
      respond(conn, 500, kTextContentType, "scrape failed: " + *failure + "\n", !head);
      return 500;
    }
    const char* accept_encoding = mg_get_header(conn, "Accept-Encoding");
    std::string compressed;
    if (accept_encoding && accepts_gzip(accept_encoding) && gzip_compress(body, &compressed)) {
      respond(conn, 200, kMetricsContentType, compressed, !head,
              {{"Content-Encoding", "gzip"}, {"Vary", "Accept-Encoding"}});
    } else {
      respond(conn, 200, kMetricsContentType, body, !head, {{"Vary", "Accept-Encoding"}});
    }
    return 200;
  }

  int serve_health(mg_connection* conn, bool head) {
    Health result;
    try {
      result = health();
    } catch (const std::exception& e) {
      result = {false, std::string("health check failed: ") + e.what()};
    } catch (...) {
      result = {false, "health check failed"};
    }
    if (result.ok) {
      respond(conn, 200, kTextContentType, "ok\n", !head);
      return 200;
    }
    std::string reason = result.reason.empty() ? "unhealthy" : result.reason;
    if (reason.back() != '\n') reason += '\n';
    respond(conn, 503, kTextContentType, reason, !head);
    return 503;
  }

  // civetweb's own errors (malformed request, 413, ...): same shape and headers as ours, and the
  // connection is closed because the rest of the stream cannot be trusted.
  void error_page(mg_connection* conn, int status) const {
    mg_disable_connection_keep_alive(conn);
    const mg_request_info* request = mg_get_request_info(conn);
    const bool head = request && request->request_method && std::strcmp(request->request_method, "HEAD") == 0;
    const bool has_body = status >= 200 && status != 204 && status != 304;
    const std::string text = std::to_string(status) + " " + mg_get_response_code_text(conn, status) + "\n";
    respond(conn, status, kTextContentType, has_body ? std::string_view(text) : std::string_view(), !head);
  }
};

HttpServer::HttpServer(Key, std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (!impl_ || !impl_->context) return;
  // mg_stop sets a flag that civetweb's accept thread sees only when its poll (2 s quantum) returns:
  // connecting to our own listeners until mg_stop is done makes shutdown take milliseconds.
  const std::vector<int> ports = listening_ports();
  const std::vector<std::string>& addresses = impl_->options.listen_addresses;
  std::atomic<bool> stopped{false};
  std::thread waker;
  try {
    waker = std::thread([&] {
      while (!stopped.load()) {
        for (std::size_t i = 0; i < ports.size() && i < addresses.size(); ++i) wake_listener(addresses[i], ports[i]);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  } catch (const std::system_error&) {
    // No thread: mg_stop still works, just up to 2 s slower.
  }
  mg_stop(impl_->context);
  stopped = true;
  if (waker.joinable()) waker.join();
}

std::unique_ptr<HttpServer> HttpServer::start(ServerOptions options, ScrapeFn scrape, HealthFn health,
                                              std::string* error) {
  if (!check_options(options, error)) return nullptr;
  if (!scrape || !health) {
    if (error) *error = "the scrape and health callbacks must be set";
    return nullptr;
  }
  const bool tls = options.web.tls.enabled();
  if (!init_civetweb_library(tls, error)) return nullptr;
  const bool ipv6 = mg_check_feature(MG_FEATURES_IPV6) != 0;
  const std::optional<std::string> ports = to_civetweb_ports(options.listen_addresses, tls, ipv6, error);
  if (!ports) return nullptr;
  std::shared_ptr<const ServerTls> server_tls;
  if (tls && !(server_tls = make_server_tls(options.web.tls, error))) return nullptr;

  auto impl = std::make_unique<Impl>(std::move(options), std::move(scrape), std::move(health), std::move(server_tls));
  const ServerOptions& opts = impl->options;
  const std::string threads = std::to_string(opts.num_threads);
  const std::string request_timeout = std::to_string(opts.request_timeout_ms);
  const std::string keep_alive_timeout = std::to_string(opts.keep_alive_timeout_ms);
  const std::string max_request = std::to_string(opts.max_request_bytes);
  const std::string backlog = std::to_string(std::max(opts.num_threads, 128));
  // No document_root: nothing is ever served from the file system. Every request goes through
  // begin_request, which answers it completely.
  const char* civet_options[] = {
      "listening_ports", ports->c_str(),
      "num_threads", threads.c_str(),
      "request_timeout_ms", request_timeout.c_str(),
      "enable_keep_alive", "yes",
      "keep_alive_timeout_ms", keep_alive_timeout.c_str(),
      "max_request_size", max_request.c_str(),
      "listen_backlog", backlog.c_str(),
      "decode_url", "yes",
      "enable_directory_listing", "no",
      nullptr,
  };

  mg_callbacks callbacks{};
  callbacks.begin_request = [](mg_connection* conn) -> int {
    return static_cast<Impl*>(mg_get_user_data(mg_get_context(conn)))->handle(conn);
  };
  callbacks.http_error = [](mg_connection* conn, int status, const char* /*message*/) -> int {
    static_cast<const Impl*>(mg_get_user_data(mg_get_context(conn)))->error_page(conn, status);
    return 0;  // 0: handled here
  };
  callbacks.init_ssl = [](void* ssl_context, void* user_data) -> int {
    const Impl* self = static_cast<const Impl*>(user_data);
    SSL_CTX* context = static_cast<SSL_CTX*>(ssl_context);
    if (!configure_tls_context(context, self->options.web.tls, nullptr)) return -1;  // -1 fails mg_start2
    follow_current_tls(context, self);  // handshakes take the configuration in force, see reload()
    return 1;  // the context is complete, civetweb must not look for ssl_certificate
  };
  // civetweb would print to stderr; start-up failures come back through mg_start2's error text instead.
  callbacks.log_message = [](const mg_connection*, const char*) -> int { return 1; };

  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = impl.get();
  init.configuration_options = civet_options;
  char error_text[256] = {};
  mg_error_data error_data{};
  error_data.text = error_text;
  error_data.text_buffer_size = sizeof error_text;
  impl->context = mg_start2(&init, &error_data);
  if (!impl->context) {
    if (error) {
      // civetweb's text for a bind failure is generic ("Failed to setup server ports"): find the reason.
      std::string why;
      for (const std::string& address : impl->options.listen_addresses) {
        why = diagnose_listen_failure(address);
        if (!why.empty()) break;
      }
      *error = why.empty() ? std::string("cannot start the HTTP server: ") + (error_text[0] ? error_text : "unknown error")
                           : why;
    }
    return nullptr;
  }
  return std::make_unique<HttpServer>(Key(), std::move(impl));
}

bool HttpServer::reload(const WebConfig& web, std::string* error) {
  ServerOptions checked = impl_->options;
  checked.web = web;
  if (!check_options(checked, error)) return false;
  if (web.tls.enabled() != impl_->options.web.tls.enabled()) {
    if (error) *error = "switching TLS on or off needs a restart (the listening sockets are plain or TLS)";
    return false;
  }
  std::shared_ptr<const ServerTls> tls;
  if (web.tls.enabled() && !(tls = make_server_tls(web.tls, error))) return false;
  auto fresh = std::make_shared<const WebState>(web, std::move(tls));
  std::lock_guard lock(impl_->state_mutex);
  impl_->state = std::move(fresh);
  return true;
}

std::vector<int> HttpServer::listening_ports() const {
  std::vector<int> ports;
  mg_server_port buffer[64];
  const int count = mg_get_server_ports(impl_->context, static_cast<int>(std::size(buffer)), buffer);
  for (int i = 0; i < count; ++i) ports.push_back(buffer[i].port);
  return ports;
}

}  // namespace procevents::http
