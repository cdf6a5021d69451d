#include "app/healthcheck.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "common/unique_fd.h"

namespace procevents::app {

int run_healthcheck(const std::string& url) {
  constexpr const char* kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    std::fprintf(stderr, "healthcheck: only http:// URLs are supported\n");
    return 1;
  }
  const std::string rest = url.substr(std::strlen(kScheme));
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  const std::string host = colon == std::string::npos ? authority : authority.substr(0, colon);
  const int port = colon == std::string::npos ? 80 : std::atoi(authority.c_str() + colon + 1);

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1 || port <= 0 || port > 65535) {
    std::fprintf(stderr, "healthcheck: need a numeric IPv4 host and port, got %s\n", authority.c_str());
    return 1;
  }
  const UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket) return 1;
  const int fd = socket.get();
  const timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  int status = 0;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + authority + "\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char response[64] = {};
      if (::recv(fd, response, sizeof response - 1, 0) > 12) std::sscanf(response, "HTTP/%*s %d", &status);
    }
  }
  if (status != 200) std::fprintf(stderr, "healthcheck: %s answered %d\n", url.c_str(), status);
  return status == 200 ? 0 : 1;
}

}  // namespace procevents::app
