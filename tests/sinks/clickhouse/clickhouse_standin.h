// A stand-in for a ClickHouse server: it speaks ClickHouse's HTTP interface and executes every
// statement in the embedded engine (chDB), so the real engine parses every byte a client sends.
// No modern ClickHouse server runs on the test machines; this is what the remote ClickHouse sink
// is tested against (tests/sinks/clickhouse/README.md).
//
// What it checks, as ClickHouse does: the path (`/`, `/ping`), the method (GET runs only reading
// statements), the user and password (X-ClickHouse-User/X-ClickHouse-Key, basic auth or the
// user/password parameters; one way only), Content-Encoding (gzip, zstd; others refused), the
// `compress`/`decompress` parameters (ClickHouse's own block compression: refused, 0 accepted),
// every other URL parameter as a setting (an unknown one fails with UNKNOWN_SETTING, code 115),
// `param_<name>` as query parameters. The query comes from `query` or the body; an INSERT's rows
// from the body (after the query's FORMAT clause when the query is in the body too). Failures are
// answered as ClickHouse does: an HTTP status by error code, X-ClickHouse-Exception-Code, and the
// body `Code: N. DB::Exception: <message>. (NAME) (version ...)`.
//
// How it runs them in the embedded engine (DESIGN.md's gotchas): rows are never inlined in SQL;
// the body is written to a temporary file and the INSERT becomes `... FROM INFILE '<file>'
// SETTINGS ... FORMAT <f>` (or `input('<structure>')` becomes `file('<file>', '<f>',
// '<structure>')`); an INSERT target must be qualified (db.table); one statement at a time on one
// connection, which ChdbConnection replaces after any failed statement.
//
// For outage and failure tests: stop() and restart() (same port), failNext() (answer the next
// statements with a given error without running them), delayNext() (run them, then answer only
// after a delay: the client's timeout passes while the rows are stored: a lost answer).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/server.h"
#include "store/chdb_connection.h"

namespace stackhouse::testing {

struct StandinOptions {
  std::string dataPath;  // the engine's data path (one per process: share it with a ChdbStore)
  std::string tempDir;   // where INSERT bodies are written for the statement's time
  std::string user = "default";
  std::string password;  // required when not empty
  uint16_t port = 0;     // 0: a free one
  // Also serve /standin/fail, /standin/delay, /standin/down and /standin/stats (the standalone
  // binary, for tests in other processes; see clickhouse_standin_main.cc).
  bool control = false;
};

class ClickhouseStandin {
 public:
  static Result<std::unique_ptr<ClickhouseStandin>> start(StandinOptions options);
  ~ClickhouseStandin();

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Goes down: the listener and every connection close (clients get refused connections).
  void stop();
  // Comes back on the same port.
  Status restart();

  // The next `count` statements are answered with this error and not run.
  void failNext(int count, int httpStatus, int code, std::string name, std::string message);
  // The next `count` statements are run, and answered `delay` later.
  void delayNext(int count, std::chrono::milliseconds delay);

  // Statements run in the engine (not those refused before), and the SQL of each, as run.
  uint64_t statementsRun() const { return statementsRun_.load(); }
  std::vector<std::string> executed() const;
  // Runs SQL directly in the engine (test assertions).
  Result<std::string> query(const std::string& sql);

 private:
  explicit ClickhouseStandin(StandinOptions options) : options_(std::move(options)) {}
  Status listen();
  void handle(http::Request&& request, http::Respond respond);
  http::Response execute(http::Request& request);
  http::Response control(const http::Request& request);

  StandinOptions options_;
  uint16_t port_ = 0;
  std::unique_ptr<http::Server> server_;
  mutable std::mutex mu_;  // guards all below, and serialises statements on conn_
  std::unique_ptr<store::ChdbConnection> conn_;
  std::set<std::string> settingNames_;
  struct Failure {
    int httpStatus = 500;
    int code = 0;
    std::string name;
    std::string message;
  };
  int failCount_ = 0;
  Failure failure_;
  int delayCount_ = 0;
  std::chrono::milliseconds delay_{0};
  uint64_t fileSeq_ = 0;
  std::vector<std::string> executed_;
  std::atomic<uint64_t> statementsRun_{0};
};

}  // namespace stackhouse::testing
