#include "http/connection.h"

#include <malloc.h>

#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

namespace procevents::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The first read of a request is small: an idle connection holds no more than this until bytes arrive.
constexpr std::size_t kFirstRead = 1024;
// A crowd smaller than this is not worth a trim; a trim happens each time a crowd has shrunk to a quarter
// (1000 -> 250 -> 62), so what is left untrimmed is a few dozen connections' worth.
constexpr int kTrimmedCrowd = 64;
// How long a closing connection is drained: unread request bytes would turn our FIN into a RST, which can
// destroy the response still on its way to the client.
constexpr auto kLinger = std::chrono::seconds(1);

template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  /// `greeting`: what a TLS client sent before the connection became a TLS stream (its first record).
  Connection(const ConnectionContext& context, Stream stream, std::string greeting = {})
      : context_(context),
        stream_(std::move(stream)),
        buffer_(context.max_request_bytes + kFirstRead),
        greeting_(std::move(greeting)) {
    context_.count->opened();
  }
  ~Connection() { context_.count->closed(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      lowest().expires_after(context_.request_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, asio::buffer(greeting_),
                              [self = this->shared_from_this()](error_code error, std::size_t used) {
                                // Bytes past the ClientHello before our answer: no TLS client sends those.
                                if (error || used != self->greeting_.size()) return;
                                self->greeting_ = std::string();
                                self->wait_for_request(true);
                              });
    } else {
      wait_for_request(true);
    }
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  /// Idle until a request's first bytes: request_timeout for a new connection, keep_alive_timeout between
  /// requests. Bytes of a pipelined request may already be buffered.
  void wait_for_request(bool first) {
    if (buffer_.size() > 0) return read_header();
    buffer_.shrink_to_fit();  // what a large request took is not kept while idle
    lowest().expires_after(first ? context_.request_timeout : context_.keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = this->shared_from_this()](error_code error, std::size_t bytes) {
                              if (error) return;  // closed, reset or timed out: nothing to answer
                              self->buffer_.commit(bytes);
                              self->read_header();
                            });
  }

  /// The rest of the request line and headers, within request_timeout of the first bytes.
  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(context_.max_request_bytes));
    lowest().expires_after(context_.request_timeout);
    beast::http::async_read_header(stream_, buffer_, *parser_,
                                   [self = this->shared_from_this()](error_code error, std::size_t) {
                                     self->on_header(error);
                                   });
  }

  void on_header(error_code error) {
    const std::shared_ptr<const WebState> web = context_.web();
    if (error == beast::http::error::header_limit || error == beast::http::error::buffer_overflow) {
      return respond(error_response(431), *web, false, false);
    }
    if (error) {
      // A malformed request gets a 400; a closed, reset or timed-out connection gets nothing.
      const bool malformed = error.category() == beast::http::make_error_code(beast::http::error::bad_target).category() &&
                             error != beast::http::error::end_of_stream && error != beast::http::error::partial_message;
      if (malformed) respond(error_response(400), *web, false, false);
      return;
    }
    const auto& request = parser_->get();
    if (request.version() != 10 && request.version() != 11) return respond(error_response(400), *web, false, false);
    const std::string_view method = request.method_string();
    Response response = context_.endpoints->handle(
        {method, request.target(), request[beast::http::field::authorization],
         request[beast::http::field::accept_encoding], request[beast::http::field::accept]},
        *web);
    // A request body is never read: the connection ends after the answer, so it cannot pass for a request.
    if (!request.keep_alive() || !parser_->is_done()) response.close = true;
    const bool http10_keep_alive = request.version() == 10 && !response.close;
    respond(std::move(response), *web, method == "HEAD", http10_keep_alive);
  }

  void respond(Response response, const WebState& web, bool head, bool http10_keep_alive) {
    head_ = wire_head(response, web.web.headers, http10_keep_alive);
    close_after_ = response.close;
    body_ = head ? std::string() : std::move(response.body);
    written_ = 0;
    response_deadline_ = Clock::now() + context_.response_timeout;
    write_more();
  }

  /// Writes what the socket takes; a response that makes no progress for request_timeout, or is not
  /// written by response_timeout, ends the connection.
  void write_more() {
    const std::size_t total = head_.size() + body_.size();
    if (written_ == total) return finish();
    const auto now = Clock::now();
    if (now >= response_deadline_) return lowest().close();
    lowest().expires_after(std::min<Clock::duration>(context_.request_timeout, response_deadline_ - now));
    const auto on_written = [self = this->shared_from_this()](error_code error, std::size_t bytes) {
      if (error) return;
      self->written_ += bytes;
      self->write_more();
    };
    // No empty buffer goes first: a TLS stream writes the first buffer alone when it does not coalesce.
    if (written_ < head_.size()) {
      const std::array<asio::const_buffer, 2> pending{asio::buffer(head_) + written_, asio::buffer(body_)};
      stream_.async_write_some(pending, on_written);
    } else {
      stream_.async_write_some(asio::buffer(body_) + (written_ - head_.size()), on_written);
    }
  }

  void finish() {
    head_.clear();
    body_ = std::string();  // a scrape body is not kept while the connection idles
    if (!close_after_) return wait_for_request(false);
    error_code ignored;
    lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    lowest().expires_after(kLinger);
    drain();
  }

  void drain() {
    buffer_.clear();
    lowest().async_read_some(buffer_.prepare(kFirstRead), [self = this->shared_from_this()](error_code error, std::size_t) {
      if (!error) self->drain();
    });
  }

  const ConnectionContext& context_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::string greeting_;
  std::optional<beast::http::request_parser<beast::http::empty_body>> parser_;
  std::string head_;  // status line and headers of the response being written
  std::string body_;
  std::size_t written_ = 0;
  bool close_after_ = false;
  Clock::time_point response_deadline_;
};

/// A TLS connection until its first record has arrived: OpenSSL's state and asio's record buffers (~100 KiB)
/// are made only then, so a client that connects and sends nothing, or half a ClientHello, costs a socket
/// and the bytes it sent. The record must be complete within request_timeout.
class TlsGreeting : public std::enable_shared_from_this<TlsGreeting> {
 public:
  TlsGreeting(const ConnectionContext& context, PlainStream stream, std::shared_ptr<asio::ssl::context> tls)
      : context_(context), stream_(std::move(stream)), tls_(std::move(tls)) {
    context_.count->opened();
  }
  ~TlsGreeting() { context_.count->closed(); }
  TlsGreeting(const TlsGreeting&) = delete;
  TlsGreeting& operator=(const TlsGreeting&) = delete;

  void start() {
    stream_.expires_after(context_.request_timeout);
    read();
  }

 private:
  // A TLS record: content type (22 = handshake), version (2 bytes), length (2 bytes), then that many bytes.
  static constexpr std::size_t kRecordHeader = 5;
  static constexpr std::size_t kMaxRecord = kRecordHeader + 16384 + 2048;

  void read() {
    stream_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](error_code error, std::size_t bytes) {
      if (error) return;
      self->received_.append(self->chunk_.data(), bytes);
      self->on_bytes();
    });
  }

  void on_bytes() {
    const auto byte = [this](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(received_[i])); };
    const bool handshake = byte(0) == 22;
    const std::size_t needed = received_.size() < kRecordHeader ? kRecordHeader : kRecordHeader + (byte(3) << 8 | byte(4));
    if (handshake && received_.size() < std::min(needed, kMaxRecord)) return read();
    // A whole record, or not TLS at all (OpenSSL says so to the client).
    std::make_shared<Connection<TlsStream>>(context_, TlsStream(std::move(stream_), *tls_), std::move(received_))->start();
  }

  const ConnectionContext& context_;
  PlainStream stream_;
  const std::shared_ptr<asio::ssl::context> tls_;
  std::array<char, 512> chunk_{};
  std::string received_;
};

}  // namespace

void ConnectionCount::opened() {
  std::lock_guard lock(mutex_);
  peak_ = std::max(peak_, ++open_);
}

void ConnectionCount::closed() {
  std::lock_guard lock(mutex_);
  --open_;
  if (peak_ >= kTrimmedCrowd && open_ <= peak_ / 4) {
    peak_ = open_;
    ::malloc_trim(0);
  }
}

void serve_connection(const ConnectionContext& context, asio::ip::tcp::socket socket,
                      std::shared_ptr<asio::ssl::context> tls) {
  error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);  // a response goes out in one burst anyway
  if (tls) {
    std::make_shared<TlsGreeting>(context, PlainStream(std::move(socket)), std::move(tls))->start();
  } else {
    std::make_shared<Connection<PlainStream>>(context, PlainStream(std::move(socket)))->start();
  }
}

}  // namespace procevents::http
