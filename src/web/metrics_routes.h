// The metrics API's routes (query/metrics_api.h says what each request and answer holds):
//   POST /api/v1/metrics/names       the metric catalogue of a time range
//   POST /api/v1/metrics/attributes  one metric's attribute keys and their frequent values
//   POST /api/v1/metrics/query       one metric's chart: series of [unixMillis, value] points
// Each statement runs on the QueryService: bounded, cancelled when its client leaves, and 429
// when every query slot is taken. A /query runs up to three statements one after another (the
// metric's lookup, its range, the previous range), each taking a slot only while it runs.
#pragma once

#include "query/query_service.h"
#include "web/api_handler.h"
#include "web/search_routes.h"

namespace stackhouse::web {

Route metricNamesRoute(query::QueryService& queries, NowNs now = systemNowNs);
Route metricAttributesRoute(query::QueryService& queries, NowNs now = systemNowNs);
Route metricQueryRoute(query::QueryService& queries, NowNs now = systemNowNs);

// Registers the three routes above on `api`.
void addMetricRoutes(ApiHandler& api, query::QueryService& queries);

}  // namespace stackhouse::web
