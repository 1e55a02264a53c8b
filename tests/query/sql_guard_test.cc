#include "query/sql_guard.h"

#include <gtest/gtest.h>

namespace stackhouse::query {
namespace {

TEST(SqlGuard, AcceptsReadQueries) {
  for (std::string_view sql : {
           "SELECT 1",
           "select count() from otel.otel_logs where Body like '%file(%'",
           "WITH x AS (SELECT 1) SELECT * FROM x;",
           "SHOW TABLES FROM otel",
           "DESCRIBE TABLE otel.otel_logs",
           "EXPLAIN SELECT 1",
           "SELECT \"file\" FROM otel.t -- url(\n",
           "SELECT /* s3( */ 1",
           "(SELECT 1) UNION ALL (SELECT 2)",
           "SELECT toStartOfInterval(Timestamp, INTERVAL 1 minute) FROM otel.otel_traces",
       }) {
    EXPECT_TRUE(checkReadOnlySql(sql).isOk()) << sql << ": " << checkReadOnlySql(sql).toString();
  }
}

TEST(SqlGuard, RefusesWritesFilesAndRemoteAccess) {
  struct Case {
    std::string_view sql;
    std::string_view why;
  };
  for (const Case& c : {
           Case{"INSERT INTO otel.otel_logs VALUES (1)", "only read queries"},
           Case{"DROP TABLE otel.otel_logs", "only read queries"},
           Case{"CREATE TABLE x (a Int8) ENGINE=Memory", "only read queries"},
           Case{"ALTER TABLE otel.otel_logs DELETE WHERE 1", "only read queries"},
           Case{"SET readonly = 0", "only read queries"},
           Case{"SELECT * FROM file('/etc/passwd')", "file()"},
           Case{"SELECT * FROM FILE ('/etc/passwd')", "file()"},
           Case{"SELECT * FROM url('http://x/')", "url()"},
           Case{"SELECT * FROM s3('http://x/')", "s3()"},
           Case{"SELECT * FROM remote('h', 'db', 't')", "remote()"},
           Case{"SELECT * FROM mysql('h', 'db', 't', 'u', 'p')", "mysql()"},
           Case{"SELECT 1 INTO OUTFILE 'x'", "INTO OUTFILE"},
           Case{"SELECT 1 SETTINGS readonly = 0", "readonly"},
           Case{"SELECT * FROM '/etc/passwd'", "files"},
           Case{"SELECT * FROM `/etc/passwd`", "files"},
           Case{"SELECT 1; DROP TABLE otel.otel_logs", "one statement"},
       }) {
    const Status s = checkReadOnlySql(c.sql);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << c.sql;
    EXPECT_NE(s.message().find(c.why), std::string::npos) << c.sql << ": " << s.message();
  }
}

TEST(SqlGuard, EmptyAndUnterminated) {
  EXPECT_EQ(checkReadOnlySql("  ; ").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(checkReadOnlySql("SELECT 'abc").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(checkReadOnlySql("SELECT /* x").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stackhouse::query
