// SqlExecutor: what the query side runs a checked statement through, so that the same query code
// reads the embedded engine (ChdbConnection) or a remote ClickHouse (ClickhouseHttpExecutor).
//
// Contract: run() executes exactly the statement given (one statement, already checked by its
// caller: an executor never parses or checks user text), with ClickHouse query parameters bound
// server-side, and answers in `format`. One statement at a time per executor; separate executors
// run concurrently. After a failure, lastError() holds the engine's code, name and message.
// `queryId` (letters, digits, '-'; may be empty) names the statement so that
// killStatement(queryId), run on another executor to the same engine while it runs, cancels it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/store_error.h"

namespace stackhouse::store {

struct QueryOutput {
  std::string data;  // the result in the requested format
  double elapsedSeconds = 0;
  uint64_t rowsRead = 0;
  uint64_t bytesRead = 0;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// The bounds of one user query, as ClickHouse settings (the embedded read connections set them
// once; a remote executor sends them with every statement).
struct QueryBounds {
  uint64_t maxExecutionSeconds = 30;      // max_execution_time
  uint64_t maxMemoryBytes = 1ull << 30;   // max_memory_usage, per query
  uint64_t maxResultBytes = 32ull << 20;  // max_result_bytes (in the engine's blocks)
  uint64_t maxQueryBytes = 1ull << 20;    // max_query_size: the SQL text the parser takes
};

class SqlExecutor {
 public:
  virtual ~SqlExecutor() = default;

  virtual Result<QueryOutput> run(std::string_view sql, std::string_view format,
                                  const QueryParams& params, std::string_view queryId) = 0;
  virtual const EngineError& lastError() const = 0;
  // The statement that cancels the one running under `queryId` (ours, never user text).
  virtual std::string killStatement(std::string_view queryId) const = 0;
};

}  // namespace stackhouse::store
