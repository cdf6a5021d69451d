#include "http/http_server.h"

#include <civetweb.h>
#include <dlfcn.h>
#include <unistd.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <zlib.h>

#include <cstring>
#include <mutex>
#include <set>
#include <string_view>

#include "config/password.h"

namespace procevents::http {

namespace {

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

bool gzip(std::string_view input, std::string& out) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out.resize(deflateBound(&stream, static_cast<uLong>(input.size())));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return result == Z_STREAM_END;
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  unsigned value = 0;
  int bits = 0;
  for (const char c : in) {
    int digit;
    if (c >= 'A' && c <= 'Z') digit = c - 'A';
    else if (c >= 'a' && c <= 'z') digit = c - 'a' + 26;
    else if (c >= '0' && c <= '9') digit = c - '0' + 52;
    else if (c == '+') digit = 62;
    else if (c == '/') digit = 63;
    else if (c == '=') break;
    else return false;
    value = (value << 6) | static_cast<unsigned>(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xFF));
    }
  }
  return true;
}

/// Loads civetweb_ssl_shim (see civetweb_ssl_shim.c) from next to the executable; error text or "".
std::string load_ssl_shim() {
  char exe[4096];
  const ssize_t length = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (length <= 0) return "cannot locate the executable";
  std::string path(exe, static_cast<std::size_t>(length));
  path = path.substr(0, path.rfind('/') + 1) + "procevents_civetweb_ssl.so";
  if (!::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
    const char* why = ::dlerror();
    return "cannot load " + path + " (needed for TLS with civetweb on OpenSSL 3): " + (why ? why : "");
  }
  return "";
}

bool accepts_gzip(const char* header) {
  if (!header) return false;
  // A real parse of q-values is not needed: "gzip;q=0" is never sent by Prometheus.
  return std::strstr(header, "gzip") != nullptr;
}

}  // namespace

bool to_civetweb_port(const std::string& address, bool tls, std::string& out) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  if (std::stoi(port) > 65535) return false;
  if (!host.empty() && host.front() == '[' && host.back() != ']') return false;
  out = host.empty() ? port : host + ":" + port;
  if (tls) out += "s";
  return true;
}

struct HttpServer::Impl {
  ServerOptions options;
  ScrapeFn scrape;
  HealthFn health;
  mg_context* context = nullptr;
  std::mutex auth_mutex;
  std::set<std::string> verified;  // SHA-256 of "user:password:hash" that passed bcrypt

  bool authorized(mg_connection* conn) {
    if (options.web.basic_auth_users.empty()) return true;
    const char* header = mg_get_header(conn, "Authorization");
    if (!header || std::strncmp(header, "Basic ", 6) != 0) return false;
    std::string decoded;
    if (!base64_decode(header + 6, decoded)) return false;
    const auto colon = decoded.find(':');
    if (colon == std::string::npos) return false;
    const std::string user = decoded.substr(0, colon);
    const std::string password = decoded.substr(colon + 1);
    const auto it = options.web.basic_auth_users.find(user);
    if (it == options.web.basic_auth_users.end()) return false;

    const std::string material = user + ":" + password + ":" + it->second;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
    const std::string key(reinterpret_cast<const char*>(digest), sizeof digest);
    {
      std::lock_guard lock(auth_mutex);
      if (verified.count(key)) return true;
    }
    if (!config::verify_password(password, it->second)) return false;
    std::lock_guard lock(auth_mutex);
    if (verified.size() > 1024) verified.clear();  // bound memory against credential spraying
    verified.insert(key);
    return true;
  }

  int respond(mg_connection* conn, int status, const char* content_type, std::string_view body, bool head_only,
              const char* extra_name = nullptr, const char* extra_value = nullptr, bool gzipped = false) {
    mg_response_header_start(conn, status);
    mg_response_header_add(conn, "Content-Type", content_type, -1);
    mg_response_header_add(conn, "Content-Length", std::to_string(body.size()).c_str(), -1);
    if (gzipped) mg_response_header_add(conn, "Content-Encoding", "gzip", -1);
    if (extra_name) mg_response_header_add(conn, extra_name, extra_value, -1);
    for (const auto& [name, value] : options.web.headers) mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
    mg_response_header_send(conn);
    if (!head_only && !body.empty()) mg_write(conn, body.data(), body.size());
    return status;
  }

  std::string landing_page() const {
    const std::string path = html_escape(options.telemetry_path);
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>procevents_exporter</title></head>\n<body>\n"
           "<h1>procevents_exporter</h1>\n<p>Prometheus exporter for the Linux Process Events Connector: every fork, "
           "exec and exit, short-lived processes included.</p>\n<p>Version " +
           html_escape(options.version) + "</p>\n<ul><li><a href=\"" + path + "\">Metrics</a></li>\n" +
           "<li><a href=\"/healthz\">Health</a></li></ul>\n<h2>Active configuration</h2>\n<pre>" +
           html_escape(options.active_config_text) + "</pre>\n</body></html>\n";
  }

  int handle(mg_connection* conn) {
    const mg_request_info* request = mg_get_request_info(conn);
    const std::string_view method = request && request->request_method ? request->request_method : "";
    const std::string_view uri = request && request->local_uri ? request->local_uri : "";
    const bool head = method == "HEAD";

    if (!authorized(conn)) {
      return respond(conn, 401, "text/plain; charset=utf-8", "Unauthorized\n", head, "WWW-Authenticate",
                     "Basic realm=\"procevents_exporter\"");
    }
    const bool known = uri == options.telemetry_path || uri == "/" || uri == "/healthz";
    if (!known) return respond(conn, 404, "text/plain; charset=utf-8", "Not Found\n", head);
    if (method != "GET" && !head) {
      return respond(conn, 405, "text/plain; charset=utf-8", "Method Not Allowed\n", false, "Allow", "GET, HEAD");
    }
    if (uri == options.telemetry_path) {
      std::string body;
      try {
        body = scrape();
      } catch (const std::exception& e) {
        return respond(conn, 500, "text/plain; charset=utf-8", std::string("scrape failed: ") + e.what() + "\n", head);
      } catch (...) {
        return respond(conn, 500, "text/plain; charset=utf-8", "scrape failed\n", head);
      }
      std::string compressed;
      if (accepts_gzip(mg_get_header(conn, "Accept-Encoding")) && gzip(body, compressed)) {
        return respond(conn, 200, kMetricsContentType, compressed, head, nullptr, nullptr, true);
      }
      return respond(conn, 200, kMetricsContentType, body, head);
    }
    if (uri == "/healthz") {
      Health h;
      try {
        h = health();
      } catch (...) {
        h = {false, "health check failed"};
      }
      return respond(conn, h.ok ? 200 : 503, "text/plain; charset=utf-8", (h.ok ? "ok" : h.reason) + "\n", head);
    }
    return respond(conn, 200, "text/html; charset=utf-8", landing_page(), head);
  }

  int init_ssl(SSL_CTX* ssl) {
    const config::TlsConfig& tls = options.web.tls;
    if (SSL_CTX_use_certificate_chain_file(ssl, tls.cert_file.c_str()) != 1) return -1;
    if (SSL_CTX_use_PrivateKey_file(ssl, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) return -1;
    if (SSL_CTX_check_private_key(ssl) != 1) return -1;
    SSL_CTX_set_min_proto_version(ssl, tls.min_version == "TLS13" ? TLS1_3_VERSION : TLS1_2_VERSION);
    if (!tls.client_ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ssl, tls.client_ca_file.c_str(), nullptr) != 1) return -1;
    }
    int mode = SSL_VERIFY_NONE;
    if (tls.client_auth_type == "RequireAndVerifyClientCert" || tls.client_auth_type == "RequireAnyClientCert") {
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    } else if (tls.client_auth_type == "VerifyClientCertIfGiven" || tls.client_auth_type == "RequestClientCert") {
      mode = SSL_VERIFY_PEER;
    }
    SSL_CTX_set_verify(ssl, mode, nullptr);
    return 1;  // we set the certificate up; civetweb must not look for ssl_certificate
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  if (impl_ && impl_->context) mg_stop(impl_->context);
}

std::unique_ptr<HttpServer> HttpServer::start(ServerOptions options, ScrapeFn scrape, HealthFn health,
                                              std::string* error) {
  const bool tls = options.web.tls.enabled();
  std::string ports;
  for (const std::string& address : options.listen_addresses) {
    std::string port;
    if (!to_civetweb_port(address, tls, port)) {
      if (error) *error = "invalid listen address \"" + address + "\" (expected host:port, :port or [v6]:port)";
      return nullptr;
    }
    ports += (ports.empty() ? "" : ",") + port;
  }
  if (tls) {
    static std::once_flag once;
    static std::string shim_error;
    std::call_once(once, [] {
      shim_error = load_ssl_shim();
      if (shim_error.empty()) mg_init_library(MG_FEATURES_SSL);
    });
    if (!shim_error.empty()) {
      if (error) *error = shim_error;
      return nullptr;
    }
    if (!mg_check_feature(MG_FEATURES_SSL)) {
      if (error) *error = "TLS requested but civetweb has no TLS support (is libssl-dev installed?)";
      return nullptr;
    }
  } else {
    static std::once_flag once;
    std::call_once(once, [] { mg_init_library(0); });
  }

  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->scrape = std::move(scrape);
  impl->health = std::move(health);

  const std::string threads = std::to_string(impl->options.num_threads > 0 ? impl->options.num_threads : 256);
  // Bounded everything: headers, idle connections, slow clients.
  std::vector<const char*> civet_options = {
      "listening_ports", ports.c_str(),   "num_threads",        threads.c_str(), "request_timeout_ms", "5000",
      "enable_keep_alive", "yes",         "keep_alive_timeout_ms", "5000",     "max_request_size",   "16384",
      "listen_backlog",  "256",           "decode_url",         "yes",
  };
  civet_options.push_back(nullptr);

  mg_callbacks callbacks{};
  callbacks.begin_request = [](mg_connection* conn) -> int {
    auto* self = static_cast<Impl*>(mg_get_user_data(mg_get_context(conn)));
    return self->handle(conn);
  };
  callbacks.init_ssl = [](void* ssl, void* user_data) -> int {
    return static_cast<Impl*>(user_data)->init_ssl(static_cast<SSL_CTX*>(ssl));
  };
  callbacks.log_message = [](const mg_connection*, const char*) -> int { return 1; };  // errors come back via mg_start

  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = impl.get();
  init.configuration_options = civet_options.data();
  mg_error_data error_data{};
  char error_text[256] = {};
  error_data.text = error_text;
  error_data.text_buffer_size = sizeof error_text;
  impl->context = mg_start2(&init, &error_data);
  if (!impl->context) {
    if (error) *error = std::string("cannot listen on ") + ports + ": " + (error_text[0] ? error_text : "unknown error");
    return nullptr;
  }
  return std::make_unique<HttpServer>(std::move(impl));
}

std::vector<int> HttpServer::listening_ports() const {
  std::vector<int> ports;
  mg_server_port buffer[16];
  const int count = mg_get_server_ports(impl_->context, 16, buffer);
  for (int i = 0; i < count; ++i) ports.push_back(buffer[i].port);
  return ports;
}

}  // namespace procevents::http
