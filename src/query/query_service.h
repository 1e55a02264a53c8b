// QueryService: runs user queries on a fixed set of workers, each with its own bounded read
// connection, so that one slow query never queues the others behind it and a query burst never
// grows without bound.
//
// submit() is called on any thread (an HTTP IO thread). At most `maxConcurrent` queries are
// accepted at once; past that, done is called at once with 429 (the client retries). Accepted
// queries run on the "query-<i>" threads; done is called there, exactly once. While a query
// runs, the "query-watch" thread polls its clientGone callback and, once the client has gone,
// cancels the statement in the engine (KILL QUERY by the tag runUserQuery runs it under), so its
// worker is free again at once instead of after max_execution_time.
//
// Where queries run: each worker parses and checks on its own embedded read connection, always;
// it runs the checked statement on that connection, or, when the service was started with a
// RemoteExecutors factory (`stackhouse run` with a remote ClickHouse endpoint), on its own remote
// executor, and the watch thread cancels on a remote control executor. The statements that passed
// the check are kept (checked_query_cache.h), shared by the workers: the searches, charts and
// alerts ask the same few statement shapes again and again.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "query/checked_query_cache.h"
#include "query/sql_api.h"
#include "store/chdb_store.h"

namespace stackhouse::query {

struct QueryServiceOptions {
  int maxConcurrent = 4;      // queries accepted at once (running or about to)
  store::QueryBounds bounds;  // per query, on every worker's connection
  uint64_t maxAnswerBytes = 32ull << 20;
  // The telemetry database the statements run in (UserQueryOptions::database): `otel`, or a
  // remote ClickHouse's otelConfig.exporters.clickhouse.database.
  std::string database = std::string(kLogicalDatabase);
  // The end of the embedded store's metric rollups (store/metric_rollup.h, Unix ms): charts read
  // the buckets before it from the rollups. Empty when there are none (a remote ClickHouse).
  std::function<int64_t()> metricRollupMs;
};

class QueryService {
 public:
  using Done = std::function<void(SqlApiReply)>;
  using ClientGone = std::function<bool()>;

  // Makes one remote executor: `control` for the one that runs killStatement (not readonly).
  using RemoteExecutors = std::function<Result<std::unique_ptr<store::SqlExecutor>>(bool control)>;

  // Opens one read connection per worker and a control connection, and with `remote` one remote
  // executor per worker and a remote control executor; start-up only.
  static Result<std::unique_ptr<QueryService>> start(store::ChdbStore& store,
                                                     const QueryServiceOptions& options,
                                                     const RemoteExecutors& remote = {});
  ~QueryService();
  QueryService(const QueryService&) = delete;
  QueryService& operator=(const QueryService&) = delete;

  // Runs `request`; `done` is called exactly once (at once with 429 when full or stopped).
  // `clientGone` (may be empty) is polled from the watch thread while the query runs.
  void submit(SqlRequest request, ClientGone clientGone, Done done);

  // The end of the rolled-up metric range (QueryServiceOptions::metricRollupMs); 0: none.
  int64_t metricRollupMs() const { return options_.metricRollupMs ? options_.metricRollupMs() : 0; }

  // Answers what is queued with 503, waits for running queries, joins the threads. Idempotent.
  void stop();

 private:
  struct Job {
    SqlRequest request;
    ClientGone clientGone;
    Done done;
  };
  struct Worker {
    std::unique_ptr<store::ChdbConnection> connection;  // parses and checks; runs when no remote
    std::unique_ptr<store::SqlExecutor> remote;         // runs, when set
    std::thread thread;
    // The query running now, for the watch thread: guarded by QueryService::mu_.
    const Job* running = nullptr;
    std::string tag;
    bool killed = false;
  };

  explicit QueryService(const QueryServiceOptions& options);
  void work(size_t index);
  void watch();

  QueryServiceOptions options_;
  CheckedQueryCache checked_;
  std::unique_ptr<store::SqlExecutor> control_;  // watch thread only
  std::vector<std::unique_ptr<Worker>> workers_;
  std::thread watcher_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable watchCv_;
  std::deque<Job> queue_;  // guarded by mu_
  int accepted_ = 0;       // queued + running; guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  uint64_t seq_ = 0;       // guarded by mu_

  Counter& refusedBusy_;
  Counter& cancelled_;
  Gauge& running_;
};

}  // namespace stackhouse::query
