// MetricRollup: the embedded store's 5-minute rollups of gauge and sum points, so that a chart
// over a day reads one row per series and 5 minutes instead of every point (query/metrics_api.cc).
//
// A thread ("metric-rollup") rolls up the points of every closed bucket every `interval`: for each
// of kRollupTables, one `INSERT ... SELECT` per chunk of at most `chunk` from the metric table into
// its rollup table, grouped by metric, bucket and series with its start time. A bucket is closed
// once it ended `lateness` ago. `rolledMs()` is the end of the rolled range: a chart reads
// buckets before it from the rollups and the rest from the points.
//
// Points that arrive for a bucket already rolled (late points; a client's buffered retry) make the
// bucket dirty: the ClickHouse sink reports each committed insert's point times (`inserted`), and
// the next pass rolls the dirty buckets again, then deletes their earlier rows (a lightweight
// DELETE of the lower versions). So a chart sees a late point within one interval. The claim made
// before a pass reads the points (`claimedMs_`) and the check made after an insert commits close
// the race between the two: an insert the pass's read misses is always reported as dirty. Dirty
// buckets are held in memory: those reported in the last interval before a kill are not rolled
// again (stop() rolls them).
//
// A failed statement is counted and logged, and its range rolled again at the next pass, replacing
// whatever the failure left (a long range in halves, down to one bucket: a statement past its
// memory bound over an hour of many series fits in less). After a restart each table's rolled
// range starts again an hour (`chunk`) before its newest rolled bucket's end, replacing that hour:
// a kill during an insert may have left part of it. Points written into the data directory by
// anything but `stackhouse run` are not seen (nothing else writes it).
//
// At most 4,096 dirty buckets are kept; late points past that mark their whole hour (`chunk`),
// so a backfill over weeks, or a client whose clock jumps, costs a bounded set and a bounded
// number of statements a pass.
//
// Statements run on a connection of the rollup's own (never the insert or query connections),
// at a low priority and bounded in memory and time. Counted on /metrics:
//   stackhouse_metric_rollup_buckets_total{kind="closed"|"late"}, ..._failures_total,
//   stackhouse_metric_rollup_milliseconds_total, stackhouse_metric_rollup_rolled_until_seconds.
//
// stop() cancels a running statement (KILL QUERY on a control connection) instead of waiting for
// it; the range it was rolling is rolled again, replacing, at the next start.
//
// Thread-safety: inserted() and rolledMs() from any thread; start()/stop() from the owner's;
// runOnce() from tests (not while the thread runs).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "common/metrics.h"
#include "common/status.h"
#include "store/chdb_store.h"
#include "store/schema.h"
#include "telemetry/columns.h"

namespace stackhouse::store {

struct MetricRollupOptions {
  std::chrono::milliseconds interval{30'000};
  std::chrono::milliseconds lateness{60'000};  // a bucket is closed this long after its end
  std::chrono::milliseconds chunk{3'600'000};  // the most one statement rolls
  uint64_t maxMemoryBytes = 512ull << 20;      // per statement
  size_t maxDirtyBuckets = 4096;   // late buckets kept one by one; past it, their chunks
  std::function<int64_t()> nowMs;  // Unix ms; default the system clock
};

class MetricRollup {
 public:
  // Opens the rollup's connection and finds where the rolled range ends. `metrics` may be null.
  static Result<std::unique_ptr<MetricRollup>> open(ChdbStore& store, MetricRollupOptions options,
                                                    MetricsRegistry* metrics);
  ~MetricRollup();
  MetricRollup(const MetricRollup&) = delete;
  MetricRollup& operator=(const MetricRollup&) = delete;

  void start();
  // Rolls the dirty buckets once more, then stops the thread. Idempotent.
  void stop();
  // Rolls the closed buckets, then the dirty ones.
  Status runOnce();

  // The end of the rolled range (Unix ms, a multiple of kRollupBucketMs): every bucket before it
  // is in the rollup tables. 0 before any pass.
  int64_t rolledMs() const { return rolledMs_.load(std::memory_order_acquire); }

  // After an insert of points into `table` committed: their times. Buckets the rollup already
  // read become dirty. Tables other than kRollupTables' sources are ignored.
  void inserted(std::string_view table, const telemetry::TimestampColumn& times);

 private:
  MetricRollup(MetricRollupOptions options, MetricsRegistry* metrics);
  Status findRolledRange();
  // The two numbers of a one-row, two-column answer.
  Result<std::pair<int64_t, int64_t>> numbers(const std::string& sql);
  // Rolls [fromMs, toMs) of table `t` (an index of kRollupTables) at a new version; `replace`:
  // then deletes the range's rows of lower versions.
  Status roll(size_t t, int64_t fromMs, int64_t toMs, bool replace);
  Status rollDirty();
  // rolledMs_ = the least of rolled_.
  void publish();
  int64_t chunkMs() const;
  void run();
  int64_t now() const;

  MetricRollupOptions options_;
  std::unique_ptr<ChdbConnection> conn_;     // the rollup thread's (or runOnce's caller's)
  std::unique_ptr<ChdbConnection> control_;  // stop()'s, to cancel the running statement
  std::atomic<bool> cancelled_{false};       // set by stop() while it cancels
  std::atomic<int64_t> rolledMs_{0};
  // The end of what a pass has read or is reading: points inserted before it are dirty.
  std::atomic<int64_t> claimedMs_{0};
  uint64_t version_ = 0;  // of the last statement; strictly increasing
  // Per table of kRollupTables (the rollup thread's): where its rolled range ends, and below
  // which a range rolled again replaces what is there (after a failure, and at start).
  int64_t rolled_[std::size(kRollupTables)] = {};
  int64_t replaceUntil_[std::size(kRollupTables)] = {};

  std::mutex dirtyMu_;
  std::set<std::pair<size_t, int64_t>> dirty_;  // (table, bucket start ms); guarded by dirtyMu_
  // Past maxDirtyBuckets: (table, start of a `chunk`-aligned range ms); guarded by dirtyMu_.
  std::set<std::pair<size_t, int64_t>> dirtyChunks_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;

  Counter* closedBuckets_ = nullptr;
  Counter* lateBuckets_ = nullptr;
  Counter* failures_ = nullptr;
  Counter* milliseconds_ = nullptr;
  Gauge* rolledUntil_ = nullptr;
};

}  // namespace stackhouse::store
