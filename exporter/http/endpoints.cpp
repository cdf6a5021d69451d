#include "http/endpoints.h"

#include <cstring>
#include <exception>
#include <optional>

#include "http/compression.h"

namespace procevents::http {

namespace {

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kProtobufContentType[] =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
constexpr char kTextContentType[] = "text/plain; charset=utf-8";
constexpr char kHealthPath[] = "/healthz";
constexpr std::size_t kMaxErrorText = 200;  // of an exception message echoed in a 500

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string landing_page(const ServerOptions& options, const std::string& active_config_text) {
  const std::string path = html_escape(options.telemetry_path);
  return "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>procevents_exporter</title></head>\n<body>\n"
         "<h1>procevents_exporter</h1>\n"
         "<p>Prometheus exporter for the Linux Process Events Connector: every fork, exec and exit, "
         "short-lived processes included.</p>\n"
         "<p>Version: " + html_escape(options.version.empty() ? "unknown" : options.version) + "</p>\n"
         "<ul>\n<li><a href=\"" + path + "\">Metrics</a> (" + path + ")</li>\n"
         "<li><a href=\"/healthz\">Health</a> (/healthz)</li>\n</ul>\n"
         "<h2>Active configuration</h2>\n<pre>" + html_escape(active_config_text) + "</pre>\n"
         "</body>\n</html>\n";
}

Response text(int status, std::string body) { return {status, kTextContentType, std::move(body), {}, false}; }

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool is_token(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
    if (!ok) return false;
  }
  return true;
}

bool decode_path(std::string_view target, std::string* path) {
  target = target.substr(0, target.find('?'));
  if (target.empty() || target[0] != '/') return false;
  path->clear();
  for (std::size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '%') {
      const int high = i + 2 < target.size() ? hex_value(target[i + 1]) : -1;
      const int low = high >= 0 ? hex_value(target[i + 2]) : -1;
      if (low < 0) return false;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (c == '\0') return false;
    *path += c;
  }
  return true;
}

Endpoints::Endpoints(const ServerOptions& options, HttpServer::ScrapeFn scrape, HttpServer::HealthFn health)
    : telemetry_path_(options.telemetry_path),
      scrape_(std::move(scrape)),
      health_(std::move(health)),
      options_(options),
      landing_(landing_page(options, options.active_config_text)) {}

Response Endpoints::handle(const Request& request, const WebState& web) const {
  std::string path;
  if (!decode_path(request.target, &path)) return error_response(400);
  // Every path but /healthz is protected, as in exporter-toolkit: even 404s say nothing to strangers.
  // /healthz is exempt so that probes (kubelet, a container HEALTHCHECK) need no credentials in their
  // manifests; it says only "ok" or why the exporter is unhealthy. TLS, when on, still applies to it.
  if (web.auth->enabled() && path != kHealthPath && !web.auth->check(request.authorization)) {
    Response response = text(401, "Unauthorized\n");
    response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"procevents_exporter\"");
    return response;
  }
  const bool metrics = path == telemetry_path_;
  if (!metrics && path != "/" && path != kHealthPath) return text(404, "Not Found\n");
  if (request.method != "GET" && request.method != "HEAD") {
    Response response = text(405, "Method Not Allowed\n");
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  if (metrics) return serve_metrics(request.accept, request.accept_encoding);
  if (path == kHealthPath) return serve_health();
  // The configuration in force may change (a reload): then the page is rendered per request.
  const std::string& page = options_.active_config ? landing_page(options_, options_.active_config()) : landing_;
  return {200, "text/html; charset=utf-8", page, {}, false};
}

Response Endpoints::serve_metrics(std::string_view accept, std::string_view accept_encoding) const {
  const ExpositionFormat format = prefers_protobuf(accept) ? ExpositionFormat::kProtobuf : ExpositionFormat::kText;
  std::string body;
  std::optional<std::string> failure;
  try {
    body = scrape_(format);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (failure) {
    if (failure->size() > kMaxErrorText) failure->resize(kMaxErrorText);
    return text(500, "scrape failed: " + *failure + "\n");
  }
  Response response{200, format == ExpositionFormat::kProtobuf ? kProtobufContentType : kMetricsContentType, {}, {}, false};
  if (accepts_gzip(accept_encoding) && gzip_compress(body, &response.body)) {
    response.headers.emplace_back("Content-Encoding", "gzip");
  } else {
    response.body = std::move(body);
  }
  response.headers.emplace_back("Vary", "Accept, Accept-Encoding");
  return response;
}

Response Endpoints::serve_health() const {
  Health result;
  try {
    result = health_();
  } catch (const std::exception& e) {
    result = {false, std::string("health check failed: ") + e.what()};
  } catch (...) {
    result = {false, "health check failed"};
  }
  if (result.ok) return text(200, "ok\n");
  std::string reason = result.reason.empty() ? "unhealthy" : result.reason;
  if (reason.back() != '\n') reason += '\n';
  return text(503, std::move(reason));
}

Response error_response(int status) {
  Response response = text(status, std::to_string(status) + " " + reason_phrase(status) + "\n");
  response.close = true;  // the rest of the stream cannot be trusted
  return response;
}

std::string wire_head(const Response& response, const std::map<std::string, std::string>& web_headers,
                      bool http10_keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
  const auto add = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  add("Content-Type", response.content_type);
  add("Content-Length", std::to_string(response.body.size()));
  for (const auto& [name, value] : response.headers) add(name, value);
  for (const auto& [name, value] : web_headers) add(name, value);
  if (response.close) {
    add("Connection", "close");
  } else if (http10_keep_alive) {
    add("Connection", "keep-alive");
  }
  out += "\r\n";
  return out;
}

}  // namespace procevents::http
