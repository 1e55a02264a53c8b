// From a search tree (search_ast.h) to a ClickHouse WHERE expression with query parameters.
//
// No user text is ever placed in the SQL: every value, attribute key and pattern is a parameter
// ({p0:String}, {p1:Float64}, ...), and the SQL itself is built only from fixed fragments and
// the names of known columns. The rules are in README.md beside this file. Pure computation: any
// thread, no engine.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.h"
#include "common/status.h"
#include "query/search/search_ast.h"

namespace stackhouse::query::search {

// kMetrics filters the points of one metric (any of the five otel_metrics_* tables): there is no
// free text; a bare key looks in Attributes, then ResourceAttributes.
enum class Source : unsigned char { kLogs, kTraces, kMetrics };

// "logs", "traces" or "metrics"; anything else is an error.
Result<Source> parseSource(std::string_view name);
// The table in the `otel` database: otel_logs or otel_traces (empty for kMetrics: five tables).
std::string_view tableOf(Source source);

struct SqlParam {
  std::string name;   // p0, p1, ...
  std::string type;   // String or Float64
  std::string value;  // the raw value (not escaped for the engine's text form)
};

struct SqlFilter {
  std::string where;  // a boolean ClickHouse expression; "1" for the empty query
  std::vector<SqlParam> params;
  // The query requires a trace or span id to equal a value (`trace_id:<id>`, alone or ANDed with
  // more): it matches one trace's records at most, so its page never fills from a narrow window
  // of the range and the search reads the whole range at once (search_api.h).
  bool pinsAnId = false;
};

// Builds the filter of `node` for `source`. Parameter names start with `prefix` (default "p")
// followed by a number. Errors (kInvalidArgument) name the column of the offending term:
// "duration takes a number, not 'slow' at column 10".
Result<SqlFilter> buildFilter(const Node& node, Source source, std::string_view prefix = "p");

// parseSearch + buildFilter.
Result<SqlFilter> searchToSql(std::string_view query, Source source);

// Whether `name` is a column of the source's table that a search may select or sort by.
bool isColumn(Source source, std::string_view name);

// The tokens of `text` as ClickHouse's hasToken sees them: runs of ASCII letters and digits and
// non-ASCII bytes; everything else separates.
std::vector<std::string> tokensOf(std::string_view text);

}  // namespace stackhouse::query::search
