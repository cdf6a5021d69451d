#include "http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <strings.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace procevents::http::test {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd pfd{fd, events, 0};
  while (true) {
    const int ready = ::poll(&pfd, 1, remaining_ms(deadline));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return ::strcasecmp(a.c_str(), b.c_str()) < 0;
}

Connection::Connection(int fd, SSL_CTX* ctx, SSL* ssl) : fd_(fd), ctx_(ctx), ssl_(ssl) {}

Connection::Connection(Connection&& other) noexcept
    : fd_(other.fd_), ctx_(other.ctx_), ssl_(other.ssl_), pending_(std::move(other.pending_)) {
  other.fd_ = -1;
  other.ctx_ = nullptr;
  other.ssl_ = nullptr;
}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    ctx_ = std::exchange(other.ctx_, nullptr);
    ssl_ = std::exchange(other.ssl_, nullptr);
    pending_ = std::move(other.pending_);
  }
  return *this;
}

Connection::~Connection() { reset(); }

void Connection::reset() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
  ssl_ = nullptr;
  ctx_ = nullptr;
  fd_ = -1;
}

std::optional<Connection> Connection::open(int port, std::chrono::milliseconds timeout, const TlsClientOptions* tls) {
  const auto deadline = Clock::now() + timeout;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  Connection connection(fd, nullptr, nullptr);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINPROGRESS || !wait_for(fd, POLLOUT, deadline)) return std::nullopt;
    int so_error = 0;
    socklen_t length = sizeof so_error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length) != 0 || so_error != 0) return std::nullopt;
  }
  if (!tls) return connection;

  connection.ctx_ = SSL_CTX_new(TLS_client_method());
  if (!connection.ctx_) return std::nullopt;
  SSL_CTX_set_verify(connection.ctx_, SSL_VERIFY_NONE, nullptr);
  if (tls->max_version) SSL_CTX_set_max_proto_version(connection.ctx_, tls->max_version);
  if (tls->min_version) SSL_CTX_set_min_proto_version(connection.ctx_, tls->min_version);
  if ((!tls->ciphers.empty() && SSL_CTX_set_cipher_list(connection.ctx_, tls->ciphers.c_str()) != 1) ||
      (!tls->ciphersuites.empty() && SSL_CTX_set_ciphersuites(connection.ctx_, tls->ciphersuites.c_str()) != 1) ||
      (!tls->groups.empty() && SSL_CTX_set1_groups_list(connection.ctx_, tls->groups.c_str()) != 1)) {
    return std::nullopt;
  }
  if (!tls->cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(connection.ctx_, tls->cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(connection.ctx_, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return std::nullopt;
    }
  }
  connection.ssl_ = SSL_new(connection.ctx_);
  if (!connection.ssl_ || SSL_set_fd(connection.ssl_, fd) != 1) return std::nullopt;
  while (true) {
    const int result = SSL_connect(connection.ssl_);
    if (result == 1) break;
    const int why = SSL_get_error(connection.ssl_, result);
    if (why == SSL_ERROR_WANT_READ && wait_for(fd, POLLIN, deadline)) continue;
    if (why == SSL_ERROR_WANT_WRITE && wait_for(fd, POLLOUT, deadline)) continue;
    ERR_clear_error();
    return std::nullopt;
  }
  return connection;
}

std::string Connection::peer_common_name() const {
  if (!ssl_) return "";
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (!cert) return "";
  char name[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
  X509_free(cert);
  return name;
}

std::string Connection::protocol() const { return ssl_ ? SSL_get_version(ssl_) : ""; }

std::string Connection::cipher() const { return ssl_ ? SSL_get_cipher_name(ssl_) : ""; }

bool Connection::send(std::string_view bytes, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    long written;
    if (ssl_) {
      const int result = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (result <= 0) {
        const int why = SSL_get_error(ssl_, result);
        ERR_clear_error();
        if (why == SSL_ERROR_WANT_WRITE && wait_for(fd_, POLLOUT, deadline)) continue;
        if (why == SSL_ERROR_WANT_READ && wait_for(fd_, POLLIN, deadline)) continue;
        return false;
      }
      written = result;
    } else {
      written = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (written < 0) {
        if ((errno == EAGAIN || errno == EINTR) && wait_for(fd_, POLLOUT, deadline)) continue;
        return false;
      }
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

// >0 bytes, 0 on EOF, -1 on error or timeout.
long Connection::read_some(char* buffer, std::size_t size, Clock::time_point deadline) {
  while (true) {
    if (ssl_) {
      const int result = SSL_read(ssl_, buffer, static_cast<int>(size));
      if (result > 0) return result;
      const int why = SSL_get_error(ssl_, result);
      ERR_clear_error();
      if (why == SSL_ERROR_ZERO_RETURN) return 0;
      if (why == SSL_ERROR_WANT_READ && wait_for(fd_, POLLIN, deadline)) continue;
      if (why == SSL_ERROR_WANT_WRITE && wait_for(fd_, POLLOUT, deadline)) continue;
      return -1;
    }
    const long result = ::recv(fd_, buffer, size, 0);
    if (result >= 0) return result;
    if ((errno == EAGAIN || errno == EINTR) && wait_for(fd_, POLLIN, deadline)) continue;
    return -1;
  }
}

std::optional<Response> Connection::read_response(bool head, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buffer[16384];
  std::size_t header_end;
  while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    const long got = read_some(buffer, sizeof buffer, deadline);
    if (got <= 0) return std::nullopt;
    pending_.append(buffer, static_cast<std::size_t>(got));
  }
  const std::string head_text = pending_.substr(0, header_end);
  pending_.erase(0, header_end + 4);

  Response response;
  std::size_t line_end = head_text.find("\r\n");
  const std::string status_line = head_text.substr(0, line_end);
  if (status_line.compare(0, 5, "HTTP/") != 0 || status_line.size() < 12) return std::nullopt;
  response.status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head_text.find("\r\n", start);
    const std::string line = head_text.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    response.headers[line.substr(0, colon)] = value;
  }

  if (head) return response;
  if (response.has("Content-Length")) {
    const std::size_t length = std::stoul(response.header("Content-Length"));
    while (pending_.size() < length) {
      const long got = read_some(buffer, sizeof buffer, deadline);
      if (got <= 0) return std::nullopt;
      pending_.append(buffer, static_cast<std::size_t>(got));
    }
    response.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return response;
  }
  // No length: the body runs to the end of the connection.
  while (true) {
    const long got = read_some(buffer, sizeof buffer, deadline);
    if (got == 0) break;
    if (got < 0) return std::nullopt;
    pending_.append(buffer, static_cast<std::size_t>(got));
  }
  response.body = std::move(pending_);
  pending_.clear();
  return response;
}

bool Connection::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buffer[4096];
  while (Clock::now() < deadline) {
    const long got = read_some(buffer, sizeof buffer, deadline);
    if (got == 0) return true;
    if (got < 0) {
      if (Clock::now() >= deadline) return false;
      return true;  // reset or TLS alert: closed as well
    }
  }
  return false;
}

std::string request_text(std::string_view method, std::string_view path, std::string_view extra_headers) {
  return std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
         std::string(extra_headers) + "\r\n";
}

std::optional<Response> round_trip(int port, std::string_view raw, bool head, const TlsClientOptions* tls) {
  std::optional<Connection> connection = Connection::open(port, 2s, tls);
  if (!connection || !connection->send(raw)) return std::nullopt;
  return connection->read_response(head);
}

std::optional<Response> fetch(int port, std::string_view method, std::string_view path, std::string_view extra_headers,
                              const TlsClientOptions* tls) {
  return round_trip(port, request_text(method, path, extra_headers), method == "HEAD", tls);
}

std::optional<std::string> gunzip(std::string_view data) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return std::nullopt;
  std::string out;
  char buffer[16384];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - stream.avail_out);
    if (result == Z_BUF_ERROR && stream.avail_in == 0) break;
  }
  const bool complete = result == Z_STREAM_END && stream.avail_in == 0;
  inflateEnd(&stream);
  if (!complete) return std::nullopt;
  return out;
}

std::string basic_credentials(std::string_view user, std::string_view password) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string plain = std::string(user) + ":" + std::string(password);
  std::string out = "Basic ";
  std::size_t i = 0;
  for (; i + 2 < plain.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(plain[i]) << 16) | (static_cast<unsigned char>(plain[i + 1]) << 8) |
                       static_cast<unsigned char>(plain[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == plain.size()) {
    const unsigned v = static_cast<unsigned char>(plain[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == plain.size()) {
    const unsigned v = (static_cast<unsigned char>(plain[i]) << 16) | (static_cast<unsigned char>(plain[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace procevents::http::test
