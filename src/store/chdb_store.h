// ChdbStore: the embedded ClickHouse store.
//
// Owns two connections to one data directory: a write connection that inserts batches, and a
// read connection for user queries; further read connections come from openQueryConnection. A
// read connection runs in the `otel` database with the QueryBounds set and then `SET readonly
// = 1`, which blocks DDL, writes and setting changes for good on that connection. In the
// embedded engine readonly does NOT block the scalar file() function, INTO OUTFILE, KILL QUERY,
// USE or DESCRIBE over table functions: user text must pass query/user_query.h. Opened read-write
// (by `stackhouse run` only), it creates the exporter schema in the `otel` database and applies a
// changed TTL and the part settings to existing tables. Opened read-only (by every command that
// only reads a data directory), it has no write connection and changes nothing: no schema, no
// retention, no setting (see OpenMode::kReadOnly).
//
// Thread-safety: insert() is called by one thread at a time (the clickhouse sink's worker);
// query() may be called from any thread (queries are serialised on the read connection).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/chdb_connection.h"
#include "telemetry/arrow_export.h"

namespace stackhouse::store {

class MetricRollup;

enum class OpenMode : unsigned char {
  // Creates the data path and the schema, applies the TTL and the part settings: `run` only.
  kReadWrite,
  // Reads what is there. The data path must hold the `otel` database (else kNotFound, and the
  // path is not created); no CREATE, no ALTER, no write connection; the engine runs with no
  // background merges or clean-ups (ConnectOptions::readOnly), and no query spills to disk.
  // Tables of the schema that are missing are listed by missingTables(). insert() and execute()
  // fail with kPermissionDenied.
  kReadOnly,
};

// Bounds on every statement of a read connection (QueryBounds, store/sql_executor.h), set before
// readonly (and so unchangeable by the statements themselves).
struct StoreOptions {
  std::string dataDir;              // the engine's data path
  uint64_t ttlSeconds = 72 * 3600;  // retention of every table; unused when read-only
  uint64_t maxMemoryBytes = 0;      // the engine's own memory cap (ChdbConnection::open); 0: none
  QueryBounds queryBounds;          // for the read connections
  OpenMode mode = OpenMode::kReadWrite;
};

// The engine's cache of decompressed column blocks, which user queries read through: a page of
// search results reads a few rows from each of many granules, and decompressing their blocks
// again was most of a repeated search's time (docs/benchmarks.md, "The uncompressed cache").
// 128 MiB, or an eighth of the engine's memory cap when that is smaller. Only user queries fill
// it; inserts and merges do not.
uint64_t uncompressedCacheBytes(uint64_t engineMemoryBytes);

class ChdbStore {
 public:
  // Opens the engine; read-write, also creates the schema and applies the TTL. Start-up only.
  // Fails with kNotFound when a read-only open finds no `otel` database, kUnavailable when
  // another process holds the data path.
  static Result<std::unique_ptr<ChdbStore>> open(const StoreOptions& options);
  ~ChdbStore();
  ChdbStore(const ChdbStore&) = delete;
  ChdbStore& operator=(const ChdbStore&) = delete;

  // Inserts the rows of `parts` (batches of one type) into that type's table as ONE insert,
  // committed when this returns OK. The parts are read in place through Arrow (no copy); they
  // must not change during the call.
  //
  // `dedupToken` identifies the group: the engine skips a block whose token it has recorded.
  // kRetry: an earlier insert with the same token may have stored some or all of the rows (a
  // retry after a failed insert, the replay of a group a killed process left unfinished). When
  // the engine skips a block as already stored, that is not trusted: the engine records a token
  // before it commits the part the token names, so a kill between the two leaves a token without
  // its rows. The rows the table does not hold are then found by comparing whole rows within the
  // group's time range, and inserted. A retry that the engine stores in full costs no more than a
  // first insert.
  // kCompare: part of a larger insert that failed, under another token, may be stored; the
  // rows are always compared with the table's (as a kRetry does once the engine skips a block).
  // Costs a scan of the group's time range: for the rare inserts that isolate a failure.
  enum class Mode : unsigned char { kNew, kRetry, kCompare };
  template <typename B>
  Status insert(std::span<const B* const> parts, std::string_view dedupToken,
                Mode mode = Mode::kNew) {
    if (parts.empty()) return Status::ok();
    std::vector<std::unique_ptr<telemetry::ArrowExport>> exports;
    std::vector<telemetry::ArrowExport*> raw;
    exports.reserve(parts.size());
    for (const B* part : parts) {
      if (part->rows() == 0) continue;
      exports.push_back(std::make_unique<telemetry::ArrowExport>());
      exports.back()->exportBatch(*part);
      raw.push_back(exports.back().get());
    }
    if (raw.empty()) return Status::ok();
    if (!writer_) return Status(StatusCode::kPermissionDenied, "the store is open read-only");
    lastInsertError_ = {};
    switch (mode) {
      case Mode::kNew: return insertStream(B::kTable, raw, dedupToken);
      case Mode::kRetry: return retryStream(B::kTable, raw, dedupToken);
      case Mode::kCompare: break;
    }
    return insertMissing(B::kTable, raw);
  }

  // The engine's error of the statement that made the last failed insert() fail; code 0 when
  // that insert failed for another reason (or has not failed). Insert thread only.
  const EngineError& lastInsertError() const { return lastInsertError_; }

  // Runs a statement on the store's own read connection, with ClickHouse query parameters. On
  // failure `error`, when given, receives ClickHouse's code, name and message. Not for user
  // text: that goes through query/user_query.h.
  Result<QueryOutput> query(std::string_view sql, std::string_view format,
                            const QueryParams& params, EngineError* error = nullptr);

  // Calls fn(ChdbConnection&) with the store's own read connection, one caller at a time.
  template <typename F>
  auto withReader(F&& fn) {
    std::lock_guard lock(readMu_);
    return fn(*reader_);
  }

  // A further read connection with `bounds` (the query service keeps one per worker). Thread-safe.
  Result<std::unique_ptr<ChdbConnection>> openQueryConnection(const QueryBounds& bounds);
  // A connection for control statements of our own (KILL QUERY of a user query whose client
  // went away); never sees user text.
  Result<std::unique_ptr<ChdbConnection>> openControlConnection();

  // A write connection for the store's own background work (store/metric_rollup.h): in the
  // `otel` database, at a low OS and query priority, each statement bounded to `maxMemoryBytes`
  // and 10 minutes. Never sees user text. kPermissionDenied when read-only.
  Result<std::unique_ptr<ChdbConnection>> openMaintenanceConnection(uint64_t maxMemoryBytes);

  // The rollup of metric points kept beside this store (store/metric_rollup.h), which the insert
  // path tells of the points it commits; null when there is none. Set at start-up, before inserts.
  void setRollup(MetricRollup* rollup) { rollup_ = rollup; }
  MetricRollup* rollup() const { return rollup_; }

  // Runs a statement on the write connection (maintenance and tests).
  Result<QueryOutput> execute(std::string_view sql, std::string_view format = "TSV");

  // Read-only: the tables of the schema the data path lacks (made by an older version, or by a
  // start cut short), which only `run` creates. Empty when read-write.
  const std::vector<std::string>& missingTables() const { return missingTables_; }

 private:
  ChdbStore() = default;
  Status createSchema(uint64_t ttlSeconds);
  // The metric tables' codecs of the embedded store (chdb_store.cc).
  Status useEmbeddedMetricCodecs(const std::string& table);
  Status openReader(const StoreOptions& options);
  Status findMissingTables();
  Status insertStream(std::string_view table, const std::vector<telemetry::ArrowExport*>& parts,
                      std::string_view dedupToken);
  Status retryStream(std::string_view table, const std::vector<telemetry::ArrowExport*>& parts,
                     std::string_view dedupToken);
  Status insertMissing(std::string_view table, const std::vector<telemetry::ArrowExport*>& parts);
  // The insert setting that keeps valid rows under the engine's partitions-per-insert limit.
  std::string partitionLimit() const;
  // A connection with the engine's options (memory cap, uncompressed cache, read-only) and `setup`.
  Result<std::unique_ptr<ChdbConnection>> openConnection(std::vector<std::string> setup) const;
  // Whether otel.<table> has a `name` in system.<catalog> (projections, data_skipping_indices).
  Result<bool> tableHas(std::string_view catalog, const std::string& table,
                        const std::string& name);
  // How many blocks the engine has skipped as already stored, since it started.
  Result<uint64_t> skippedBlocks();
  // Registers `parts` as one Arrow stream and runs `sql` (an INSERT INTO … up to its SELECT)
  // followed by "SELECT * FROM arrowstream(<the stream>)".
  Status insertFromStream(const std::vector<telemetry::ArrowExport*>& parts, std::string sql);

  std::string dataDir_;
  uint64_t maxMemoryBytes_ = 0;
  bool readOnly_ = false;
  std::unique_ptr<ChdbConnection> writer_;  // used by the insert thread only
  std::mutex readMu_;
  std::unique_ptr<ChdbConnection> reader_;  // guarded by readMu_
  uint64_t streamSeq_ = 0;                  // insert thread only
  std::vector<std::string> missingTables_;  // set at open
  uint64_t ttlSeconds_ = 0;                 // 0: no retention
  EngineError lastInsertError_;             // insert thread only
  MetricRollup* rollup_ = nullptr;          // set before inserts start
};

}  // namespace stackhouse::store
