// DiskBudget: keeps the embedded store's telemetry within
// clickstack.clickhouse.persistence.dataSize by dropping the oldest day partitions before the
// budget is passed.
//
// A thread ("disk-budget") measures the store every `interval` (system.parts, bytes_on_disk of
// the active parts of the telemetry tables). Past `highWatermark` of the budget it drops whole
// day partitions, oldest day first and every table's partition of that day together, until the
// store is back under `lowWatermark` of it: a check acts before the budget is reached, and
// leaves room for what arrives until the next one. The newest day is never dropped (it is being
// written): a budget too small for one day's data is logged instead. The trace-id lookup table
// (weekly partitions) loses a week once no day of that week is left in otel_traces. Each drop is
// logged (table, partition, bytes) and counted:
//   stackhouse_store_disk_budget_partitions_dropped_total, ..._bytes_dropped_total,
//   stackhouse_store_data_bytes (the last measure).
// Parts a drop leaves outdated are removed by the engine within minutes (old_parts_lifetime).
//
// It runs its statements on a connection of its own (ChdbStore::openControlConnection), never
// on the insert or query connections. Thread-safety: start() and stop() from one thread (the
// one that owns it); checkOnce() is for tests, not while the thread runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "store/chdb_store.h"

namespace stackhouse::store {

struct DiskBudgetOptions {
  uint64_t maxBytes = 50ull << 30;  // clickstack.clickhouse.persistence.dataSize
  std::chrono::milliseconds interval{30'000};
  double highWatermark = 0.9;  // act past this share of maxBytes
  double lowWatermark = 0.8;   // drop until under this share
};

struct DroppedPartition {
  std::string table;
  std::string partitionId;  // YYYYMMDD
  uint64_t bytes = 0;
};

struct BudgetCheck {
  uint64_t bytesBefore = 0;
  uint64_t bytesAfter = 0;  // measured again after the drops
  std::vector<DroppedPartition> dropped;
};

class DiskBudget {
 public:
  // `metrics` may be null. Start-up: opens the connection it works on.
  static Result<std::unique_ptr<DiskBudget>> create(ChdbStore& store, DiskBudgetOptions options,
                                                    MetricsRegistry* metrics);
  ~DiskBudget();
  DiskBudget(const DiskBudget&) = delete;
  DiskBudget& operator=(const DiskBudget&) = delete;

  void start();
  // Stops the thread (waits for a check in progress). Idempotent; safe without start().
  void stop();

  // One measure and, past the high watermark, the drops.
  Result<BudgetCheck> checkOnce();

 private:
  DiskBudget(std::unique_ptr<ChdbConnection> conn, DiskBudgetOptions options,
             MetricsRegistry* metrics);
  void run();
  Result<uint64_t> measure();

  std::unique_ptr<ChdbConnection> conn_;
  DiskBudgetOptions options_;
  Counter* partitionsDropped_ = nullptr;
  Counter* bytesDropped_ = nullptr;
  Gauge* dataBytes_ = nullptr;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
  bool warnedTooSmall_ = false;  // the check thread only
};

}  // namespace stackhouse::store
