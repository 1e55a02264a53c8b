// The schema on a ClickHouse cluster (SchemaOptions::cluster): every statement the remote sink
// runs with clusterName set, compared with tests/store/testdata/schema_cluster.sql (a golden file,
// ClickHouse's .sql + .reference way: STACKHOUSE_UPDATE_GOLDEN=1 rewrites it, then review the
// diff), and each parsed by the engine itself (EXPLAIN AST), since no cluster runs here.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "store/chdb_connection.h"
#include "store/schema.h"
#include "support/temp_dir.h"

namespace stackhouse::store {
namespace {

const std::string kGolden = std::string(STACKHOUSE_TESTDATA_DIR) + "/schema_cluster.sql";

std::vector<std::string> clusterStatements() {
  SchemaOptions options{"telemetry", 15 * 24 * 3600, "prod-eu"};
  std::vector<std::string> statements{createDatabaseSql(options)};
  for (const TableSpec& t : schemaTables(options)) statements.push_back(t.createSql);
  for (const std::string& view : schemaViewsSql(options, "currentDatabase()")) {
    statements.push_back(view);
  }
  return statements;
}

std::string joined(const std::vector<std::string>& statements) {
  std::string out;
  for (const std::string& s : statements) {
    std::string trimmed = s;
    while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
    out += trimmed + ";\n\n";
  }
  return out;
}

TEST(SchemaCluster, MatchesTheGoldenFile) {
  const std::string actual = joined(clusterStatements());
  if (const char* update = std::getenv("STACKHOUSE_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(kGolden, std::ios::binary) << actual;
  }
  std::ifstream in(kGolden, std::ios::binary);
  ASSERT_TRUE(in) << kGolden;
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str());
}

TEST(SchemaCluster, ShapeOfTheStatements) {
  const std::vector<TableSpec> tables = schemaTables(SchemaOptions{"telemetry", 0, "c1"});
  size_t local = 0, distributed = 0;
  for (const TableSpec& t : tables) {
    EXPECT_NE(t.createSql.find(" ON CLUSTER c1"), std::string::npos) << t.name;
    if (t.distributed) {
      ++distributed;
      EXPECT_NE(t.createSql.find("ENGINE = Distributed(c1, telemetry, " + t.name + "_local, "),
                std::string::npos)
          << t.createSql;
      EXPECT_EQ(t.createSql.find("rand()"), std::string::npos) << "sharding is deterministic";
    } else if (!t.view) {
      ++local;
      EXPECT_NE(t.createSql.find("telemetry." + t.name + "_local ON CLUSTER"), std::string::npos);
      EXPECT_NE(t.createSql.find("ENGINE = ReplicatedMergeTree\n"), std::string::npos);
      EXPECT_NE(t.createSql.find("replicated_deduplication_window = 10000"), std::string::npos);
      EXPECT_EQ(t.createSql.find(" TTL "), std::string::npos) << "ttl 0: none";
    }
  }
  EXPECT_EQ(local, 8u);
  EXPECT_EQ(distributed, 8u);
  // Without a cluster: the embedded store's statements, in another database.
  for (const TableSpec& t : schemaTables(SchemaOptions{"remote_db", 3600, ""})) {
    EXPECT_FALSE(t.distributed);
    EXPECT_EQ(t.createSql.find("ON CLUSTER"), std::string::npos);
    EXPECT_EQ(t.createSql.find("otel."), std::string::npos) << t.createSql;
  }
  EXPECT_EQ(createDatabaseSql(SchemaOptions{"x", 0, "my-cluster"}),
            "CREATE DATABASE IF NOT EXISTS x ON CLUSTER `my-cluster` ENGINE = Atomic");
}

// The engine parses every statement (EXPLAIN AST checks the syntax without running it: there is
// no cluster, no Keeper here).
TEST(SchemaCluster, TheEngineParsesEveryStatement) {
  stackhouse::testing::TempDir dir;
  auto conn = ChdbConnection::open(dir.path() + "/db");
  ASSERT_TRUE(conn.isOk()) << conn.status().toString();
  for (const std::string& sql : clusterStatements()) {
    auto r = conn.value()->query("EXPLAIN AST " + sql);
    EXPECT_TRUE(r.isOk()) << r.status().toString() << "\n" << sql;
  }
}

}  // namespace
}  // namespace stackhouse::store
