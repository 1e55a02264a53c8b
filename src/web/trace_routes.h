// The trace and services routes (query/trace_api.h says what each request and answer holds):
//   GET  /api/v1/traces/<traceId>     one trace's spans and logs
//   POST /api/v1/services             per service figures over a range
//   POST /api/v1/services/operations  one service's operations and slowest traces
// Each runs its statements (a trace's two at once) on the QueryService (bounded, cancelled when the
// client leaves, 429 when every query slot is taken).
#pragma once

#include "query/query_service.h"
#include "web/api_handler.h"
#include "web/search_routes.h"

namespace stackhouse::web {

inline constexpr std::string_view kTracePathPrefix = "/api/v1/traces/";

// Registered with ApiHandler::addPrefix(kTracePathPrefix): the id is the rest of the path.
Route traceRoute(query::QueryService& queries);
Route servicesRoute(query::QueryService& queries, NowNs now = systemNowNs);
Route operationsRoute(query::QueryService& queries, NowNs now = systemNowNs);

// Registers the three routes above on `api`.
void addTraceRoutes(ApiHandler& api, query::QueryService& queries);

}  // namespace stackhouse::web
