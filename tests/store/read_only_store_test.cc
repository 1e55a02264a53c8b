// ChdbStore opened read-only (OpenMode::kReadOnly), on a data path that a read-write store made in
// a child process: the engine is one per process and opens one path, so the writer cannot be this
// process. The end-to-end side (files and DDL unchanged after `sql` and `audit`) is
// tests/e2e/readonly.test.mjs.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "store/chdb_store.h"
#include "support/log_rows.h"
#include "support/temp_dir.h"
#include "telemetry/log_batch.h"

namespace stackhouse::store {
namespace {

constexpr uint64_t kYear = 8760 * 3600;

// In a child: creates the schema with a one-year TTL, stores one log row, drops one table (as a
// data path made by an older version would lack it), and closes. Returns the child's exit code.
int makeStoreInChild(const std::string& path) {
  const pid_t child = fork();
  if (child == 0) {
    auto store = ChdbStore::open({path, kYear});
    if (!store) _exit(2);
    telemetry::LogBatch batch;
    stackhouse::testing::appendLogRow(
        batch, {.timestamp = 1'900'000'000'000'000'000, .body = "kept", .service = "ro"});
    const telemetry::LogBatch* parts[] = {&batch};
    if (!store.value()->insert<telemetry::LogBatch>(parts, "read-only-test-1").isOk()) _exit(3);
    if (!store.value()->execute("DROP TABLE otel.otel_metrics_summary").isOk()) _exit(4);
    store.value().reset();
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(ReadOnlyStoreTest, ReadsWhatIsThereAndChangesNothing) {
  stackhouse::testing::TempDir dir;

  // No data: not found, and nothing created (checked before the engine starts).
  const std::string missing = dir.path() + "/missing";
  auto none = ChdbStore::open({.dataDir = missing, .mode = OpenMode::kReadOnly});
  ASSERT_FALSE(none.isOk());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound) << none.status().toString();
  EXPECT_FALSE(std::filesystem::exists(missing));

  const std::string path = dir.path() + "/db";
  ASSERT_EQ(makeStoreInChild(path), 0);

  // Another retention in the options: read-only, it is not applied.
  auto opened = ChdbStore::open({.dataDir = path, .ttlSeconds = 3600, .mode = OpenMode::kReadOnly});
  ASSERT_TRUE(opened.isOk()) << opened.status().toString();
  ChdbStore& store = *opened.value();
  EXPECT_EQ(store.missingTables(), std::vector<std::string>{"otel_metrics_summary"});

  auto rows = store.query("SELECT Body FROM otel.otel_logs", "TSV", {});
  ASSERT_TRUE(rows.isOk()) << rows.status().toString();
  EXPECT_EQ(rows->data, "kept\n");
  auto ddl = store.query(
      "SELECT engine_full FROM system.tables WHERE database = 'otel' AND name = 'otel_logs'", "TSV",
      {});
  ASSERT_TRUE(ddl.isOk()) << ddl.status().toString();
  EXPECT_NE(ddl->data.find("toIntervalSecond(" + std::to_string(kYear) + ")"), std::string::npos)
      << ddl->data;

  // No query spills into the data path's temporary folder.
  auto spill = store.query("SELECT getSetting('max_bytes_ratio_before_external_sort')", "TSV", {});
  ASSERT_TRUE(spill.isOk()) << spill.status().toString();
  EXPECT_EQ(spill->data, "0\n");

  // No write connection, and the query connection refuses DDL.
  EXPECT_EQ(store.execute("SELECT 1").status().code(), StatusCode::kPermissionDenied);
  telemetry::LogBatch batch;
  stackhouse::testing::appendLogRow(batch, {.timestamp = 1'900'000'000'000'000'000, .body = "x"});
  const telemetry::LogBatch* parts[] = {&batch};
  EXPECT_EQ(store.insert<telemetry::LogBatch>(parts, "read-only-test-2").code(),
            StatusCode::kPermissionDenied);
  EXPECT_FALSE(
      store
          .query("ALTER TABLE otel.otel_logs MODIFY TTL TimestampTime + INTERVAL 1 HOUR", "TSV", {})
          .isOk());
  auto active = store.query(
      "SELECT count() FROM system.parts WHERE database = 'otel' AND table = 'otel_logs' AND active",
      "TSV", {});
  ASSERT_TRUE(active.isOk());
  EXPECT_EQ(active->data, "1\n");
}

}  // namespace
}  // namespace stackhouse::store
