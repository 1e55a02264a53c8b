// The remote ClickHouse sink against the stand-in (clickhouse_standin.h), which runs every
// statement in the embedded engine. The stand-in and an embedded store share one engine (one per
// process), so the rows the sink stores (database `remote`) are compared with the rows the
// embedded store stores for the same batches (database `otel`), table by table.
#include "sinks/clickhouse/clickhouse_http_sink.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "otlp/decode.h"
#include "sinks/clickhouse/chdb_sink.h"
#include "sinks/clickhouse/clickhouse_standin.h"
#include "sinks/clickhouse/native_encoder.h"
#include "sinks/clickhouse/remote_factory.h"
#include "store/chdb_store.h"
#include "store/schema.h"
#include "support/log_rows.h"
#include "support/temp_dir.h"

namespace stackhouse::sinks::clickhouse {
namespace {

using namespace std::chrono_literals;
using pipeline::Attempt;
using telemetry::LogBatch;
using telemetry::MetricBatch;
using telemetry::SpanBatch;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

const std::string kFixtures = OTLP_FIXTURES_DIR;

class RemoteSinkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (store_ != nullptr) return;  // one engine per process: the suites share it
    dir_ = new stackhouse::testing::TempDir();
    // No retention: the fixtures' times are from 2023 and must not expire during the test.
    auto store = store::ChdbStore::open({dir_->path() + "/db", 0});
    ASSERT_TRUE(store.isOk()) << store.status().toString();
    store_ = store.value().release();
    auto standin = stackhouse::testing::ClickhouseStandin::start(
        {dir_->path() + "/db", dir_->path(), "ingest", "s3cret", 0});
    ASSERT_TRUE(standin.isOk()) << standin.status().toString();
    standin_ = standin.value().release();
  }

  void SetUp() override {
    ASSERT_TRUE(standin_->restart().isOk());
    standin_->failNext(0, 0, 0, "", "");
    standin_->delayNext(0, 0ms);
  }

  static HttpSinkOptions options(std::string database = "remote") {
    HttpSinkOptions o;
    o.endpoint = standin_->url();
    o.database = std::move(database);
    o.username = "ingest";
    o.password = "s3cret";
    o.ttlSeconds = 0;
    o.timeout = 10s;
    return o;
  }
  static std::unique_ptr<ClickhouseHttpSink> sink(HttpSinkOptions o = options()) {
    auto s = ClickhouseHttpSink::create(std::move(o));
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    return std::move(s.value());
  }
  static std::string q(const std::string& sql) {
    auto r = standin_->query(sql);
    EXPECT_TRUE(r.isOk()) << r.status().toString() << "\n" << sql;
    return r.isOk() ? r.value() : "";
  }
  // Every row of a table, in a fixed order, as text.
  static std::string rowsOf(const std::string& db, std::string_view table) {
    return q("SELECT * FROM " + db + "." + std::string(table) + " ORDER BY ALL");
  }
  static uint64_t count(const std::string& db, std::string_view table) {
    return std::stoull(q("SELECT count() FROM " + db + "." + std::string(table)));
  }
  static LogBatch logs(int n, int64_t base = 1'700'000'000'000'000'000) {
    LogBatch b;
    for (int i = 0; i < n; ++i) {
      stackhouse::testing::appendLogRow(
          b, {.timestamp = base + i * 1'000'003,
              .body = "order " + std::to_string(i) + " paid\n\n(two blank lines)",
              .service = i % 2 ? "checkout" : "cart",
              .attributes = {{"i", std::to_string(i)}, {"k", std::string(1, '\0') + "nul"}}});
    }
    return b;
  }

  static stackhouse::testing::TempDir* dir_;
  static store::ChdbStore* store_;
  static stackhouse::testing::ClickhouseStandin* standin_;
};
stackhouse::testing::TempDir* RemoteSinkTest::dir_ = nullptr;
store::ChdbStore* RemoteSinkTest::store_ = nullptr;
stackhouse::testing::ClickhouseStandin* RemoteSinkTest::standin_ = nullptr;

TEST_F(RemoteSinkTest, CreatesTheEmbeddedStoresTables) {
  auto s = sink(options("schema_check"));
  ASSERT_TRUE(s->ensureSchema().isOk()) << s->lastError().engine.message;
  // The same tables, columns and types as the embedded store's `otel` database, but for the
  // embedded store's own rollups (store/metric_rollup.h).
  const std::string columns =
      "SELECT table, name, type, position FROM system.columns WHERE database = '{db}' "
      "AND table NOT LIKE '%\\_5m' ORDER BY table, position";
  auto forDb = [&](const std::string& db) {
    std::string sql = columns;
    sql.replace(sql.find("{db}"), 4, db);
    return q(sql);
  };
  EXPECT_EQ(forDb("schema_check"), forDb("otel"));
  EXPECT_EQ(q("SELECT name, engine FROM system.tables WHERE database = 'schema_check' ORDER BY "
              "name"),
            q("SELECT name, engine FROM system.tables WHERE database = 'otel' AND name NOT LIKE "
              "'%\\_5m' ORDER BY name"));
  ASSERT_TRUE(s->ensureSchema().isOk()) << "idempotent";
}

TEST_F(RemoteSinkTest, StoresWhatTheEmbeddedStoreStores) {
  LogBatch logBatch;
  SpanBatch spanBatch;
  MetricBatch metricBatch;
  otlp::DecodeStats stats;
  ASSERT_TRUE(otlp::decodeLogs(bytesOf(readFile(kFixtures + "/logs_request.json")),
                               otlp::Encoding::kJson, logBatch, stats)
                  .isOk());
  ASSERT_TRUE(otlp::decodeSpans(bytesOf(readFile(kFixtures + "/traces_request.json")),
                                otlp::Encoding::kJson, spanBatch, stats)
                  .isOk());
  ASSERT_TRUE(otlp::decodeMetrics(bytesOf(readFile(kFixtures + "/metrics_request.json")),
                                  otlp::Encoding::kJson, metricBatch, stats)
                  .isOk());
  LogBatch more = logs(300);
  const LogBatch* logParts[] = {&logBatch, &more};
  const SpanBatch* spanParts[] = {&spanBatch};
  const MetricBatch* metricParts[] = {&metricBatch};

  ChdbSink embedded(*store_);
  ASSERT_TRUE(embedded.writeLogs(logParts, "eq-logs", Attempt::kFirst).isOk());
  ASSERT_TRUE(embedded.writeSpans(spanParts, "eq-spans", Attempt::kFirst).isOk());
  ASSERT_TRUE(embedded.writeMetrics(metricParts, "eq-metrics", Attempt::kFirst).isOk());

  for (http::Compression c :
       {http::Compression::kZstd, http::Compression::kGzip, http::Compression::kNone}) {
    const std::string db =
        "remote_" + std::string(c == http::Compression::kNone ? "plain" : http::compressionName(c));
    HttpSinkOptions o = options(db);
    o.compression = c;
    auto remote = sink(o);
    Status st = remote->writeLogs(logParts, "eq-logs", Attempt::kFirst);
    ASSERT_TRUE(st.isOk()) << st.toString();
    st = remote->writeSpans(spanParts, "eq-spans", Attempt::kFirst);
    ASSERT_TRUE(st.isOk()) << st.toString();
    st = remote->writeMetrics(metricParts, "eq-metrics", Attempt::kFirst);
    ASSERT_TRUE(st.isOk()) << st.toString();
    for (const store::TableSpec& t : store::schemaTables(0)) {
      if (t.view) continue;
      EXPECT_GT(count("otel", t.name), 0u) << t.name << ": the fixtures fill every table";
      EXPECT_EQ(rowsOf(db, t.name), rowsOf("otel", t.name)) << db << "." << t.name;
    }
  }
}

TEST_F(RemoteSinkTest, TheSameTokenStoresOnce) {
  auto s = sink(options("dedup"));
  LogBatch b = logs(50);
  const LogBatch* parts[] = {&b};
  ASSERT_TRUE(s->writeLogs(parts, "group-1", Attempt::kFirst).isOk());
  ASSERT_TRUE(s->writeLogs(parts, "group-1", Attempt::kFirst).isOk());
  EXPECT_EQ(count("dedup", "otel_logs"), 50u);
  ASSERT_TRUE(s->writeLogs(parts, "group-2", Attempt::kFirst).isOk());
  EXPECT_EQ(count("dedup", "otel_logs"), 100u) << "another group, the same rows: stored";
}

// The answer is lost (the client times out while the server stores the rows): the retry stores
// nothing twice.
TEST_F(RemoteSinkTest, ARetryAfterALostAnswerStoresEachRowOnce) {
  HttpSinkOptions o = options("lost");
  o.timeout = 1s;
  auto s = sink(o);
  ASSERT_TRUE(s->ensureSchema().isOk());
  LogBatch b = logs(200);
  const LogBatch* parts[] = {&b};
  standin_->delayNext(1, 2500ms);
  Status first = s->writeLogs(parts, "lost-1", Attempt::kFirst);
  EXPECT_EQ(first.code(), StatusCode::kUnavailable) << first.toString();
  EXPECT_EQ(s->lastError().transport, http::TransportError::kTimeout);
  EXPECT_EQ(count("lost", "otel_logs"), 200u) << "the server stored them all the same";
  Status retry = s->writeLogs(parts, "lost-1", Attempt::kRetry);
  ASSERT_TRUE(retry.isOk()) << retry.toString();
  EXPECT_EQ(count("lost", "otel_logs"), 200u);
}

// The worker's deadline for a call (pipeline/sink.h) bounds its requests below the sink's own
// timeout, and a call whose deadline has passed sends nothing.
TEST_F(RemoteSinkTest, TheCallDeadlineBoundsEachRequest) {
  HttpSinkOptions o = options("deadline");
  o.timeout = 10s;
  auto s = sink(o);
  ASSERT_TRUE(s->ensureSchema().isOk());
  LogBatch b = logs(10);
  const LogBatch* parts[] = {&b};
  standin_->delayNext(1, 3000ms);
  const auto start = std::chrono::steady_clock::now();
  s->setCallDeadline(start + 400ms);
  Status late = s->writeLogs(parts, "deadline-1", Attempt::kFirst);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(late.code(), StatusCode::kUnavailable) << late.toString();
  EXPECT_EQ(s->lastError().transport, http::TransportError::kTimeout);
  EXPECT_GE(took, 390ms);
  EXPECT_LT(took, 2500ms) << "the request waited for the sink's own 10 s timeout";
  std::this_thread::sleep_for(3000ms);  // the delayed insert finishes on the server
  const uint64_t before = standin_->statementsRun();
  s->setCallDeadline(std::chrono::steady_clock::now() - 1ms);
  Status passed = s->writeLogs(parts, "deadline-1", Attempt::kRetry);
  EXPECT_EQ(passed.code(), StatusCode::kUnavailable) << passed.toString();
  EXPECT_NE(passed.message().find("send timeout passed"), std::string::npos) << passed.message();
  EXPECT_EQ(standin_->statementsRun(), before) << "a call past its deadline sent a statement";
  s->setCallDeadline(std::chrono::steady_clock::time_point::max());
  ASSERT_TRUE(s->writeLogs(parts, "deadline-1", Attempt::kRetry).isOk());
  EXPECT_EQ(count("deadline", "otel_logs"), 10u);
}

// Part of a group is stored (under another token, as a larger group's first insert may have),
// then the group is retried: only what the table lacks is inserted, for every signal.
TEST_F(RemoteSinkTest, ARetryInsertsOnlyTheRowsTheTableLacks) {
  auto s = sink(options("partial"));
  LogBatch half = logs(40);
  LogBatch all = logs(100);
  const LogBatch* halfParts[] = {&half};
  const LogBatch* allParts[] = {&all};
  ASSERT_TRUE(s->writeLogs(halfParts, "other-token", Attempt::kFirst).isOk());
  Status st = s->writeLogs(allParts, "whole", Attempt::kRetry);
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_EQ(count("partial", "otel_logs"), 100u);
  EXPECT_EQ(q("SELECT count() FROM (SELECT Timestamp FROM partial.otel_logs GROUP BY Timestamp "
              "HAVING count() > 1)"),
            "0\n");
  st = s->writeLogs(allParts, "whole", Attempt::kIsolate);
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_EQ(count("partial", "otel_logs"), 100u) << "kIsolate compares too";

  // Spans and every metric table, stored once and then retried whole: nothing twice.
  SpanBatch spans;
  MetricBatch metrics;
  otlp::DecodeStats stats;
  ASSERT_TRUE(otlp::decodeSpans(bytesOf(readFile(kFixtures + "/traces_request.json")),
                                otlp::Encoding::kJson, spans, stats)
                  .isOk());
  ASSERT_TRUE(otlp::decodeMetrics(bytesOf(readFile(kFixtures + "/metrics_request.json")),
                                  otlp::Encoding::kJson, metrics, stats)
                  .isOk());
  const SpanBatch* spanParts[] = {&spans};
  const MetricBatch* metricParts[] = {&metrics};
  ASSERT_TRUE(s->writeSpans(spanParts, "spans", Attempt::kFirst).isOk());
  ASSERT_TRUE(s->writeMetrics(metricParts, "metrics", Attempt::kFirst).isOk());
  std::map<std::string, uint64_t> before;
  for (const store::TableSpec& t : store::schemaTables(0)) {
    if (!t.view) before[t.name] = count("partial", t.name);
  }
  st = s->writeSpans(spanParts, "spans", Attempt::kRetry);
  ASSERT_TRUE(st.isOk()) << st.toString();
  st = s->writeMetrics(metricParts, "metrics", Attempt::kRetry);
  ASSERT_TRUE(st.isOk()) << st.toString();
  for (const auto& [table, n] : before) EXPECT_EQ(count("partial", table), n) << table;
}

TEST_F(RemoteSinkTest, ClassifiesFailures) {
  auto s = sink(options("failures"));
  ASSERT_TRUE(s->ensureSchema().isOk());
  LogBatch b = logs(5);
  const LogBatch* parts[] = {&b};
  struct Case {
    int httpStatus, code;
    std::string name, message;
    StatusCode expected;
  } cases[] = {
      {500, 252, "TOO_MANY_PARTS", "Too many parts (3001) in all partitions in total",
       StatusCode::kResourceExhausted},
      {500, 241, "MEMORY_LIMIT_EXCEEDED", "Memory limit (total) exceeded",
       StatusCode::kResourceExhausted},
      {400, 53, "TYPE_MISMATCH", "Type mismatch for column Body", StatusCode::kInvalidArgument},
      {503, 0, "UNKNOWN", "Service Unavailable", StatusCode::kResourceExhausted},
      {429, 0, "UNKNOWN", "Too Many Requests", StatusCode::kResourceExhausted},
      {500, 999, "KEEPER_EXCEPTION", "Session expired", StatusCode::kUnavailable},
      {404, 60, "UNKNOWN_TABLE", "Table failures.otel_logs does not exist",
       StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    standin_->failNext(1, c.httpStatus, c.code, c.name, c.message);
    Status st = s->writeLogs(parts, "fail-" + std::to_string(c.code), Attempt::kFirst);
    EXPECT_EQ(st.code(), c.expected) << st.toString();
    EXPECT_EQ(s->lastError().httpStatus, c.httpStatus);
    EXPECT_EQ(s->lastError().engine.code, c.code);
    if (c.code != 0) {
      EXPECT_NE(st.message().find("code " + std::to_string(c.code) + " (" + c.name + ")"),
                std::string::npos)
          << st.message();
    }
    EXPECT_NE(st.message().find(c.message), std::string::npos) << st.message();
  }
  EXPECT_EQ(count("failures", "otel_logs"), 0u);

  // A real refusal of the engine: rows over more day partitions than one insert may make.
  LogBatch spread;
  for (int day = 0; day < 150; ++day) {
    stackhouse::testing::appendLogRow(
        spread,
        {.timestamp = 1'600'000'000'000'000'000 + int64_t{day} * 86'400'000'000'000, .body = "x"});
  }
  HttpSinkOptions limited = options("failures");
  limited.ttlSeconds = 72 * 3600;  // the partition limit follows the retention: 100
  auto s2 = sink(limited);
  const LogBatch* spreadParts[] = {&spread};
  Status st = s2->writeLogs(spreadParts, "spread", Attempt::kFirst);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.toString();
  EXPECT_EQ(s2->lastError().engine.code, 252);
}

TEST_F(RemoteSinkTest, WrongPasswordIsRetryableAndNamed) {
  HttpSinkOptions o = options("auth");
  o.password = "wrong";
  auto s = sink(o);
  Status st = s->ensureSchema();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s->lastError().engine.code, 516);
  EXPECT_EQ(s->lastError().httpStatus, 403);
  EXPECT_EQ(st.message().find("wrong"), std::string::npos) << "no password in messages";
}

TEST_F(RemoteSinkTest, ServerDownThenBack) {
  auto s = sink(options("outage"));
  LogBatch b = logs(10);
  const LogBatch* parts[] = {&b};
  ASSERT_TRUE(s->writeLogs(parts, "before", Attempt::kFirst).isOk());
  LogBatch later = logs(10, 1'700'000'100'000'000'000);
  const LogBatch* laterParts[] = {&later};
  standin_->stop();
  Status st = s->writeLogs(laterParts, "during", Attempt::kFirst);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.toString();
  EXPECT_EQ(s->lastError().transport, http::TransportError::kConnectFailed);
  ASSERT_TRUE(standin_->restart().isOk());
  st = s->writeLogs(laterParts, "during", Attempt::kRetry);
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_EQ(count("outage", "otel_logs"), 20u);
}

TEST_F(RemoteSinkTest, TlsToAPlainServerIsATlsFailure) {
  HttpSinkOptions o = options("tls");
  o.endpoint = "https://127.0.0.1:" + std::to_string(standin_->port());
  auto s = sink(o);
  Status st = s->ensureSchema();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s->lastError().transport, http::TransportError::kTls) << st.toString();
  o.caFile = dir_->path() + "/missing-ca.pem";
  EXPECT_FALSE(ClickhouseHttpSink::create(o).isOk());
}

// A real TLS connection: socat terminates TLS in front of the stand-in with a certificate made
// now by openssl; the sink trusts it through caFile, and refuses it without.
TEST_F(RemoteSinkTest, OverTlsWithTheConfiguredCa) {
  if (std::system("command -v socat >/dev/null && command -v openssl >/dev/null") != 0) {
    GTEST_SKIP() << "socat or openssl is not installed (scripts/setup.sh installs both)";
  }
  const std::string cert = dir_->path() + "/tls-cert.pem";
  const std::string key = dir_->path() + "/tls-key.pem";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                         "-nodes -keyout " +
                         key + " -out " + cert +
                         " -days 1 -subj /CN=localhost -addext "
                         "subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1")
                            .c_str()),
            0);
  // A port of our own for socat: bound, read, released just before socat takes it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const uint16_t port = ntohs(addr.sin_port);
  close(fd);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string listen = "OPENSSL-LISTEN:" + std::to_string(port) +
                               ",bind=127.0.0.1,reuseaddr,fork,verify=0,cert=" + cert +
                               ",key=" + key;
    const std::string target = "TCP:127.0.0.1:" + std::to_string(standin_->port());
    execlp("socat", "socat", listen.c_str(), target.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  HttpSinkOptions o = options("tls_ok");
  o.endpoint = "https://127.0.0.1:" + std::to_string(port);
  o.caFile = cert;
  auto s = sink(o);
  LogBatch b = logs(20);
  const LogBatch* parts[] = {&b};
  Status st;
  for (int i = 0; i < 100; ++i) {  // until socat listens
    st = s->writeLogs(parts, "tls", Attempt::kFirst);
    if (st.isOk() || s->lastError().transport != http::TransportError::kConnectFailed) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(st.isOk()) << st.toString();
  EXPECT_EQ(count("tls_ok", "otel_logs"), 20u);
  HttpSinkOptions untrusted = o;
  untrusted.caFile.clear();  // the system's CAs do not know this certificate
  auto refused = sink(untrusted);
  st = refused->writeLogs(parts, "tls-2", Attempt::kFirst);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused->lastError().transport, http::TransportError::kTls) << st.toString();
  HttpSinkOptions insecure = untrusted;
  insecure.verifyPeer = false;
  st = sink(insecure)->writeLogs(parts, "tls-3", Attempt::kFirst);
  EXPECT_TRUE(st.isOk()) << st.toString();
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

TEST_F(RemoteSinkTest, FactoryReadsTheConfigAndTheSecret) {
  config::Config c;
  c.clickstack.secretsDir = dir_->path() + "/secrets";
  std::filesystem::create_directories(c.clickstack.secretsDir + "/ch");
  std::ofstream(c.clickstack.secretsDir + "/ch/password") << "s3cret\n";
  auto& ch = c.otelConfig.exporters.clickhouse;
  EXPECT_FALSE(createRemoteClickhouseSink(c, nullptr).isOk()) << "no endpoint: embedded";
  ch.endpoint = standin_->url();
  ch.database = "factory";
  ch.username = "ingest";
  ch.existingSecret = "ch";
  ch.secretKey = "password";
  ch.ttl = 0s;
  MetricsRegistry metrics;
  auto s = createRemoteClickhouseSink(c, &metrics);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  LogBatch b = logs(3);
  const LogBatch* parts[] = {&b};
  ASSERT_TRUE(s.value()->writeLogs(parts, "factory", Attempt::kFirst).isOk());
  EXPECT_EQ(count("factory", "otel_logs"), 3u);
  EXPECT_NE(metrics.render().find("stackhouse_sink_clickhouse_remote_rows_total 3"),
            std::string::npos);
  ch.secretKey = "missing";
  auto missing = createRemoteClickhouseSink(c, nullptr);
  ASSERT_FALSE(missing.isOk());
  EXPECT_NE(missing.status().message().find("otelConfig.exporters.clickhouse.existingSecret"),
            std::string::npos);
}

}  // namespace
}  // namespace stackhouse::sinks::clickhouse

namespace stackhouse::sinks::clickhouse {
namespace {

// The stand-in itself is strict about ClickHouse's HTTP interface.
class StandinTest : public RemoteSinkTest {
 protected:
  http::Response send(std::string method, std::string target, std::string body = {},
                      http::Headers headers = {{"X-ClickHouse-User", "ingest"},
                                               {"X-ClickHouse-Key", "s3cret"}}) {
    auto c = http::Client::create({});
    EXPECT_TRUE(c.isOk());
    http::Request r;
    r.method = std::move(method);
    r.url = standin_->url() + target;
    r.headers = std::move(headers);
    r.body = body;
    return c.value()->send(r);
  }
};

TEST_F(StandinTest, SpeaksClickHouseHttpStrictly) {
  auto r = send("GET", "/ping", "", {});
  EXPECT_EQ(r.body, "Ok.\n");
  r = send("GET", "/?query=SELECT%2040%20%2B%202");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "42\n");
  r = send("GET", "/?query=SELECT%20%7Bx%3AUInt8%7D%20%2B%201&param_x=41");
  EXPECT_EQ(r.body, "42\n") << "query parameters";
  // Basic auth, or the user/password parameters: one way only.
  r = send("GET", "/?query=SELECT%201", "", {{"Authorization", "Basic aW5nZXN0OnMzY3JldA=="}});
  EXPECT_EQ(r.body, "1\n");
  r = send("GET", "/?query=SELECT%201&user=ingest&password=s3cret", "", {});
  EXPECT_EQ(r.body, "1\n");
  r = send("GET", "/?query=SELECT%201", "",
           {{"X-ClickHouse-User", "ingest"}, {"Authorization", "Basic aW5nZXN0OnMzY3JldA=="}});
  EXPECT_EQ(r.header("x-clickhouse-exception-code"), "194");
  r = send("GET", "/?query=SELECT%201", "", {});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.header("x-clickhouse-exception-code"), "516");
  EXPECT_TRUE(r.body.starts_with("Code: 516. DB::Exception: default: Authentication failed"))
      << r.body;
  // GET is read-only; settings must exist; ClickHouse's block compression is not spoken.
  r = send("GET", "/?query=CREATE%20DATABASE%20nope");
  EXPECT_EQ(r.header("x-clickhouse-exception-code"), "164");
  r = send("POST", "/?query=SELECT%201&no_such_setting=1");
  EXPECT_EQ(r.header("x-clickhouse-exception-code"), "115");
  r = send("POST", "/?query=SELECT%201&max_threads=1");
  EXPECT_EQ(r.body, "1\n") << "a real setting is applied";
  r = send("POST", "/?query=SELECT%201&compress=1");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("compress=1"), std::string::npos);
  // The query in the body, compressed; an unknown encoding refused.
  std::string packed;
  ASSERT_TRUE(http::compress(http::Compression::kGzip, "SELECT 7", packed).isOk());
  r = send("POST", "/", packed,
           {{"X-ClickHouse-User", "ingest"},
            {"X-ClickHouse-Key", "s3cret"},
            {"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.body, "7\n");
  r = send("POST", "/", "SELECT 7",
           {{"X-ClickHouse-User", "ingest"},
            {"X-ClickHouse-Key", "s3cret"},
            {"Content-Encoding", "br"}});
  EXPECT_NE(r.body.find("Unknown Content-Encoding"), std::string::npos) << r.body;
  // Inline rows after the query in the body (never inlined into the engine's SQL), a qualified
  // target required, and the engine's own errors passed through with their code.
  ASSERT_EQ(send("POST", "/", "CREATE DATABASE IF NOT EXISTS strict").status, 200);
  ASSERT_EQ(send("POST", "/",
                 "CREATE TABLE strict.t (a UInt8, s String) ENGINE = MergeTree "
                 "ORDER BY a")
                .status,
            200);
  r = send("POST", "/", "INSERT INTO strict.t FORMAT TSV\n1\tx\n2\ty\n");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(send("GET", "/?query=SELECT%20count()%20FROM%20strict.t").body, "2\n");
  r = send("POST", "/?query=INSERT%20INTO%20t%20FORMAT%20TSV", "3\tz\n");
  EXPECT_EQ(r.header("x-clickhouse-exception-code"), "60");
  r = send("POST", "/?query=SELEC%201");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("x-clickhouse-exception-code"), "62");
  EXPECT_TRUE(r.body.starts_with("Code: 62. DB::Exception: Syntax error")) << r.body;
  EXPECT_EQ(send("GET", "/nothing-here").status, 404);
}

}  // namespace
}  // namespace stackhouse::sinks::clickhouse
