// Every way user text was seen to reach the host or other clients through the SQL surface, and
// its families, against the real engine: each must be refused (403 naming why, or the engine's
// own 400 for what it cannot parse or resolve), never answered 200. And the ordinary analyst
// queries that must keep working.
#include <gtest/gtest.h>

#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "query/metrics_api.h"
#include "query/search_api.h"
#include "query/sql_api.h"
#include "query/sql_guard.h"
#include "query/user_query.h"
#include "support/temp_dir.h"

namespace stackhouse::query {
namespace {

class HostileQueryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new stackhouse::testing::TempDir();
    store::StoreOptions options{dir_->path() + "/db", 72 * 3600};
    auto s = store::ChdbStore::open(options);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = s.value().release();
  }
  static stackhouse::testing::TempDir* dir_;
  static store::ChdbStore* store_;
};
stackhouse::testing::TempDir* HostileQueryTest::dir_ = nullptr;
store::ChdbStore* HostileQueryTest::store_ = nullptr;

// The spaces the engine's lexer skips between tokens (and that a lexer of ours once did not).
const std::vector<std::string> kSpaces = {
    "\u00a0", "\u2003", "\u3000", "\u200b", "\ufeff", "\u0085", "\v", "\f", "\t", "\r\n", "\u2028"};

struct Hostile {
  std::string sql;
  std::string why;  // a fragment of the refusal; empty: any 400/403 (the engine's own error)
};

std::vector<Hostile> hostileQueries() {
  std::vector<Hostile> q;
  for (const std::string& sp : kSpaces) {
    q.push_back({"SELECT file" + sp + "('/etc/passwd')", ""});
    q.push_back(
        {"SELECT 'x' INTO" + sp + "OUTFILE 'stackhouse-outfile.txt' TRUNCATE FORMAT RawBLOB", ""});
    q.push_back({"DESCRIBE TABLE url" + sp + "('http://127.0.0.1:1/x', 'TSVWithNames')", ""});
    q.push_back({"SELECT 1;" + sp + "KILL QUERY WHERE 1", ""});
  }
  const std::vector<Hostile> more = {
      // comments, heredocs, quotes, backticks, case
      {"SELECT * FROM otel.otel_logs /* /* */ ' */ INTO OUTFILE 'x.txt' -- '", "INTO OUTFILE"},
      {"SELECT $$'$$, file('/etc/passwd')", "function file"},
      {"SELECT $$ /* $$, file('/etc/passwd') -- */", "function file"},
      {"SELECT 1 /* unterminated", ""},
      {"SELECT 1 #! comment\n, file('/etc/passwd')", "function file"},
      {"SELECT 1 -- comment\n, file('/etc/passwd')", "function file"},
      {"SELECT `file`('/etc/passwd')", "function file"},
      {"SELECT FiLe('/etc/passwd')", "function FiLe"},
      {"SELECT FILE('/etc/passwd')", "function FILE"},
      {"SELECT 'it''s', file('/etc/passwd')", "function file"},
      {"SELECT 'a\\'', file('/etc/passwd')", "function file"},
      {"SeLeCt 1 InTo OuTfIlE 'x.txt'", "INTO OUTFILE"},
      {"SELECT 1 INTO OUTFILE 'x.txt' AND STDOUT", "INTO OUTFILE"},
      {"SELECT 1 INTO OUTFILE 'x.txt' APPEND", "INTO OUTFILE"},
      {"SELECT 1 INTO OUTFILE 'x.gz' COMPRESSION 'gzip'", "INTO OUTFILE"},
      {"SELECT * FROM (SELECT 1 INTO OUTFILE 'x.txt')", ""},
      {"SELECT 1 UNION ALL SELECT 2 INTO OUTFILE 'x.txt'", "INTO OUTFILE"},
      {"WITH a AS (SELECT 1) SELECT * FROM a INTO OUTFILE 'x.txt'", "INTO OUTFILE"},
      // second statements
      {"SELECT 1; USE system", ""},
      {"SELECT 1 /* ; */ ; DROP TABLE otel.otel_logs", ""},
      {"SELECT 1;SET readonly = 0", ""},
      {"SELECT ';'; KILL QUERY WHERE query ILIKE '%INSERT%'", ""},
      // FORMAT and SETTINGS
      {"SELECT 1 FORMAT TSV", "FORMAT"},
      {"SELECT 1 FORMAT JSONEachRow SETTINGS max_threads = 1", "setting"},
      {"SELECT 1 SETTINGS readonly = 0", "setting"},
      {"SELECT 1 SETTINGS max_execution_time = 0", "setting"},
      {"SELECT * FROM (SELECT 1 SETTINGS max_memory_usage = 0)", "SETTINGS"},
      {"DESCRIBE TABLE otel.otel_logs SETTINGS describe_include_subcolumns = 1", "setting"},
      // table functions wherever a table goes
      {"SELECT * FROM file('/etc/passwd', 'LineAsString')", "table functions"},
      {"SELECT * FROM otel.otel_logs JOIN url('http://127.0.0.1:1/x', 'TSV') USING (Body)",
       "table functions"},
      {"SELECT 1 WHERE 'root' IN (SELECT * FROM file('/etc/passwd', 'LineAsString'))",
       "table functions"},
      {"WITH x AS (SELECT * FROM remote('127.0.0.1:9000', system.one)) SELECT * FROM x",
       "table functions"},
      {"SELECT * FROM executable('ls', 'TSV', 'x String')", "table functions"},
      {"SELECT * FROM s3('http://127.0.0.1:1/b/k', 'CSV')", "table functions"},
      {"SELECT * FROM mysql('127.0.0.1:3306', 'd', 't', 'u', 'p')", "table functions"},
      {"SELECT * FROM postgresql('127.0.0.1:5432', 'd', 't', 'u', 'p')", "table functions"},
      {"SELECT * FROM numbers(10000000000000)", "table functions"},
      {"SELECT * FROM generateRandom('a String')", "table functions"},
      {"SELECT * FROM view(SELECT 1)", "table functions"},
      {"SELECT * FROM merge('system', '.*')", "table functions"},
      {"SELECT * FROM cluster('default', system.one)", "table functions"},
      {"SELECT * FROM otel.otel_logs ARRAY JOIN (SELECT groupArray(line) FROM file('/etc/passwd', "
       "'LineAsString')) AS l",
       "table functions"},
      // DESCRIBE and EXPLAIN over table functions
      {"DESCRIBE TABLE file('/etc/passwd', 'LineAsString')", "table functions"},
      {"DESC url('http://127.0.0.1:1/x', 'TSVWithNames')", "table functions"},
      {"DESCRIBE TABLE remote('127.0.0.1:22', system.one)", "table functions"},
      {"EXPLAIN SELECT * FROM url('http://127.0.0.1:1/x', 'TSV')", "table functions"},
      {"EXPLAIN PIPELINE SELECT * FROM s3('http://127.0.0.1:1/b/k')", "table functions"},
      {"EXPLAIN AST SELECT file('/etc/passwd')", "function file"},
      {"EXPLAIN SELECT 1 INTO OUTFILE 'x.txt'", ""},
      // system tables and databases
      {"SELECT query FROM system.processes", "only the telemetry tables"},
      {"SELECT query FROM system.query_log", "only the telemetry tables"},
      {"SELECT data_paths FROM system.tables", "only the telemetry tables"},
      {"SELECT path FROM system.disks", "only the telemetry tables"},
      {"SELECT * FROM system.settings", "only the telemetry tables"},
      {"SELECT * FROM INFORMATION_SCHEMA.tables", "only the telemetry tables"},
      {"SELECT * FROM otel.`../../etc/passwd`", ""},
      {"SELECT * FROM `/etc/passwd`", ""},
      {"SELECT * FROM _local.`/etc/passwd`", "only the telemetry tables"},
      {"SELECT 1 IN system.one", "only the telemetry tables"},
      {"SELECT 1 WHERE 1 NOT IN system.numbers", "only the telemetry tables"},
      {"SELECT * FROM (SELECT * FROM system.processes) AS p", "only the telemetry tables"},
      {"SELECT count() FROM otel.otel_logs JOIN system.query_log AS q ON 1",
       "only the telemetry tables"},
      // other statements
      {"SHOW TABLES", "only SELECT"},
      {"SHOW CREATE TABLE system.processes", "not one of them"},
      {"SHOW CREATE TABLE otel.otel_logs INTO OUTFILE 'x.txt'", "INTO OUTFILE"},
      {"SHOW CREATE TABLE otel.otel_logs FORMAT TSV", "FORMAT"},
      {"SHOW CREATE DATABASE system", "only SELECT"},
      {"SELECT * FROM stackhouse.secrets", "only the telemetry tables"},
      {"SHOW PROCESSLIST", ""},
      {"USE system", ""},
      {"SET readonly = 0", ""},
      {"KILL QUERY WHERE query ILIKE '%INSERT%'", ""},
      {"SYSTEM SHUTDOWN", ""},
      {"INSERT INTO otel.otel_logs (Body) VALUES ('x')", ""},
      {"ALTER TABLE otel.otel_logs MODIFY TTL toDateTime(Timestamp)", ""},
      {"DROP TABLE otel.otel_logs", ""},
      {"CREATE TABLE otel.x (a UInt8) ENGINE = Memory", ""},
      {"TRUNCATE TABLE otel.otel_logs", ""},
      {"OPTIMIZE TABLE otel.otel_logs FINAL", ""},
      {"EXISTS TABLE otel.otel_logs", ""},
      {"CHECK TABLE otel.otel_logs", ""},
      {"SELECT 1 FROM otel.otel_logs; SELECT 2", ""},
      // functions
      {"SELECT dictGet('d', 'a', 1)", "function dictGet"},
      {"SELECT joinGet('otel.otel_logs', 'Body', 1)", "function joinGet"},
      {"SELECT sleep(3)", "function sleep"},
      {"SELECT sleepEachRow(1) FROM otel.otel_logs", "function sleepEachRow"},
      {"SELECT hostName()", "function hostName"},
      {"SELECT getSetting('readonly')", "function getSetting"},
      {"SELECT currentUser(), queryID()", "function currentUser"},
      {"SELECT filesystemAvailable()", "function filesystemAvailable"},
      {"SELECT logTrace('forged log line')", "function logTrace"},
      {"SELECT catboostEvaluate('/etc/passwd', 1)", "function catboostEvaluate"},
      {"SELECT demangle('x'), addressToSymbol(1)", "function demangle"},
      {"SELECT aiGenerate('tell me the secrets')", "function aiGenerate"},
      {"SELECT showCertificate()", "function showCertificate"},
      {"SELECT arrayMap(x -> file(x), ['/etc/passwd'])", "function file"},
      {"SELECT * APPLY(toString) FROM otel.otel_logs", "APPLY"},
      {"SELECT (SELECT file('/etc/passwd'))", "function file"},
      {"SELECT 1 WHERE EXISTS (SELECT file('/etc/passwd'))", "function file"},
      {"SELECT row_number() OVER (ORDER BY file('/etc/passwd'))", "function file"},
      // size
      {std::string(kMaxUserQueryBytes + 1, ' '), "limit"},
      {"SELECT " + std::string(1 << 20, ','), "limit"},
  };
  q.insert(q.end(), more.begin(), more.end());
  return q;
}

TEST_F(HostileQueryTest, EveryHostileQueryIsRefused) {
  const auto queries = hostileQueries();
  ASSERT_GE(queries.size(), 80u);
  std::printf("%zu hostile queries\n", queries.size());
  for (const Hostile& h : queries) {
    const SqlApiReply r = runSql(*store_, h.sql, {});
    const std::string shown = h.sql.size() > 120 ? h.sql.substr(0, 120) + "..." : h.sql;
    EXPECT_TRUE(r.httpStatus == 400 || r.httpStatus == 403 || r.httpStatus == 413)
        << shown << " -> " << r.httpStatus << " " << r.json.substr(0, 300);
    EXPECT_NE(r.json.find("\"error\""), std::string::npos) << shown;
    if (!h.why.empty()) {
      EXPECT_NE(r.json.find(h.why), std::string::npos) << shown << " -> " << r.json.substr(0, 300);
    }
  }
}

const char* const kAnalystQueries[] = {
    "SELECT ServiceName, count() FROM otel.otel_logs GROUP BY ServiceName ORDER BY count() DESC "
    "LIMIT 10",
    "SELECT toStartOfMinute(Timestamp) AS t, countIf(SeverityText = 'ERROR') FROM otel.otel_logs "
    "WHERE Timestamp > now() - INTERVAL 1 HOUR GROUP BY t ORDER BY t",
    "SELECT LogAttributes['http.method'] AS m, count() FROM otel.otel_logs GROUP BY m",
    "SELECT mapKeys(LogAttributes), JSONExtractString(Body, 'user') FROM otel.otel_logs LIMIT 5",
    "SELECT quantile(0.99)(Duration), quantiles(0.5, 0.9)(Duration) FROM otel.otel_traces",
    "SELECT SpanName, avg(Duration) OVER (PARTITION BY ServiceName) FROM otel.otel_traces LIMIT 10",
    "SELECT row_number() OVER (ORDER BY Timestamp) AS rn, lagInFrame(Duration) OVER (ORDER BY "
    "Timestamp) FROM otel.otel_traces LIMIT 5",
    "WITH slow AS (SELECT TraceId FROM otel.otel_traces WHERE Duration > 1000000) SELECT count() "
    "FROM otel.otel_logs WHERE TraceId IN (SELECT TraceId FROM slow)",
    "SELECT l.Body, t.SpanName FROM otel.otel_logs AS l INNER JOIN otel.otel_traces AS t ON "
    "l.TraceId = t.TraceId LIMIT 10",
    "SELECT TraceId, min(Start) FROM otel.otel_traces_trace_id_ts GROUP BY TraceId LIMIT 1",
    "SELECT arrayJoin(`Events.Name`) AS e, count() FROM otel.otel_traces GROUP BY e",
    "SELECT k, count() FROM otel.otel_logs ARRAY JOIN mapKeys(LogAttributes) AS k GROUP BY k",
    "SELECT MetricName, sum(Value) FROM otel.otel_metrics_sum GROUP BY MetricName",
    "SELECT * EXCEPT (Body) FROM otel.otel_logs LIMIT 1",
    "SELECT COLUMNS('^Severity') FROM otel.otel_logs LIMIT 1",
    "SELECT uniqMerge(u) FROM (SELECT uniqState(TraceId) AS u FROM otel.otel_traces)",
    "SELECT uniqExact(TraceId), sumIf(Duration, StatusCode = 'Error') FROM otel.otel_traces",
    "SELECT 1 UNION ALL SELECT 2",
    "SELECT ServiceName FROM otel.otel_logs INTERSECT SELECT ServiceName FROM otel.otel_traces",
    "DESCRIBE TABLE otel.otel_logs",
    "SHOW CREATE TABLE otel.otel_logs",
    "SHOW CREATE TABLE otel_traces",
    "SELECT name, engine_full FROM stackhouse.tables ORDER BY name",
    "SELECT table, name, type FROM stackhouse.columns WHERE table = 'otel_logs'",
    "DESCRIBE (SELECT Body FROM otel.otel_logs)",
    "EXPLAIN SELECT count() FROM otel.otel_logs",
    "EXPLAIN PIPELINE SELECT count() FROM otel.otel_logs",
    "SELECT formatReadableSize(sum(length(Body))) FROM otel.otel_logs",
    "SELECT CASE WHEN SeverityNumber >= 17 THEN 'error' ELSE 'other' END AS s, count() FROM "
    "otel.otel_logs GROUP BY s",
    "SELECT toTypeName(LogAttributes), Timestamp::Date FROM otel.otel_logs LIMIT 1",
    "SELECT histogram(5)(Duration) FROM otel.otel_traces",
    "SELECT COUNT(*), Sum(Duration), MAX(Duration) FROM otel.otel_traces",
    "SELECT EXISTS (SELECT 1)",
    "SELECT ServiceName, Body FROM otel.otel_logs ORDER BY Timestamp DESC LIMIT 1 BY ServiceName",
    "SELECT DISTINCT ServiceName FROM otel.otel_logs",
    "SELECT arrayMap(x -> x * 2, [1, 2, 3]), arrayFilter(x -> x > 1, [1, 2, 3])",
    "SELECT count() FROM otel.otel_logs WHERE Body ILIKE '%timeout%' AND ServiceName IN ('a', 'b')",
    "SELECT ServiceName, count() AS c FROM otel.otel_logs GROUP BY ServiceName HAVING c > 0",
    "SELECT MetricName, histogramQuantile FROM (SELECT MetricName, arraySum(BucketCounts) AS "
    "histogramQuantile FROM otel.otel_metrics_histogram)",
    "SELECT toDateTime64('2026-01-01 00:00:00', 9) AS t, dateDiff('second', t, now())",
    "SELECT cityHash64(Body), lower(ServiceName), extract(Body, '[0-9]+') FROM otel.otel_logs",
    "SELECT JSONExtract('{\"a\": 1}', 'a', 'Int64'), map('k', 'v')['k'], tuple(1, 'a').2",
};

TEST_F(HostileQueryTest, AnalystQueriesAreAllowed) {
  std::printf("%zu analyst queries\n", std::size(kAnalystQueries));
  for (const char* sql : kAnalystQueries) {
    const SqlApiReply r = runSql(*store_, sql, {});
    EXPECT_EQ(r.httpStatus, 200) << sql << " -> " << r.json.substr(0, 400);
  }
  const SqlApiReply r = runSql(*store_, "SELECT {svc:String} AS s, {n:UInt8} + 1 AS n",
                               {{"svc", "checkout"}, {"n", "41"}});
  EXPECT_EQ(r.httpStatus, 200) << r.json;
  EXPECT_NE(r.json.find(R"(["checkout",42])"), std::string::npos) << r.json;
  // A parameter arrives byte for byte: newlines, tabs and backslashes included.
  const SqlApiReply exact = runSqlRequest(
      *store_, R"({"query": "SELECT length({s:String}) AS n", "params": {"s": "a\nb\\tc\\"}})");
  EXPECT_NE(exact.json.find(R"("rows":[["7"]])"), std::string::npos) << exact.json;
}

// Runs nothing: keeps the text it was given, as a remote ClickHouse would receive it.
class RecordingExecutor : public store::SqlExecutor {
 public:
  Result<store::QueryOutput> run(std::string_view sql, std::string_view, const store::QueryParams&,
                                 std::string_view) override {
    ran.emplace_back(sql);
    store::QueryOutput out;
    out.data = R"({"meta": [{"name": "n", "type": "UInt8"}], "data": [[1]]})";
    return out;
  }
  const store::EngineError& lastError() const override { return error_; }
  std::string killStatement(std::string_view) const override { return {}; }

  std::vector<std::string> ran;

 private:
  store::EngineError error_;
};

// On a remote whose telemetry database is `telemetry`: what the engine-parsed guard maps, allows
// and refuses, and the exact text the remote receives.
// The query service keeps the statements that passed (checked_query_cache.h): every hostile query
// is refused again when asked a second time, from the cache or not (one that passes the check and
// fails in the engine, such as a table named `/etc/passwd` in the telemetry database, may be kept:
// it then fails the same way), after the analysts' queries filled it; and a statement whose
// Identifier parameter passed with one value is checked again with another.
TEST_F(HostileQueryTest, TheCheckedStatementCacheNeverPassesAHostileQuery) {
  auto connection = store_->openQueryConnection({});
  ASSERT_TRUE(connection.isOk()) << connection.status().toString();
  CheckedQueryCache cache;
  UserQueryOptions options;
  options.checked = &cache;
  for (const char* sql : kAnalystQueries) {
    const SqlApiReply r = runUserQuery(*connection.value(), sql, {}, options);
    EXPECT_EQ(r.httpStatus, 200) << sql << " -> " << r.json.substr(0, 300);
  }
  EXPECT_GT(cache.size(), 0u);
  for (const Hostile& h : hostileQueries()) {
    const std::string shown = h.sql.size() > 120 ? h.sql.substr(0, 120) + "..." : h.sql;
    int first = 0;
    for (int round = 0; round < 2; ++round) {
      const SqlApiReply r = runUserQuery(*connection.value(), h.sql, {}, options);
      EXPECT_TRUE(r.httpStatus == 400 || r.httpStatus == 403 || r.httpStatus == 413)
          << shown << " (round " << round << ") -> " << r.httpStatus << " "
          << r.json.substr(0, 300);
      if (round == 0) first = r.httpStatus;
      EXPECT_EQ(r.httpStatus, first) << shown;
    }
    // Kept only when the engine-parsed check passed it.
    if (cache.find(kLogicalDatabase, h.sql)) {
      EXPECT_EQ(first, 400) << shown << ": kept, yet refused by the check";
    }
  }

  const char* const named[] = {"SELECT count() FROM {d:Identifier}.otel_logs",
                               "SELECT {c:Identifier} FROM otel.otel_logs LIMIT 1",
                               "SELECT count() FROM {t:Identifier}"};
  const store::QueryParams benign[] = {{{"d", "otel"}}, {{"c", "Body"}}, {{"t", "otel_logs"}}};
  const store::QueryParams hostile[] = {
      {{"d", "system"}}, {{"c", "file('/etc/passwd')"}}, {{"t", "system.users"}}};
  for (size_t i = 0; i < std::size(named); ++i) {
    EXPECT_EQ(runUserQuery(*connection.value(), named[i], benign[i], options).httpStatus, 200)
        << named[i];
    const SqlApiReply r = runUserQuery(*connection.value(), named[i], hostile[i], options);
    EXPECT_TRUE(r.httpStatus == 400 || r.httpStatus == 403)
        << named[i] << " -> " << r.httpStatus << " " << r.json.substr(0, 300);
    EXPECT_FALSE(cache.find(kLogicalDatabase, named[i])) << named[i];
  }
}

// The search API builds its statements from user text: the search language's values reach the
// engine as parameters only (a LIKE pattern's wildcards escaped), and SQL mode's expression sits in
// every statement the search and histogram routes may run (each window, capped and WITH TIES, the
// histogram over whole minutes and over rows), each checked by the engine like any user query.
TEST_F(HostileQueryTest, SearchTextReachesTheEngineOnlyCheckedOrAsParameters) {
  auto connection = store_->openQueryConnection({});
  ASSERT_TRUE(connection.isOk()) << connection.status().toString();
  // Every statement a request may run: the search's windows in both forms, then the histogram.
  auto statements = [](const std::string& request) {
    std::vector<SqlRequest> all;
    auto search = prepareSearch(request, int64_t{1767225600000} * 1000000);
    if (auto* p = std::get_if<PreparedSearch>(&search)) {
      all.insert(all.end(), p->windows.begin(), p->windows.end());
      all.insert(all.end(), p->tiedWindows.begin(), p->tiedWindows.end());
    }
    auto histogram = prepareHistogram(request, int64_t{1767225600000} * 1000000);
    if (auto* p = std::get_if<PreparedHistogram>(&histogram)) all.push_back(p->sql);
    return all;
  };
  const std::string range = R"("from": "2025-12-31T00:00:00Z", "to": "2026-01-01T00:00:00Z")";
  const char* const values[] = {R"(*%' OR 1=1 --*)", R"(*\\*)", R"(*_*)",
                                R"(\"') UNION ALL SELECT * FROM file('/etc/passwd') --\")",
                                R"(LogAttributes.x:\"'; DROP TABLE otel.otel_logs; --\")"};
  for (const char* value : values) {
    const auto all =
        statements(R"({"source": "logs", "query": ")" + std::string(value) + "\", " + range + "}");
    ASSERT_GE(all.size(), 3u) << value;
    for (const SqlRequest& s : all) {
      EXPECT_EQ(s.sql.find("passwd"), std::string::npos) << s.sql;
      EXPECT_EQ(s.sql.find("DROP"), std::string::npos) << s.sql;
      const SqlApiReply r = runUserQuery(*connection.value(), s.sql, s.params, {});
      EXPECT_EQ(r.httpStatus, 200) << value << " -> " << r.json.substr(0, 300) << "\n" << s.sql;
    }
  }
  const char* const expressions[] = {
      R"(file('/etc/passwd') != '')",
      R"(Body IN (SELECT * FROM file('/etc/passwd', 'LineAsString')))",
      R"(1) UNION ALL SELECT * FROM url('http://127.0.0.1:1/x', 'TSV') WHERE (1)", R"(1 /*)",
      R"(1 SETTINGS max_memory_usage = 0)"};
  for (const char* expression : expressions) {
    const std::string query = R"({"source": "logs", "mode": "sql", "query": ")" +
                              std::string(expression) + "\", " + range + "}";
    const auto all = statements(query);
    ASSERT_GE(all.size(), 3u) << expression;
    for (const SqlRequest& s : all) {
      const SqlApiReply r = runUserQuery(*connection.value(), s.sql, s.params, {});
      EXPECT_TRUE(r.httpStatus == 400 || r.httpStatus == 403)
          << expression << " -> " << r.httpStatus << " " << r.json.substr(0, 300) << "\n"
          << s.sql;
    }
  }
  // With no expression, the histogram counts whole minutes from the projection: checked too.
  const auto plain = statements(R"({"source": "logs", "mode": "sql", "query": "", )" + range + "}");
  ASSERT_FALSE(plain.empty());
  EXPECT_NE(plain.back().sql.find("toStartOfMinute(TimestampTime)"), std::string::npos);
  for (const SqlRequest& s : plain) {
    const SqlApiReply r = runUserQuery(*connection.value(), s.sql, s.params, {});
    EXPECT_EQ(r.httpStatus, 200) << r.json.substr(0, 300) << "\n" << s.sql;
  }
}

// The metrics charts take user text too (the filter, the group-by keys, the metric name), and a
// chart over the rollups builds a statement of its own (query/metrics_api.cc, rolledStatement):
// every statement of both forms goes through the engine-parsed check, with the text only as
// parameters.
TEST_F(HostileQueryTest, MetricChartTextReachesTheEngineOnlyCheckedOrAsParameters) {
  auto inserted = store_->execute(
      "INSERT INTO otel.otel_metrics_sum (ServiceName, MetricName, Attributes, StartTimeUnix, "
      "TimeUnix, Value, AggregationTemporality, IsMonotonic) SELECT 'api', 'h.requests', "
      "map('route', '/a'), toDateTime64('2026-01-01 00:00:00', 9, 'UTC'), "
      "toDateTime64('2026-01-01 00:00:00', 9, 'UTC') + toIntervalSecond(number * 10), number, 2, "
      "true FROM numbers(1080)");
  ASSERT_TRUE(inserted.isOk()) << inserted.status().toString();
  auto connection = store_->openQueryConnection({});
  ASSERT_TRUE(connection.isOk()) << connection.status().toString();
  constexpr int64_t kT0Ms = 1767225600000;
  const std::string range = R"("from": 1767225600000, "to": 1767236400000, "step": "5m")";
  const std::string hostile[] = {
      R"("metric": "h.requests", "where": "route:\"'; DROP TABLE otel.otel_logs; --\"")",
      R"("metric": "h.requests", "where": "route:*%'_\\--*")",
      R"("metric": "h.requests", "groupBy": ["') UNION ALL SELECT * FROM file('/etc/passwd') --"])",
      R"("metric": "h.requests", "aggregation": "increase", "groupBy": ["x\\' , file('/etc/passwd'), '"])",
      R"("metric": "h.requests') UNION ALL SELECT * FROM file('/etc/passwd') --")",
  };
  for (const std::string& fields : hostile) {
    for (const int64_t rolledUntilMs : {int64_t{0}, kT0Ms + 2 * 3600 * 1000}) {
      std::vector<std::string> statements;
      RunStatement run = [&](SqlRequest sql, std::function<void(SqlApiReply)> then) {
        EXPECT_EQ(sql.sql.find("passwd"), std::string::npos) << sql.sql;
        EXPECT_EQ(sql.sql.find("DROP"), std::string::npos) << sql.sql;
        statements.push_back(sql.sql);
        SqlApiReply r = runUserQuery(*connection.value(), sql.sql, sql.params, {});
        EXPECT_EQ(r.httpStatus, 200) << fields << " -> " << r.json.substr(0, 300) << "\n"
                                     << sql.sql;
        then(std::move(r));
      };
      SqlApiReply answer;
      runMetricQuery(
          "{" + fields + ", " + range + "}", kT0Ms * 1000000, run,
          [&](SqlApiReply r) { answer = std::move(r); }, rolledUntilMs);
      // A metric of that name does not exist (404); the others are charted (200).
      EXPECT_TRUE(answer.httpStatus == 200 || answer.httpStatus == 404)
          << fields << " -> " << answer.json.substr(0, 300);
      const bool chart = answer.httpStatus == 200;
      ASSERT_EQ(statements.size(), chart ? 2u : 1u) << fields;
      if (chart) {
        EXPECT_EQ(statements.back().find("_5m") != std::string::npos, rolledUntilMs > 0)
            << "the chart read the rollups only when they were there: " << statements.back();
      }
    }
  }
}

TEST_F(HostileQueryTest, ARemoteDatabaseIsReachedByItsLogicalOrRealNameOnly) {
  struct Case {
    std::string sql;
    std::string ran;  // empty: refused (403), nothing sent
  };
  const std::vector<Case> cases = {
      {"SELECT count() FROM otel.otel_logs", "SELECT count() FROM `telemetry`.otel_logs"},
      {"select count() from `otel`.`otel_logs`", "SELECT count() FROM `telemetry`.otel_logs"},
      {"SELECT count() FROM \"otel\".otel_logs", "SELECT count() FROM `telemetry`.otel_logs"},
      {"SELECT count() FROM otel . otel_logs", "SELECT count() FROM `telemetry`.otel_logs"},
      {"SELECT count() FROM telemetry.otel_logs", "SELECT count() FROM telemetry.otel_logs"},
      {"SELECT count() FROM otel_logs", "SELECT count() FROM otel_logs"},
      {"SELECT Body FROM otel.otel_logs WHERE Body = 'otel.otel_traces' AND `otel.x` = 1",
       "SELECT Body FROM `telemetry`.otel_logs WHERE (Body = 'otel.otel_traces') AND (`otel.x` = "
       "1)"},
      {"SELECT count() FROM otel.otel_logs WHERE TraceId IN (SELECT TraceId FROM otel.otel_traces)",
       "SELECT count() FROM `telemetry`.otel_logs WHERE TraceId IN (SELECT TraceId FROM "
       "`telemetry`.otel_traces)"},
      {"SELECT otel.otel_logs.Body FROM otel.otel_logs",
       "SELECT `telemetry`.otel_logs.Body FROM `telemetry`.otel_logs"},
      {"SHOW CREATE TABLE otel.otel_logs", "SHOW CREATE TABLE `telemetry`.otel_logs"},
      {"DESCRIBE TABLE otel.otel_traces", "DESCRIBE TABLE `telemetry`.otel_traces"},
      {"SELECT name FROM stackhouse.tables", "SELECT name FROM stackhouse.tables"},
      // Other databases, however spelled, and table functions.
      {"SELECT * FROM system.tables", ""},
      {"SELECT * FROM `system`.`tables`", ""},
      {"SELECT * FROM default.otel_logs", ""},
      {"SELECT * FROM otelx.otel_logs", ""},
      {"SELECT * FROM `otel.otel_logs`", ""},  // one name that prints as otel.otel_logs
      {"SELECT * FROM otel.otel_logs, system.one", ""},
      {"SELECT 1 FROM otel.otel_logs WHERE 1 IN system.one", ""},
      {"SELECT * FROM remote('127.0.0.1', 'telemetry', 'otel_logs')", ""},
      {"SELECT * FROM merge('telemetry', '.*')", ""},
      {"SELECT * FROM cluster('default', otel.otel_logs)", ""},
      {"SHOW CREATE TABLE system.tables", ""},
      {"SHOW CREATE TABLE default.otel_logs", ""},
      {"SELECT * FROM stackhouse.users", ""},
      {"SELECT * FROM otel.otel_logs SETTINGS readonly = 0", ""},
      {"SELECT * FROM otel.otel_logs INTO OUTFILE 'x'", ""},
  };
  auto connection = store_->openQueryConnection(store::QueryBounds{});
  ASSERT_TRUE(connection.isOk()) << connection.status().toString();
  UserQueryOptions options;
  options.database = "telemetry";
  for (const Case& c : cases) {
    RecordingExecutor remote;
    const SqlApiReply r = runUserQuery(*connection.value(), remote, c.sql, {}, options);
    if (c.ran.empty()) {
      EXPECT_TRUE(r.httpStatus == 403 || r.httpStatus == 400) << c.sql << " -> " << r.json;
      EXPECT_TRUE(remote.ran.empty()) << c.sql << " reached the remote as " << remote.ran[0];
    } else {
      EXPECT_EQ(r.httpStatus, 200) << c.sql << " -> " << r.json;
      ASSERT_EQ(remote.ran.size(), 1u) << c.sql;
      EXPECT_EQ(remote.ran[0], c.ran) << c.sql;
    }
  }
}

// A statement that fails while it streams rows must not leak its partial output into the next
// answer on the same connection (seen: the next client got 2.4 MB of the first one's rows).
TEST_F(HostileQueryTest, AFailedQueryNeverLeaksIntoTheNextAnswer) {
  for (int i = 0; i < 5; ++i) {
    const SqlApiReply failed = runSql(*store_,
                                      "SELECT 'secret' AS s, n, throwIf(n >= 70000, 'boom') FROM "
                                      "(SELECT arrayJoin(range(100000)) "
                                      "AS n)",
                                      {});
    EXPECT_EQ(failed.httpStatus, 400) << failed.json.substr(0, 200);
    const SqlApiReply next = runSql(*store_, "SELECT 42 + " + std::to_string(i) + " AS x", {});
    ASSERT_EQ(next.httpStatus, 200) << next.json.substr(0, 200);
    EXPECT_NE(next.json.find("\"rows\":[[" + std::to_string(42 + i) + "]]"), std::string::npos)
        << next.json.substr(0, 200);
    EXPECT_EQ(next.json.find("secret"), std::string::npos);
    const SqlApiReply empty = runSql(*store_, "SELECT throwIf(1)", {});
    EXPECT_EQ(empty.httpStatus, 400);
    const SqlApiReply after = runSql(*store_, "SELECT 'own' AS x", {});
    EXPECT_NE(after.json.find(R"("rows":[["own"]])"), std::string::npos) << after.json;
  }
}

TEST_F(HostileQueryTest, TheWriteConnectionIsReplacedAfterAFailure) {
  auto failed = store_->execute(
      "SELECT 'secret' AS s, n, throwIf(n >= 70000, 'boom') FROM (SELECT arrayJoin(range(100000)) "
      "AS n)");
  EXPECT_FALSE(failed.isOk());
  auto next = store_->execute("SELECT 42");
  ASSERT_TRUE(next.isOk()) << next.status().toString();
  EXPECT_EQ(next->data, "42\n");
}

TEST_F(HostileQueryTest, TheReadConnectionKeepsItsDatabaseAndSettings) {
  EXPECT_NE(runSql(*store_, "USE system", {}).httpStatus, 200);
  const SqlApiReply db = runSql(*store_, "SELECT currentDatabase() AS d", {});
  EXPECT_NE(db.json.find(R"([["otel"]])"), std::string::npos) << db.json;
}

TEST_F(HostileQueryTest, BoundsGiveClearErrors) {
  stackhouse::testing::TempDir dir;
  store::QueryBounds bounds;
  bounds.maxExecutionSeconds = 1;
  bounds.maxMemoryBytes = 64ull << 20;
  bounds.maxResultBytes = 1ull << 20;
  auto reader = store_->openQueryConnection(bounds);
  ASSERT_TRUE(reader.isOk()) << reader.status().toString();
  auto& c = *reader.value();
  const UserQueryOptions options{256 * 1024, "stackhouse-query-test"};

  SqlApiReply r = runUserQuery(c,
                               "SELECT count() FROM (SELECT arrayJoin(range(100000)) AS a) AS x, "
                               "(SELECT arrayJoin(range(100000)) AS b) AS y WHERE a * b % 7 = 3",
                               {}, options);
  EXPECT_EQ(r.httpStatus, 413) << r.json.substr(0, 300);
  EXPECT_NE(r.json.find("TIMEOUT_EXCEEDED"), std::string::npos) << r.json.substr(0, 300);

  r = runUserQuery(c, "SELECT length(groupArray(a)) FROM (SELECT arrayJoin(range(100000000)) AS a)",
                   {}, options);
  EXPECT_EQ(r.httpStatus, 413) << r.json.substr(0, 300);
  EXPECT_NE(r.json.find("MEMORY_LIMIT_EXCEEDED"), std::string::npos) << r.json.substr(0, 300);

  r = runUserQuery(c, "SELECT arrayJoin(range(1000000)) AS a", {}, options);
  EXPECT_EQ(r.httpStatus, 413) << r.json.substr(0, 300);

  r = runUserQuery(c, "SELECT arrayJoin(range(100000)) AS a", {}, options);
  EXPECT_EQ(r.httpStatus, 413) << r.json.substr(0, 300);
  EXPECT_NE(r.json.find("RESULT_TOO_LARGE"), std::string::npos) << r.json.substr(0, 300);

  r = runUserQuery(c, "SELECT 1 AS ok", {}, options);
  EXPECT_EQ(r.httpStatus, 200) << r.json;
}

}  // namespace
}  // namespace stackhouse::query
