// Listening on IPv6: literal addresses, and ":PORT" on IPv4 and IPv6 at once, as Go listens. A host
// without IPv6 loopback skips with the reason (under CI it fails instead).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/unique_fd.h"
#include "http_client.h"
#include "test_server.h"

using namespace procevents::http;
using namespace procevents::http::test;

namespace {

/// GET /healthz over IPv6 loopback (`v6`) or IPv4 loopback; the status line, or "" when it cannot connect.
std::string healthz_status(int port, bool v6) {
  procevents::UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return "";
  sockaddr_in6 address6{};
  sockaddr_in address4{};
  address6.sin6_family = AF_INET6;
  address6.sin6_port = htons(static_cast<std::uint16_t>(port));
  address6.sin6_addr = in6addr_loopback;
  address4.sin_family = AF_INET;
  address4.sin_port = htons(static_cast<std::uint16_t>(port));
  address4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int connected = v6 ? ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address6), sizeof address6)
                           : ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address4), sizeof address4);
  if (connected != 0) return "";
  const std::string request = request_text("GET", "/healthz");
  if (::write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) return "";
  char buffer[512] = {};
  if (::read(fd.get(), buffer, sizeof buffer - 1) <= 0) return "";
  const std::string response = buffer;
  return response.substr(0, response.find("\r\n"));
}

/// Whether this host can listen on IPv6 loopback; WARNs the reason when not (and fails under CI).
bool has_ipv6_loopback() {
  procevents::UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  if (fd && ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return true;
  REQUIRE_FALSE(std::getenv("CI"));  // CI hosts have IPv6 loopback
  WARN("skipped: this host has no IPv6 loopback");
  return false;
}

}  // namespace

TEST_CASE("an IPv6 listen address is served", "[http]") {
  if (!has_ipv6_loopback()) return;
  ServerOptions options = local_options();
  options.listen_addresses = {"[::1]:0"};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  CHECK(healthz_status(running.port, true) == "HTTP/1.1 200 OK");
}

TEST_CASE("\":PORT\" is served on IPv4 and IPv6 on one port", "[http]") {
  if (!has_ipv6_loopback()) return;
  ServerOptions options = local_options();
  options.listen_addresses = {":0"};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  REQUIRE(running.server->listening_ports().size() == 1);
  CHECK(healthz_status(running.port, false) == "HTTP/1.1 200 OK");
  CHECK(healthz_status(running.port, true) == "HTTP/1.1 200 OK");
}

TEST_CASE("an IPv4 address is served on IPv4 only", "[http]") {
  if (!has_ipv6_loopback()) return;
  ServerOptions options = local_options();
  options.listen_addresses = {"127.0.0.1:0"};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  CHECK(healthz_status(running.port, false) == "HTTP/1.1 200 OK");
  CHECK(healthz_status(running.port, true).empty());
}
