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

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/sql_executor.h"
#include "store/store_error.h"

struct ArrowArrayStream;

namespace stackhouse::store {

struct ConnectOptions {
  // Not 0: caps the memory the whole engine tracks (ClickHouse's max_server_memory_usage): past
  // it, statements and merges fail with MEMORY_LIMIT_EXCEEDED instead of growing the process.
  uint64_t maxMemoryBytes = 0;
  // Not 0: the engine keeps up to this many bytes of decompressed column blocks
  // (uncompressed_cache_size) for the statements that ask for it (use_uncompressed_cache).
  uint64_t uncompressedCacheBytes = 0;
  // For commands that only read a data directory. The engine is started with a configuration
  // under which it selects no merge (every part is above the largest size it may merge), keeps
  // outdated parts and temporary directories, and drops no empty part, so that what it does in
  // the background changes nothing on disk. What it still writes, measured on this engine: its
  // lock file `status` (created at the open, removed when the last connection closes, left
  // behind by a kill) and, at each table's start, the removal of `tmp_*` part directories that a
  // killed insert or merge left (ClickHouse's StorageMergeTree::startup always clears them; they
  // hold no committed row).
  bool readOnly = false;
  // Run on the new connection now and again whenever it is replaced (session settings, `USE db`,
  // `SET readonly = 1`); a failing set-up statement fails the open.
  std::vector<std::string> setup;
};

class ChdbConnection : public SqlExecutor {
 public:
  // Opens a connection on `dataPath` (created if missing). The engine is one per process: the
  // first open sets its options, and every connection of a process must use the same path.
  // What the engine prints on stderr while it opens is kept off the terminal (the process's
  // stderr goes to a memory file for the call; what other threads write there meanwhile is
  // held too) and becomes the error's message; after a successful open it is passed on. Fails with
  // kUnavailable when another process holds the directory (the engine's lock on its `status` file),
  // kInternal otherwise.
  static Result<std::unique_ptr<ChdbConnection>> open(const std::string& dataPath,
                                                      ConnectOptions options = {});
  ~ChdbConnection() override;
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

  // SqlExecutor: the statement runs behind the comment `/* <queryId> */ ` (when not empty), by
  // which killStatement finds it in system.processes.
  Result<QueryOutput> run(std::string_view sql, std::string_view format, const QueryParams& params,
                          std::string_view queryId) override;
  std::string killStatement(std::string_view queryId) const override;

  const EngineError& lastError() const override { return lastError_; }
  // How many times this connection was replaced after a failed statement (tests, metrics).
  uint64_t replacements() const { return replacements_; }

 private:
  ChdbConnection(std::string dataPath, ConnectOptions options)
      : dataPath_(std::move(dataPath)), options_(std::move(options)) {}
  // Opens the engine connection and runs the set-up statements. `first`: the open at start,
  // whose engine messages are captured.
  Status connect(bool first);
  // Replaces the connection when the last statement failed; OK when it is usable.
  Status ready();
  Result<QueryOutput> finish(void* result);

  std::string dataPath_;
  ConnectOptions options_;
  void* handle_ = nullptr;  // chdb_connection*
  int configFd_ = -1;       // the engine's configuration (a memory file) when read-only, else -1
  bool failed_ = false;     // the last statement failed: replace before the next one
  uint64_t replacements_ = 0;
  EngineError lastError_;
};

}  // namespace stackhouse::store
