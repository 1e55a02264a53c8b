#include "support/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace stackhouse::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

std::string HttpReply::header(std::string_view lowerName) const {
  for (const auto& [k, v] : headers) {
    if (k == lowerName) return v;
  }
  return {};
}

struct HttpClient::Impl {
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::string host;
  uint16_t port;

  bool connect() {
    stream.emplace(ioc);
    beast::error_code ec;
    stream->socket().connect(tcp::endpoint(net::ip::make_address(host), port), ec);
    if (ec) {
      stream.reset();
      return false;
    }
    buffer.clear();
    return true;
  }

  // A keep-alive request to this server, its payload not yet prepared (headers may follow).
  bhttp::request<bhttp::string_body> newRequest(bhttp::verb verb, std::string_view target,
                                                std::string_view body) const {
    bhttp::request<bhttp::string_body> req(verb, target, 11);
    req.set(bhttp::field::host, host);
    req.body() = std::string(body);
    req.keep_alive(true);
    return req;
  }

  // Reads a response, or only its header, into `parser` unless `ec` is already set; on failure
  // drops the connection.
  bool readResponse(bhttp::response_parser<bhttp::string_body>& parser, bool headerOnly,
                    beast::error_code& ec) {
    parser.body_limit(1ULL << 30);
    if (!ec && headerOnly) bhttp::read_header(*stream, buffer, parser, ec);
    if (!ec && !headerOnly) bhttp::read(*stream, buffer, parser, ec);
    if (ec) stream.reset();
    return !ec;
  }
};

HttpClient::HttpClient(uint16_t port, std::string host) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

HttpClient::~HttpClient() = default;

namespace {

HttpReply replyOf(bhttp::response<bhttp::string_body>&& res) {
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  reply.body = std::move(res.body());
  return reply;
}

}  // namespace

HttpReply HttpClient::request(std::string_view method, std::string_view target,
                              std::string_view body,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->stream && !impl_->connect()) return {};
    auto req = impl_->newRequest(bhttp::string_to_verb(method), target, body);
    for (const auto& [k, v] : headers) req.set(k, v);
    req.prepare_payload();
    beast::error_code ec;
    bhttp::write(*impl_->stream, req, ec);
    if (ec && impl_->buffer.size() == 0) {
      // The server may have answered early (413) and closed: read what it said, if anything.
      beast::error_code readEc;
      bhttp::response_parser<bhttp::string_body> early;
      bhttp::read(*impl_->stream, impl_->buffer, early, readEc);
      if (!readEc) {
        impl_->stream.reset();
        return replyOf(early.release());
      }
      impl_->stream.reset();
      continue;  // the server closed the kept-alive connection: reconnect once
    }
    bhttp::response_parser<bhttp::string_body> parser;
    ec = {};  // a failed write with an answer already buffered: read that answer
    if (!impl_->readResponse(parser, /*headerOnly=*/false, ec)) {
      if (attempt == 0 &&
          (ec == bhttp::error::end_of_stream || ec == net::error::connection_reset)) {
        continue;
      }
      return {};
    }
    auto res = parser.release();
    if (!res.keep_alive()) impl_->stream.reset();
    return replyOf(std::move(res));
  }
  return {};
}

HttpReply HttpClient::postExpectingContinue(std::string_view target, std::string_view contentType,
                                            std::string_view body) {
  if (!impl_->stream && !impl_->connect()) return {};
  auto req = impl_->newRequest(bhttp::verb::post, target, body);
  req.set(bhttp::field::content_type, contentType);
  req.set(bhttp::field::expect, "100-continue");
  req.prepare_payload();
  bhttp::request_serializer<bhttp::string_body> serializer(req);
  beast::error_code ec;
  bhttp::write_header(*impl_->stream, serializer, ec);
  bhttp::response_parser<bhttp::string_body> first;
  if (!impl_->readResponse(first, /*headerOnly=*/true, ec)) return {};
  if (first.get().result() != bhttp::status::continue_) {
    // Answered before the body: read the answer; the unsent body leaves the connection unusable.
    bhttp::read(*impl_->stream, impl_->buffer, first, ec);
    impl_->stream.reset();
    if (ec) return {};
    return replyOf(first.release());
  }
  bhttp::write(*impl_->stream, serializer, ec);
  bhttp::response_parser<bhttp::string_body> parser;
  if (!impl_->readResponse(parser, /*headerOnly=*/false, ec)) return {};
  auto res = parser.release();
  const bool keepAlive = res.keep_alive();
  HttpReply reply = replyOf(std::move(res));
  if (!keepAlive) impl_->stream.reset();
  return reply;
}

}  // namespace stackhouse::testing
