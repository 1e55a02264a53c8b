// The store keeps its deduplication tokens across a kill -9: the pipeline's insert journal relies
// on it (a group replayed after a restart, with the token of an insert that had committed, must
// not be stored again). Each step runs in a forked child that opens the store, does its insert,
// reports the row count through a pipe and dies by SIGKILL, as a killed server would; this
// process never loads the engine itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "common/clock.h"
#include "store/chdb_store.h"
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

// In a child: opens the store in `dir`, inserts threeLogs() with `token`, and answers with the
// service's row count (or -1 on any failure); then SIGKILL.
long insertInKilledChild(const std::string& dir, const std::string& token) {
  int fds[2];
  if (pipe(fds) != 0) return -2;
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    long count = -1;
    auto store = ChdbStore::open({dir, 72 * 3600});
    if (store.isOk()) {
      const telemetry::LogBatch batch = threeLogs();
      const telemetry::LogBatch* parts[] = {&batch};
      if (store.value()->insert<telemetry::LogBatch>(parts, token).isOk()) {
        auto r = store.value()->query(
            "SELECT count() FROM otel.otel_logs WHERE ServiceName = 'restart-dedup'", "TSV", {});
        if (r.isOk()) count = std::stol(r->data);
      }
    }
    if (write(fds[1], &count, sizeof count) != sizeof count) _exit(3);
    kill(getpid(), SIGKILL);
    _exit(4);
  }
  close(fds[1]);
  long count = -2;
  if (read(fds[0], &count, sizeof count) != sizeof count) count = -2;
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  return count;
}

TEST(StoreRestart, ADeduplicationTokenOutlivesAKill) {
  stackhouse::testing::TempDir dir;
  const std::string path = dir.path() + "/db";
  EXPECT_EQ(insertInKilledChild(path, "boot-a-logs-1"), 3);
  // The replay of the same group after the restart: deduplicated.
  EXPECT_EQ(insertInKilledChild(path, "boot-a-logs-1"), 3);
  // Another group is stored: the store did not simply refuse the insert.
  EXPECT_EQ(insertInKilledChild(path, "boot-b-logs-1"), 6);
}

}  // namespace
}  // namespace stackhouse::store
