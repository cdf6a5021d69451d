// --healthcheck=URL against a local one-shot HTTP responder: 200 is healthy, anything else is not.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "app/healthcheck.h"
#include "common/unique_fd.h"

using procevents::UniqueFd;
using procevents::app::run_healthcheck;

namespace {

/// Listens on 127.0.0.1:<free port> and answers one request with `status_line`; keeps the request.
class OneShotServer {
 public:
  explicit OneShotServer(std::string status_line) : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(listener_);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener_.get(), 1) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, status_line = std::move(status_line)] {
      const UniqueFd client(::accept(listener_.get(), nullptr, nullptr));
      if (!client) return;
      char buffer[512];
      const ssize_t got = ::recv(client.get(), buffer, sizeof buffer, 0);
      if (got > 0) request_.assign(buffer, static_cast<std::size_t>(got));
      const std::string response = status_line + "\r\nContent-Length: 2\r\n\r\nok";
      (void)::send(client.get(), response.data(), response.size(), MSG_NOSIGNAL);
    });
  }
  ~OneShotServer() {
    ::shutdown(listener_.get(), SHUT_RDWR);  // wakes accept() if nobody came
    thread_.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  /// The request as received (valid after the healthcheck returned).
  const std::string& request() const { return request_; }

 private:
  UniqueFd listener_;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("healthcheck: 200 is 0, with a GET of the path", "[app]") {
  OneShotServer server("HTTP/1.1 200 OK");
  CHECK(run_healthcheck(server.url("/healthz")) == 0);
  CHECK(server.request().starts_with("GET /healthz HTTP/1.0\r\n"));
}

TEST_CASE("healthcheck: any other status is 1", "[app]") {
  OneShotServer server("HTTP/1.1 503 Service Unavailable");
  CHECK(run_healthcheck(server.url("/healthz")) == 1);
}

TEST_CASE("healthcheck: no path asks for /", "[app]") {
  OneShotServer server("HTTP/1.0 200 OK");
  CHECK(run_healthcheck(server.url("")) == 0);
  CHECK(server.request().starts_with("GET / HTTP/1.0\r\n"));
}

TEST_CASE("healthcheck: URLs it cannot use are 1 without a connection", "[app]") {
  CHECK(run_healthcheck("ftp://127.0.0.1:9662/healthz") == 1);
  CHECK(run_healthcheck("http://localhost:9662/healthz") == 1);  // numeric IPv4 only
  CHECK(run_healthcheck("http://127.0.0.1:0/healthz") == 1);
  CHECK(run_healthcheck("http://127.0.0.1:70000/healthz") == 1);
}
