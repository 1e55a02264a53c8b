// ChdbConnection: one connection to the embedded ClickHouse engine (chDB).
//
// One connection runs one statement at a time; callers serialise their use of a connection
// (the store keeps one for inserts and read-only ones for queries). Several connections to the
// same path run concurrently. The engine opens one data path per process: every connection of a
// process must use the same path.
//
// A connection that saw a statement fail is replaced before its next statement. The engine can
// answer the statement after a failed one with the failed one's partial output (measured: after
// `throwIf` failed on row 70,000, the next `SELECT 42` returned the first client's rows), so no
// statement ever runs on a connection after a failure: the next call closes it and opens a fresh
// one (about 30 ms), then runs the connection's set-up statements again.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/store_error.h"

struct ArrowArrayStream;

namespace stackhouse::store {

struct QueryOutput {
  std::string data;  // the result in the requested format
  double elapsedSeconds = 0;
  uint64_t rowsRead = 0;
  uint64_t bytesRead = 0;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

class ChdbConnection {
 public:
  // Opens a connection on `dataPath` (created if missing). Fails with the engine's message.
  // `maxMemoryBytes` (not 0) caps the memory the whole engine tracks (ClickHouse's
  // max_server_memory_usage): past it, statements and merges fail with MEMORY_LIMIT_EXCEEDED
  // instead of growing the process. The engine is one per process; the first open sets it.
  // `setup` runs on the new connection now and again whenever it is replaced (session settings,
  // `USE db`, `SET readonly = 1`); a failing set-up statement fails the open.
  static Result<std::unique_ptr<ChdbConnection>> open(const std::string& dataPath,
                                                      uint64_t maxMemoryBytes = 0,
                                                      std::vector<std::string> setup = {});
  ~ChdbConnection();
  ChdbConnection(const ChdbConnection&) = delete;
  ChdbConnection& operator=(const ChdbConnection&) = delete;

  // Runs one statement. Errors carry ClickHouse's code and message (see toStatus); `lastError()`
  // keeps the parsed form of the most recent failure.
  Result<QueryOutput> query(std::string_view sql, std::string_view format = "TSV");
  // Runs one statement with ClickHouse query parameters: {name:Type} placeholders bound to the
  // values server-side, never spliced into the SQL text.
  Result<QueryOutput> query(std::string_view sql, std::string_view format,
                            const QueryParams& params);

  // Registers `stream` as the table function arrowstream(`name`) for the next statements, until
  // unregisterArrow. The stream and what it points to must stay valid until then.
  Status registerArrow(const std::string& name, ArrowArrayStream* stream);
  void unregisterArrow(const std::string& name);

  const EngineError& lastError() const { return lastError_; }
  // How many times this connection was replaced after a failed statement (tests, metrics).
  uint64_t replacements() const { return replacements_; }

 private:
  ChdbConnection(std::string dataPath, uint64_t maxMemoryBytes, std::vector<std::string> setup)
      : dataPath_(std::move(dataPath)), maxMemoryBytes_(maxMemoryBytes), setup_(std::move(setup)) {}
  // Opens the engine connection and runs the set-up statements.
  Status connect();
  // Replaces the connection when the last statement failed; OK when it is usable.
  Status ready();
  Result<QueryOutput> finish(void* result);

  std::string dataPath_;
  uint64_t maxMemoryBytes_;
  std::vector<std::string> setup_;
  void* handle_ = nullptr;  // chdb_connection*
  bool failed_ = false;     // the last statement failed: replace before the next one
  uint64_t replacements_ = 0;
  EngineError lastError_;
};

}  // namespace stackhouse::store
