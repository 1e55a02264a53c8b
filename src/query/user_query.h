// Runs one piece of user text as SQL, safely: the one path from user text to the engine, used by
// the SQL API, `stackhouse sql` and (later) the UI's SQL mode and tiles.
//
//   1. The text is refused past kMaxUserQueryBytes, before anything parses it.
//   2. The engine formats it: `SELECT formatQuerySingleLine({text})`, the text a query parameter
//      (never spliced). A syntax error or a second statement fails here.
//   3. The engine prints the parse tree of the formatted text (`EXPLAIN AST <formatted>`; that
//      text is the engine's own rendering of one statement, so it can be placed after EXPLAIN).
//   4. checkQueryTree (sql_guard.h) decides. When the telemetry database is not `otel` (a remote
//      ClickHouse's otelConfig.exporters.clickhouse.database), the `otel.` qualifiers of the
//      formatted text are first mapped to it and the mapped text parsed and compared again
//      (sql_guard.h: mapLogicalDatabase); the mapped text is then the one checked and run.
//   5. The formatted text runs, with the caller's query parameters, on the executor: the same read
//      connection, or a remote ClickHouse (store/clickhouse_http_executor.h), bounded, readonly,
//      in the telemetry database, under the tag as its query id, so that it can be cancelled
//      with the executor's killStatement when its client goes away. Steps 2 to 4 always run on
//      the embedded engine: the engine whose parse the allowlist was written and tested against
//      decides, and the remote only ever receives the text that engine printed and passed.
//   6. The answer is shaped as the API's JSON and refused if larger than maxAnswerBytes.
//
// With a CheckedQueryCache (checked_query_cache.h), a text that passed steps 2 to 4 before for the
// same database goes straight to step 5 with the text that passed then.
//
// The connection passed in must be a read connection (ChdbStore::openQueryConnection); a failed
// statement on it is never seen by the next one (ChdbConnection replaces itself after a failure).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "query/checked_query_cache.h"
#include "query/sql_guard.h"
#include "store/chdb_connection.h"

namespace stackhouse::query {

struct SqlApiReply {
  int httpStatus = 200;
  std::string json;
};

struct UserQueryOptions {
  uint64_t maxAnswerBytes = 32ull << 20;  // the JSON answer; larger: 413, never a truncated answer
  std::string tag;  // e.g. "stackhouse-query-17": the query id, the KILL QUERY handle
  // The database the executor runs statements in, whose tables the query may read; queries name
  // it `otel` too. A validated identifier.
  std::string database = std::string(kLogicalDatabase);
  CheckedQueryCache* checked = nullptr;  // statements that passed steps 2 to 4 (may be null)
};

SqlApiReply runUserQuery(store::ChdbConnection& connection, std::string_view sql,
                         const store::QueryParams& params, const UserQueryOptions& options);
// Parses and checks on `parser` (an embedded read connection), runs on `executor`.
SqlApiReply runUserQuery(store::ChdbConnection& parser, store::SqlExecutor& executor,
                         std::string_view sql, const store::QueryParams& params,
                         const UserQueryOptions& options);

// A query parameter's value as the engine reads it: in the escaped text form (a raw newline ends
// the value, `\'` becomes `'`), so text that must arrive byte for byte is escaped first.
std::string escapeParamValue(std::string_view value);

// The JSON error answer {"error": {"code", "name", "message"}}.
SqlApiReply errorReply(int status, int code, std::string_view name, std::string_view message);

}  // namespace stackhouse::query
