#include "http/listen_address.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace procevents::http {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Host names and IPv4 literals: letters, digits, '-', '.', '_'. Anything else (',', ' ', '+', ...) has a
// meaning in civetweb's port list, so it is refused rather than passed through.
bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

std::optional<std::string> fail(std::string_view address, const std::string& why, std::string* error) {
  if (error) *error = "invalid listen address \"" + std::string(address) + "\": " + why;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> to_civetweb_port(std::string_view address, bool tls, bool ipv6, std::string* error) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return fail(address, "expected host:port, :port or [ipv6]:port", error);
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit)) {
    return fail(address, "the port must be a number from 0 to 65535", error);
  }
  if (std::stoi(std::string(port)) > 65535) return fail(address, "the port must be a number from 0 to 65535", error);

  std::string spec;
  if (host.empty()) {
    spec = std::string(port);
  } else if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']' ||
        !std::all_of(host.begin() + 1, host.end() - 1, is_ipv6_char)) {
      return fail(address, "malformed IPv6 address (expected [addr]:port)", error);
    }
    if (!ipv6) {
      return fail(address, "IPv6 is not supported: the system's civetweb library was built without USE_IPV6", error);
    }
    spec = std::string(address);
  } else if (host.find(':') != std::string_view::npos) {
    return fail(address, "an IPv6 address needs brackets, e.g. [::1]:9662", error);
  } else if (!std::all_of(host.begin(), host.end(), is_host_char)) {
    return fail(address, "the host may contain only letters, digits, '-', '.' and '_'", error);
  } else {
    spec = std::string(address);
  }
  if (tls) spec += 's';
  return spec;
}

std::optional<std::string> to_civetweb_ports(const std::vector<std::string>& addresses, bool tls, bool ipv6,
                                             std::string* error) {
  if (addresses.empty()) {
    if (error) *error = "no listen address given";
    return std::nullopt;
  }
  std::string ports;
  for (const std::string& address : addresses) {
    const std::optional<std::string> port = to_civetweb_port(address, tls, ipv6, error);
    if (!port) return std::nullopt;
    if (!ports.empty()) ports += ',';
    ports += *port;
  }
  return ports;
}

std::string diagnose_listen_failure(std::string_view address) {
  const std::string prefix = "cannot listen on " + std::string(address) + ": ";
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return prefix + "malformed address";
  std::string host(address.substr(0, colon));
  const std::string port(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const int lookup = ::getaddrinfo(host.empty() ? "0.0.0.0" : host.c_str(), port.c_str(), &hints, &result);
  if (lookup != 0) return prefix + ::gai_strerror(lookup);
  std::string reason;
  for (const addrinfo* ai = result; ai; ai = ai->ai_next) {
    const UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      reason = std::strerror(errno);
      continue;
    }
    const int one = 1;
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as civetweb does
    const bool bound = ::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0;
    const int bind_errno = errno;
    if (bound) {
      reason.clear();
      break;
    }
    reason = std::strerror(bind_errno);
  }
  ::freeaddrinfo(result);
  return reason.empty() ? "" : prefix + reason;
}

void wake_listener(std::string_view address, int port) {
  const auto colon = address.rfind(':');
  std::string host(address.substr(0, colon == std::string_view::npos ? 0 : colon));
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result) != 0) return;
  for (const addrinfo* ai = result; ai; ai = ai->ai_next) {
    const UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) continue;
    bool connected = ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0;
    if (!connected && errno == EINPROGRESS) {
      pollfd pfd{fd.get(), POLLOUT, 0};
      connected = ::poll(&pfd, 1, 50) == 1;
    }
    if (connected) break;
  }
  ::freeaddrinfo(result);
}

}  // namespace procevents::http
