// The metrics API's statements and answers (README.md in query/metrics says what each
// aggregation computes):
//   POST /api/v1/metrics/names       the catalogue: every metric with points in [from, to), its
//                                    type, unit, description, series and point counts
//   POST /api/v1/metrics/attributes  the attribute and resource attribute keys of one metric,
//                                    with their most frequent values (filter and group-by pickers)
//   POST /api/v1/metrics/query       one metric's chart: series of [unixMillis, value] points
// Every statement is built here with query parameters only (names, keys, filter values never
// reach the SQL text) and run through QueryService -> runUserQuery, so it is parsed by the engine,
// checked against the allowlist and bounded like every user query. Pure computation otherwise:
// any thread; the clock is passed in.
//
// /query request: {metric, type?, temporality?, monotonic?, aggregation?, where?, groupBy?,
// from?, to?, step?, comparePrevious?}; from/to as in the search API (RFC 3339 or epoch ms,
// default the last hour); step in ms or text ("30s", "5m"), default automatic. Without type (or,
// for a sum, without temporality and monotonic) a first statement looks the metric up.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "query/sql_api.h"

namespace stackhouse::query {

// Bounds of one /query answer.
inline constexpr int64_t kMaxMetricSeries = 500;   // series (groups) in an answer
inline constexpr int64_t kMaxMetricSteps = 1500;   // points per series: (to - from) / step
inline constexpr int64_t kMaxMetricRows = 500000;  // rows a statement may hand back
inline constexpr int kMaxGroupBy = 3;

enum class MetricType : unsigned char { kGauge, kSum, kHistogram, kExponentialHistogram, kSummary };

std::string_view metricTypeName(MetricType type);  // "gauge", "sum", ...
std::optional<MetricType> parseMetricType(std::string_view name);

// The aggregations of a type, the default first.
std::vector<std::string_view> aggregationsOf(MetricType type, bool monotonic, bool delta);

std::variant<SqlRequest, SqlApiReply> prepareMetricNames(std::string_view body, int64_t nowNs);
// {metrics: [{name, type, monotonic?, temporality?, unit, description, series, points,
// aggregations}], elapsed_ms}
SqlApiReply shapeMetricNamesReply(SqlApiReply raw);

std::variant<SqlRequest, SqlApiReply> prepareMetricAttributes(std::string_view body, int64_t nowNs);
// {attributes: [{key, source: "attribute"|"resource", series, values: [...]}], elapsed_ms}
SqlApiReply shapeMetricAttributesReply(SqlApiReply raw);

// Runs one statement and calls back exactly once with its answer (QueryService::submit in the
// server; a direct runUserQuery in tests).
using RunStatement = std::function<void(SqlRequest, std::function<void(SqlApiReply)>)>;

// Answers one /query request: the metric's lookup when the request does not give its type, the
// statement of [from, to) and, with comparePrevious, of the range just before it; `done` is
// called exactly once, on whichever thread `run` calls back on. `rolledUntilMs`: the end of the
// embedded store's 5-minute rollups of gauges and sums (store/metric_rollup.h; 0: none): a chart
// whose step is a multiple of 5 minutes reads the closed buckets before it from the rollups and
// the rest of its range from the points, with the same answer.
void runMetricQuery(std::string_view body, int64_t nowNs, const RunStatement& run,
                    std::function<void(SqlApiReply)> done, int64_t rolledUntilMs = 0);

}  // namespace stackhouse::query
