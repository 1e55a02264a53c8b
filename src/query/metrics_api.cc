#include "query/metrics_api.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>

#include "common/json_writer.h"
#include "query/metrics/metric_math.h"
#include "query/search/search_sql.h"
#include "query/search_api.h"
#include "store/schema.h"

namespace stackhouse::query {

namespace {

using metrics::ExplicitHistogram;
using metrics::ExponentialHistogram;

constexpr int64_t kNsPerMs = 1000000;
constexpr int64_t kDefaultRangeMs = int64_t{3600} * 1000;
// A cumulative series' first step needs the point before it: points this long before the first
// step are read (at least one step).
constexpr int64_t kLookbackMs = int64_t{5} * 60 * 1000;
constexpr size_t kMaxMetricNameBytes = 1024;

SqlApiReply badRequest(std::string_view message) {
  return errorReply(400, 0, "BAD_REQUEST", message);
}

SqlApiReply notShaped() {
  return errorReply(500, 0, "INTERNAL", "the store returned an answer of an unexpected shape");
}

constexpr std::string_view kTables[] = {
    "otel_metrics_gauge", "otel_metrics_sum", "otel_metrics_histogram",
    "otel_metrics_exponential_histogram", "otel_metrics_summary"};
constexpr std::string_view kTypeNames[] = {"gauge", "sum", "histogram", "exponential_histogram",
                                           "summary"};

std::string_view tableOf(MetricType type) { return kTables[static_cast<size_t>(type)]; }

// The parts of a request every endpoint reads.
struct Range {
  int64_t fromMs = 0;
  int64_t toMs = 0;
};

bool readTimeMs(simdjson::dom::element root, const char* key, int64_t* ms, bool* present,
                std::string* error) {
  simdjson::dom::element v;
  *present = false;
  if (root[key].get(v) != simdjson::SUCCESS || v.is_null()) return true;
  *present = true;
  if (v.is_int64() || v.is_uint64() || v.is_double()) {
    const double d = v.is_double() ? v.get_double().value()
                                   : static_cast<double>(v.is_int64() ? v.get_int64().value()
                                                                      : v.get_uint64().value());
    if (!std::isfinite(d) || std::fabs(d) > 9.2e12) {
      *error = std::string("\"") + key + "\" is out of range";
      return false;
    }
    *ms = static_cast<int64_t>(d);
    return true;
  }
  std::string_view text;
  int64_t ns = 0;
  if (v.get_string().get(text) == simdjson::SUCCESS && parseTimestamp(text, &ns)) {
    *ms = ns / kNsPerMs - (ns % kNsPerMs < 0 ? 1 : 0);
    return true;
  }
  *error = std::string("\"") + key + "\" must be RFC 3339 text or epoch milliseconds";
  return false;
}

std::variant<Range, SqlApiReply> readRange(simdjson::dom::element root, int64_t nowNs) {
  Range r;
  std::string error;
  bool hasFrom = false, hasTo = false;
  if (!readTimeMs(root, "from", &r.fromMs, &hasFrom, &error) ||
      !readTimeMs(root, "to", &r.toMs, &hasTo, &error)) {
    return badRequest(error);
  }
  if (!hasTo) r.toMs = nowNs / kNsPerMs;
  if (!hasFrom) r.fromMs = r.toMs - kDefaultRangeMs;
  if (r.fromMs >= r.toMs) return badRequest("\"from\" must be before \"to\"");
  return r;
}

std::variant<simdjson::dom::element, SqlApiReply> parseBody(simdjson::dom::parser& parser,
                                                            std::string_view body) {
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS ||
      !root.is_object()) {
    return badRequest("the body must be a JSON object");
  }
  return root;
}

// A string field: absent or null leaves *out; anything but a string is an error.
bool readString(simdjson::dom::element root, const char* key, std::string* out,
                std::string* error) {
  simdjson::dom::element v;
  if (root[key].get(v) != simdjson::SUCCESS || v.is_null()) return true;
  std::string_view text;
  if (v.get_string().get(text) != simdjson::SUCCESS) {
    *error = std::string("\"") + key + "\" must be a string";
    return false;
  }
  *out = text;
  return true;
}

std::string timeFilter(store::QueryParams& params, int64_t fromMs, int64_t toMs) {
  params.emplace_back("t_from", std::to_string(fromMs * kNsPerMs));
  params.emplace_back("t_to", std::to_string(toMs * kNsPerMs));
  return "TimeUnix >= fromUnixTimestamp64Nano({t_from:Int64}) AND TimeUnix < "
         "fromUnixTimestamp64Nano({t_to:Int64})";
}

// Reads the runUserQuery answer's rows; false when it is not {columns, rows}.
bool readAnswer(simdjson::dom::parser& parser, const std::string& json, simdjson::dom::array* rows,
                double* elapsedMs) {
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return false;
  if (root["rows"].get_array().get(*rows) != simdjson::SUCCESS) return false;
  double e = 0;
  if (root["elapsed_ms"].get_double().get(e) == simdjson::SUCCESS) *elapsedMs += e;
  return true;
}

// A number as ClickHouse's JSON writes it: a number, 64-bit integers quoted, NaN as null.
double number(simdjson::dom::element v) {
  double d = 0;
  if (v.get_double().get(d) == simdjson::SUCCESS) return d;
  int64_t i = 0;
  if (v.get_int64().get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  uint64_t u = 0;
  if (v.get_uint64().get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    double parsed = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), parsed);
    if (r.ec == std::errc()) return parsed;
  }
  return NAN;
}

std::string text(simdjson::dom::element v) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::minify(v);
}

std::vector<double> numbers(simdjson::dom::element v) {
  std::vector<double> out;
  simdjson::dom::array a;
  if (v.get_array().get(a) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element x : a) out.push_back(number(x));
  return out;
}

bool isCumulative(int64_t temporality) { return temporality != 1; }  // OTLP: 1 delta, 2 cumulative

}  // namespace

std::string_view metricTypeName(MetricType type) { return kTypeNames[static_cast<size_t>(type)]; }

std::optional<MetricType> parseMetricType(std::string_view name) {
  for (size_t i = 0; i < std::size(kTypeNames); ++i) {
    if (name == kTypeNames[i]) return static_cast<MetricType>(i);
  }
  return std::nullopt;
}

std::vector<std::string_view> aggregationsOf(MetricType type, bool monotonic, bool delta) {
  switch (type) {
    case MetricType::kGauge: return {"avg", "last", "min", "max", "sum"};
    case MetricType::kSum:
      if (delta) return {"sum", "rate", "increase", "avg", "min", "max"};
      if (monotonic) return {"rate", "increase", "last", "avg", "min", "max"};
      return {"last", "avg", "min", "max"};
    case MetricType::kHistogram:
    case MetricType::kExponentialHistogram: return {"p99", "p95", "p90", "p50", "avg", "rate"};
    case MetricType::kSummary: return {"p99", "p95", "p90", "p50"};
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// The catalogue and the lookup of one metric.

namespace {

// One SELECT per table: name, type, monotonic, temporality, unit, description, series, points.
// With `one` set (the lookup of one metric), the name is a parameter and each table stops at
// its first point.
std::string catalogueSql(store::QueryParams& params, int64_t fromMs, int64_t toMs,
                         const std::string& nameFilter, bool one) {
  const std::string range = timeFilter(params, fromMs, toMs);
  std::string where = range;
  if (one) {
    params.emplace_back("m", escapeParamValue(nameFilter));
    where += " AND MetricName = {m:String}";
  } else if (!nameFilter.empty()) {
    params.emplace_back("m", escapeParamValue(nameFilter));
    where += " AND positionCaseInsensitive(MetricName, {m:String}) > 0";
  }
  std::string sql;
  for (size_t i = 0; i < std::size(kTables); ++i) {
    const auto type = static_cast<MetricType>(i);
    const bool isSum = type == MetricType::kSum;
    const bool hasTemporality =
        isSum || type == MetricType::kHistogram || type == MetricType::kExponentialHistogram;
    if (!sql.empty()) sql += "\nUNION ALL\n";
    const std::string monotonic = isSum ? "toUInt8(IsMonotonic)" : "toUInt8(0)";
    const std::string temporality = hasTemporality ? "AggregationTemporality" : "toInt32(0)";
    if (one) {
      sql += "SELECT * FROM (SELECT MetricName AS name, '" + std::string(kTypeNames[i]) +
             "' AS type, " + monotonic + " AS monotonic, " + temporality +
             " AS temporality, MetricUnit AS unit, MetricDescription AS description, "
             "toUInt64(0) AS series, toUInt64(0) AS points FROM otel." +
             std::string(kTables[i]) + " WHERE " + where + " LIMIT 1)";
    } else {
      sql += "SELECT MetricName AS name, '" + std::string(kTypeNames[i]) + "' AS type, " +
             monotonic + " AS monotonic, " + temporality +
             " AS temporality, any(MetricUnit) AS unit, any(MetricDescription) AS description, "
             "uniq(SeriesId) AS series, count() AS points FROM otel." +
             std::string(kTables[i]) + " WHERE " + where + " GROUP BY name, monotonic, temporality";
    }
  }
  if (!one) sql = "SELECT * FROM (" + sql + ")\nORDER BY name, type LIMIT 10001";
  return sql;
}

struct CatalogueRow {
  std::string name;
  MetricType type = MetricType::kGauge;
  bool monotonic = false;
  int64_t temporality = 0;
  std::string unit, description;
  double series = 0, points = 0;
};

bool readCatalogue(const SqlApiReply& raw, std::vector<CatalogueRow>* out, double* elapsed) {
  simdjson::dom::parser parser;
  simdjson::dom::array rows;
  if (!readAnswer(parser, raw.json, &rows, elapsed)) return false;
  for (simdjson::dom::element row : rows) {
    simdjson::dom::array cells;
    if (row.get_array().get(cells) != simdjson::SUCCESS || cells.size() < 8) return false;
    CatalogueRow r;
    r.name = text(cells.at(0).value());
    auto type = parseMetricType(text(cells.at(1).value()));
    if (!type) return false;
    r.type = *type;
    r.monotonic = number(cells.at(2).value()) != 0;
    r.temporality = static_cast<int64_t>(number(cells.at(3).value()));
    r.unit = text(cells.at(4).value());
    r.description = text(cells.at(5).value());
    r.series = number(cells.at(6).value());
    r.points = number(cells.at(7).value());
    out->push_back(std::move(r));
  }
  return true;
}

void writeMetricInfo(JsonWriter& w, const CatalogueRow& r) {
  w.field("type", metricTypeName(r.type));
  if (r.type == MetricType::kSum) w.field("monotonic", r.monotonic);
  if (r.type == MetricType::kSum || r.type == MetricType::kHistogram ||
      r.type == MetricType::kExponentialHistogram) {
    w.field("temporality", isCumulative(r.temporality) ? "cumulative" : "delta");
  }
  w.field("unit", r.unit);
  w.field("description", r.description);
  w.key("aggregations").beginArray();
  for (auto a : aggregationsOf(r.type, r.monotonic, !isCumulative(r.temporality))) w.value(a);
  w.endArray();
}

}  // namespace

std::variant<SqlRequest, SqlApiReply> prepareMetricNames(std::string_view body, int64_t nowNs) {
  simdjson::dom::parser parser;
  auto root = parseBody(parser, body);
  if (auto* e = std::get_if<SqlApiReply>(&root)) return std::move(*e);
  const auto element = std::get<simdjson::dom::element>(root);
  auto range = readRange(element, nowNs);
  if (auto* e = std::get_if<SqlApiReply>(&range)) return std::move(*e);
  std::string filter, error;
  if (!readString(element, "query", &filter, &error)) return badRequest(error);
  if (filter.size() > kMaxMetricNameBytes) return badRequest("\"query\" is too long");
  const Range& r = std::get<Range>(range);
  SqlRequest sql;
  sql.sql = catalogueSql(sql.params, r.fromMs, r.toMs, filter, false);
  return sql;
}

SqlApiReply shapeMetricNamesReply(SqlApiReply raw) {
  if (raw.httpStatus != 200) return raw;
  std::vector<CatalogueRow> rows;
  double elapsed = 0;
  if (!readCatalogue(raw, &rows, &elapsed)) return notShaped();
  SqlApiReply reply;
  JsonWriter w(reply.json);
  w.beginObject();
  w.key("metrics").beginArray();
  for (size_t i = 0; i < rows.size() && i < 10000; ++i) {
    const CatalogueRow& r = rows[i];
    w.beginObject();
    w.field("name", r.name);
    writeMetricInfo(w, r);
    w.field("series", static_cast<int64_t>(r.series));
    w.field("points", static_cast<int64_t>(r.points));
    w.endObject();
  }
  w.endArray();
  w.field("truncated", rows.size() > 10000);
  w.field("elapsed_ms", elapsed);
  w.endObject();
  return reply;
}

std::variant<SqlRequest, SqlApiReply> prepareMetricAttributes(std::string_view body,
                                                              int64_t nowNs) {
  simdjson::dom::parser parser;
  auto root = parseBody(parser, body);
  if (auto* e = std::get_if<SqlApiReply>(&root)) return std::move(*e);
  const auto element = std::get<simdjson::dom::element>(root);
  auto range = readRange(element, nowNs);
  if (auto* e = std::get_if<SqlApiReply>(&range)) return std::move(*e);
  std::string metric, type, error;
  if (!readString(element, "metric", &metric, &error) ||
      !readString(element, "type", &type, &error)) {
    return badRequest(error);
  }
  if (metric.empty() || metric.size() > kMaxMetricNameBytes) {
    return badRequest("\"metric\" must name a metric");
  }
  const Range& r = std::get<Range>(range);
  SqlRequest sql;
  const std::string where =
      timeFilter(sql.params, r.fromMs, r.toMs) + " AND MetricName = {m:String}";
  sql.params.emplace_back("m", escapeParamValue(metric));
  std::vector<std::string_view> tables;
  if (!type.empty()) {
    auto t = parseMetricType(type);
    if (!t)
      return badRequest("\"type\" must be gauge, sum, histogram, exponential_histogram or summary");
    tables.push_back(tableOf(*t));
  } else {
    tables.assign(std::begin(kTables), std::end(kTables));
  }
  // Each key with the number of series that have it and its ten most frequent values; the
  // attributes of the point first, then those of the resource.
  std::string inner;
  for (auto table : tables) {
    if (!inner.empty()) inner += "\nUNION ALL\n";
    inner += "SELECT Attributes, ResourceAttributes FROM otel." + std::string(table) + " WHERE " +
             where + " LIMIT 1 BY Attributes, ResourceAttributes";
  }
  sql.sql =
      "SELECT kv.1 AS key, kv.2 AS source, count() AS series, topK(10)(kv.3) AS top FROM (\n"
      "SELECT arrayJoin(arrayConcat(arrayMap((k, v) -> (k, 'attribute', v), mapKeys(Attributes), "
      "mapValues(Attributes)), arrayMap((k, v) -> (k, 'resource', v), "
      "mapKeys(ResourceAttributes), mapValues(ResourceAttributes)))) AS kv FROM (\n" +
      inner + "\nLIMIT 100000))\nGROUP BY key, source ORDER BY source, key LIMIT 1000";
  return sql;
}

SqlApiReply shapeMetricAttributesReply(SqlApiReply raw) {
  if (raw.httpStatus != 200) return raw;
  simdjson::dom::parser parser;
  simdjson::dom::array rows;
  double elapsed = 0;
  if (!readAnswer(parser, raw.json, &rows, &elapsed)) return notShaped();
  SqlApiReply reply;
  JsonWriter w(reply.json);
  w.beginObject();
  w.key("attributes").beginArray();
  for (simdjson::dom::element row : rows) {
    simdjson::dom::array cells;
    if (row.get_array().get(cells) != simdjson::SUCCESS || cells.size() < 4) return notShaped();
    w.beginObject();
    w.field("key", text(cells.at(0).value()));
    w.field("source", text(cells.at(1).value()));
    w.field("series", static_cast<int64_t>(number(cells.at(2).value())));
    w.key("values").beginArray();
    simdjson::dom::array top;
    if (cells.at(3).get_array().get(top) == simdjson::SUCCESS) {
      for (simdjson::dom::element v : top) w.value(text(v));
    }
    w.endArray();
    w.endObject();
  }
  w.endArray();
  w.field("elapsed_ms", elapsed);
  w.endObject();
  return reply;
}

// ---------------------------------------------------------------------------------------------
// One metric's chart.

namespace {

struct MetricRequest {
  std::string metric;
  std::optional<MetricType> type;
  std::optional<bool> monotonic;
  std::optional<bool> delta;
  std::string aggregation;  // empty: the type's default
  std::string where;
  std::vector<std::string> groupBy;
  Range range;
  int64_t stepMs = 0;  // 0: automatic
  bool comparePrevious = false;
};

// "30s", "5m", "1h", "1d" or a number of milliseconds.
bool parseStep(simdjson::dom::element v, int64_t* ms) {
  int64_t n = 0;
  if (v.get_int64().get(n) == simdjson::SUCCESS) {
    *ms = n;
    return true;
  }
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS || s.empty()) return false;
  int64_t unit = 1;
  switch (s.back()) {
    case 's': unit = 1000; break;
    case 'm': unit = 60000; break;
    case 'h': unit = 3600000; break;
    case 'd': unit = 86400000; break;
    default: unit = 0;
  }
  if (unit == 0) return false;
  s.remove_suffix(1);
  if (s.ends_with("m") && unit == 1000) {  // "ms"
    s.remove_suffix(1);
    unit = 1;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), n);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || n <= 0 || n > 366LL * 86400000) {
    return false;
  }
  *ms = n * unit;
  return true;
}

std::variant<MetricRequest, SqlApiReply> readMetricRequest(std::string_view body, int64_t nowNs) {
  simdjson::dom::parser parser;
  auto root = parseBody(parser, body);
  if (auto* e = std::get_if<SqlApiReply>(&root)) return std::move(*e);
  const auto element = std::get<simdjson::dom::element>(root);
  MetricRequest m;
  auto range = readRange(element, nowNs);
  if (auto* e = std::get_if<SqlApiReply>(&range)) return std::move(*e);
  m.range = std::get<Range>(range);
  std::string type, temporality, error;
  if (!readString(element, "metric", &m.metric, &error) ||
      !readString(element, "type", &type, &error) ||
      !readString(element, "temporality", &temporality, &error) ||
      !readString(element, "aggregation", &m.aggregation, &error) ||
      !readString(element, "where", &m.where, &error)) {
    return badRequest(error);
  }
  if (m.metric.empty() || m.metric.size() > kMaxMetricNameBytes) {
    return badRequest("\"metric\" must name a metric");
  }
  if (!type.empty()) {
    m.type = parseMetricType(type);
    if (!m.type) {
      return badRequest("\"type\" must be gauge, sum, histogram, exponential_histogram or summary");
    }
  }
  if (!temporality.empty()) {
    if (temporality != "cumulative" && temporality != "delta") {
      return badRequest("\"temporality\" must be \"cumulative\" or \"delta\"");
    }
    m.delta = temporality == "delta";
  }
  simdjson::dom::element v;
  if (element["monotonic"].get(v) == simdjson::SUCCESS && !v.is_null()) {
    bool b = false;
    if (v.get_bool().get(b) != simdjson::SUCCESS)
      return badRequest("\"monotonic\" must be true or false");
    m.monotonic = b;
  }
  if (element["comparePrevious"].get(v) == simdjson::SUCCESS && !v.is_null()) {
    if (v.get_bool().get(m.comparePrevious) != simdjson::SUCCESS) {
      return badRequest("\"comparePrevious\" must be true or false");
    }
  }
  if (element["groupBy"].get(v) == simdjson::SUCCESS && !v.is_null()) {
    simdjson::dom::array keys;
    std::string_view one;
    if (v.get_string().get(one) == simdjson::SUCCESS) {
      if (!one.empty()) m.groupBy.emplace_back(one);
    } else if (v.get_array().get(keys) == simdjson::SUCCESS) {
      for (simdjson::dom::element k : keys) {
        std::string_view key;
        if (k.get_string().get(key) != simdjson::SUCCESS || key.empty() || key.size() > 256) {
          return badRequest("\"groupBy\" must be a list of attribute keys");
        }
        if (std::find(m.groupBy.begin(), m.groupBy.end(), key) == m.groupBy.end()) {
          m.groupBy.emplace_back(key);
        }
      }
    } else {
      return badRequest("\"groupBy\" must be a list of attribute keys");
    }
    if (m.groupBy.size() > static_cast<size_t>(kMaxGroupBy)) {
      return badRequest("\"groupBy\" takes at most 3 attribute keys");
    }
  }
  if (element["step"].get(v) == simdjson::SUCCESS && !v.is_null()) {
    std::string_view s;
    const bool isAuto = v.get_string().get(s) == simdjson::SUCCESS && (s == "auto" || s.empty());
    if (!isAuto && !parseStep(v, &m.stepMs)) {
      return badRequest(
          "\"step\" must be \"auto\", milliseconds, or a duration such as 30s, 5m, 1h");
    }
    if (!isAuto && m.stepMs < 1000) return badRequest("\"step\" must be at least 1s");
  }
  return m;
}

enum class Shape : unsigned char { kValues, kExplicit, kExponential, kSummary };

// A statement and how to read its rows.
struct Plan {
  Shape shape = Shape::kValues;
  MetricType type = MetricType::kGauge;
  bool delta = false;
  std::string aggregation;
  double quantile = 0;  // p50..p99
  double scale = 1;     // kValues: the factor applied to each value (rate: per second)
  int64_t stepMs = 0;
  int64_t baseMs = 0;  // the start of step 0
  int64_t steps = 0;
  int64_t rolledUntilMs = 0;  // the end of the store's 5-minute rollups; 0: none
};

std::optional<double> quantileOf(std::string_view aggregation) {
  if (aggregation == "p50") return 0.5;
  if (aggregation == "p90") return 0.9;
  if (aggregation == "p95") return 0.95;
  if (aggregation == "p99") return 0.99;
  return std::nullopt;
}

std::string labelExpr(size_t i, size_t groups) {
  if (i >= groups) return "''";
  const std::string k = "{gk" + std::to_string(i) + ":String}";
  return "if(mapContains(Attributes, " + k + "), Attributes[" + k + "], ResourceAttributes[" + k +
         "])";
}

constexpr std::string_view kWindow =
    " OVER (PARTITION BY sid ORDER BY step ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)";

std::string lag(std::string_view expr, std::string_view as) {
  return "lagInFrame(" + std::string(expr) + ")" + std::string(kWindow) + " AS " + std::string(as);
}

// The parameters every chart statement takes: the metric, the filter's, the group-by keys, and
// the steps' base and length.
void addChartParams(store::QueryParams& params, const MetricRequest& m, const Plan& p,
                    int64_t baseMs, const search::SqlFilter& filter) {
  params.emplace_back("m", escapeParamValue(m.metric));
  for (const auto& f : filter.params) params.emplace_back(f.name, escapeParamValue(f.value));
  for (size_t i = 0; i < m.groupBy.size(); ++i) {
    params.emplace_back("gk" + std::to_string(i), escapeParamValue(m.groupBy[i]));
  }
  params.emplace_back("s_base", std::to_string(baseMs));
  params.emplace_back("s_step", std::to_string(p.stepMs));
}

// The group-by labels as g0, g1, g2: of each row, or (`any`) of a group of rows.
std::string labelColumns(size_t groups, bool any) {
  std::string out;
  for (size_t i = 0; i < 3; ++i) {
    const std::string expr = labelExpr(i, groups);
    out += (i == 0 ? "" : ", ") + (any ? "any(" + expr + ")" : expr) + " AS g" + std::to_string(i);
  }
  return out;
}

// The rollup of the points of a gauge or sum table (store/schema.h), or empty.
std::optional<std::string_view> rollupOf(MetricType type) {
  const std::string_view table = tableOf(type);
  for (const store::RollupTable& t : store::kRollupTables) {
    if (t.source == table) return t.rollup;
  }
  return std::nullopt;
}

// A chart below this much of rolled-up range reads the points alone.
constexpr int64_t kMinRolledMs = int64_t{3600} * 1000;

// The statement of one period of a gauge or sum chart whose step is a multiple of the rollups'
// bucket, when the rollups cover at least kMinRolledMs of it; else empty. The period's points are
// read per series and 5-minute bucket, the same columns from both sources: the rollup rows of the
// whole buckets in [R0, R1) (R1 the end of the rolled range at most) and, grouped here, the points
// before R0 and from R1. Above that, the statement is the points' statement with buckets in place
// of points: the reset-aware increase of a step is the sum of its buckets' increases within them
// and across each pair of neighbouring buckets of a series, as the points' statement adds it over
// points in time order; a step's last value is its last bucket's, an average the sum of the
// points' values over their count. The filter and group-by read the rollup rows' copy of the
// series' columns.
std::optional<SqlRequest> rolledStatement(const MetricRequest& m, const Plan& p, int64_t baseMs,
                                          int64_t toMs, int64_t readFrom,
                                          const search::SqlFilter& filter) {
  constexpr int64_t kB = store::kRollupBucketMs;
  const auto rollup = rollupOf(p.type);
  // Each bucket must fall within one step: steps of whole buckets, from a bucket's start.
  if (!rollup || p.shape != Shape::kValues || p.rolledUntilMs <= 0 || p.stepMs % kB != 0 ||
      baseMs % kB != 0) {
    return std::nullopt;
  }
  const int64_t r0 = readFrom + ((kB - readFrom % kB) % kB);
  const int64_t r1 = std::min(p.rolledUntilMs, toMs - (toMs % kB + kB) % kB);
  if (r1 - r0 < kMinRolledMs) return std::nullopt;

  SqlRequest sql;
  auto& params = sql.params;
  addChartParams(params, m, p, baseMs, filter);
  params.emplace_back("r_from", std::to_string(r0 / 1000));
  params.emplace_back("r_to", std::to_string(r1 / 1000));
  params.emplace_back("t_from", std::to_string(readFrom * kNsPerMs));
  params.emplace_back("t_r0", std::to_string(r0 * kNsPerMs));
  params.emplace_back("t_r1", std::to_string(r1 * kNsPerMs));
  params.emplace_back("t_to", std::to_string(toMs * kNsPerMs));
  const std::string userFilter = filter.where != "1" ? " AND (" + filter.where + ")" : "";
  const std::string labels = labelColumns(m.groupBy.size(), false);
  const std::string anyLabels = labelColumns(m.groupBy.size(), true);
  const std::string columns = "first, last, lastTime, within, n, mn, mx, s";
  const std::string rolled =
      "SELECT " + labels +
      ", Sid AS sid, SeriesId AS series, toInt64(toUnixTimestamp(Bucket)) * 1000 AS b, First AS "
      "first, Last AS last, LastTime AS lastTime, Within AS within, Count AS n, Min AS mn, Max AS "
      "mx, Sum AS s FROM otel." +
      std::string(*rollup) +
      " WHERE MetricName = {m:String} AND Bucket >= toDateTime({r_from:Int64}) AND Bucket < "
      "toDateTime({r_to:Int64})" +
      userFilter;
  const std::string points =
      "SELECT " + anyLabels + ", " + std::string(store::kSeriesWithStartSql) +
      " AS sid, any(SeriesId) AS series, intDiv(toUnixTimestamp64Milli(TimeUnix), " +
      std::to_string(kB) + ") * " + std::to_string(kB) +
      " AS b, vs[1] AS first, vs[-1] AS last, max(toUnixTimestamp64Nano(TimeUnix)) AS lastTime, " +
      std::string(store::kIncreaseWithinSql) +
      " AS within, count() AS n, min(Value) AS mn, max(Value) AS mx, sum(Value) AS s, " +
      std::string(store::kValuesInTimeOrderSql) + " AS vs FROM otel." +
      std::string(tableOf(p.type)) +
      " WHERE MetricName = {m:String} AND ((TimeUnix >= fromUnixTimestamp64Nano({t_from:Int64}) "
      "AND TimeUnix < fromUnixTimestamp64Nano({t_r0:Int64})) OR (TimeUnix >= "
      "fromUnixTimestamp64Nano({t_r1:Int64}) AND TimeUnix < "
      "fromUnixTimestamp64Nano({t_to:Int64})))" +
      userFilter + " GROUP BY sid, b";
  const std::string buckets = "SELECT g0, g1, g2, sid, series, b, " + columns +
                              ", if(b < {s_base:Int64}, -1, intDiv(b - {s_base:Int64}, "
                              "{s_step:Int64})) AS step FROM (" +
                              rolled + "\nUNION ALL\nSELECT g0, g1, g2, sid, series, b, " +
                              columns + " FROM (" + points + "))";
  const std::string limit = " LIMIT " + std::to_string(kMaxMetricRows + 1);
  const std::string order = " ORDER BY g0, g1, g2, step";
  const std::string& a = p.aggregation;
  if (p.type == MetricType::kSum && !p.delta && (a == "rate" || a == "increase")) {
    const std::string w =
        " OVER (PARTITION BY sid ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)";
    sql.sql =
        "SELECT g0, g1, g2, step, sum(inc) AS v FROM (\n"
        "SELECT g0, g1, g2, step, within + if(hasPrev = 1, if(first >= prev, first - prev, "
        "first), 0) AS inc FROM (\n"
        "SELECT g0, g1, g2, step, first, within, n, lagInFrame(last)" +
        w + " AS prev, lagInFrame(toUInt8(1))" + w + " AS hasPrev FROM (\n" + buckets +
        "))\nWHERE step >= 0 AND (hasPrev = 1 OR n > 1))\nGROUP BY g0, g1, g2, step" + order +
        limit;
  } else if (a == "last" || a == "avg") {
    const std::string inner = a == "last" ? "argMax(last, lastTime)" : "sum(s) / sum(n)";
    const std::string outer = a == "last" ? "sum" : "avg";
    sql.sql =
        "SELECT g0, g1, g2, step, " + outer +
        "(v) AS v FROM (\nSELECT any(g0) AS g0, any(g1) AS g1, any(g2) AS g2, series, step, " +
        inner + " AS v FROM (\n" + buckets +
        ")\nGROUP BY series, step)\nWHERE step >= 0\nGROUP BY g0, g1, g2, step" + order + limit;
  } else {
    const std::string fn = a == "min" ? "min(mn)" : a == "max" ? "max(mx)" : "sum(s)";
    sql.sql = "SELECT g0, g1, g2, step, " + fn + " AS v FROM (\n" + buckets +
              ")\nGROUP BY g0, g1, g2, step HAVING step >= 0" + order + limit;
  }
  return sql;
}

// The statement of one period. `filter` is the user's `where` built already (its parameters in
// `params`).
SqlRequest statement(const MetricRequest& m, const Plan& p, int64_t baseMs, int64_t toMs,
                     const search::SqlFilter& filter) {
  SqlRequest sql;
  auto& params = sql.params;
  const bool cumulative = !p.delta && p.type != MetricType::kGauge;
  // Cumulative series need the point before the first step.
  const bool needsPrevious = cumulative && (p.type != MetricType::kSum || p.aggregation == "rate" ||
                                            p.aggregation == "increase");
  const int64_t readFrom = needsPrevious ? baseMs - std::max(p.stepMs, kLookbackMs) : baseMs;
  if (auto rolled = rolledStatement(m, p, baseMs, toMs, readFrom, filter)) return *rolled;
  std::string where = "MetricName = {m:String} AND " + timeFilter(params, readFrom, toMs);
  addChartParams(params, m, p, baseMs, filter);
  if (filter.where != "1") where += " AND (" + filter.where + ")";
  const std::string labels = labelColumns(m.groupBy.size(), false);
  const std::string anyLabels = labelColumns(m.groupBy.size(), true);
  const std::string step =
      "if(toUnixTimestamp64Milli(TimeUnix) < {s_base:Int64}, -1, "
      "intDiv(toUnixTimestamp64Milli(TimeUnix) - {s_base:Int64}, {s_step:Int64})) AS step";
  const std::string from = " FROM otel." + std::string(tableOf(p.type)) + " WHERE " + where;
  // SeriesId is cityHash64(Attributes, ResourceAttributes), computed at insert (store/schema.cc).
  const std::string seriesWithStart = std::string(store::kSeriesWithStartSql) + " AS sid";
  const std::string series = "SeriesId AS sid";
  const std::string limit = " LIMIT " + std::to_string(kMaxMetricRows + 1);
  const std::string order = " ORDER BY g0, g1, g2, step";
  const std::string& a = p.aggregation;

  switch (p.shape) {
    case Shape::kValues: {
      if (p.type == MetricType::kSum && !p.delta && (a == "rate" || a == "increase")) {
        // Per series (with its start time) and step: the points in time order, the increase
        // between them with a drop read as a reset (the counter restarted from 0, so the value
        // after the drop is all increase, as Prometheus's rate reads it), and the step's first
        // and last value; the pair across each step boundary is added from the previous step. A
        // step where a series has no pair (its first point alone) has no increase, not 0. The
        // points in order and their increase are store/schema.h's, which the rollups use too.
        // The arrays end before the window, which then orders scalars only.
        sql.sql =
            "SELECT g0, g1, g2, step, sum(inc) AS v FROM (\n"
            "SELECT g0, g1, g2, step, within + if(hasPrev = 1, if(first >= prev, first - prev, "
            "first), 0) AS inc FROM (\n"
            "SELECT g0, g1, g2, sid, step, first, within, n, " +
            lag("last", "prev") + ", " + lag("toUInt8(1)", "hasPrev") +
            " FROM (\n"
            "SELECT g0, g1, g2, sid, step, vs[1] AS first, vs[-1] AS last, length(vs) AS n, " +
            std::string(store::kIncreaseWithinSql) +
            " AS within FROM (\n"
            "SELECT " +
            anyLabels + ", " + seriesWithStart + ", " + step + ", " +
            std::string(store::kValuesInTimeOrderSql) + " AS vs" + from +
            "\nGROUP BY sid, step)))\nWHERE step >= 0 AND (hasPrev = 1 OR n > 1))\n"
            "GROUP BY g0, g1, g2, step" +
            order + limit;
      } else if (a == "last" || a == "avg") {
        // Per series and step first (its last value, or its mean), then across the group's
        // series: levels add up (last), means average (avg).
        const std::string inner = a == "last" ? "argMax(Value, TimeUnix)" : "avg(Value)";
        const std::string outer = a == "last" ? "sum" : "avg";
        sql.sql = "SELECT g0, g1, g2, step, " + outer + "(v) AS v FROM (\nSELECT " + anyLabels +
                  ", " + series + ", " + step + ", " + inner + " AS v" + from +
                  "\nGROUP BY sid, step)\nWHERE step >= 0\nGROUP BY g0, g1, g2, step" + order +
                  limit;
      } else {
        // min, max, and the sums of deltas (sum, increase, rate): over every point of the step.
        const std::string fn = a == "min" ? "min" : a == "max" ? "max" : "sum";
        sql.sql = "SELECT " + labels + ", " + step + ", " + fn + "(Value) AS v" + from +
                  "\nGROUP BY g0, g1, g2, step HAVING step >= 0" + order + limit;
      }
      break;
    }
    case Shape::kExplicit: {
      if (p.delta) {
        sql.sql = "SELECT " + labels + ", " + step +
                  ", ExplicitBounds AS bounds, sumForEach(BucketCounts) AS counts, sum(Sum) AS s, "
                  "sum(Count) AS c" +
                  from + "\nGROUP BY g0, g1, g2, step, bounds HAVING step >= 0" + order + limit;
      } else {
        // Per series and step, the last histogram; its increase over the previous step's last
        // (the whole of it after a reset: fewer observations, or other bounds).
        const std::string same = "hasPrev = 1 AND c >= prevC AND bounds = prevBounds";
        sql.sql =
            "SELECT g0, g1, g2, step, bounds, sumForEach(inc) AS counts, sum(sInc) AS s, "
            "sum(cInc) AS c FROM (\n"
            "SELECT g0, g1, g2, step, bounds, if(" +
            same +
            ", arrayMap((x, y) -> if(x >= y, toUInt64(x - y), toUInt64(0)), counts, prevCounts), "
            "counts) AS inc, if(" +
            same + ", s - prevS, s) AS sInc, if(" + same +
            ", toUInt64(c - prevC), c) AS cInc FROM (\n"
            "SELECT g0, g1, g2, sid, step, bounds, counts, s, c, " +
            lag("toUInt8(1)", "hasPrev") + ", " + lag("counts", "prevCounts") + ", " +
            lag("bounds", "prevBounds") + ", " + lag("c", "prevC") + ", " + lag("s", "prevS") +
            " FROM (\nSELECT " + anyLabels + ", " + seriesWithStart + ", " + step +
            ", argMax(ExplicitBounds, TimeUnix) AS bounds, argMax(BucketCounts, TimeUnix) AS "
            "counts, argMax(Sum, TimeUnix) AS s, argMax(Count, TimeUnix) AS c" +
            from +
            "\nGROUP BY sid, step))\nWHERE step >= 0 AND hasPrev = 1)\n"
            "GROUP BY g0, g1, g2, step, bounds" +
            order + limit;
      }
      break;
    }
    case Shape::kExponential: {
      const std::string fields =
          "Scale, ZeroCount, PositiveOffset, PositiveBucketCounts, NegativeOffset, "
          "NegativeBucketCounts, Sum, Count";
      if (p.delta) {
        sql.sql = "SELECT " + labels + ", toUInt64(0) AS sid, " + step + ", " + fields + from +
                  "\nORDER BY g0, g1, g2, step" + limit;
      } else {
        std::string last;
        for (std::string_view f : {"Scale", "ZeroCount", "PositiveOffset", "PositiveBucketCounts",
                                   "NegativeOffset", "NegativeBucketCounts", "Sum", "Count"}) {
          last += ", argMax(" + std::string(f) + ", TimeUnix)";
        }
        sql.sql = "SELECT " + anyLabels + ", " + seriesWithStart + ", " + step + last + from +
                  "\nGROUP BY sid, step ORDER BY sid, step" + limit;
      }
      break;
    }
    case Shape::kSummary:
      sql.sql = "SELECT " + anyLabels + ", " + series + ", " + step +
                ", argMax(ValueAtQuantiles.Quantile, TimeUnix) AS qs, "
                "argMax(ValueAtQuantiles.Value, TimeUnix) AS vs" +
                from + "\nGROUP BY sid, step HAVING step >= 0 ORDER BY g0, g1, g2, step" + limit;
      break;
  }
  return sql;
}

// A chart's values per group (its labels) and step.
using Labels = std::array<std::string, 3>;
using Series = std::map<Labels, std::map<int64_t, double>>;

struct Shaped {
  Series series;
  double elapsedMs = 0;
  std::string error;  // a bound passed
  int status = 200;
};

Labels labelsOf(simdjson::dom::array cells) {
  return {text(cells.at(0).value()), text(cells.at(1).value()), text(cells.at(2).value())};
}

ExponentialHistogram exponentialOf(simdjson::dom::array cells, size_t at) {
  ExponentialHistogram h;
  h.scale = static_cast<int32_t>(number(cells.at(at).value()));
  h.zeroCount = number(cells.at(at + 1).value());
  h.positiveOffset = static_cast<int32_t>(number(cells.at(at + 2).value()));
  h.positive = numbers(cells.at(at + 3).value());
  h.negativeOffset = static_cast<int32_t>(number(cells.at(at + 4).value()));
  h.negative = numbers(cells.at(at + 5).value());
  return h;
}

void shapeRows(const Plan& p, const SqlApiReply& raw, Shaped* out) {
  if (raw.httpStatus != 200) {
    out->status = raw.httpStatus;
    out->error = raw.json;
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::array rows;
  if (!readAnswer(parser, raw.json, &rows, &out->elapsedMs)) {
    out->status = 500;
    out->error = notShaped().json;
    return;
  }
  if (static_cast<int64_t>(rows.size()) > kMaxMetricRows) {
    out->status = 413;
    out->error = errorReply(413, 0, "TOO_MANY_POINTS",
                            "the chart would need more than " + std::to_string(kMaxMetricRows) +
                                " series x steps: filter, group by fewer attributes or choose a "
                                "larger step")
                     .json;
    return;
  }
  const double q = p.quantile;
  std::map<std::pair<Labels, int64_t>, ExplicitHistogram> explicitSums;
  std::map<std::pair<Labels, int64_t>, ExponentialHistogram> expSums;
  std::map<std::pair<Labels, int64_t>, std::pair<double, double>> sumCount;  // histograms' avg/rate
  // Exponential, cumulative: the previous step's histogram of the same series.
  uint64_t lastSid = 0;
  bool havePrev = false;
  ExponentialHistogram prevHist;
  double prevSum = 0, prevCount = 0;
  for (simdjson::dom::element row : rows) {
    simdjson::dom::array cells;
    if (row.get_array().get(cells) != simdjson::SUCCESS || cells.size() < 5) {
      out->status = 500;
      out->error = notShaped().json;
      return;
    }
    const Labels labels = labelsOf(cells);
    switch (p.shape) {
      case Shape::kValues: {
        const int64_t step = static_cast<int64_t>(number(cells.at(3).value()));
        const double v = number(cells.at(4).value());
        if (!std::isnan(v)) out->series[labels][step] = v * p.scale;
        break;
      }
      case Shape::kExplicit: {
        if (cells.size() < 8) break;
        const int64_t step = static_cast<int64_t>(number(cells.at(3).value()));
        const std::vector<double> bounds = numbers(cells.at(4).value());
        const std::vector<double> counts = numbers(cells.at(5).value());
        addExplicit(explicitSums[{labels, step}], bounds, counts);
        auto& sc = sumCount[{labels, step}];
        sc.first += number(cells.at(6).value());
        sc.second += number(cells.at(7).value());
        break;
      }
      case Shape::kExponential: {
        if (cells.size() < 13) break;
        std::string_view sidText;
        uint64_t sid = 0;
        if (cells.at(3).get_string().get(sidText) == simdjson::SUCCESS) {
          std::from_chars(sidText.data(), sidText.data() + sidText.size(), sid);
        } else {
          sid = static_cast<uint64_t>(number(cells.at(3).value()));
        }
        const int64_t step = static_cast<int64_t>(number(cells.at(4).value()));
        ExponentialHistogram h = exponentialOf(cells, 5);
        double s = number(cells.at(11).value()), c = number(cells.at(12).value());
        if (!p.delta) {
          const bool same = havePrev && sid == lastSid;
          const ExponentialHistogram current = h;
          const double curSum = s, curCount = c;
          if (same) {
            const bool reset = c < prevCount;
            h = metrics::exponentialIncrease(prevHist, current);
            s = reset ? curSum : curSum - prevSum;
            c = reset ? curCount : curCount - prevCount;
          }
          prevHist = current;
          prevSum = curSum;
          prevCount = curCount;
          havePrev = true;
          lastSid = sid;
          if (!same) break;  // a series' first point: no increase yet
        }
        if (step < 0) break;
        addExponential(expSums[{labels, step}], h);
        auto& sc = sumCount[{labels, step}];
        sc.first += s;
        sc.second += c;
        break;
      }
      case Shape::kSummary: {
        if (cells.size() < 7) break;
        const int64_t step = static_cast<int64_t>(number(cells.at(4).value()));
        const auto v =
            metrics::summaryQuantile(q, numbers(cells.at(5).value()), numbers(cells.at(6).value()));
        if (!v) break;
        // A summary's quantiles cannot be merged: across a group's series, the largest.
        auto& points = out->series[labels];
        auto it = points.find(step);
        if (it == points.end() || *v > it->second) points[step] = *v;
        break;
      }
    }
  }
  const double perSecond = 1000.0 / static_cast<double>(p.stepMs);
  auto fromSumCount = [&](const std::pair<Labels, int64_t>& key) -> std::optional<double> {
    const auto it = sumCount.find(key);
    if (it == sumCount.end()) return std::nullopt;
    if (p.aggregation == "rate") return it->second.second * perSecond;
    if (it->second.second <= 0) return std::nullopt;
    return it->second.first / it->second.second;
  };
  const bool bySumCount = p.aggregation == "avg" || p.aggregation == "rate";
  for (const auto& [key, h] : explicitSums) {
    const auto v =
        bySumCount ? fromSumCount(key) : metrics::histogramQuantile(q, h.bounds, h.counts);
    if (v) out->series[key.first][key.second] = *v;
  }
  for (const auto& [key, h] : expSums) {
    const auto v = bySumCount ? fromSumCount(key) : metrics::exponentialQuantile(q, h);
    if (v) out->series[key.first][key.second] = *v;
  }
}

void writeSeries(JsonWriter& w, const MetricRequest& m, const Plan& p, const Series& series) {
  w.beginArray();
  for (const auto& [labels, points] : series) {
    w.beginObject();
    w.key("labels").beginObject();
    for (size_t i = 0; i < m.groupBy.size(); ++i) w.field(m.groupBy[i], labels[i]);
    w.endObject();
    w.key("points").beginArray();
    for (const auto& [step, v] : points) {
      if (step < 0 || step >= p.steps) continue;
      w.beginArray();
      w.value(p.baseMs + step * p.stepMs);
      w.value(v);
      w.endArray();
    }
    w.endArray();
    w.endObject();
  }
  w.endArray();
}

// The state of one /query request across its statements.
struct Run {
  MetricRequest request;
  RunStatement run;
  std::function<void(SqlApiReply)> done;
  CatalogueRow info;
  Plan plan;
  search::SqlFilter filter;
  Shaped current, previous;
  double elapsedMs = 0;
};

void finish(const std::shared_ptr<Run>& r) {
  const MetricRequest& m = r->request;
  const Plan& p = r->plan;
  for (const Shaped* s : {&r->current, &r->previous}) {
    if (s->status != 200) {
      SqlApiReply e;
      e.httpStatus = s->status;
      e.json = s->error;
      r->done(std::move(e));
      return;
    }
  }
  for (const Shaped* s : {&r->current, &r->previous}) {
    if (static_cast<int64_t>(s->series.size()) > kMaxMetricSeries) {
      r->done(errorReply(413, 0, "TOO_MANY_SERIES",
                         "the chart would have " + std::to_string(s->series.size()) +
                             " series; the limit is " + std::to_string(kMaxMetricSeries) +
                             ": filter, or group by fewer attributes"));
      return;
    }
  }
  SqlApiReply reply;
  JsonWriter w(reply.json);
  w.beginObject();
  w.field("metric", m.metric);
  writeMetricInfo(w, r->info);
  w.field("aggregation", p.aggregation);
  w.key("groupBy").beginArray();
  for (const auto& k : m.groupBy) w.value(k);
  w.endArray();
  w.field("from", m.range.fromMs);
  w.field("to", m.range.toMs);
  w.field("step", p.stepMs);
  w.key("series");
  writeSeries(w, m, p, r->current.series);
  if (m.comparePrevious) {
    // Step k of the previous period was counted from base - span: written at step k of this
    // one, it lies on this period's time axis.
    w.key("previous");
    writeSeries(w, m, p, r->previous.series);
  }
  w.field("elapsed_ms", r->current.elapsedMs + r->previous.elapsedMs + r->elapsedMs);
  w.endObject();
  r->done(std::move(reply));
}

void runPrevious(const std::shared_ptr<Run>& r) {
  const int64_t span = r->request.range.toMs - r->request.range.fromMs;
  SqlRequest sql = statement(r->request, r->plan, r->plan.baseMs - span,
                             r->request.range.toMs - span, r->filter);
  r->run(std::move(sql), [r](SqlApiReply raw) {
    shapeRows(r->plan, raw, &r->previous);
    finish(r);
  });
}

// The lookup answered: choose the plan, run the statement of the range.
void runMain(const std::shared_ptr<Run>& r, SqlApiReply raw) {
  if (raw.httpStatus != 200) {
    r->done(std::move(raw));
    return;
  }
  std::vector<CatalogueRow> rows;
  if (!readCatalogue(raw, &rows, &r->elapsedMs)) {
    r->done(notShaped());
    return;
  }
  MetricRequest& m = r->request;
  const CatalogueRow* chosen = nullptr;
  for (const auto& row : rows) {
    if (m.type && row.type != *m.type) continue;
    if (m.monotonic && row.type == MetricType::kSum && row.monotonic != *m.monotonic) continue;
    if (m.delta && isCumulative(row.temporality) == *m.delta) continue;
    chosen = &row;
    break;
  }
  if (chosen == nullptr) {
    r->done(errorReply(404, 0, "NO_SUCH_METRIC",
                       "no metric named '" + m.metric + "'" +
                           (m.type ? " of type " + std::string(metricTypeName(*m.type)) : "") +
                           " has points in this time range"));
    return;
  }
  r->info = *chosen;
  Plan& p = r->plan;
  p.type = chosen->type;
  p.delta = !isCumulative(chosen->temporality) && p.type != MetricType::kGauge &&
            p.type != MetricType::kSummary;
  const auto allowed = aggregationsOf(p.type, chosen->monotonic, p.delta);
  p.aggregation = m.aggregation.empty() ? std::string(allowed.front()) : m.aggregation;
  if (std::find(allowed.begin(), allowed.end(), p.aggregation) == allowed.end()) {
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    r->done(badRequest("\"aggregation\" " + p.aggregation + " does not apply to this " +
                       std::string(metricTypeName(p.type)) + "; use one of: " + list));
    return;
  }
  p.quantile = quantileOf(p.aggregation).value_or(0);
  switch (p.type) {
    case MetricType::kGauge:
    case MetricType::kSum: p.shape = Shape::kValues; break;
    case MetricType::kHistogram: p.shape = Shape::kExplicit; break;
    case MetricType::kExponentialHistogram: p.shape = Shape::kExponential; break;
    case MetricType::kSummary: p.shape = Shape::kSummary; break;
  }
  if (p.aggregation == "rate" && p.shape == Shape::kValues) p.scale = 1000.0 / p.stepMs;
  r->run(statement(m, p, p.baseMs, m.range.toMs, r->filter), [r](SqlApiReply answer) {
    shapeRows(r->plan, answer, &r->current);
    if (r->current.status == 200 && r->request.comparePrevious) {
      runPrevious(r);
    } else {
      finish(r);
    }
  });
}

}  // namespace

void runMetricQuery(std::string_view body, int64_t nowNs, const RunStatement& run,
                    std::function<void(SqlApiReply)> done, int64_t rolledUntilMs) {
  auto parsed = readMetricRequest(body, nowNs);
  if (auto* e = std::get_if<SqlApiReply>(&parsed)) {
    done(std::move(*e));
    return;
  }
  auto r = std::make_shared<Run>();
  r->request = std::move(std::get<MetricRequest>(parsed));
  r->run = run;
  r->done = std::move(done);
  MetricRequest& m = r->request;
  auto filter = search::searchToSql(m.where, search::Source::kMetrics);
  if (!filter.isOk()) {
    r->done(errorReply(400, 0, "BAD_QUERY", filter.status().message()));
    return;
  }
  // The filter's parameters are named p0, p1, ...; ours never start with p.
  r->filter = std::move(filter.value());
  Plan& p = r->plan;
  p.rolledUntilMs = rolledUntilMs;
  const int64_t rangeMs = m.range.toMs - m.range.fromMs;
  p.stepMs = m.stepMs > 0 ? m.stepMs : metrics::autoStepMs(rangeMs);
  p.baseMs = m.range.fromMs - ((m.range.fromMs % p.stepMs) + p.stepMs) % p.stepMs;
  p.steps = (m.range.toMs - p.baseMs + p.stepMs - 1) / p.stepMs;
  if (p.steps > kMaxMetricSteps) {
    r->done(badRequest(
        "a step of " + std::to_string(p.stepMs) + " ms makes " + std::to_string(p.steps) +
        " points over this range; the limit is " + std::to_string(kMaxMetricSteps) +
        ": choose a step of at least " +
        std::to_string((rangeMs + kMaxMetricSteps - 1) / kMaxMetricSteps / 1000 + 1) + "s"));
    return;
  }
  SqlRequest lookup;
  lookup.sql = catalogueSql(lookup.params, p.baseMs, m.range.toMs, m.metric, true);
  run(std::move(lookup), [r](SqlApiReply raw) { runMain(r, std::move(raw)); });
}

}  // namespace stackhouse::query
