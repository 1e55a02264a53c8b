// The remote query executor (store/clickhouse_http_executor.h) against the ClickHouse stand-in,
// which runs every statement in the embedded engine, and the query side running user queries on
// it: parsed and checked on the embedded engine, run on the remote.
//
// The stand-in and the embedded store share one engine (one per process). The store's tables are
// in `otel`; the "remote" telemetry is in the database `remote`, whose otel_logs holds a row the
// embedded `otel.otel_logs` does not: an answer holding it came from the remote.
#include "store/clickhouse_http_executor.h"

#include <gtest/gtest.h>

#include <future>

#include "query/query_service.h"
#include "query/user_query.h"
#include "sinks/clickhouse/clickhouse_standin.h"
#include "store/chdb_store.h"
#include "support/temp_dir.h"

namespace stackhouse::store {
namespace {

class RemoteQueryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new stackhouse::testing::TempDir();
    auto store = ChdbStore::open({dir_->path() + "/db", 0});
    ASSERT_TRUE(store.isOk()) << store.status().toString();
    store_ = store.value().release();
    auto standin = stackhouse::testing::ClickhouseStandin::start(
        {dir_->path() + "/db", dir_->path(), "reader", "s3cret", 0});
    ASSERT_TRUE(standin.isOk()) << standin.status().toString();
    standin_ = standin.value().release();
    for (const char* sql : {
             "CREATE DATABASE remote",
             "CREATE TABLE remote.otel_logs AS otel.otel_logs",
             "INSERT INTO remote.otel_logs (Timestamp, ServiceName, Body) VALUES "
             "(now64(9), 'checkout', 'paid on the remote'), (now64(9), 'cart', 'added')",
         }) {
      auto r = standin_->query(sql);
      ASSERT_TRUE(r.isOk()) << r.status().toString() << "\n" << sql;
    }
  }

  static ClickhouseHttpOptions options() {
    ClickhouseHttpOptions o;
    o.endpoint = standin_->url();
    o.database = "remote";
    o.username = "reader";
    o.password = "s3cret";
    o.bounds.maxExecutionSeconds = 7;
    o.bounds.maxMemoryBytes = 123'456'789;
    return o;
  }
  static std::unique_ptr<ClickhouseHttpExecutor> executor(ClickhouseHttpOptions o = options()) {
    auto e = ClickhouseHttpExecutor::create(std::move(o));
    EXPECT_TRUE(e.isOk()) << e.status().toString();
    return std::move(e.value());
  }
  static std::unique_ptr<ChdbConnection> parser() {
    auto c = store_->openQueryConnection({});
    EXPECT_TRUE(c.isOk()) << c.status().toString();
    return std::move(c.value());
  }
  static std::string lastExecuted() {
    auto all = standin_->executed();
    return all.empty() ? "" : all.back();
  }

  static stackhouse::testing::TempDir* dir_;
  static ChdbStore* store_;
  static stackhouse::testing::ClickhouseStandin* standin_;
};
stackhouse::testing::TempDir* RemoteQueryTest::dir_ = nullptr;
ChdbStore* RemoteQueryTest::store_ = nullptr;
stackhouse::testing::ClickhouseStandin* RemoteQueryTest::standin_ = nullptr;

TEST_F(RemoteQueryTest, RunsInTheDatabaseWithParametersBoundsAndReadonly) {
  auto e = executor();
  auto out = e->run("SELECT Body FROM otel_logs WHERE ServiceName = {svc:String}", "TSV",
                    {{"svc", "checkout"}}, "stackhouse-query-1");
  ASSERT_TRUE(out.isOk()) << out.status().toString();
  EXPECT_EQ(out->data, "paid on the remote\n");
  // As the stand-in ran it: the parameter bound server-side (the placeholder is still in the
  // text), the bounds and readonly as settings.
  const std::string ran = lastExecuted();
  EXPECT_NE(ran.find("{svc:String}"), std::string::npos) << ran;
  EXPECT_EQ(ran.find("checkout"), std::string::npos) << ran;
  for (const char* setting :
       {"max_execution_time = '7'", "max_memory_usage = '123456789'", "readonly = '1'",
        "result_overflow_mode = 'throw'", "timeout_overflow_mode = 'throw'",
        "output_format_json_quote_64bit_integers = '1'",
        "cancel_http_readonly_queries_on_client_close = '1'"}) {
    EXPECT_NE(ran.find(setting), std::string::npos) << setting << " in " << ran;
  }
}

TEST_F(RemoteQueryTest, AnswersInTheFormatAskedFor) {
  auto out = executor()->run("SELECT count() AS n FROM otel_logs", "JSONCompact", {}, "");
  ASSERT_TRUE(out.isOk()) << out.status().toString();
  EXPECT_NE(out->data.find("\"meta\""), std::string::npos) << out->data;
  EXPECT_NE(out->data.find("[\"2\"]"), std::string::npos) << out->data;  // 64-bit quoted
}

TEST_F(RemoteQueryTest, ReadonlyRefusesWrites) {
  auto e = executor();
  auto out = e->run("INSERT INTO remote.otel_logs (Body) VALUES ('x')", "TSV", {}, "");
  ASSERT_FALSE(out.isOk());
  EXPECT_EQ(out.status().code(), StatusCode::kPermissionDenied) << out.status().toString();
  EXPECT_EQ(e->lastError().code, 164);
  EXPECT_EQ(e->lastError().name, "READONLY");
  auto n = standin_->query("SELECT count() FROM remote.otel_logs");
  ASSERT_TRUE(n.isOk());
  EXPECT_EQ(n.value(), "2\n");
}

TEST_F(RemoteQueryTest, EngineErrorsCarryTheirCodeAndName) {
  auto e = executor();
  auto out = e->run("SELECT * FROM no_such_table", "TSV", {}, "");
  ASSERT_FALSE(out.isOk());
  EXPECT_EQ(e->lastError().code, 60);
  EXPECT_EQ(e->lastError().name, "UNKNOWN_TABLE");
  EXPECT_NE(e->lastError().message.find("no_such_table"), std::string::npos);
  // The next statement on the same executor is unaffected.
  auto ok = e->run("SELECT 1", "TSV", {}, "");
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok->data, "1\n");
}

TEST_F(RemoteQueryTest, WrongPasswordAndNoServerAreNamed) {
  ClickhouseHttpOptions o = options();
  o.password = "wrong";
  auto e = executor(o);
  auto out = e->run("SELECT 1", "TSV", {}, "");
  ASSERT_FALSE(out.isOk());
  EXPECT_EQ(e->lastError().code, 516);

  o = options();
  o.endpoint = "http://127.0.0.1:1";
  auto down = executor(o);
  out = down->run("SELECT 1", "TSV", {}, "");
  ASSERT_FALSE(out.isOk());
  EXPECT_EQ(out.status().code(), StatusCode::kUnavailable) << out.status().toString();
  EXPECT_EQ(ClickhouseHttpExecutor::create({.endpoint = "ftp://x"}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RemoteQueryTest, AnswersPastTheLimitAreRefused) {
  ClickhouseHttpOptions o = options();
  o.maxResponseBytes = 1000;
  auto out = executor(o)->run("SELECT repeat('x', 5000)", "TSV", {}, "");
  ASSERT_FALSE(out.isOk());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
}

TEST_F(RemoteQueryTest, TheControlExecutorRunsTheKillStatement) {
  ClickhouseHttpOptions o = options();
  o.control = true;
  auto control = executor(o);
  const std::string kill = control->killStatement("stackhouse-query-9");
  EXPECT_EQ(kill, "KILL QUERY WHERE query_id = 'stackhouse-query-9' ASYNC");
  auto out = control->run(kill, "TSV", {}, "");
  ASSERT_TRUE(out.isOk()) << out.status().toString();
  EXPECT_EQ(lastExecuted(), kill);
}

TEST_F(RemoteQueryTest, UserQueriesAreCheckedLocallyAndRunRemotely) {
  auto local = parser();
  auto remote = executor();
  query::UserQueryOptions uo;
  uo.tag = "stackhouse-query-5";
  auto reply = query::runUserQuery(*local, *remote,
                                   "select Body from otel_logs where ServiceName = {svc:String}",
                                   {{"svc", "checkout"}}, uo);
  ASSERT_EQ(reply.httpStatus, 200) << reply.json;
  EXPECT_NE(reply.json.find("paid on the remote"), std::string::npos) << reply.json;
  // What reached the remote is the engine's formatting of the text.
  EXPECT_EQ(lastExecuted().rfind("SELECT Body FROM otel_logs WHERE ServiceName = {svc:String}", 0),
            0u)
      << lastExecuted();
  // The same text on the embedded engine alone reads the embedded store, which has no such row.
  auto localOnly = query::runUserQuery(*local, "SELECT count() FROM otel_logs", {}, {});
  ASSERT_EQ(localOnly.httpStatus, 200) << localOnly.json;
  EXPECT_NE(localOnly.json.find("[[\"0\"]]"), std::string::npos) << localOnly.json;
}

TEST_F(RemoteQueryTest, RefusedAndMalformedQueriesNeverReachTheRemote) {
  auto local = parser();
  auto remote = executor();
  const uint64_t before = standin_->statementsRun();
  for (const char* sql : {"SELECT * FROM file('/etc/passwd')", "SELECT * FROM system.users",
                          "INSERT INTO otel_logs (Body) VALUES ('x')", "SELECT 1; SELECT 2",
                          "SELEC 1", "SELECT * FROM url('http://127.0.0.1:1/')"}) {
    auto reply = query::runUserQuery(*local, *remote, sql, {}, {});
    EXPECT_GE(reply.httpStatus, 400) << sql << " -> " << reply.json;
  }
  EXPECT_EQ(standin_->statementsRun(), before);
}

TEST_F(RemoteQueryTest, RemoteErrorsAreTheApisErrors) {
  auto local = parser();
  auto remote = executor();
  auto reply = query::runUserQuery(*local, *remote, "SELECT * FROM no_such_table", {}, {});
  EXPECT_EQ(reply.httpStatus, 400) << reply.json;
  EXPECT_NE(reply.json.find("\"code\":60"), std::string::npos) << reply.json;
  EXPECT_NE(reply.json.find("UNKNOWN_TABLE"), std::string::npos) << reply.json;
}

TEST_F(RemoteQueryTest, TheQueryServiceRunsOnTheRemoteExecutors) {
  int made = 0, controls = 0;
  query::QueryServiceOptions qo;
  qo.maxConcurrent = 2;
  auto service = query::QueryService::start(
      *store_, qo, [&](bool control) -> Result<std::unique_ptr<SqlExecutor>> {
        ++made;
        if (control) ++controls;
        ClickhouseHttpOptions o = options();
        o.control = control;
        auto e = ClickhouseHttpExecutor::create(std::move(o));
        if (!e) return e.status();
        return std::unique_ptr<SqlExecutor>(std::move(e.value()));
      });
  ASSERT_TRUE(service.isOk()) << service.status().toString();
  EXPECT_EQ(made, 3);
  EXPECT_EQ(controls, 1);
  std::promise<query::SqlApiReply> done;
  service.value()->submit({"SELECT Body FROM otel_logs ORDER BY Body", {}}, {},
                          [&](query::SqlApiReply r) { done.set_value(std::move(r)); });
  const query::SqlApiReply reply = done.get_future().get();
  ASSERT_EQ(reply.httpStatus, 200) << reply.json;
  EXPECT_NE(reply.json.find("[[\"added\"],[\"paid on the remote\"]]"), std::string::npos)
      << reply.json;
  service.value()->stop();
}

TEST_F(RemoteQueryTest, AQueryWhoseClientLeftIsKilledOnTheRemoteByItsQueryId) {
  query::QueryServiceOptions qo;
  qo.maxConcurrent = 1;
  auto service = query::QueryService::start(
      *store_, qo, [&](bool control) -> Result<std::unique_ptr<SqlExecutor>> {
        ClickhouseHttpOptions o = options();
        o.control = control;
        o.bounds.maxExecutionSeconds = 2;
        auto e = ClickhouseHttpExecutor::create(std::move(o));
        if (!e) return e.status();
        return std::unique_ptr<SqlExecutor>(std::move(e.value()));
      });
  ASSERT_TRUE(service.isOk()) << service.status().toString();
  const size_t ranBefore = standin_->executed().size();
  const auto start = std::chrono::steady_clock::now();
  std::promise<query::SqlApiReply> done;
  service.value()->submit(
      {"SELECT count() FROM (SELECT arrayJoin(range(100000)) AS a) AS x, "
       "(SELECT arrayJoin(range(100000)) AS b) AS y WHERE (a * b) % 7 = 3",
       {}},
      [start] { return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(300); },
      [&](query::SqlApiReply r) { done.set_value(std::move(r)); });
  const query::SqlApiReply reply = done.get_future().get();
  EXPECT_EQ(reply.httpStatus, 499) << reply.json;
  service.value()->stop();
  // The watch thread sent the kill to the remote, by the id the query ran under. (The stand-in
  // runs one statement at a time, so there the kill runs once the query has ended.)
  bool killed = false;
  const std::vector<std::string> ran = standin_->executed();
  for (size_t i = ranBefore; i < ran.size(); ++i) {
    const std::string& sql = ran[i];
    killed = killed || (sql.starts_with("KILL QUERY WHERE query_id = 'stackhouse-query-") &&
                        sql.ends_with("' ASYNC"));
  }
  EXPECT_TRUE(killed);
}

}  // namespace
}  // namespace stackhouse::store
