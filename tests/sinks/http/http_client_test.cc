#include "sinks/http/http_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "http/server.h"
#include "support/temp_dir.h"

namespace stackhouse::sinks::http {
namespace {

namespace srv = stackhouse::http;
using namespace std::chrono_literals;

// A local server: /echo answers "<method> <body size> <x-probe header>" with an X-Answer
// header; /big answers 2 MiB; /hang never answers until the test ends; /auth wants
// user:secret as basic auth.
class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    srv::ServerOptions options;
    options.name = "test";
    auto server = srv::Server::start(options, [this](srv::Request&& req, srv::Respond respond) {
      std::string_view path = req.path();
      if (path == "/echo") {
        srv::Response r =
            srv::textResponse(200, req.method + " " + std::to_string(req.body.size()) + " " +
                                       std::string(req.header("x-probe")));
        r.headers.emplace_back("X-Answer", "  yes ");
        r.headers.emplace_back("Retry-After", "7");
        respond(std::move(r));
      } else if (path == "/big") {
        respond(srv::textResponse(200, std::string(2 << 20, 'b')));
      } else if (path == "/hang") {
        std::lock_guard lock(mutex_);
        hanging_.push_back(std::move(respond));
      } else if (path == "/auth") {
        // "user:secret" in base64.
        bool good = req.header("authorization") == "Basic dXNlcjpzZWNyZXQ=";
        respond(srv::textResponse(good ? 200 : 401, good ? "in" : "out"));
      } else {
        respond(srv::textResponse(404, "no"));
      }
    });
    ASSERT_TRUE(server.isOk()) << server.status().toString();
    server_ = std::move(server.value());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    {
      std::lock_guard lock(mutex_);
      for (auto& respond : hanging_) respond(srv::textResponse(200, "late"));
      hanging_.clear();
    }
    server_->stop(100ms);
  }
  std::unique_ptr<Client> client(ClientOptions options = {}) {
    auto c = Client::create(options);
    EXPECT_TRUE(c.isOk()) << c.status().toString();
    return std::move(c.value());
  }

  std::unique_ptr<srv::Server> server_;
  std::string base_;
  std::mutex mutex_;
  std::vector<srv::Respond> hanging_;
};

TEST_F(ClientTest, SendsMethodHeadersAndBodyAndReadsTheAnswer) {
  auto c = client();
  Request get;
  get.method = "GET";
  get.url = base_ + "/echo?x=1";
  get.headers = {{"X-Probe", "p1"}};
  Response r = c->send(get);
  ASSERT_TRUE(r.answered()) << r.transportMessage;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET 0 p1");
  EXPECT_EQ(r.header("x-answer"), "yes");
  EXPECT_EQ(parseRetryAfter(r.header("retry-after")), std::chrono::seconds(7));
  EXPECT_TRUE(r.newConnection);

  Request post;
  post.url = base_ + "/echo";
  post.body = "hello";
  r = c->send(post);
  EXPECT_EQ(r.body, "POST 5 ");
  EXPECT_FALSE(r.newConnection) << "the kept-alive connection is reused";

  Request put;
  put.method = "PUT";
  put.url = base_ + "/echo";
  r = c->send(put);
  EXPECT_EQ(r.body, "PUT 0 ") << "a method with an empty body";

  post.url = base_ + "/missing";
  r = c->send(post);
  EXPECT_TRUE(r.answered());
  EXPECT_EQ(r.status, 404) << "an HTTP error status is an answer, not a transport error";
}

TEST_F(ClientTest, SendsALargeBodyFromTheCallersBuffer) {
  auto c = client();
  std::string body(40 << 20, 'x');
  Request post;
  post.url = base_ + "/echo";
  post.body = body;
  Response r = c->send(post);
  ASSERT_TRUE(r.answered()) << r.transportMessage;
  EXPECT_EQ(r.body, "POST " + std::to_string(body.size()) + " ");
}

TEST_F(ClientTest, BoundsTheResponseBodyAndKeepsTheConnection) {
  auto c = client();
  Request get;
  get.method = "GET";
  get.url = base_ + "/big";
  get.maxResponseBodyBytes = 1000;
  Response r = c->send(get);
  ASSERT_TRUE(r.answered()) << r.transportMessage;
  EXPECT_EQ(r.body.size(), 1000u);
  EXPECT_TRUE(r.bodyTruncated);
  get.url = base_ + "/echo";
  r = c->send(get);
  EXPECT_EQ(r.body, "GET 0 ");
  EXPECT_FALSE(r.bodyTruncated);
  EXPECT_FALSE(r.newConnection);
}

TEST_F(ClientTest, BasicAuth) {
  auto c = client();
  Request get;
  get.method = "GET";
  get.url = base_ + "/auth";
  EXPECT_EQ(c->send(get).status, 401);
  get.basicAuth = BasicAuth{"user", "secret"};
  EXPECT_EQ(c->send(get).status, 200);
  get.basicAuth.reset();
  EXPECT_EQ(c->send(get).status, 401) << "no option of one request leaks into the next";
}

TEST_F(ClientTest, TimesOut) {
  auto c = client();
  Request post;
  post.url = base_ + "/hang";
  post.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  Response r = c->send(post);
  EXPECT_EQ(r.transportError, TransportError::kTimeout) << r.transportMessage;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.transportMessage.empty());
}

TEST_F(ClientTest, CancelEndsTheRequestInFlight) {
  auto c = client();
  Request post;
  post.url = base_ + "/hang";
  post.timeout = 20s;
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    c->cancel();
  });
  auto start = std::chrono::steady_clock::now();
  Response r = c->send(post);
  canceller.join();
  EXPECT_EQ(r.transportError, TransportError::kCancelled) << r.transportMessage;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  c->resetCancel();
  post.url = base_ + "/echo";
  EXPECT_EQ(c->send(post).status, 200);
}

TEST_F(ClientTest, ClassifiesTransportFailures) {
  auto c = client();
  Request post;

  // A port bound but not listening (held for the test, so no one else can take it): refused.
  int held = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(held, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(held, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(held, reinterpret_cast<sockaddr*>(&addr), &len);
  post.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/echo";
  post.timeout = 10s;
  Response r = c->send(post);
  close(held);
  EXPECT_EQ(r.transportError, TransportError::kConnectFailed) << r.transportMessage;
  EXPECT_EQ(r.transportMessage.find("/echo"), std::string::npos) << "no URL path in messages";

  post.url = "http://stackhouse-test.invalid/echo";
  post.timeout = 10s;
  r = c->send(post);
  EXPECT_EQ(r.transportError, TransportError::kDns) << r.transportMessage;

  post.url = "ftp://127.0.0.1/x";
  EXPECT_EQ(c->send(post).transportError, TransportError::kBadUrl);
  post.url = "not a url";
  EXPECT_EQ(c->send(post).transportError, TransportError::kBadUrl);
}

// A listener that accepts each connection, reads a little and closes it without answering.
TEST(ClientTransport, ConnectionClosedWithoutAnAnswerIsConnectionLost) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread closer([fd] {
    int conn = accept(fd, nullptr, nullptr);
    if (conn >= 0) {
      char buf[256];
      (void)read(conn, buf, sizeof(buf));
      close(conn);
    }
  });
  auto c = Client::create({});
  ASSERT_TRUE(c.isOk());
  Request post;
  post.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  post.body = "x";
  Response r = c.value()->send(post);
  closer.join();
  close(fd);
  EXPECT_EQ(r.transportError, TransportError::kConnectionLost) << r.transportMessage;
}

TEST(ClientCreate, RefusesAnUnreadableCaFile) {
  ClientOptions options;
  options.caFile = "/nonexistent/ca.pem";
  auto c = Client::create(options);
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
}

// Runs a command line through the shell; true when it exits 0.
bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

uint16_t freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A real TLS server: `openssl s_server -www` with a self-signed certificate made now.
TEST(ClientTls, VerifiesAgainstTheConfiguredCa) {
  if (!run("command -v openssl >/dev/null")) GTEST_SKIP() << "openssl is not installed";
  stackhouse::testing::TempDir dir;
  std::string cert = dir.path() + "/cert.pem";
  std::string key = dir.path() + "/key.pem";
  ASSERT_TRUE(
      run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
          "-keyout " +
          key + " -out " + cert +
          " -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
          ">/dev/null 2>&1"));
  uint16_t port = freePort();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string accept = std::to_string(port);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept.c_str(), "-cert",
           cert.c_str(), "-key", key.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";
  // Wait for it to listen.
  ClientOptions insecure;
  insecure.verifyPeer = false;
  auto probe = Client::create(insecure);
  ASSERT_TRUE(probe.isOk());
  Request get;
  get.method = "GET";
  get.url = url;
  get.timeout = 2s;
  Response r;
  for (int i = 0; i < 100; ++i) {
    r = probe.value()->send(get);
    if (r.answered()) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(r.answered()) << r.transportMessage;
  EXPECT_EQ(r.status, 200) << "verification off: any certificate";

  auto systemCa = Client::create({});
  ASSERT_TRUE(systemCa.isOk());
  r = systemCa.value()->send(get);
  EXPECT_EQ(r.transportError, TransportError::kTls) << r.transportMessage;

  ClientOptions withCa;
  withCa.caFile = cert;
  auto trusted = Client::create(withCa);
  ASSERT_TRUE(trusted.isOk());
  r = trusted.value()->send(get);
  EXPECT_TRUE(r.answered()) << r.transportMessage;
  EXPECT_EQ(r.status, 200);

  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

TEST(ClientHelpers, RetryAfterAndUrlEncode) {
  EXPECT_EQ(parseRetryAfter("30"), std::chrono::seconds(30));
  EXPECT_EQ(parseRetryAfter(" 0 "), std::chrono::seconds(0));
  EXPECT_EQ(parseRetryAfter(""), std::nullopt);
  EXPECT_EQ(parseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(urlEncode("INSERT INTO otel.t FORMAT Native"),
            "INSERT%20INTO%20otel.t%20FORMAT%20Native");
  EXPECT_EQ(urlEncode("a-b_c.d~e&=?/%"), "a-b_c.d~e%26%3D%3F%2F%25");
}

}  // namespace
}  // namespace stackhouse::sinks::http
