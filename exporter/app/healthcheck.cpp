#include "app/healthcheck.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "common/unique_fd.h"

namespace procevents::app {

namespace {

/// The status of GET `path` on `address`, plain or TLS (certificate not verified: a probe of the local
/// exporter, like kubelet's HTTPS probes); 0 when no HTTP status line came back.
int probe(const sockaddr_in& address, const std::string& authority, const std::string& path, bool tls) {
  const UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket) return 0;
  const int fd = socket.get();
  const timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) return 0;
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + authority + "\r\n\r\n";
  char response[64] = {};
  long got = 0;
  if (tls) {
    const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
    if (!context) return 0;
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
    const std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context.get()), &SSL_free);
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1 || SSL_connect(ssl.get()) != 1 ||
        SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) != static_cast<int>(request.size())) {
      return 0;
    }
    got = SSL_read(ssl.get(), response, sizeof response - 1);
  } else {
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return 0;
    got = ::recv(fd, response, sizeof response - 1, 0);
  }
  int status = 0;
  if (got > 12) std::sscanf(response, "HTTP/%*s %d", &status);
  return status;
}

}  // namespace

int run_healthcheck(const std::string& url) {
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) {
    std::fprintf(stderr, "healthcheck: only http:// and https:// URLs are supported\n");
    return 1;
  }
  const std::string rest = url.substr(https ? 8 : 7);
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  const std::string host = colon == std::string::npos ? authority : authority.substr(0, colon);
  const int port = colon == std::string::npos ? (https ? 443 : 80) : std::atoi(authority.c_str() + colon + 1);

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1 || port <= 0 || port > 65535) {
    std::fprintf(stderr, "healthcheck: need a numeric IPv4 host and port, got %s\n", authority.c_str());
    return 1;
  }
  int status = probe(address, authority, path, https);
  // An http:// URL on a server that speaks only TLS: the same image's HEALTHCHECK works with TLS on.
  if (status == 0 && !https) status = probe(address, authority, path, true);
  if (status != 200) std::fprintf(stderr, "healthcheck: %s answered %d\n", url.c_str(), status);
  return status == 200 ? 0 : 1;
}

}  // namespace procevents::app
