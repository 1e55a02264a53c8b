// A mutation fuzzer over the SQL surface, with the real engine: queries from the hostile and
// analyst tables are cut, spliced and salted with dangerous tokens, and each runs through
// runUserQuery. Whatever the engine answers, nothing outside the data directory may be opened
// (a canary file watched with inotify), no file named in an OUTFILE token may appear, and no
// outbound connection may reach the listener the url()/remote() tokens point at.
//
// Bounded: STACKHOUSE_QUERY_FUZZ_SECONDS (default 20) of mutations, a fixed seed per run logged
// so that a failure can be replayed with STACKHOUSE_QUERY_FUZZ_SEED.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "query/sql_api.h"
#include "support/temp_dir.h"

namespace stackhouse::query {
namespace {

// Counts connections to a loopback port that nothing legitimate talks to.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 64);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0) {
          const int c = ::accept(fd_, nullptr, nullptr);
          if (c >= 0) {
            ++accepted_;
            ::close(c);
          }
        }
      }
    });
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

TEST(QueryFuzz, NothingOutsideTheDataDirectoryIsTouched) {
  stackhouse::testing::TempDir dir;
  auto opened = store::ChdbStore::open({dir.path() + "/db", 72 * 3600});
  ASSERT_TRUE(opened.isOk()) << opened.status().toString();
  store::ChdbStore& store = *opened.value();

  stackhouse::testing::TempDir outside;
  const std::string canary = outside.path() + "/canary-secret";
  std::ofstream(canary) << "canary\n";
  const int inotify = ::inotify_init1(IN_NONBLOCK);
  ASSERT_GE(inotify, 0);
  ASSERT_GE(::inotify_add_watch(inotify, canary.c_str(), IN_OPEN | IN_ACCESS), 0);
  const std::string outfile = outside.path() + "/written.txt";
  Listener listener;
  const std::string target = "http://127.0.0.1:" + std::to_string(listener.port()) + "/x";

  const std::vector<std::string> seeds = {
      "SELECT ServiceName, count() FROM otel.otel_logs GROUP BY ServiceName",
      "SELECT LogAttributes['k'] FROM otel.otel_logs WHERE Body ILIKE '%x%' LIMIT 5",
      "WITH a AS (SELECT 1 AS x) SELECT * FROM a",
      "SELECT 1 UNION ALL SELECT 2",
      "DESCRIBE TABLE otel.otel_logs",
      "SELECT arrayMap(x -> x + 1, [1, 2])",
      "SELECT file('" + canary + "')",
      "SELECT * FROM file('" + canary + "', 'LineAsString')",
      "SELECT 1 INTO OUTFILE '" + outfile + "'",
      "DESCRIBE TABLE url('" + target + "', 'TSV')",
      "SELECT * FROM remote('127.0.0.1:" + std::to_string(listener.port()) + "', system.one)",
  };
  const std::vector<std::string> tokens = {"file('" + canary + "')",
                                           "file",
                                           "(",
                                           ")",
                                           "'",
                                           "\"",
                                           "`",
                                           ";",
                                           "/*",
                                           "*/",
                                           "--",
                                           "#!",
                                           "$$",
                                           "\u00a0",
                                           "\u200b",
                                           "\ufeff",
                                           "\v",
                                           "\n",
                                           ",",
                                           " INTO OUTFILE '" + outfile + "' ",
                                           " FORMAT TSV ",
                                           " SETTINGS readonly = 0 ",
                                           "system.",
                                           "_local.",
                                           "url('" + target + "')",
                                           "numbers(10)",
                                           " UNION ALL SELECT ",
                                           "EXPLAIN ",
                                           "DESCRIBE ",
                                           "\\",
                                           "'" + canary + "'",
                                           "`" + canary + "`",
                                           " IN ",
                                           "KILL QUERY WHERE 1",
                                           "USE system",
                                           "{p:String}"};

  const char* seedEnv = std::getenv("STACKHOUSE_QUERY_FUZZ_SEED");
  const uint64_t seed = seedEnv != nullptr ? std::strtoull(seedEnv, nullptr, 10)
                                           : static_cast<uint64_t>(std::random_device{}());
  const char* secondsEnv = std::getenv("STACKHOUSE_QUERY_FUZZ_SECONDS");
  const int seconds = secondsEnv != nullptr ? std::atoi(secondsEnv) : 20;
  std::printf("query fuzz: seed %llu, %d s\n", static_cast<unsigned long long>(seed), seconds);
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  uint64_t runs = 0, ok = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string q = seeds[pick(seeds.size())];
    const int edits = 1 + static_cast<int>(pick(4));
    for (int e = 0; e < edits; ++e) {
      const size_t at = q.empty() ? 0 : pick(q.size() + 1);
      switch (pick(4)) {
        case 0: q.insert(at, tokens[pick(tokens.size())]); break;
        case 1:
          if (!q.empty()) q.erase(at, pick(8));
          break;
        case 2: q.insert(at, seeds[pick(seeds.size())]); break;
        default:
          for (size_t i = at; i < q.size() && i < at + 6; ++i)
            q[i] = static_cast<char>(q[i] ^ 0x20);
      }
    }
    const SqlApiReply r = runSql(store, q, {{"p", "v"}});
    ++runs;
    if (r.httpStatus == 200) ++ok;
    char buf[4096];
    const bool touched = ::read(inotify, buf, sizeof(buf)) > 0;
    ASSERT_FALSE(touched) << "the canary was opened by: " << q;
    ASSERT_FALSE(std::filesystem::exists(outfile)) << "a file was written by: " << q;
    ASSERT_EQ(listener.accepted(), 0) << "an outbound connection was made by: " << q;
  }
  ::close(inotify);
  std::printf("query fuzz: %llu queries, %llu answered 200\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(ok));
  EXPECT_GT(runs, 100u);
  // The engine's own files stay under the data directory: the working directory gained nothing.
  EXPECT_FALSE(std::filesystem::exists("x.txt"));
}

}  // namespace
}  // namespace stackhouse::query
