// The SQL API: POST /api/v1/sql with {"query": "...", "params": {"name": value}}.
//
// The query runs through runUserQuery (user_query.h): parsed by the engine, checked against the
// allowlist, run on a bounded read-only connection with ClickHouse query parameters ({name:Type}
// placeholders; values never spliced into the SQL). The answer is
//   {"columns": [{"name": ..., "type": ...}], "rows": [[...], ...], "elapsed_ms": n}
// with ClickHouse's JSON rendering of values (64-bit integers quoted). Errors are
//   {"error": {"code": <ClickHouse code or 0>, "name": "...", "message": "..."}}
// with a 4xx status (400 for bad queries, 403 for refused ones, 413 past a size limit).
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"
#include "query/user_query.h"
#include "store/chdb_store.h"

namespace stackhouse::query {

struct SqlRequest {
  std::string sql;
  store::QueryParams params;
};

// Parses a request body; a SqlApiReply (400) when it is not {"query": string, "params": {...}}.
std::variant<SqlRequest, SqlApiReply> parseSqlRequest(std::string_view body);

// Parses the request body and runs it on the store's own read connection. Thread-safe.
SqlApiReply runSqlRequest(store::ChdbStore& store, std::string_view body);

// The same for a query given directly (the `stackhouse sql` command).
SqlApiReply runSql(store::ChdbStore& store, std::string_view sql, const store::QueryParams& params);

}  // namespace stackhouse::query
