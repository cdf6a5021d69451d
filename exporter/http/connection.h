// One client connection as a state machine on the server's event loops: (TLS handshake) -> wait for a
// request -> read its headers -> answer -> write -> keep alive or close. Every step has a deadline, so a
// client that stalls anywhere is dropped; none of them blocks a thread. Internal to the http layer.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "http/endpoints.h"

namespace procevents::http {

/// What every connection needs from the server; outlives them all (the event loops stop first).
struct ConnectionContext {
  std::chrono::milliseconds request_timeout;
  std::chrono::milliseconds keep_alive_timeout;
  std::chrono::milliseconds response_timeout;
  std::size_t max_request_bytes;
  const Endpoints* endpoints;
  /// The web configuration in force: taken once per request.
  std::function<std::shared_ptr<const WebState>()> web;
};

/// Serves `socket` (accepted, with its own strand) until it closes. With `tls`, the connection speaks
/// TLS with that context from its first byte; the context only has to live through this call.
void serve_connection(const ConnectionContext& context, boost::asio::ip::tcp::socket socket,
                      boost::asio::ssl::context* tls);

}  // namespace procevents::http
