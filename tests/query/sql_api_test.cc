#include "query/sql_api.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "query/user_query.h"
#include "support/temp_dir.h"

namespace stackhouse::query {
namespace {

class SqlApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new stackhouse::testing::TempDir();
    auto s = store::ChdbStore::open({dir_->path() + "/db", 72 * 3600});
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = s.value().release();
  }
  static stackhouse::testing::TempDir* dir_;
  static store::ChdbStore* store_;
};
stackhouse::testing::TempDir* SqlApiTest::dir_ = nullptr;
store::ChdbStore* SqlApiTest::store_ = nullptr;

TEST_F(SqlApiTest, ShapesColumnsRowsAndElapsed) {
  auto r = runSqlRequest(
      *store_,
      R"j({"query": "SELECT {n:UInt64} AS n, {s:String} AS s, toUInt64(18446744073709551615) AS big, map('k', 'v') AS m, [1.5, 2] AS a", "params": {"n": 41, "s": "x\"y"}})j");
  ASSERT_EQ(r.httpStatus, 200) << r.json;
  EXPECT_EQ(r.json.substr(0, r.json.find(R"(,"elapsed_ms":)")),
            R"j({"columns":[{"name":"n","type":"UInt64"},{"name":"s","type":"String"},)j"
            R"j({"name":"big","type":"UInt64"},{"name":"m","type":"Map(String, String)"},)j"
            R"j({"name":"a","type":"Array(Float64)"}],)j"
            R"j("rows":[["41","x\"y","18446744073709551615",{"k":"v"},[1.5,2]]])j");
  EXPECT_NE(r.json.find(R"("elapsed_ms":)"), std::string::npos);
}

TEST_F(SqlApiTest, ClickHouseErrorsAreJsonWithTheirCode) {
  auto r = runSqlRequest(*store_, R"({"query": "SELECT nope FROM otel.otel_logs"})");
  EXPECT_EQ(r.httpStatus, 400);
  EXPECT_NE(r.json.find(R"("code":47)"), std::string::npos) << r.json;
  EXPECT_NE(r.json.find(R"("name":"UNKNOWN_IDENTIFIER")"), std::string::npos) << r.json;
}

TEST_F(SqlApiTest, RefusesWritesAndFiles) {
  auto r =
      runSqlRequest(*store_, R"j({"query": "SELECT * FROM file('/etc/passwd', 'LineAsString')"})j");
  EXPECT_EQ(r.httpStatus, 403) << r.json;
  EXPECT_NE(r.json.find("file()"), std::string::npos) << r.json;
  r = runSqlRequest(*store_, R"({"query": "DROP TABLE otel.otel_logs"})");
  EXPECT_EQ(r.httpStatus, 403) << r.json;
}

TEST_F(SqlApiTest, BadRequests) {
  EXPECT_EQ(runSqlRequest(*store_, "not json").httpStatus, 400);
  EXPECT_EQ(runSqlRequest(*store_, R"({"query": 1})").httpStatus, 400);
  EXPECT_EQ(runSqlRequest(*store_, R"({"query": "SELECT 1", "params": [1]})").httpStatus, 400);
}

// What the checked-statement cache (checked_query_cache.h) rests on: in the parse tree the check
// reads, a value parameter is a literal (only Literal lines differ between two values), while an
// Identifier parameter is a name.
TEST_F(SqlApiTest, ParametersReachTheTreeAsLiteralsButIdentifiers) {
  auto c = store_->openQueryConnection({});
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  const std::string sql =
      "EXPLAIN AST SELECT {n:UInt64} + 1 FROM otel.otel_logs WHERE Body = {s:String} AND "
      "ServiceName IN {l:Array(String)}";
  auto a = c.value()->query(sql, "TSV", {{"n", "1"}, {"s", "a"}, {"l", "['x']"}});
  auto b = c.value()->query(
      sql, "TSV",
      {{"n", "99"}, {"s", "') OR 1 --\\n TableIdentifier system.users"}, {"l", "['y', 'z']"}});
  ASSERT_TRUE(a.isOk()) << a.status().toString();
  ASSERT_TRUE(b.isOk()) << b.status().toString();
  auto nonLiteralLines = [](const std::string& tree) {
    std::vector<std::string> out;
    size_t at = 0;
    while (at < tree.size()) {
      const size_t end = std::min(tree.find('\n', at), tree.size());
      std::string line = tree.substr(at, end - at);
      if (line.find("Literal ") == std::string::npos) out.push_back(line);
      at = end + 1;
    }
    return out;
  };
  EXPECT_EQ(nonLiteralLines(a.value().data), nonLiteralLines(b.value().data));
  EXPECT_NE(a.value().data, b.value().data);
  EXPECT_EQ(b.value().data.find("\n TableIdentifier system"), std::string::npos);

  const std::string named = "EXPLAIN AST SELECT * FROM {t:Identifier}";
  auto x = c.value()->query(named, "TSV", {{"t", "otel.otel_logs"}});
  auto y = c.value()->query(named, "TSV", {{"t", "system.users"}});
  ASSERT_TRUE(x.isOk()) << x.status().toString();
  ASSERT_TRUE(y.isOk()) << y.status().toString();
  EXPECT_NE(x.value().data.find("TableIdentifier otel.otel_logs"), std::string::npos);
  EXPECT_NE(y.value().data.find("TableIdentifier system.users"), std::string::npos);
}

TEST_F(SqlApiTest, CheckedStatementsAreKeptAndRunWithTheirParameters) {
  auto c = store_->openQueryConnection({});
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  CheckedQueryCache cache;
  UserQueryOptions options;
  options.checked = &cache;

  auto r = runUserQuery(*c.value(), "SELECT {n:UInt64} AS n", {{"n", "1"}}, options);
  ASSERT_EQ(r.httpStatus, 200) << r.json;
  EXPECT_NE(r.json.find(R"("rows":[["1"]])"), std::string::npos) << r.json;
  EXPECT_EQ(cache.size(), 1u);
  // The same text with another value: from the cache, run with the new value.
  r = runUserQuery(*c.value(), "SELECT {n:UInt64} AS n", {{"n", "2"}}, options);
  ASSERT_EQ(r.httpStatus, 200) << r.json;
  EXPECT_NE(r.json.find(R"("rows":[["2"]])"), std::string::npos) << r.json;
  EXPECT_EQ(cache.size(), 1u);

  // Refusals and engine errors are not kept, and are refused again.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(runUserQuery(*c.value(), "SELECT * FROM file('/etc/passwd')", {}, options).httpStatus,
              403);
    EXPECT_EQ(
        runUserQuery(*c.value(), "SELECT * FROM {t:Identifier}", {{"t", "system.users"}}, options)
            .httpStatus,
        403);
    EXPECT_EQ(runUserQuery(*c.value(), "SELEC 1", {}, options).httpStatus, 400);
  }
  EXPECT_EQ(cache.size(), 1u);

  // A statement with an Identifier parameter passes or not by its value: never kept.
  r = runUserQuery(*c.value(), "SELECT count() FROM {d:Identifier}.otel_logs", {{"d", "otel"}},
                   options);
  ASSERT_EQ(r.httpStatus, 200) << r.json;
  EXPECT_EQ(runUserQuery(*c.value(), "SELECT count() FROM {d:Identifier}.otel_logs",
                         {{"d", "system"}}, options)
                .httpStatus,
            403);
  EXPECT_EQ(cache.size(), 1u);

  // A hit runs what was checked, without asking the engine to parse again: the kept text, not
  // the text sent, runs.
  cache.insert(kLogicalDatabase, "SELECT 7 AS n", "SELECT 8 AS n");
  r = runUserQuery(*c.value(), "SELECT 7 AS n", {}, options);
  ASSERT_EQ(r.httpStatus, 200) << r.json;
  EXPECT_NE(r.json.find(R"("rows":[[8]])"), std::string::npos) << r.json;
  // Kept per database: the same text checked for another database is not a hit.
  UserQueryOptions other = options;
  other.database = "telemetry";
  r = runUserQuery(*c.value(), "SELECT 7 AS n", {}, other);
  ASSERT_EQ(r.httpStatus, 200) << r.json;
  EXPECT_NE(r.json.find(R"("rows":[[7]])"), std::string::npos) << r.json;
}

}  // namespace
}  // namespace stackhouse::query
