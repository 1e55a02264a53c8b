// What the store keeps across a kill -9 and a restart: its deduplication tokens (the pipeline's
// insert journal relies on them: a group replayed after a restart, with the token of an insert
// that had committed, must not be stored again), and tables made by an earlier start, which take
// the current retention and merge setting. Each step runs in a forked child that opens the store,
// does its insert, reports the row count through a pipe and dies by SIGKILL, as a killed server
// would; this process never loads the engine itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

telemetry::LogBatch threeLogs() {
  telemetry::LogBatch b;
  const int64_t now = wallNanos();
  const std::string bodies[] = {"row 0", "row 1", "row 2"};
  for (int i = 0; i < 3; ++i) {
    stackhouse::testing::appendLogRow(
        b, {.timestamp = now + i, .body = bodies[i], .service = "restart-dedup"});
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

// In a child: opens the store in `dir`, inserts threeLogs() with `token`, and answers with the
// service's row count.
std::string insertInKilledChild(const std::string& dir, const std::string& token) {
  return inKilledChild([&]() -> std::string {
    auto store = openStore(dir);
    if (!store.isOk()) return store.status().toString();
    const telemetry::LogBatch batch = threeLogs();
    const telemetry::LogBatch* parts[] = {&batch};
    const Status s = store.value()->insert<telemetry::LogBatch>(parts, token);
    if (!s.isOk()) return s.toString();
    return ask(*store.value(),
               "SELECT count() FROM otel.otel_logs WHERE ServiceName = 'restart-dedup'");
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
        "ALTER TABLE otel.otel_logs RESET SETTING merge_selector_base, min_bytes_for_wide_part");
    if (!reset.isOk()) return reset.status().toString();
    return ask(*store.value(), engineOfLogs);
  });
  EXPECT_NE(before.find("toIntervalSecond(259200)"), std::string::npos) << before;
  for (std::string_view setting : kPartSettings)
    EXPECT_EQ(before.find(setting), std::string::npos) << before;
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
  EXPECT_TRUE(after.ends_with("\n3\n")) << after;
}

}  // namespace
}  // namespace stackhouse::store
