#include "http/server.h"

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <optional>
#include <thread>
#include <type_traits>

#include "common/ascii.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace stackhouse::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

std::string_view Request::header(std::string_view lowerName) const {
  for (const auto& [k, v] : headers) {
    if (k == lowerName) return v;
  }
  return {};
}

std::string_view Request::path() const {
  std::string_view t = target;
  const auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

Response textResponse(int status, std::string body) {
  return Response{status, "text/plain; charset=utf-8", std::move(body), {}};
}

Response jsonResponse(int status, std::string body) {
  return Response{status, "application/json", std::move(body), {}};
}

namespace {

class ServerImpl;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

beast::tcp_stream& tcpOf(PlainStream& stream) { return stream; }
beast::tcp_stream& tcpOf(TlsStream& stream) { return stream.next_layer(); }

// One connection, over plain TCP or TLS: the same reading, dispatching and writing; TLS adds its
// handshake before the first request and its close_notify before the socket is closed.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(tcp::socket&& socket, ServerImpl& server);
  Session(tcp::socket&& socket, ssl::context& tls, ServerImpl& server);
  ~Session();
  void start();

 private:
  void readHeader();
  void onHeader(beast::error_code ec);
  void readBody();
  void onBody(beast::error_code ec);
  void dispatch();
  void write(Response response, bool close);
  void fail(int status, std::string_view message);
  void shutdown();
  // After an early error answer, closes gracefully: stops sending, then reads and discards
  // what the client still sends (bounded in bytes and time) so that closing with unread data
  // does not reset the connection before the client has read the answer.
  void lingerClose();
  void drain();
  void discardBody();
  void watchClose();
  beast::tcp_stream& tcpStream() { return tcpOf(stream_); }
  tcp::socket& socket() { return tcpStream().socket(); }
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;

  // Read room for a request body, and the most a connection keeps between requests.
  static constexpr size_t kReadRoom = 256 * 1024;
  static constexpr size_t kIdleRoom = 16 * 1024;
  // The largest body of a request refused from its header that is read and dropped to keep the
  // connection, rather than closing it.
  static constexpr uint64_t kDiscardLimit = 256 * 1024;

  size_t drained_ = 0;
  uint64_t discardLeft_ = 0;  // body bytes of a refused request still to read and drop
  std::array<char, 16384> discard_{};

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::unique_ptr<Admission> admission_;  // from the Admit hook, for the request being read
  ServerImpl& server_;
  bool keepAlive_ = true;
  bool firstRequest_ = true;
  unsigned version_ = 11;
  std::shared_ptr<std::atomic<bool>> gone_;  // for the request being handled
};

class ServerImpl final : public Server {
 public:
  ServerImpl(const ServerOptions& options, Handler handler)
      : options_(options), handler_(std::move(handler)), acceptor_(net::make_strand(ioc_)) {}

  // The certificate chain and key, read once at start; TLS 1.2 and newer only.
  Status loadTls() {
    if (options_.tls.certFile.empty() && options_.tls.keyFile.empty()) return Status::ok();
    if (options_.tls.certFile.empty() || options_.tls.keyFile.empty()) {
      return invalidArgument("TLS needs both a certificate file and a key file");
    }
    tls_.emplace(ssl::context::tls_server);
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::single_dh_use);
    beast::error_code ec;
    tls_->use_certificate_chain_file(options_.tls.certFile, ec);
    if (ec) {
      return invalidArgument("cannot read the TLS certificate chain (PEM) from " +
                             options_.tls.certFile + ": " + ec.message());
    }
    tls_->use_private_key_file(options_.tls.keyFile, ssl::context::pem, ec);
    if (ec) {
      return invalidArgument("cannot read the TLS private key (PEM) from " + options_.tls.keyFile +
                             ": " + ec.message());
    }
    if (SSL_CTX_check_private_key(tls_->native_handle()) != 1) {
      return invalidArgument("the TLS private key in " + options_.tls.keyFile +
                             " does not match the certificate in " + options_.tls.certFile);
    }
    return Status::ok();
  }

  ~ServerImpl() override { stop(std::chrono::milliseconds(0)); }

  Status listen() {
    STACKHOUSE_RETURN_IF_ERROR(loadTls());
    beast::error_code ec;
    const auto address = net::ip::make_address(options_.host, ec);
    if (ec) return invalidArgument("not an IP address: " + options_.host);
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                         ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    accept();
    for (int i = 0; i < options_.threads; ++i) {
      threads_.emplace_back([this, i] {
        setThreadName(options_.name + "-io-" + std::to_string(i));
        ioc_.run();
      });
    }
    return Status::ok();
  }

  uint16_t port() const override { return port_; }

  void stop(std::chrono::milliseconds grace) override {
    if (stopped_.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    if (grace.count() > 0) std::this_thread::sleep_for(grace);
    ioc_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  const ServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }
  std::atomic<int>& connections() { return connections_; }

 private:
  void accept() {
    acceptor_.async_accept(
        net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
          if (ec) {
            if (ec == net::error::operation_aborted) return;
          } else if (connections_.load() >= options_.maxConnections) {
            beast::error_code ignored;
            socket.close(ignored);
            ++refusedSinceWarning_;
            const auto now = std::chrono::steady_clock::now();
            if (now - lastRefusalWarning_ >= std::chrono::seconds(10)) {
              log::warn("connections refused: too many connections",
                        log::Fields()
                            .add("component", options_.name)
                            .add("limit", options_.maxConnections)
                            .add("refused", refusedSinceWarning_));
              lastRefusalWarning_ = now;
              refusedSinceWarning_ = 0;
            }
          } else if (tls_) {
            std::make_shared<Session<TlsStream>>(std::move(socket), *tls_, *this)->start();
          } else {
            std::make_shared<Session<PlainStream>>(std::move(socket), *this)->start();
          }
          accept();
        });
  }

  ServerOptions options_;
  Handler handler_;
  net::io_context ioc_{1};
  std::optional<ssl::context> tls_;  // set when options_.tls names a certificate
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> connections_{0};
  uint16_t port_ = 0;
  // Refusal warnings, rate-limited; the accept handler runs on the acceptor's strand only.
  std::chrono::steady_clock::time_point lastRefusalWarning_{};
  uint64_t refusedSinceWarning_ = 0;
};

template <class Stream>
Session<Stream>::Session(tcp::socket&& socket, ServerImpl& server)
    : stream_(std::move(socket)), server_(server) {
  server_.connections().fetch_add(1);
}

template <class Stream>
Session<Stream>::Session(tcp::socket&& socket, ssl::context& tls, ServerImpl& server)
    : stream_(std::move(socket), tls), server_(server) {
  server_.connections().fetch_add(1);
}

template <class Stream>
Session<Stream>::~Session() {
  server_.connections().fetch_sub(1);
}

template <class Stream>
void Session<Stream>::start() {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    // The handshake counts as the first request's read: it must finish within the read timeout.
    tcpStream().expires_after(server_.options().readTimeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec) return self->shutdown();
                              self->readHeader();
                            });
  } else {
    readHeader();
  }
}

template <class Stream>
void Session<Stream>::readHeader() {
  admission_.reset();
  if (buffer_.size() == 0 && buffer_.capacity() > kIdleRoom) buffer_.shrink_to_fit();
  parser_.emplace();
  parser_->body_limit(server_.options().maxBodyBytes);
  parser_->header_limit(server_.options().maxHeaderBytes);
  // Waiting for the first byte of the next request is the idle timeout; once bytes arrive the
  // whole request must come within the read timeout.
  tcpStream().expires_after(buffer_.size() > 0 || firstRequest_ ? server_.options().readTimeout
                                                                : server_.options().idleTimeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
}

template <class Stream>
void Session<Stream>::onHeader(beast::error_code ec) {
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == net::error::connection_reset || ec == net::error::eof) {
    return shutdown();
  }
  if (ec == bhttp::error::header_limit) return fail(431, "request header fields too large");
  if (ec == bhttp::error::body_limit) {
    return fail(413, "request body exceeds the limit of " +
                         std::to_string(server_.options().maxBodyBytes) + " bytes");
  }
  if (ec) return fail(400, "malformed HTTP request");
  const auto& req = parser_->get();
  version_ = req.version();
  keepAlive_ = req.keep_alive();
  if (const auto len = parser_->content_length(); len && *len > server_.options().maxBodyBytes) {
    return fail(413, "request body of " + std::to_string(*len) + " bytes exceeds the limit of " +
                         std::to_string(server_.options().maxBodyBytes) + " bytes");
  }
  if (const Admit& admit = server_.options().admit) {
    const auto method = req.method_string();
    const auto target = req.target();
    const auto type = req[bhttp::field::content_type];
    RequestHead head{std::string_view(method.data(), method.size()),
                     std::string_view(target.data(), target.size()),
                     std::string_view(type.data(), type.size()), std::nullopt};
    if (const auto len = parser_->content_length()) head.contentLength = *len;
    AdmitResult admitted = admit(head);
    if (auto* refusal = std::get_if<Response>(&admitted)) {
      // A client that sends its body at once (the OpenTelemetry SDKs do) keeps its connection
      // when the body is small: the body is read after the refusal and dropped, never held, and
      // the next request reuses the connection instead of opening another. Before any 100
      // Continue, a client that waits for one never sends its body, so nothing tells where the
      // next request would start: that connection closes, as does one with a larger or chunked
      // body.
      const auto length = parser_->content_length();
      if (keepAlive_ && length && *length <= kDiscardLimit && !parser_->chunked() &&
          !beast::iequals(req[bhttp::field::expect], "100-continue")) {
        discardLeft_ = *length;
        return write(std::move(*refusal), false);
      }
      keepAlive_ = false;
      return write(std::move(*refusal), true);
    }
    admission_ = std::move(std::get<std::unique_ptr<Admission>>(admitted));
  }
  if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
    auto cont =
        std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, version_);
    bhttp::async_write(stream_, *cont,
                       [self = shared_from_this(), cont](beast::error_code wec, size_t) {
                         if (wec) return self->shutdown();
                         self->readBody();
                       });
    return;
  }
  readBody();
}

template <class Stream>
void Session<Stream>::readBody() {
  // Beast reads into the free capacity of buffer_, 512 bytes when there is none: a 150 KB body
  // took ~300 recvmsg calls and as many trips through the reactor. Room for the body (up to
  // kReadRoom) makes it a few reads; the room is given back when the connection goes idle.
  const auto length = parser_->content_length();
  const size_t want =
      length ? static_cast<size_t>(std::min<uint64_t>(*length, kReadRoom)) : kReadRoom;
  if (buffer_.capacity() - buffer_.size() < want) buffer_.reserve(buffer_.size() + want);
  tcpStream().expires_after(server_.options().readTimeout);
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->onBody(ec); });
}

template <class Stream>
void Session<Stream>::onBody(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) {
    return fail(413, "request body exceeds the limit of " +
                         std::to_string(server_.options().maxBodyBytes) + " bytes");
  }
  if (ec == beast::error::timeout) return fail(408, "request not received in time");
  if (ec == bhttp::error::end_of_stream || ec == net::error::connection_reset ||
      ec == net::error::eof) {
    return shutdown();
  }
  if (ec) return fail(400, "malformed HTTP request");
  dispatch();
}

template <class Stream>
void Session<Stream>::dispatch() {
  auto msg = parser_->release();
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.headers.reserve(8);
  for (const auto& field : msg) {
    req.headers.emplace_back(asciiLower(field.name_string()), std::string(field.value()));
  }
  req.body = std::move(msg.body());
  {
    beast::error_code peerError;
    const auto peer = socket().remote_endpoint(peerError);
    if (!peerError) req.remoteAddress = peer.address().to_string();
  }
  req.admission = std::move(admission_);
  firstRequest_ = false;
  tcpStream().expires_never();  // the handler may take a while (an insert); no timeout meanwhile
  if (server_.options().watchClientClose) {
    gone_ = std::make_shared<std::atomic<bool>>(false);
    req.clientGoneFlag = gone_;
    watchClose();
  }
  auto self = shared_from_this();
  Respond respond = [self](Response response) {
    net::post(self->stream_.get_executor(), [self, r = std::move(response)]() mutable {
      self->write(std::move(r), !self->keepAlive_);
    });
  };
  server_.handler()(std::move(req), std::move(respond));
}

// Waits for the socket to become readable while the handler works: a readable socket with
// nothing to read means the client closed (or reset) its side. Bytes of a pipelined next request
// are left where they are (only peeked at) and end the watch.
template <class Stream>
void Session<Stream>::watchClose() {
  socket().async_wait(
      tcp::socket::wait_read, [self = shared_from_this(), gone = gone_](beast::error_code ec) {
        if (ec) return;
        char byte = 0;
        const ssize_t n = ::recv(self->socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) gone->store(true);
      });
}

template <class Stream>
void Session<Stream>::write(Response response, bool close) {
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(response.status), version_);
  res->set(bhttp::field::server, "stackhouse");
  if (!response.contentType.empty()) res->set(bhttp::field::content_type, response.contentType);
  for (auto& [k, v] : response.headers) res->set(k, v);
  res->body() = std::move(response.body);
  res->keep_alive(!close);
  res->prepare_payload();
  tcpStream().expires_after(server_.options().readTimeout);
  bhttp::async_write(stream_, *res,
                     [self = shared_from_this(), res, close](beast::error_code ec, size_t) {
                       if (ec) return self->shutdown();
                       if (close) return self->lingerClose();
                       if (self->discardLeft_ > 0) {
                         // The whole body within one read timeout, as any request's.
                         self->tcpStream().expires_after(self->server_.options().readTimeout);
                         return self->discardBody();
                       }
                       self->readHeader();
                     });
}

// The body of a request refused from its header: what came with the header is in buffer_, the
// rest is read into a scratch buffer and dropped, never past the body (the next request's bytes
// stay on the socket), before the deadline write() set (a trickle of bytes does not extend it).
template <class Stream>
void Session<Stream>::discardBody() {
  const auto buffered = static_cast<uint64_t>(buffer_.size());
  const uint64_t fromBuffer = std::min(buffered, discardLeft_);
  buffer_.consume(static_cast<size_t>(fromBuffer));
  discardLeft_ -= fromBuffer;
  if (discardLeft_ == 0) return readHeader();
  const auto want = static_cast<size_t>(std::min<uint64_t>(discardLeft_, discard_.size()));
  stream_.async_read_some(net::buffer(discard_.data(), want),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) return self->shutdown();
                            self->discardLeft_ -= n;
                            self->discardBody();
                          });
}

template <class Stream>
void Session<Stream>::lingerClose() {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    // TLS ends with close_notify both ways, which reads past what the client still sends.
    tcpStream().expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->shutdown(); });
    return;
  }
  beast::error_code ec;
  socket().shutdown(tcp::socket::shutdown_send, ec);
  tcpStream().expires_after(std::chrono::seconds(2));
  drain();
}

template <class Stream>
void Session<Stream>::drain() {
  stream_.async_read_some(net::buffer(discard_),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            self->drained_ += n;
                            if (ec || self->drained_ > (8u << 20)) return self->shutdown();
                            self->drain();
                          });
}

template <class Stream>
void Session<Stream>::fail(int status, std::string_view message) {
  keepAlive_ = false;
  write(textResponse(status, std::string(message) + "\n"), true);
}

template <class Stream>
void Session<Stream>::shutdown() {
  beast::error_code ec;
  socket().shutdown(tcp::socket::shutdown_send, ec);
  socket().close(ec);
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options, Handler handler) {
  auto server = std::make_unique<ServerImpl>(options, std::move(handler));
  STACKHOUSE_RETURN_IF_ERROR(server->listen());
  log::info("listening", log::Fields()
                             .add("component", options.name)
                             .add("endpoint", options.host + ":" + std::to_string(server->port())));
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace stackhouse::http
