#include "http/http_server.h"

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "http/connection.h"
#include "http/endpoints.h"
#include "http/listen_address.h"
#include "http/tls_context.h"

namespace procevents::http {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

constexpr int kMaxThreads = 64;
// After an accept error (out of file descriptors, most likely) the listener waits instead of spinning.
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

bool check_options(const ServerOptions& options, std::string* error) {
  const auto fail = [error](std::string message) {
    if (error) *error = std::move(message);
    return false;
  };
  const std::string& path = options.telemetry_path;
  if (path.empty() || path[0] != '/' || path == "/" || path == "/healthz" ||
      path.find_first_of("?# \t\r\n%") != std::string::npos) {
    return fail("invalid telemetry path \"" + path + "\": it must start with '/' and differ from / and /healthz");
  }
  if (options.num_threads < 1 || options.num_threads > kMaxThreads) {
    return fail("num_threads must be from 1 to " + std::to_string(kMaxThreads));
  }
  if (options.request_timeout_ms < 1 || options.keep_alive_timeout_ms < 0 || options.max_request_bytes < 1024 ||
      options.response_timeout_ms < 1) {
    return fail("request_timeout_ms and response_timeout_ms must be positive, keep_alive_timeout_ms not negative, "
                "max_request_bytes >= 1024");
  }
  for (const auto& [name, value] : options.web.headers) {
    if (!is_token(name)) return fail("invalid response header name \"" + name + "\"");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return fail("the value of response header \"" + name + "\" contains a line break or NUL");
    }
  }
  return true;
}

/// Every connection is a file descriptor: like Go's runtime, use all the hard limit allows.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &limit);  // best effort: the old limit still works, for fewer clients
  }
}

/// The web configuration in force, with the TLS context new connections start from (null without TLS).
struct LiveState {
  LiveState(WebConfig web_in, std::shared_ptr<asio::ssl::context> tls_in)
      : web(std::make_shared<const WebState>(std::move(web_in))), tls(std::move(tls_in)) {}
  const std::shared_ptr<const WebState> web;
  const std::shared_ptr<asio::ssl::context> tls;
};

/// The state for `web`; null + `error` when its TLS files or settings do not work.
std::shared_ptr<const LiveState> make_state(const WebConfig& web, std::string* error) {
  std::shared_ptr<asio::ssl::context> tls;
  if (web.tls.enabled()) {
    tls = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    if (!configure_tls_context(tls->native_handle(), web.tls, error)) return nullptr;
  }
  return std::make_shared<const LiveState>(web, std::move(tls));
}

/// One dual-stack socket on every interface ("::" with IPV6_V6ONLY off, whatever net.ipv6.bindv6only
/// says), as Go listens for ":PORT"; null where the host has no IPv6 (the caller falls back to IPv4).
std::unique_ptr<tcp::acceptor> listen_dual_stack(asio::io_context& io, const std::string& port) {
  error_code failure;
  auto acceptor = std::make_unique<tcp::acceptor>(io);
  acceptor->open(tcp::v6(), failure);
  if (!failure) acceptor->set_option(asio::ip::v6_only(false), failure);
  if (!failure) acceptor->set_option(tcp::acceptor::reuse_address(true), failure);
  if (!failure) acceptor->bind(tcp::endpoint(tcp::v6(), static_cast<unsigned short>(std::stoi(port))), failure);
  if (!failure) acceptor->listen(asio::socket_base::max_listen_connections, failure);
  return failure ? nullptr : std::move(acceptor);
}

/// A listening socket for `address`: ":PORT" on IPv4 and IPv6 where the host has IPv6; names resolve to
/// IPv4 first, as Go's listeners do. Null + `error`.
std::unique_ptr<tcp::acceptor> listen_on(asio::io_context& io, const std::string& address, std::string* error) {
  const std::optional<ListenAddress> parsed = parse_listen_address(address, error);
  if (!parsed) return nullptr;
  const auto fail = [&](const error_code& why) {
    if (error) *error = "cannot listen on " + address + ": " + why.message();
    return nullptr;
  };
  if (parsed->host.empty()) {
    if (auto acceptor = listen_dual_stack(io, parsed->port)) return acceptor;
  }
  error_code failure;
  tcp::resolver resolver(io);
  const std::string host = parsed->host.empty() ? "0.0.0.0" : parsed->host;
  auto found = resolver.resolve(tcp::v4(), host, parsed->port, tcp::resolver::passive | tcp::resolver::numeric_service, failure);
  if (failure || found.empty()) {
    found = resolver.resolve(tcp::v6(), host, parsed->port, tcp::resolver::passive | tcp::resolver::numeric_service, failure);
  }
  if (failure) return fail(failure);
  for (const auto& entry : found) {
    auto acceptor = std::make_unique<tcp::acceptor>(io);
    const tcp::endpoint endpoint = entry.endpoint();
    acceptor->open(endpoint.protocol(), failure);
    if (!failure) acceptor->set_option(tcp::acceptor::reuse_address(true), failure);
    if (!failure) acceptor->bind(endpoint, failure);
    if (!failure) acceptor->listen(asio::socket_base::max_listen_connections, failure);
    if (!failure) return acceptor;
  }
  return fail(failure);
}

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions options_in, ScrapeFn scrape, HealthFn health, std::shared_ptr<const LiveState> state_in)
      : options(std::move(options_in)),
        endpoints(options, std::move(scrape), std::move(health)),
        state(std::move(state_in)),
        connection{std::chrono::milliseconds(options.request_timeout_ms),
                   std::chrono::milliseconds(options.keep_alive_timeout_ms),
                   std::chrono::milliseconds(options.response_timeout_ms),
                   static_cast<std::size_t>(options.max_request_bytes), &endpoints,
                   [this] { return current_state()->web; }, &connection_count},
        io(options.num_threads) {}

  const ServerOptions options;  // options.web as at start; state holds the one in force
  const Endpoints endpoints;
  mutable std::mutex state_mutex;
  std::shared_ptr<const LiveState> state;  // guarded by state_mutex; replaced whole by reload()
  ConnectionCount connection_count;
  const ConnectionContext connection;
  // Declared after what connections use: destroying the io_context destroys the connections still open.
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;

  std::shared_ptr<const LiveState> current_state() const {
    std::lock_guard lock(state_mutex);
    return state;
  }

  void accept(tcp::acceptor& acceptor) {
    acceptor.async_accept(asio::make_strand(io), [this, &acceptor](error_code error, tcp::socket socket) {
      if (error == asio::error::operation_aborted) return;
      if (error) {
        auto timer = std::make_shared<asio::steady_timer>(io, kAcceptRetry);
        timer->async_wait([this, &acceptor, timer](error_code) { accept(acceptor); });
        return;
      }
      serve_connection(connection, std::move(socket), current_state()->tls);
      accept(acceptor);
    });
  }

  /// Binds every address and starts the loops; false + `error` when an address cannot be bound.
  bool run(std::string* error) {
    for (const std::string& address : options.listen_addresses) {
      acceptors.push_back(listen_on(io, address, error));
      if (!acceptors.back()) return false;
    }
    for (auto& acceptor : acceptors) accept(*acceptor);
    try {
      for (int i = 0; i < options.num_threads; ++i) threads.emplace_back([this] { io.run(); });
    } catch (const std::system_error& e) {
      if (error) *error = std::string("cannot start the HTTP server's threads: ") + e.what();
      stop();
      return false;
    }
    return true;
  }

  void stop() {
    io.stop();
    for (std::thread& thread : threads) thread.join();
    threads.clear();
  }
};

HttpServer::HttpServer(Key, std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (impl_) impl_->stop();
}

std::unique_ptr<HttpServer> HttpServer::start(ServerOptions options, ScrapeFn scrape, HealthFn health,
                                              std::string* error) {
  if (!check_options(options, error)) return nullptr;
  if (!scrape || !health) {
    if (error) *error = "the scrape and health callbacks must be set";
    return nullptr;
  }
  if (options.listen_addresses.empty()) {
    if (error) *error = "no listen address given";
    return nullptr;
  }
  std::shared_ptr<const LiveState> state = make_state(options.web, error);
  if (!state) return nullptr;
  raise_open_file_limit();
  auto impl = std::make_unique<Impl>(std::move(options), std::move(scrape), std::move(health), std::move(state));
  if (!impl->run(error)) return nullptr;
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
  std::shared_ptr<const LiveState> fresh = make_state(web, error);
  if (!fresh) return false;
  std::lock_guard lock(impl_->state_mutex);
  impl_->state = std::move(fresh);
  return true;
}

std::vector<int> HttpServer::listening_ports() const {
  std::vector<int> ports;
  for (const auto& acceptor : impl_->acceptors) {
    error_code ignored;
    ports.push_back(acceptor->local_endpoint(ignored).port());
  }
  return ports;
}

}  // namespace procevents::http
