#include "http/server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/http_client.h"

namespace stackhouse::http {
namespace {

using stackhouse::testing::HttpClient;

std::unique_ptr<Server> startEcho(ServerOptions options = {}) {
  options.name = "test";
  auto server = Server::start(options, [](Request&& req, Respond respond) {
    if (req.path() == "/later") {
      // Answer from another thread, as the receiver does after an insert.
      std::thread([respond = std::move(respond)] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        respond(textResponse(202, "later"));
      }).detach();
      return;
    }
    Response r = textResponse(200, req.method + " " + std::string(req.path()) + " " +
                                       std::to_string(req.body.size()) + " " +
                                       std::string(req.header("content-type")));
    r.headers.emplace_back("X-Test", "1");
    respond(std::move(r));
  });
  EXPECT_TRUE(server.isOk()) << server.status().toString();
  return std::move(server.value());
}

int connectTo(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

// Writes `bytes` on a new connection (and, with `endWrites`, ends the writing side), then reads
// until the server closes: every answer the server gave, as raw text.
std::string exchangeRaw(uint16_t port, const std::string& bytes, bool endWrites) {
  const int fd = connectTo(port);
  EXPECT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  if (endWrites) shutdown(fd, SHUT_WR);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  close(fd);
  return got;
}

TEST(HttpServer, AnswersOnAKeptAliveConnection) {
  auto server = startEcho();
  ASSERT_NE(server->port(), 0);
  HttpClient client(server->port());
  for (int i = 0; i < 3; ++i) {
    auto r = client.post("/v1/logs?x=1", "application/json", std::string(100 + i, 'a'));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST /v1/logs " + std::to_string(100 + i) + " application/json");
    EXPECT_EQ(r.header("x-test"), "1");
  }
  auto later = client.get("/later");
  EXPECT_EQ(later.status, 202);
  EXPECT_EQ(later.body, "later");
  server->stop();
  server->stop();  // idempotent
}

TEST(HttpServer, RefusesBodiesOverTheLimit) {
  ServerOptions options;
  options.maxBodyBytes = 1000;
  auto server = startEcho(options);
  HttpClient client(server->port());
  auto r = client.post("/x", "text/plain", std::string(2000, 'a'));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("exceeds the limit of 1000 bytes"), std::string::npos) << r.body;
}

TEST(HttpServer, RefusesHugeHeaders) {
  ServerOptions options;
  options.maxHeaderBytes = 1024;
  auto server = startEcho(options);
  HttpClient client(server->port());
  auto r = client.request("GET", "/x", {}, {{"X-Big", std::string(4096, 'b')}});
  EXPECT_EQ(r.status, 431);
}

TEST(HttpServer, ChunkedBodies) {
  auto server = startEcho();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req =
      "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Content-Type: text/plain\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  close(fd);
  EXPECT_NE(got.find("200 OK"), std::string::npos) << got;
  EXPECT_NE(got.find("POST /chunked 11 text/plain"), std::string::npos) << got;
}

TEST(HttpServer, ClosesAClientThatSendsHeadersThenNothing) {
  ServerOptions options;
  options.readTimeout = std::chrono::seconds(1);
  options.idleTimeout = std::chrono::seconds(1);
  auto server = startEcho(options);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc";
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  const auto start = std::chrono::steady_clock::now();
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  close(fd);
  // The connection is closed once the read timeout passes (a slow client gets no more time).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(got.find("200"), std::string::npos) << got;
}

// A new connection that never sends a byte holds its slot for the read timeout, not for the
// (longer) idle timeout of a kept-alive connection between requests.
TEST(HttpServer, ClosesANewConnectionThatSendsNothingAfterTheReadTimeout) {
  ServerOptions options;
  options.readTimeout = std::chrono::seconds(1);
  options.idleTimeout = std::chrono::seconds(120);
  auto server = startEcho(options);
  const int fd = connectTo(server->port());
  const auto start = std::chrono::steady_clock::now();
  char buf[64];
  EXPECT_LE(read(fd, buf, sizeof buf), 0);  // closed by the server
  close(fd);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// With watchClientClose, a handler still working sees the client go away.
TEST(HttpServer, TellsAHandlerThatItsClientWentAway) {
  ServerOptions options;
  options.name = "test";
  options.watchClientClose = true;
  std::atomic<bool> sawGone{false};
  std::atomic<bool> done{false};
  auto server = Server::start(options, [&](Request&& req, Respond respond) {
    std::thread([&, req = std::move(req), respond = std::move(respond)]() mutable {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!req.clientGone() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      sawGone = req.clientGone();
      respond(textResponse(200, "late"));
      done = true;
    }).detach();
  });
  ASSERT_TRUE(server.isOk());
  const int fd = connectTo(server.value()->port());
  const std::string req = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  close(fd);
  const auto start = std::chrono::steady_clock::now();
  while (!done && std::chrono::steady_clock::now() - start < std::chrono::seconds(15)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(sawGone);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// The admission hook sees the header and refuses before the body is read: the answer comes
// although the client never sends the body it announced.
TEST(HttpServer, AdmitRefusesFromTheHeaderAndHandsOverWhatItAdmitted) {
  struct Tag : Admission {
    explicit Tag(uint64_t n) : length(n) {}
    uint64_t length;
  };
  ServerOptions options;
  options.name = "test";
  std::atomic<int> admitted{0};
  options.admit = [&admitted](const RequestHead& head) -> AdmitResult {
    if (head.contentLength.value_or(0) > 1000) {
      Response r = textResponse(503, "too big for now");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    ++admitted;
    return std::unique_ptr<Admission>(std::make_unique<Tag>(head.contentLength.value_or(0)));
  };
  auto server = Server::start(options, [](Request&& req, Respond respond) {
    const auto* tag = dynamic_cast<const Tag*>(req.admission.get());
    respond(textResponse(200, tag == nullptr ? "none" : std::to_string(tag->length)));
  });
  ASSERT_TRUE(server.isOk());
  HttpClient client(server.value()->port());
  auto ok = client.post("/x", "text/plain", std::string(10, 'a'));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "10");
  EXPECT_EQ(admitted.load(), 1);
  // With Expect: 100-continue the body follows only an admission.
  auto continued = client.postExpectingContinue("/x", "text/plain", std::string(20, 'a'));
  EXPECT_EQ(continued.status, 200);
  EXPECT_EQ(continued.body, "20");
  auto refusedEarly = client.postExpectingContinue("/x", "text/plain", std::string(2000, 'a'));
  EXPECT_EQ(refusedEarly.status, 503);
  EXPECT_EQ(refusedEarly.header("retry-after"), "1");
  EXPECT_EQ(admitted.load(), 2);

  const std::string got = exchangeRaw(
      server.value()->port(), "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc",
      /*endWrites=*/false);
  EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got;
  EXPECT_NE(got.find("Retry-After: 1"), std::string::npos) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  EXPECT_EQ(admitted.load(), 2);
}

// A request refused from its header whose client sent the body at once (no Expect) keeps the
// connection: the body is dropped and the next request, pipelined right behind it, is answered.
// A larger body, or a client that waits for 100 Continue, still closes it.
TEST(HttpServer, ARefusedRequestWithItsBodyKeepsTheConnection) {
  ServerOptions options;
  options.name = "test";
  std::atomic<int> handled{0};
  options.admit = [](const RequestHead& head) -> AdmitResult {
    if (head.contentLength.value_or(0) > 1000) {
      Response r = textResponse(503, "too big for now");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    return std::unique_ptr<Admission>();
  };
  auto server = Server::start(options, [&handled](Request&& req, Respond respond) {
    ++handled;
    respond(textResponse(200, "got " + std::to_string(req.body.size())));
  });
  ASSERT_TRUE(server.isOk());
  auto exchange = [&](const std::string& bytes) {
    return exchangeRaw(server.value()->port(), bytes, /*endWrites=*/true);
  };
  // The refused body holds what looks like a request: it must be dropped, not parsed.
  std::string body = "GET /inside-the-body HTTP/1.1\r\nHost: x\r\n\r\n";
  body.resize(5000, 'a');
  const std::string refused =
      "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
      body;
  const std::string next = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  const std::string got = exchange(refused + next);
  EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got;
  EXPECT_EQ(got.find("Connection: close"), std::string::npos) << got;
  const size_t second = got.find("HTTP/1.1 200");
  ASSERT_NE(second, std::string::npos) << got;
  EXPECT_NE(got.find("got 3", second), std::string::npos) << got;
  EXPECT_EQ(got.find("HTTP/1.1", second + 1), std::string::npos) << got;  // nothing else answered
  EXPECT_EQ(handled.load(), 1);

  // A body over the discard limit: the refusal closes the connection; the next request is not read.
  std::string large(300 * 1024, 'b');
  const std::string got2 =
      exchange("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(large.size()) +
               "\r\n\r\n" + large + next);
  EXPECT_EQ(got2.rfind("HTTP/1.1 503", 0), 0u) << got2.substr(0, 200);
  EXPECT_NE(got2.find("Connection: close"), std::string::npos) << got2.substr(0, 200);
  EXPECT_EQ(got2.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(handled.load(), 1);

  // Expect: 100-continue and refused: the body never comes, so the connection closes.
  const std::string got3 = exchange(
      "POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_EQ(got3.rfind("HTTP/1.1 503", 0), 0u) << got3;
  EXPECT_NE(got3.find("Connection: close"), std::string::npos) << got3;
  EXPECT_EQ(handled.load(), 1);
}

TEST(HttpServer, StopWithoutRequests) {
  auto server = startEcho();
  server->stop();
}

}  // namespace
}  // namespace stackhouse::http
