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
#include <mutex>
#include <string>

#include "http/endpoints.h"

namespace procevents::http {

/// Open connections, and the memory they leave behind: glibc keeps what a thousand closed connections
/// freed in its per-thread arenas, so once most of a crowd is gone the heap is trimmed (malloc_trim) and
/// the resident size falls back to what the remaining connections use. Thread-safe.
class ConnectionCount {
 public:
  void opened();
  void closed();

 private:
  std::mutex mutex_;
  int open_ = 0;
  int peak_ = 0;  // since the last trim
};

/// What every connection needs from the server; outlives them all (the event loops stop first).
struct ConnectionContext {
  std::chrono::milliseconds request_timeout;
  std::chrono::milliseconds keep_alive_timeout;
  std::chrono::milliseconds response_timeout;
  std::size_t max_request_bytes;
  const Endpoints* endpoints;
  /// The web configuration in force: taken once per request.
  std::function<std::shared_ptr<const WebState>()> web;
  ConnectionCount* count;
};

/// Serves `socket` (accepted, with its own strand) until it closes. With `tls`, the connection speaks
/// TLS with that context (the one in force when it was accepted) from its first byte.
void serve_connection(const ConnectionContext& context, boost::asio::ip::tcp::socket socket,
                      std::shared_ptr<boost::asio::ssl::context> tls);

}  // namespace procevents::http
