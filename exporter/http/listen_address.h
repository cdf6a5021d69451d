// Listen addresses in exporter-toolkit style (--web.listen-address). Internal to the http layer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace procevents::http {

struct ListenAddress {
  std::string host;  // "" = every interface, IPv4 and IPv6 (IPv4 alone without IPv6); an IPv6 literal without its brackets
  std::string port;  // decimal, 0..65535 (0 = ephemeral, see HttpServer::listening_ports)
};

/// One address, checked. Pure; thread-safe.
///   ":9662"        -> {"", "9662"}            all interfaces, IPv4 and IPv6 where the host has it
///   "127.0.0.1:0"  -> {"127.0.0.1", "0"}      port 0 = ephemeral
///   "host:9662"    -> {"host", "9662"}        resolved when the server starts (IPv4 first)
///   "[::1]:9662"   -> {"::1", "9662"}         IPv6
/// nullopt + `error` ("invalid listen address ...") for anything else: no port, a port outside 0..65535, an
/// unbracketed IPv6 address, characters no host name has (',', ' ', '+', ...).
std::optional<ListenAddress> parse_listen_address(std::string_view address, std::string* error);

}  // namespace procevents::http
