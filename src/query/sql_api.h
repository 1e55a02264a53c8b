// The SQL API: POST /api/v1/sql with {"query": "...", "params": {"name": value}}.
//
// The query runs on the store's read-only connection with ClickHouse query parameters
// ({name:Type} placeholders; values never spliced into the SQL). The answer is
//   {"columns": [{"name": ..., "type": ...}], "rows": [[...], ...], "elapsed_ms": n}
// with ClickHouse's JSON rendering of values (64-bit integers quoted). Errors are
//   {"error": {"code": <ClickHouse code or 0>, "name": "...", "message": "..."}}
// with a 4xx status (400 for bad queries, 403 for refused ones).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "store/chdb_store.h"

namespace stackhouse::query {

struct SqlApiReply {
  int httpStatus = 200;
  std::string json;
};

// Parses the request body, checks the query, runs it, shapes the answer. Thread-safe.
SqlApiReply runSqlRequest(store::ChdbStore& store, std::string_view body);

// The same for a query given directly (the `stackhouse sql` command).
SqlApiReply runSql(store::ChdbStore& store, std::string_view sql, const store::QueryParams& params);

}  // namespace stackhouse::query
