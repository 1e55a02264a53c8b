#include "query/trace_api.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <vector>

#include "common/json_writer.h"
#include "query/search_api.h"

namespace stackhouse::query {

namespace {

constexpr int64_t kNsPerMs = 1000000;
constexpr int64_t kDefaultRangeNs = 15 * 60 * 1000 * kNsPerMs;

SqlApiReply badRequest(std::string_view message) {
  return errorReply(400, 0, "BAD_REQUEST", message);
}

SqlApiReply notShaped() {
  return errorReply(500, 0, "INTERNAL", "the store returned an answer of an unexpected shape");
}

// The trace's seconds, from the trace-id table; both are 1970-01-01 when the id is not there.
// Compared with Timestamp as DateTime64(9): the engine compared a DateTime64(9) column with these
// DateTime values wrongly (a span at 09:25:21.848 was not "< 09:25:22"), so both are converted.
constexpr std::string_view kTraceBounds =
    "WITH (SELECT min(Start) FROM otel.otel_traces_trace_id_ts WHERE TraceId = {trace_id:String}) "
    "AS t_start, (SELECT max(End) FROM otel.otel_traces_trace_id_ts WHERE TraceId = "
    "{trace_id:String}) AS t_end\n";

// A parsed runUserQuery answer: {columns, rows, elapsed_ms}. `parser` owns what `rows` views.
struct Answer {
  simdjson::dom::array rows;
  double elapsedMs = 0;
};

bool readAnswer(simdjson::dom::parser& parser, const std::string& json, Answer* out) {
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return false;
  if (root["rows"].get_array().get(out->rows) != simdjson::SUCCESS) return false;
  double elapsed = 0;
  if (root["elapsed_ms"].get_double().get(elapsed) == simdjson::SUCCESS) out->elapsedMs = elapsed;
  return true;
}

// One row's cells by index; missing cells read as empty.
class Row {
 public:
  explicit Row(simdjson::dom::element row) {
    simdjson::dom::array cells;
    if (row.get_array().get(cells) == simdjson::SUCCESS) {
      for (simdjson::dom::element c : cells) cells_.push_back(c);
    }
  }
  size_t size() const { return cells_.size(); }
  std::string_view text(size_t i) const {
    std::string_view s;
    if (i < cells_.size() && cells_[i].get_string().get(s) == simdjson::SUCCESS) return s;
    return {};
  }
  // A number the engine may quote (64-bit integers).
  double number(size_t i) const {
    if (i >= cells_.size()) return 0;
    double d = 0;
    if (cells_[i].get_double().get(d) == simdjson::SUCCESS) return d;
    int64_t n = 0;
    if (cells_[i].get_int64().get(n) == simdjson::SUCCESS) return static_cast<double>(n);
    uint64_t u = 0;
    if (cells_[i].get_uint64().get(u) == simdjson::SUCCESS) return static_cast<double>(u);
    std::string_view s = text(i);
    if (!s.empty()) {
      std::from_chars(s.data(), s.data() + s.size(), d);
    }
    return d;
  }
  std::string raw(size_t i) const {
    if (i >= cells_.size()) return "null";
    return simdjson::minify(cells_[i]);
  }
  simdjson::dom::array array(size_t i) const {
    simdjson::dom::array a;
    if (i < cells_.size() && cells_[i].get_array().get(a) != simdjson::SUCCESS) return {};
    return a;
  }

 private:
  std::vector<simdjson::dom::element> cells_;
};

// The items of an array cell, as elements.
std::vector<simdjson::dom::element> items(simdjson::dom::array a) {
  std::vector<simdjson::dom::element> out;
  for (simdjson::dom::element e : a) out.push_back(e);
  return out;
}

std::string itemText(const std::vector<simdjson::dom::element>& v, size_t i) {
  std::string_view s;
  if (i < v.size() && v[i].get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return {};
}

std::string itemRaw(const std::vector<simdjson::dom::element>& v, size_t i) {
  return i < v.size() ? std::string(simdjson::minify(v[i])) : std::string("{}");
}

bool readTime(simdjson::dom::element root, const char* key, int64_t* ns, bool* present,
              std::string* error) {
  simdjson::dom::element v;
  *present = false;
  if (root[key].get(v) != simdjson::SUCCESS || v.is_null()) return true;
  *present = true;
  if (v.is_int64() || v.is_uint64() || v.is_double()) {
    double ms = 0;
    if (v.is_double()) {
      ms = v.get_double().value();
    } else if (v.is_int64()) {
      ms = static_cast<double>(v.get_int64().value());
    } else {
      ms = static_cast<double>(v.get_uint64().value());
    }
    if (!std::isfinite(ms) || std::fabs(ms) > 9.2e12) {
      *error = std::string("\"") + key + "\" is out of range";
      return false;
    }
    *ns = static_cast<int64_t>(ms * kNsPerMs);
    return true;
  }
  std::string_view text;
  if (v.get_string().get(text) == simdjson::SUCCESS && parseTimestamp(text, ns)) return true;
  *error = std::string("\"") + key + "\" must be RFC 3339 text or epoch milliseconds";
  return false;
}

// {from, to} of a body (default: the last 15 minutes), into the range parameters.
std::variant<simdjson::dom::element, SqlApiReply> readRange(simdjson::dom::parser& parser,
                                                            std::string_view body, int64_t nowNs,
                                                            int64_t* fromNs, int64_t* toNs) {
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS ||
      !root.is_object()) {
    return badRequest("the body must be a JSON object");
  }
  std::string error;
  bool hasFrom = false, hasTo = false;
  if (!readTime(root, "from", fromNs, &hasFrom, &error) ||
      !readTime(root, "to", toNs, &hasTo, &error)) {
    return badRequest(error);
  }
  if (!hasTo) *toNs = nowNs;
  if (!hasFrom) *fromNs = *toNs - kDefaultRangeNs;
  if (*fromNs >= *toNs) return badRequest("\"from\" must be before \"to\"");
  return root;
}

constexpr std::string_view kSpanRange =
    "Timestamp >= fromUnixTimestamp64Nano({t_from:Int64}) AND Timestamp < "
    "fromUnixTimestamp64Nano({t_to:Int64})";

constexpr std::string_view kFigures =
    "count() AS spans, countIf(StatusCode = 'Error') AS errors, "
    "quantiles(0.5, 0.95, 0.99)(Duration) AS q";

// One row of figures: name, spans, errors, [p50, p95, p99] in ns.
void writeFigures(JsonWriter& w, const Row& row, double seconds) {
  const double spans = row.number(1);
  const double errors = row.number(2);
  w.field("spans", static_cast<uint64_t>(spans));
  w.field("errors", static_cast<uint64_t>(errors));
  w.field("rate", seconds > 0 ? spans / seconds : 0.0);
  w.field("errorRate", spans > 0 ? errors / spans : 0.0);
  const auto q = items(row.array(3));
  const char* names[] = {"p50Ms", "p95Ms", "p99Ms"};
  for (size_t i = 0; i < 3; ++i) {
    double ns = 0;
    if (i < q.size() && q[i].get_double().get(ns) != simdjson::SUCCESS) ns = 0;
    w.field(names[i], ns / 1e6);
  }
}

}  // namespace

std::variant<PreparedTrace, SqlApiReply> prepareTrace(std::string_view traceId) {
  std::string id;
  for (char c : traceId) {
    if (c >= '0' && c <= '9') {
      id += c;
    } else if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
      id += static_cast<char>(c | 0x20);
    } else {
      id.clear();
      break;
    }
  }
  if (id.size() != 32) {
    return badRequest("a trace id is 32 hexadecimal digits (16 bytes), as in W3C trace context");
  }
  PreparedTrace p;
  p.traceId = id;
  p.spans.params = {{"trace_id", id}};
  p.spans.sql =
      std::string(kTraceBounds) +
      "SELECT SpanId, ParentSpanId, SpanName, ServiceName, "
      "toString(toUnixTimestamp64Nano(Timestamp)), toString(Duration), StatusCode, "
      "StatusMessage, SpanKind, ScopeName, TraceState, "
      "arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp), Events.Name, "
      "Events.Attributes, Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes, "
      "SpanAttributes, ResourceAttributes\nFROM otel.otel_traces\n"
      "WHERE TraceId = {trace_id:String} AND Timestamp >= toDateTime64(t_start, 9) AND "
      "Timestamp < toDateTime64(addSeconds(t_end, 1), 9)\nLIMIT " +
      std::to_string(kMaxTraceSpans + 1);
  p.logs.params = {{"trace_id", id}, {"margin", std::to_string(kTraceLogMarginS)}};
  // t_start is 1970 for an unknown id: the first condition is then a constant false and nothing
  // is read (without it, subtracting the margin would wrap around to the far future).
  p.logs.sql = std::string(kTraceBounds) +
               "SELECT toString(toUnixTimestamp64Nano(Timestamp)), SpanId, ServiceName, "
               "SeverityText, SeverityNumber, Body, LogAttributes, ResourceAttributes, ScopeName\n"
               "FROM otel.otel_logs\nWHERE t_start > toDateTime(0) AND TimestampTime >= "
               "subtractSeconds(t_start, {margin:Int64}) AND TimestampTime <= addSeconds(t_end, "
               "{margin:Int64}) AND TraceId = {trace_id:String}\nORDER BY Timestamp LIMIT " +
               std::to_string(kMaxTraceLogs + 1);
  return p;
}

SqlApiReply shapeTraceReply(const PreparedTrace& prepared, SqlApiReply spans, SqlApiReply logs) {
  if (spans.httpStatus != 200) return spans;
  if (logs.httpStatus != 200) return logs;
  // Kept per thread (the query workers): a parser's buffers are as large as the answers, and
  // allocating them afresh for a 5 MB trace cost more in page faults than the parse itself.
  thread_local simdjson::dom::parser spanParser, logParser;
  Answer s, l;
  if (!readAnswer(spanParser, spans.json, &s) || !readAnswer(logParser, logs.json, &l)) {
    return notShaped();
  }
  if (s.rows.size() == 0) {
    return errorReply(404, 0, "NOT_FOUND",
                      "no span of trace " + prepared.traceId + " is stored (it may have expired)");
  }
  SqlApiReply reply;
  reply.json.reserve(spans.json.size() + logs.json.size() + 1024);
  JsonWriter w(reply.json);
  w.beginObject();
  w.field("traceId", prepared.traceId);
  // In order of start time, sorted here: the engine's sort of 10,000 rows carrying their
  // attribute maps took longer than reading them (measured: 400 ms against 190 ms).
  std::vector<std::pair<uint64_t, simdjson::dom::element>> ordered;
  ordered.reserve(s.rows.size());
  for (simdjson::dom::element e : s.rows) {
    uint64_t start = 0;
    std::string_view text;
    if (e.at(4).get_string().get(text) == simdjson::SUCCESS) {
      std::from_chars(text.data(), text.data() + text.size(), start);
    }
    ordered.emplace_back(start, e);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  const bool truncated = ordered.size() > static_cast<size_t>(kMaxTraceSpans);
  if (truncated) ordered.resize(static_cast<size_t>(kMaxTraceSpans));
  w.key("spans").beginArray();
  for (const auto& [start, e] : ordered) {
    const Row r(e);
    if (r.size() < 20) return notShaped();
    w.beginObject();
    w.field("spanId", r.text(0));
    w.field("parentSpanId", r.text(1));
    w.field("name", r.text(2));
    w.field("service", r.text(3));
    w.field("startUnixNano", r.text(4));
    w.field("durationNano", r.text(5));
    w.field("statusCode", r.text(6));
    w.field("statusMessage", r.text(7));
    w.field("kind", r.text(8));
    w.field("scope", r.text(9));
    w.field("traceState", r.text(10));
    const auto times = items(r.array(11)), names = items(r.array(12)), attrs = items(r.array(13));
    w.key("events").beginArray();
    for (size_t i = 0; i < times.size(); ++i) {
      w.beginObject();
      w.field("timeUnixNano", itemText(times, i));
      w.field("name", itemText(names, i));
      w.key("attributes").raw(itemRaw(attrs, i));
      w.endObject();
    }
    w.endArray();
    const auto traces = items(r.array(14)), ids = items(r.array(15)), states = items(r.array(16)),
               linkAttrs = items(r.array(17));
    w.key("links").beginArray();
    for (size_t i = 0; i < traces.size(); ++i) {
      w.beginObject();
      w.field("traceId", itemText(traces, i));
      w.field("spanId", itemText(ids, i));
      w.field("traceState", itemText(states, i));
      w.key("attributes").raw(itemRaw(linkAttrs, i));
      w.endObject();
    }
    w.endArray();
    w.key("attributes").raw(r.raw(18));
    w.key("resourceAttributes").raw(r.raw(19));
    w.endObject();
  }
  w.endArray();
  w.key("logs").beginArray();
  size_t n = 0;
  bool logsTruncated = false;
  for (simdjson::dom::element e : l.rows) {
    if (++n > static_cast<size_t>(kMaxTraceLogs)) {
      logsTruncated = true;
      break;
    }
    const Row r(e);
    if (r.size() < 9) return notShaped();
    w.beginObject();
    w.field("timeUnixNano", r.text(0));
    w.field("spanId", r.text(1));
    w.field("service", r.text(2));
    w.field("severityText", r.text(3));
    w.field("severityNumber", static_cast<int64_t>(r.number(4)));
    w.field("body", r.text(5));
    w.key("attributes").raw(r.raw(6));
    w.key("resourceAttributes").raw(r.raw(7));
    w.field("scope", r.text(8));
    w.endObject();
  }
  w.endArray();
  w.field("truncated", truncated);
  w.field("logsTruncated", logsTruncated);
  w.field("elapsed_ms", s.elapsedMs + l.elapsedMs);
  w.endObject();
  return reply;
}

std::variant<PreparedServices, SqlApiReply> prepareServices(std::string_view body, int64_t nowNs) {
  simdjson::dom::parser parser;
  PreparedServices p;
  auto root = readRange(parser, body, nowNs, &p.fromNs, &p.toNs);
  if (auto* e = std::get_if<SqlApiReply>(&root)) return std::move(*e);
  p.sql.params = {{"t_from", std::to_string(p.fromNs)}, {"t_to", std::to_string(p.toNs)}};
  p.sql.sql = "SELECT ServiceName, " + std::string(kFigures) + "\nFROM otel.otel_traces WHERE " +
              std::string(kSpanRange) + "\nGROUP BY ServiceName ORDER BY spans DESC LIMIT 1000";
  return p;
}

SqlApiReply shapeServicesReply(const PreparedServices& prepared, SqlApiReply raw) {
  if (raw.httpStatus != 200) return raw;
  simdjson::dom::parser parser;
  Answer a;
  if (!readAnswer(parser, raw.json, &a)) return notShaped();
  const double seconds = static_cast<double>(prepared.toNs - prepared.fromNs) / 1e9;
  SqlApiReply reply;
  JsonWriter w(reply.json);
  w.beginObject();
  w.key("services").beginArray();
  for (simdjson::dom::element e : a.rows) {
    const Row r(e);
    if (r.size() < 4) return notShaped();
    w.beginObject();
    w.field("service", r.text(0));
    writeFigures(w, r, seconds);
    w.endObject();
  }
  w.endArray();
  w.field("from", prepared.fromNs / kNsPerMs);
  w.field("to", prepared.toNs / kNsPerMs);
  w.field("elapsed_ms", a.elapsedMs);
  w.endObject();
  return reply;
}

std::variant<PreparedOperations, SqlApiReply> prepareOperations(std::string_view body,
                                                                int64_t nowNs) {
  simdjson::dom::parser parser;
  PreparedOperations p;
  auto parsed = readRange(parser, body, nowNs, &p.fromNs, &p.toNs);
  if (auto* e = std::get_if<SqlApiReply>(&parsed)) return std::move(*e);
  const simdjson::dom::element root = std::get<simdjson::dom::element>(parsed);
  std::string_view service;
  if (root["service"].get_string().get(service) != simdjson::SUCCESS) {
    return badRequest("\"service\" must be the name of a service");
  }
  p.service = service;
  int64_t limit = 100;
  simdjson::dom::element v;
  if (root["limit"].get(v) == simdjson::SUCCESS && !v.is_null()) {
    if (v.get_int64().get(limit) != simdjson::SUCCESS || limit < 1 || limit > 1000) {
      return badRequest("\"limit\" must be an integer from 1 to 1000");
    }
  }
  const store::QueryParams params = {{"t_from", std::to_string(p.fromNs)},
                                     {"t_to", std::to_string(p.toNs)},
                                     {"service", escapeParamValue(service)}};
  p.operations.params = params;
  p.operations.sql = "SELECT SpanName, " + std::string(kFigures) +
                     "\nFROM otel.otel_traces WHERE ServiceName = {service:String} AND " +
                     std::string(kSpanRange) + "\nGROUP BY SpanName ORDER BY spans DESC LIMIT " +
                     std::to_string(limit);
  p.slowest.params = params;
  // The slowest spans, one per trace (of 100 candidates, the 20 slowest traces).
  p.slowest.sql =
      "SELECT TraceId, SpanId, SpanName, toString(toUnixTimestamp64Nano(Timestamp)), "
      "toString(Duration), StatusCode\nFROM otel.otel_traces WHERE ServiceName = "
      "{service:String} AND " +
      std::string(kSpanRange) + "\nORDER BY Duration DESC LIMIT 100";
  return p;
}

SqlApiReply shapeOperationsReply(const PreparedOperations& prepared, SqlApiReply operations,
                                 SqlApiReply slowest) {
  if (operations.httpStatus != 200) return operations;
  if (slowest.httpStatus != 200) return slowest;
  simdjson::dom::parser opParser, slowParser;
  Answer o, s;
  if (!readAnswer(opParser, operations.json, &o) || !readAnswer(slowParser, slowest.json, &s)) {
    return notShaped();
  }
  const double seconds = static_cast<double>(prepared.toNs - prepared.fromNs) / 1e9;
  SqlApiReply reply;
  JsonWriter w(reply.json);
  w.beginObject();
  w.field("service", prepared.service);
  w.key("operations").beginArray();
  for (simdjson::dom::element e : o.rows) {
    const Row r(e);
    if (r.size() < 4) return notShaped();
    w.beginObject();
    w.field("name", r.text(0));
    writeFigures(w, r, seconds);
    w.endObject();
  }
  w.endArray();
  w.key("slowest").beginArray();
  std::set<std::string, std::less<>> seen;
  for (simdjson::dom::element e : s.rows) {
    const Row r(e);
    if (r.size() < 6) return notShaped();
    if (seen.size() >= 20) break;
    if (!seen.emplace(r.text(0)).second) continue;
    w.beginObject();
    w.field("traceId", r.text(0));
    w.field("spanId", r.text(1));
    w.field("name", r.text(2));
    w.field("startUnixNano", r.text(3));
    w.field("durationNano", r.text(4));
    w.field("statusCode", r.text(5));
    w.endObject();
  }
  w.endArray();
  w.field("elapsed_ms", o.elapsedMs + s.elapsedMs);
  w.endObject();
  return reply;
}

}  // namespace stackhouse::query
