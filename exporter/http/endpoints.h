// What the server answers, apart from how bytes move: one parsed request in, one complete response out.
// Internal to the http layer; http_server.cpp owns the sockets and timeouts.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/basic_auth.h"
#include "http/http_server.h"

namespace procevents::http {

/// The request as the endpoints see it. `target` is the raw request-target ("/metrics?x=1").
struct Request {
  std::string_view method;
  std::string_view target;
  std::string_view authorization;    // the Authorization header, "" if absent
  std::string_view accept_encoding;  // the Accept-Encoding header, "" if absent
  std::string_view accept = {};      // the Accept header, "" if absent
};

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type and Content-Length
  bool close = false;  // the connection ends after this response
};

/// The part of the web configuration a reload replaces: one immutable snapshot per request.
struct WebState {
  explicit WebState(WebConfig web_in) : web(std::move(web_in)), auth(std::make_unique<BasicAuth>(web.basic_auth_users)) {}
  const WebConfig web;
  const std::unique_ptr<BasicAuth> auth;  // its cache of verified credentials is internally locked
};

/// GET/HEAD of the telemetry path, /, /healthz; 401, 404, 405 otherwise. Thread-safe.
class Endpoints {
 public:
  Endpoints(const ServerOptions& options, HttpServer::ScrapeFn scrape, HttpServer::HealthFn health);

  /// The answer to `request` under `web`. For HEAD the body is kept: its length is the Content-Length.
  Response handle(const Request& request, const WebState& web) const;

 private:
  Response serve_metrics(std::string_view accept, std::string_view accept_encoding) const;
  Response serve_health() const;

  const std::string telemetry_path_;
  const HttpServer::ScrapeFn scrape_;
  const HttpServer::HealthFn health_;
  const ServerOptions options_;
  const std::string landing_;
};

/// "400 Bad Request\n"-style response for errors found before any endpoint runs; always closes.
Response error_response(int status);

/// The status line and headers of `response` (the body follows them on the wire unless the request was HEAD):
/// Content-Type, Content-Length, the response's own headers, `web_headers`, and Connection when it closes
/// or when an HTTP/1.0 client asked for keep-alive.
std::string wire_head(const Response& response, const std::map<std::string, std::string>& web_headers,
                      bool http10_keep_alive);

/// The path of a request-target: the query dropped, %XX decoded. False for anything but an origin-form
/// path ("/..."), a bad escape or a decoded NUL.
bool decode_path(std::string_view target, std::string* path);

/// RFC 9110 token characters: header names come from the user's web config and go out verbatim.
bool is_token(std::string_view name);

}  // namespace procevents::http
