// A tiny blocking HTTP/1.1 client over POSIX sockets (optionally TLS through OpenSSL), for tests only.
// Every call is bounded by a deadline, so a misbehaving server fails a test instead of hanging it.
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace procevents::http::test {

using namespace std::chrono_literals;

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  bool has(const std::string& name) const { return headers.count(name) != 0; }
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct TlsClientOptions {
  std::string cert_file;  // client certificate (PEM), empty for none
  std::string key_file;
  int max_version = 0;    // e.g. TLS1_2_VERSION; 0 = library default
  int min_version = 0;
  std::string ciphers;       // TLS 1.2 cipher list (OpenSSL names), empty = default
  std::string ciphersuites;  // TLS 1.3 suites, empty = default
  std::string groups;        // e.g. "X25519:P-384", empty = default
};

/// One TCP connection to 127.0.0.1:port, plain or TLS (server certificate not verified: tests use self-signed).
class Connection {
 public:
  /// nullopt when connect (or, with `tls`, the handshake) fails within `timeout`.
  static std::optional<Connection> open(int port, std::chrono::milliseconds timeout = 2s,
                                        const TlsClientOptions* tls = nullptr);
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  /// Writes everything; false if the peer closed or the deadline passed.
  bool send(std::string_view bytes, std::chrono::milliseconds timeout = 2s);
  /// One response (body sized by Content-Length, none for HEAD or when absent and `head`); nullopt if the
  /// connection closes or times out before a complete response.
  std::optional<Response> read_response(bool head = false, std::chrono::milliseconds timeout = 5s);
  /// True when the peer closes (EOF or reset) within `timeout`, discarding anything it sends before.
  bool wait_closed(std::chrono::milliseconds timeout);

  /// What the TLS handshake settled ("" on a plain connection): the server certificate's common name,
  /// the protocol ("TLSv1.2") and the cipher (OpenSSL's name).
  std::string peer_common_name() const;
  std::string protocol() const;
  std::string cipher() const;

 private:
  Connection(int fd, SSL_CTX* ctx, SSL* ssl);
  long read_some(char* buffer, std::size_t size, std::chrono::steady_clock::time_point deadline);
  void reset();
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string pending_;  // bytes read past the previous response
};

/// "GET <path> HTTP/1.1" with Host and Connection: close plus `extra_headers` (each ending in \r\n).
std::string request_text(std::string_view method, std::string_view path, std::string_view extra_headers = "");

/// Connects, sends `raw`, reads one response; nullopt on any failure.
std::optional<Response> round_trip(int port, std::string_view raw, bool head = false,
                                 const TlsClientOptions* tls = nullptr);

/// round_trip() of request_text(method, path, extra_headers).
std::optional<Response> fetch(int port, std::string_view method, std::string_view path,
                              std::string_view extra_headers = "", const TlsClientOptions* tls = nullptr);

/// RFC 1952 gzip data inflated; nullopt if it is not valid gzip.
std::optional<std::string> gunzip(std::string_view data);

/// "Basic " + base64(user:password), for an Authorization header.
std::string basic_credentials(std::string_view user, std::string_view password);

}  // namespace procevents::http::test
