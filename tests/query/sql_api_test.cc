#include "query/sql_api.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace stackhouse::query
