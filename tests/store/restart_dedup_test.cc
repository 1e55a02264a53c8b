// What the store keeps across a kill -9 and a restart: its deduplication tokens; what a retry
// insert does when a token outlived its part, or a group was committed in part (a sink's worker
// sends the range it was sending again as a retry after a restart: it must be stored once, and
// whole);
// and tables made by an earlier start, which take the current retention and merge setting. Each
// step runs in a forked child that opens the store, does its insert, reports the row count through
// a pipe and dies by SIGKILL, as a killed server would; this process never loads the engine itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <string>

#include "common/clock.h"
#include "store/chdb_connection.h"
#include "store/chdb_store.h"
#include "store/schema.h"
#include "support/log_rows.h"
#include "support/temp_dir.h"
#include "telemetry/log_batch.h"

namespace stackhouse::store {
namespace {

// The same in every child of one test run, so that each child's batch holds the same rows.
const int64_t kNow = wallNanos();

// Three rows now, and as many `daysAgo` days before (another partition), when not 0.
telemetry::LogBatch threeLogs(int daysAgo = 0) {
  telemetry::LogBatch b;
  const int64_t now = kNow;
  const std::string bodies[] = {"row 0", "row 1", "row 2"};
  for (int64_t at : {now, now - int64_t{daysAgo} * 86'400'000'000'000}) {
    for (int i = 0; i < 3; ++i) {
      stackhouse::testing::appendLogRow(
          b, {.timestamp = at + i, .body = bodies[i], .service = "restart-dedup"});
    }
    if (daysAgo == 0) break;
  }
  return b;
}

// Runs `step` in a forked child and returns what it answered through a pipe ("(no answer)" if it
// died first); the child then dies by SIGKILL.
template <typename Step>
std::string inKilledChild(Step step) {
  int fds[2];
  if (pipe(fds) != 0) return "(no pipe)";
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    const std::string answer = step();
    if (write(fds[1], answer.data(), answer.size()) != static_cast<ssize_t>(answer.size()))
      _exit(3);
    kill(getpid(), SIGKILL);
    _exit(4);
  }
  close(fds[1]);
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    answer.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  return answer.empty() ? "(no answer)" : answer;
}

// Opens the store in `dir` with the retention `ttlSeconds`, or answers why it could not.
Result<std::unique_ptr<ChdbStore>> openStore(const std::string& dir,
                                             uint64_t ttlSeconds = 72 * 3600) {
  return ChdbStore::open({dir, ttlSeconds});
}

// The result of `sql` on the store's read connection, or the error.
std::string ask(ChdbStore& store, std::string_view sql) {
  auto r = store.query(sql, "TSV", {});
  return r.isOk() ? r->data : r.status().toString();
}

constexpr std::string_view kRowsAndDistinct =
    "SELECT count(), uniqExact(Timestamp, Body) FROM otel.otel_logs "
    "WHERE ServiceName = 'restart-dedup'";

// In a child: opens the store in `dir`, inserts threeLogs(daysAgo) with `token` in each of
// `modes` in turn, and answers with the service's row count after each.
std::string insertInKilledChild(
    const std::string& dir, const std::string& token,
    std::initializer_list<ChdbStore::Mode> modes = {ChdbStore::Mode::kNew}, int daysAgo = 0) {
  return inKilledChild([&]() -> std::string {
    auto store = openStore(dir);
    if (!store.isOk()) return store.status().toString();
    const telemetry::LogBatch batch = threeLogs(daysAgo);
    const telemetry::LogBatch* parts[] = {&batch};
    std::string counts;
    for (ChdbStore::Mode mode : modes) {
      const Status s = store.value()->insert<telemetry::LogBatch>(parts, token, mode);
      if (!s.isOk()) return counts + s.toString();
      counts += ask(*store.value(),
                    "SELECT count() FROM otel.otel_logs WHERE ServiceName = 'restart-dedup'");
    }
    return counts;
  });
}

// In a child: the directories of otel_logs' active parts, one per line.
std::string partDirsInKilledChild(const std::string& dir) {
  return inKilledChild([&]() -> std::string {
    auto store = openStore(dir);
    if (!store.isOk()) return store.status().toString();
    return ask(*store.value(),
               "SELECT path FROM system.parts WHERE database = 'otel' AND table = 'otel_logs' "
               "AND active ORDER BY partition");
  });
}

TEST(StoreRestart, ADeduplicationTokenOutlivesAKill) {
  stackhouse::testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  EXPECT_EQ(insertInKilledChild(path, "boot-a-logs-1"), "3\n");
  // The replay of the same group after the restart: deduplicated.
  EXPECT_EQ(insertInKilledChild(path, "boot-a-logs-1"), "3\n");
  // Another group is stored: the store did not simply refuse the insert.
  EXPECT_EQ(insertInKilledChild(path, "boot-b-logs-1"), "6\n");
}

// The engine records a block's token before it commits the block's part. A kill between the two
// leaves the token without the part (here the part is removed by hand after a kill, which is
// what the restart finds): an insert with that token is then skipped as a duplicate, and a replay
// that trusted it would lose the rows. A retry insert looks at the rows instead.
TEST(StoreRestart, ARetryStoresRowsWhoseTokenOutlivedTheirPart) {
  using Mode = ChdbStore::Mode;
  stackhouse::testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  EXPECT_EQ(insertInKilledChild(path, "boot-a-logs-1"), "3\n");
  const std::string parts = partDirsInKilledChild(path);
  ASSERT_EQ(std::count(parts.begin(), parts.end(), '\n'), 1) << parts;
  ASSERT_TRUE(std::filesystem::remove_all(parts.substr(0, parts.size() - 1)) > 0) << parts;

  // The token alone swallows the replay; the retry stores the rows, once, however often it runs.
  EXPECT_EQ(insertInKilledChild(path, "boot-a-logs-1", {Mode::kNew, Mode::kRetry, Mode::kRetry}),
            "0\n3\n3\n");
}

// A group whose rows span two days is two parts, committed one after the other; a retry after
// only one of them survived stores the other's rows alone.
TEST(StoreRestart, ARetryAfterAPartialCommitStoresOnlyWhatIsMissing) {
  using Mode = ChdbStore::Mode;
  stackhouse::testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  EXPECT_EQ(insertInKilledChild(path, "boot-a-logs-1", {Mode::kNew}, 2), "6\n");
  const std::string parts = partDirsInKilledChild(path);
  ASSERT_EQ(std::count(parts.begin(), parts.end(), '\n'), 2) << parts;
  ASSERT_TRUE(std::filesystem::remove_all(parts.substr(0, parts.find('\n'))) > 0) << parts;
  EXPECT_EQ(insertInKilledChild(path, "boot-a-logs-1", {Mode::kRetry, Mode::kRetry}, 2), "6\n6\n");
  const std::string distinct = inKilledChild([&]() -> std::string {
    auto store = openStore(path);
    return store.isOk() ? ask(*store.value(), kRowsAndDistinct) : store.status().toString();
  });
  EXPECT_EQ(distinct, "6\t6\n");
}

// Tables made by an earlier start keep their data and take the current retention and part settings.
TEST(StoreRestart, ExistingTablesTakeAChangedRetentionAndThePartSettings) {
  stackhouse::testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  const std::string engineOfLogs =
      "SELECT engine_full FROM system.tables WHERE database = 'otel' AND name = 'otel_logs'";
  // A store as an earlier version left it: 72h, and the engine's default merge setting.
  const std::string before = inKilledChild([&]() -> std::string {
    auto store = openStore(path);
    if (!store.isOk()) return store.status().toString();
    auto writer = ChdbConnection::open(path);
    if (!writer.isOk()) return writer.status().toString();
    auto reset = writer.value()->query(
        "ALTER TABLE otel.otel_logs RESET SETTING merge_selector_base, min_bytes_for_wide_part, "
        "enable_block_number_column");
    if (!reset.isOk()) return reset.status().toString();
    return ask(*store.value(), engineOfLogs);
  });
  EXPECT_NE(before.find("toIntervalSecond(259200)"), std::string::npos) << before;
  for (std::string_view setting : kPartSettings)
    EXPECT_EQ(before.find(setting), std::string::npos) << before;
  EXPECT_EQ(before.find(kInsertOrderSetting), std::string::npos) << before;
  EXPECT_EQ(insertInKilledChild(path, "before-change"), "3\n");

  const std::string after = inKilledChild([&]() -> std::string {
    auto store = openStore(path, 24 * 3600);
    if (!store.isOk()) return store.status().toString();
    return ask(*store.value(), engineOfLogs) +
           ask(*store.value(),
               "SELECT count() FROM otel.otel_logs WHERE ServiceName = 'restart-dedup'");
  });
  EXPECT_NE(after.find("toIntervalSecond(86400)"), std::string::npos) << after;
  for (std::string_view setting : kPartSettings)
    EXPECT_NE(after.find(setting), std::string::npos) << after;
  EXPECT_NE(after.find(kInsertOrderSetting), std::string::npos) << after;
  EXPECT_TRUE(after.ends_with("\n3\n")) << after;
}

TEST(StoreRestart, AnExistingLogsTableTakesTheLowerCasedAttributeIndexes) {
  stackhouse::testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  const std::string indexes =
      "SELECT name FROM system.data_skipping_indices WHERE database = 'otel' AND table = "
      "'otel_logs' AND name LIKE '%_value_lower' ORDER BY name";
  // A logs table as an earlier version made it: without the two indexes.
  const std::string before = inKilledChild([&]() -> std::string {
    auto store = openStore(path);
    if (!store.isOk()) return store.status().toString();
    auto writer = ChdbConnection::open(path);
    if (!writer.isOk()) return writer.status().toString();
    for (const char* name : {"idx_log_attr_value_lower", "idx_res_attr_value_lower"}) {
      auto dropped =
          writer.value()->query(std::string("ALTER TABLE otel.otel_logs DROP INDEX ") + name);
      if (!dropped.isOk()) return dropped.status().toString();
    }
    return "[" + ask(*store.value(), indexes) + "]";
  });
  EXPECT_EQ(before, "[]");
  const std::string after = inKilledChild([&]() -> std::string {
    auto store = openStore(path);
    if (!store.isOk()) return store.status().toString();
    return ask(*store.value(), indexes);
  });
  EXPECT_EQ(after, "idx_log_attr_value_lower\nidx_res_attr_value_lower\n");
}

}  // namespace
}  // namespace stackhouse::store
