#include "http/listen_address.h"

#include <algorithm>

namespace procevents::http {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Host names and IPv4 literals: letters, digits, '-', '.', '_'. Anything else (',', ' ', '+', ...) is a
// typo or an attempt at something else, so it is refused rather than passed to the resolver.
bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '.' || c == '_';
}

bool is_ipv6_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

std::optional<ListenAddress> fail(std::string_view address, const std::string& why, std::string* error) {
  if (error) *error = "invalid listen address \"" + std::string(address) + "\": " + why;
  return std::nullopt;
}

}  // namespace

std::optional<ListenAddress> parse_listen_address(std::string_view address, std::string* error) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return fail(address, "expected host:port, :port or [ipv6]:port", error);
  const std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit) ||
      std::stoi(std::string(port)) > 65535) {
    return fail(address, "the port must be a number from 0 to 65535", error);
  }
  if (host.empty()) return ListenAddress{"", std::string(port)};
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']' || !std::all_of(host.begin() + 1, host.end() - 1, is_ipv6_char)) {
      return fail(address, "malformed IPv6 address (expected [addr]:port)", error);
    }
    return ListenAddress{std::string(host.substr(1, host.size() - 2)), std::string(port)};
  }
  if (host.find(':') != std::string_view::npos) {
    return fail(address, "an IPv6 address needs brackets, e.g. [::1]:9662", error);
  }
  if (!std::all_of(host.begin(), host.end(), is_host_char)) {
    return fail(address, "the host may contain only letters, digits, '-', '.' and '_'", error);
  }
  return ListenAddress{std::string(host), std::string(port)};
}

}  // namespace procevents::http
