// Listen addresses in exporter-toolkit style (--web.listen-address), translated to civetweb's
// "listening_ports" syntax. Internal to the http layer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace procevents::http {

/// One address to one civetweb port spec. Pure; thread-safe.
///   ":9662"        -> "9662"           all IPv4 interfaces
///   "127.0.0.1:0"  -> "127.0.0.1:0"    port 0 = ephemeral (see HttpServer::listening_ports)
///   "host:9662"    -> "host:9662"      civetweb resolves the name at start
///   "[::1]:9662"   -> "[::1]:9662"     only when `ipv6` (civetweb built with USE_IPV6)
/// With `tls` the spec gets civetweb's "s" suffix. nullopt + `error` for anything else: no port, a port
/// outside 0..65535, an unbracketed IPv6 address, characters civetweb would misread (',' starts another port).
std::optional<std::string> to_civetweb_port(std::string_view address, bool tls, bool ipv6, std::string* error);

/// All addresses, comma-joined for "listening_ports"; nullopt + `error` on the first bad one or an empty list.
std::optional<std::string> to_civetweb_ports(const std::vector<std::string>& addresses, bool tls, bool ipv6,
                                             std::string* error);

/// Why binding `address` (valid per to_civetweb_port) fails, e.g. "cannot listen on :9662: Address already
/// in use", found by trying it with a plain socket; "" if it binds now. For the error after civetweb
/// refused to start, whose own text does not say. Thread-safe.
std::string diagnose_listen_failure(std::string_view address);

/// Opens and at once closes a connection to the listener of `address` (as given to to_civetweb_port) on
/// `port`, so civetweb's accept loop, which polls its sockets only every 2 s, notices mg_stop at once.
/// Best effort: waits at most ~50 ms, ignores every failure. Thread-safe.
void wake_listener(std::string_view address, int port);

}  // namespace procevents::http
