// The server over TLS (ServerOptions::tls), with a self-signed certificate made by the openssl
// command for each run: a client that trusts it gets answers on a kept-alive connection; one that
// does not, one that offers only TLS 1.1 and one that speaks plain HTTP get none; files that
// cannot be read, or a key of another certificate, fail the start with the file named.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdlib>
#include <fstream>

#include "http/server.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace stackhouse::http {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

// A self-signed certificate for 127.0.0.1 and localhost, valid for a day.
class Certificate {
 public:
  explicit Certificate(const std::string& dir, const std::string& name = "server")
      : cert_(dir + "/" + name + ".crt"), key_(dir + "/" + name + ".key") {
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
        "/CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        key_ + " -out " + cert_ + " 2>/dev/null";
    ok_ = std::system(command.c_str()) == 0;
  }
  bool ok() const { return ok_; }
  const std::string& cert() const { return cert_; }
  const std::string& key() const { return key_; }

 private:
  std::string cert_, key_;
  bool ok_ = false;
};

std::unique_ptr<Server> startTls(const Certificate& c) {
  ServerOptions options;
  options.name = "tls-test";
  options.tls.certFile = c.cert();
  options.tls.keyFile = c.key();
  auto server = Server::start(options, [](Request&& req, Respond respond) {
    respond(textResponse(200, req.method + " " + std::string(req.path()) + " " + req.body));
  });
  EXPECT_TRUE(server.isOk()) << server.status().toString();
  return server.isOk() ? std::move(server.value()) : nullptr;
}

// A TLS client; `caFile` empty: trusts nothing. Answers "status body" per request, or the error.
class TlsClient {
 public:
  TlsClient(uint16_t port, const std::string& caFile, bool onlyTls11 = false)
      : ctx_(onlyTls11 ? ssl::context::tlsv11_client : ssl::context::tls_client),
        stream_(ioc_, ctx_) {
    if (!caFile.empty()) ctx_.load_verify_file(caFile);
    stream_.set_verify_mode(ssl::verify_peer);
    stream_.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    beast::error_code ec;
    beast::get_lowest_layer(stream_).connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) stream_.handshake(ssl::stream_base::client, ec);
    error_ = ec;
  }
  beast::error_code handshakeError() const { return error_; }
  std::string post(const std::string& target, const std::string& body) {
    bhttp::request<bhttp::string_body> req(bhttp::verb::post, target, 11);
    req.set(bhttp::field::host, "127.0.0.1");
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    bhttp::write(stream_, req, ec);
    if (ec) return "write: " + ec.message();
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream_, buffer_, res, ec);
    if (ec) return "read: " + ec.message();
    return std::to_string(res.result_int()) + " " + res.body();
  }

 private:
  net::io_context ioc_;
  ssl::context ctx_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  beast::error_code error_;
};

TEST(TlsServer, AnswersAClientThatTrustsItsCertificate) {
  stackhouse::testing::TempDir dir;
  Certificate cert(dir.path());
  ASSERT_TRUE(cert.ok()) << "the openssl command is needed to make a test certificate";
  auto server = startTls(cert);
  ASSERT_NE(server, nullptr);
  TlsClient client(server->port(), cert.cert());
  ASSERT_FALSE(client.handshakeError()) << client.handshakeError().message();
  EXPECT_EQ(client.post("/api/v1/x", "one"), "200 POST /api/v1/x one");
  EXPECT_EQ(client.post("/api/v1/y", "two"), "200 POST /api/v1/y two") << "kept alive";
  server->stop();
}

TEST(TlsServer, RefusesUntrustingOldAndPlainClients) {
  stackhouse::testing::TempDir dir;
  Certificate cert(dir.path());
  ASSERT_TRUE(cert.ok());
  auto server = startTls(cert);
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(TlsClient(server->port(), "").handshakeError()) << "an unknown issuer";
  EXPECT_TRUE(TlsClient(server->port(), cert.cert(), /*onlyTls11=*/true).handshakeError())
      << "TLS 1.1 and older are refused";
  // Plain HTTP on the TLS port: no HTTP answer.
  stackhouse::testing::HttpClient plain(server->port());
  EXPECT_NE(plain.get("/api/v1/x").status, 200);
  // The server still answers a good client afterwards.
  TlsClient good(server->port(), cert.cert());
  ASSERT_FALSE(good.handshakeError());
  EXPECT_EQ(good.post("/z", ""), "200 POST /z ");
}

TEST(TlsServer, StartFailsNamingAFileItCannotUse) {
  stackhouse::testing::TempDir dir;
  Certificate a(dir.path(), "a");
  Certificate b(dir.path(), "b");
  ASSERT_TRUE(a.ok() && b.ok());
  const auto startWith = [](std::string certFile, std::string keyFile) {
    ServerOptions options;
    options.tls.certFile = std::move(certFile);
    options.tls.keyFile = std::move(keyFile);
    auto server =
        Server::start(options, [](Request&&, Respond respond) { respond(textResponse(200, "")); });
    return server.isOk() ? std::string("started") : server.status().message();
  };
  std::string missing = startWith(dir.path() + "/none.crt", a.key());
  EXPECT_NE(missing.find("certificate chain"), std::string::npos) << missing;
  EXPECT_NE(missing.find("none.crt"), std::string::npos) << missing;
  std::string badKey = startWith(a.cert(), a.cert());
  EXPECT_NE(badKey.find("private key"), std::string::npos) << badKey;
  std::string mismatch = startWith(a.cert(), b.key());
  EXPECT_NE(mismatch.find("mismatch"), std::string::npos) << mismatch;
  EXPECT_NE(mismatch.find("b.key"), std::string::npos) << mismatch;
  EXPECT_NE(startWith(a.cert(), "").find("both"), std::string::npos);
  EXPECT_EQ(startWith(a.cert(), a.key()), "started");
}

}  // namespace
}  // namespace stackhouse::http
