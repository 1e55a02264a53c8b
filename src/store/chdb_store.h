// ChdbStore: the embedded ClickHouse store.
//
// Owns two connections to one data directory: a write connection that inserts batches, and a
// read connection that runs user queries after `SET readonly = 1` (which blocks file(), url(),
// path tables, DDL and writes, and cannot be undone from that connection). At open it creates
// the exporter schema in the `otel` database and applies a changed TTL to existing tables.
//
// Thread-safety: insert() is called by one thread at a time (the pipeline's insert thread);
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

struct StoreOptions {
  std::string dataDir;              // the engine's data path
  uint64_t ttlSeconds = 72 * 3600;  // retention of every table
  uint64_t maxMemoryBytes = 0;      // the engine's own memory cap (ChdbConnection::open); 0: none
};

class ChdbStore {
 public:
  // Opens the engine, creates the schema, applies the TTL. Start-up only.
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

  // Runs a user query on the read-only connection, with ClickHouse query parameters. On failure
  // `error`, when given, receives ClickHouse's code, name and message.
  Result<QueryOutput> query(std::string_view sql, std::string_view format,
                            const QueryParams& params, EngineError* error = nullptr);

  // Runs a statement on the write connection (maintenance and tests).
  Result<QueryOutput> execute(std::string_view sql, std::string_view format = "TSV");

 private:
  ChdbStore() = default;
  Status createSchema(uint64_t ttlSeconds);
  Status insertStream(std::string_view table, const std::vector<telemetry::ArrowExport*>& parts,
                      std::string_view dedupToken);
  Status retryStream(std::string_view table, const std::vector<telemetry::ArrowExport*>& parts,
                     std::string_view dedupToken);
  Status insertMissing(std::string_view table, const std::vector<telemetry::ArrowExport*>& parts);
  // The insert setting that keeps valid rows under the engine's partitions-per-insert limit.
  std::string partitionLimit() const;
  // How many blocks the engine has skipped as already stored, since it started.
  Result<uint64_t> skippedBlocks();
  // Registers `parts` as one Arrow stream and runs `sql` (an INSERT INTO … up to its SELECT)
  // followed by "SELECT * FROM arrowstream(<the stream>)".
  Status insertFromStream(const std::vector<telemetry::ArrowExport*>& parts, std::string sql);

  std::unique_ptr<ChdbConnection> writer_;  // used by the insert thread only
  std::mutex readMu_;
  std::unique_ptr<ChdbConnection> reader_;  // guarded by readMu_
  uint64_t streamSeq_ = 0;                  // insert thread only
  uint64_t ttlSeconds_ = 0;                 // 0: no retention
  EngineError lastInsertError_;             // insert thread only
};

}  // namespace stackhouse::store
