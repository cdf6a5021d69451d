#include "http/connection.h"

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
// How long a closing connection is drained: unread request bytes would turn our FIN into a RST, which can
// destroy the response still on its way to the client.
constexpr auto kLinger = std::chrono::seconds(1);

template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  Connection(const ConnectionContext& context, Stream stream)
      : context_(context), stream_(std::move(stream)), buffer_(context.max_request_bytes + kFirstRead) {}

  void start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      lowest().expires_after(context_.request_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](error_code error) {
        if (!error) self->wait_for_request(true);
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
         request[beast::http::field::accept_encoding]},
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
  std::optional<beast::http::request_parser<beast::http::empty_body>> parser_;
  std::string head_;  // status line and headers of the response being written
  std::string body_;
  std::size_t written_ = 0;
  bool close_after_ = false;
  Clock::time_point response_deadline_;
};

}  // namespace

void serve_connection(const ConnectionContext& context, asio::ip::tcp::socket socket, asio::ssl::context* tls) {
  error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);  // a response goes out in one burst anyway
  if (tls) {
    std::make_shared<Connection<TlsStream>>(context, TlsStream(std::move(socket), *tls))->start();
  } else {
    std::make_shared<Connection<PlainStream>>(context, PlainStream(std::move(socket)))->start();
  }
}

}  // namespace procevents::http
