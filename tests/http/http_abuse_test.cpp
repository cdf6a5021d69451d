// Start-up errors, lifecycle, and hostile clients: the server refuses clearly and keeps serving.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "http_client.h"
#include "test_server.h"

namespace procevents::http::test {
namespace {

using Clock = std::chrono::steady_clock;

bool still_serves(int port) {
  const auto response = fetch(port, "GET", "/metrics");
  return response && response->status == 200 && response->body == sample_exposition();
}

TEST_CASE("start fails with a reason for a port in use", "[http]") {
  const RunningServer first = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(first.server);
  ServerOptions options = local_options();
  options.listen_addresses = {"127.0.0.1:" + std::to_string(first.port)};
  std::string error;
  const auto second = HttpServer::start(options, fixed_scrape(), always_healthy(), &error);
  CHECK_FALSE(second);
  CHECK(error.find("127.0.0.1:" + std::to_string(first.port)) != std::string::npos);
  CHECK(error.find("Address already in use") != std::string::npos);
  CHECK(still_serves(first.port));
}

TEST_CASE("start fails with a reason for bad addresses and options", "[http]") {
  struct Case {
    const char* what;
    void (*change)(ServerOptions&);
    const char* expected;
  };
  const Case cases[] = {
      {"no port", [](ServerOptions& o) { o.listen_addresses = {"127.0.0.1"}; }, "invalid listen address"},
      {"comma", [](ServerOptions& o) { o.listen_addresses = {"127.0.0.1:0,1.2.3.4:80"}; }, "invalid listen address"},
      {"no addresses", [](ServerOptions& o) { o.listen_addresses.clear(); }, "no listen address"},
      {"malformed IPv6", [](ServerOptions& o) { o.listen_addresses = {"[::1:0"}; }, "IPv6"},
      {"one bad of two", [](ServerOptions& o) { o.listen_addresses = {"127.0.0.1:0", "bad"}; }, "\"bad\""},
      {"unknown host", [](ServerOptions& o) { o.listen_addresses = {"no-such-host.invalid:0"}; }, "no-such-host.invalid"},
      {"foreign address", [](ServerOptions& o) { o.listen_addresses = {"192.0.2.1:0"}; }, "192.0.2.1"},
      {"relative path", [](ServerOptions& o) { o.telemetry_path = "metrics"; }, "telemetry path"},
      {"root path", [](ServerOptions& o) { o.telemetry_path = "/"; }, "telemetry path"},
      {"health path", [](ServerOptions& o) { o.telemetry_path = "/healthz"; }, "telemetry path"},
      {"zero threads", [](ServerOptions& o) { o.num_threads = 0; }, "num_threads"},
      {"too many threads", [](ServerOptions& o) { o.num_threads = 65; }, "num_threads"},
      {"header name", [](ServerOptions& o) { o.web.headers = {{"Bad Name", "x"}}; }, "header name"},
      {"header value", [](ServerOptions& o) { o.web.headers = {{"X-A", "x\r\nSet-Cookie: y"}}; }, "line break"},
      {"missing TLS files",
       [](ServerOptions& o) {
         o.web.tls.cert_file = "/nonexistent/cert.pem";
         o.web.tls.key_file = "/nonexistent/key.pem";
       },
       "/nonexistent/cert.pem"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    ServerOptions options = local_options();
    c.change(options);
    std::string error;
    const auto server = HttpServer::start(options, fixed_scrape(), always_healthy(), &error);
    CHECK_FALSE(server);
    CHECK(error.find(c.expected) != std::string::npos);
  }
  std::string error;
  CHECK_FALSE(HttpServer::start(local_options(), nullptr, always_healthy(), &error));
  CHECK_FALSE(error.empty());
}

TEST_CASE("several listen addresses are all served, in order", "[http]") {
  // A host name listens where the resolver knows it: a bare chroot or container may lack "localhost".
  addrinfo* found = nullptr;
  if (::getaddrinfo("localhost", nullptr, nullptr, &found) != 0) {
    if (std::getenv("CI")) FAIL("\"localhost\" does not resolve (no /etc/hosts entry?), and CI requires this test");
    WARN("skipped: \"localhost\" does not resolve (no /etc/hosts entry?)");
    return;
  }
  ::freeaddrinfo(found);
  ServerOptions options = local_options();
  options.listen_addresses = {"127.0.0.1:0", "localhost:0"};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  const std::vector<int> ports = running.server->listening_ports();
  REQUIRE(ports.size() == 2);
  CHECK(ports[0] != ports[1]);
  for (const int port : ports) CHECK(still_serves(port));
}

TEST_CASE("the destructor returns promptly with idle and half-sent connections open", "[http]") {
  RunningServer running = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  std::vector<Connection> idle;
  for (int i = 0; i < 10; ++i) {
    std::optional<Connection> connection = Connection::open(running.port);
    REQUIRE(connection);
    if (i % 2) REQUIRE(connection->send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));  // never finished
    idle.push_back(std::move(*connection));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto started = Clock::now();
  running.server.reset();
  CHECK(Clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("a 64 KiB header is refused and the server still answers", "[http]") {
  const RunningServer running = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  std::optional<Connection> connection = Connection::open(running.port);
  REQUIRE(connection);
  // The server may stop reading and close before all of it is written: either way is a refusal.
  const bool sent = connection->send(request_text("GET", "/metrics", "X-Big: " + std::string(64 * 1024, 'a') + "\r\n"));
  if (sent) {
    const auto response = connection->read_response();
    if (response) {
      CHECK(response->status >= 400);
      CHECK(response->status < 500);
    }
  }
  CHECK(still_serves(running.port));
}

TEST_CASE("many headers, a huge request line and a huge Content-Length are refused", "[http]") {
  const RunningServer running = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  const std::string requests[] = {
      request_text("GET", "/metrics", many),
      request_text("GET", "/" + std::string(100000, 'a')),
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\nabc",
      "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
  };
  for (const std::string& request : requests) {
    std::optional<Connection> connection = Connection::open(running.port);
    REQUIRE(connection);
    if (connection->send(request)) {
      const auto response = connection->read_response(false, std::chrono::seconds(5));
      if (response) CHECK(response->status >= 200);
    }
    CHECK(still_serves(running.port));
  }
}

TEST_CASE("garbage bytes get a 4xx or a closed connection, never a crash or a hang", "[http]") {
  ServerOptions options = local_options();
  options.keep_alive_timeout_ms = 300;  // lenient parses are answered 200 and then kept alive
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  std::mt19937 random(12345);
  std::vector<std::string> inputs = {
      "\r\n\r\n",
      "GET\r\n\r\n",
      "GET /metrics\r\n\r\n",
      "GET /metrics HTTP/1.1\r\n\r\n",  // no Host: accepted or refused, both fine
      "GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",
      "GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n",
      "G\xff\xfe /metrics HTTP/1.1\r\n\r\n",
      "GET /metrics HTTP/1.1\nHost: x\n\n",
      "GET http://evil.example/metrics HTTP/1.1\r\nHost: x\r\n\r\n",
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  };
  static constexpr char kNul[] = "GET /met\0rics HTTP/1.1\r\nHost: x\r\n\r\n";
  static constexpr char kClientHello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";  // TLS on a plain port
  inputs.emplace_back(kNul, sizeof kNul - 1);
  inputs.emplace_back(kClientHello, sizeof kClientHello - 1);
  for (int i = 0; i < 30; ++i) {
    std::string noise(static_cast<std::size_t>(random() % 2048 + 1), '\0');
    for (char& c : noise) c = static_cast<char>(random());
    inputs.push_back(noise + "\r\n\r\n");
  }
  for (const std::string& input : inputs) {
    std::optional<Connection> connection = Connection::open(running.port);
    REQUIRE(connection);
    if (connection->send(input)) {
      const auto response = connection->read_response(false, std::chrono::seconds(5));
      if (response && response->status != 200) {
        CHECK(response->status >= 400);
        CHECK(response->status < 500);
      }
      CHECK(connection->wait_closed(std::chrono::seconds(5)));
    }
  }
  CHECK(still_serves(running.port));
}

TEST_CASE("the tolerated number of idle connections does not delay a scrape beyond a second", "[http]") {
  // With the exporter's thread count and timeouts: each connection stays open until its timeout (5 s idle on
  // keep-alive, 10 s silent or stalled), longer than this test; those served once come first.
  const RunningServer running = start_server(exporter_like_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  std::vector<Connection> idle;
  for (int i = 0; i < kIdleConnectionsTolerated; ++i) {
    std::optional<Connection> connection = Connection::open(running.port);
    REQUIRE(connection);
    if (i < kIdleConnectionsTolerated / 3) {  // served once, then idle on keep-alive
      REQUIRE(connection->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
      REQUIRE(connection->read_response());
    } else if (i % 2 == 0) {
      REQUIRE(connection->send("GET /metrics HTTP/1.1\r\n"));  // stalled mid-headers
    }  // else silent
    idle.push_back(std::move(*connection));
  }
  for (int i = 0; i < 5; ++i) {
    const auto started = Clock::now();
    CHECK(still_serves(running.port));
    CHECK(Clock::now() - started < std::chrono::seconds(1));
  }
}

TEST_CASE("a silent client is disconnected after request_timeout_ms", "[http]") {
  ServerOptions options = local_options();
  options.request_timeout_ms = 500;
  options.keep_alive_timeout_ms = 500;
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  std::optional<Connection> silent = Connection::open(running.port);
  std::optional<Connection> stalled = Connection::open(running.port);
  REQUIRE(silent);
  REQUIRE(stalled);
  REQUIRE(stalled->send("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  const auto started = Clock::now();
  CHECK(silent->wait_closed(std::chrono::seconds(5)));
  CHECK(stalled->wait_closed(std::chrono::seconds(5)));
  CHECK(Clock::now() - started < std::chrono::seconds(4));
}

TEST_CASE("concurrent scrapes from many clients all succeed", "[http]") {
  const RunningServer running = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        const auto response = fetch(running.port, "GET", "/metrics", "Accept-Encoding: gzip\r\n");
        if (response && response->status == 200 && gunzip(response->body) == sample_exposition()) ++ok;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  CHECK(ok == 160);
}

}  // namespace
}  // namespace procevents::http::test
