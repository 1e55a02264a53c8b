#include "query/search_api.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "common/json_writer.h"
#include "query/search/search_parser.h"

namespace stackhouse::query {

namespace {

using search::Source;

constexpr int64_t kNsPerMs = 1000000;
constexpr int64_t kDefaultRangeNs = 15 * 60 * 1000 * kNsPerMs;

SqlApiReply badRequest(std::string_view message) {
  return errorReply(400, 0, "BAD_REQUEST", message);
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// The common fields of every search request.
struct Common {
  Source source = Source::kLogs;
  std::string query;
  bool sqlMode = false;
  int64_t fromNs = 0;
  int64_t toNs = 0;
};

bool readTime(simdjson::dom::element root, const char* key, int64_t* ns, bool* present,
              std::string* error) {
  simdjson::dom::element v;
  *present = false;
  if (root[key].get(v) != simdjson::SUCCESS || v.is_null()) return true;
  *present = true;
  if (v.is_int64() || v.is_uint64() || v.is_double()) {
    const double ms = v.is_double() ? v.get_double().value()
                                    : static_cast<double>(v.is_int64() ? v.get_int64().value()
                                                                       : v.get_uint64().value());
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

std::variant<Common, SqlApiReply> readCommon(simdjson::dom::element root, int64_t nowNs) {
  Common c;
  std::string_view source;
  if (root["source"].get_string().get(source) != simdjson::SUCCESS) {
    return badRequest("\"source\" must be \"logs\" or \"traces\"");
  }
  auto s = search::parseSource(source);
  if (!s.isOk() || s.value() == Source::kMetrics) {
    return badRequest("\"source\" must be \"logs\" or \"traces\" (metrics: /api/v1/metrics/query)");
  }
  c.source = s.value();
  simdjson::dom::element q;
  if (root["query"].get(q) == simdjson::SUCCESS && !q.is_null()) {
    std::string_view text;
    if (q.get_string().get(text) != simdjson::SUCCESS) {
      return badRequest("\"query\" must be a string");
    }
    c.query = text;
  }
  simdjson::dom::element m;
  if (root["mode"].get(m) == simdjson::SUCCESS && !m.is_null()) {
    std::string_view mode;
    if (m.get_string().get(mode) != simdjson::SUCCESS || (mode != "search" && mode != "sql")) {
      return badRequest("\"mode\" must be \"search\" or \"sql\"");
    }
    c.sqlMode = mode == "sql";
  }
  std::string error;
  bool hasFrom = false, hasTo = false;
  if (!readTime(root, "from", &c.fromNs, &hasFrom, &error) ||
      !readTime(root, "to", &c.toNs, &hasTo, &error)) {
    return badRequest(error);
  }
  if (!hasTo) c.toNs = nowNs;
  if (!hasFrom) c.fromNs = c.toNs - kDefaultRangeNs;
  if (c.fromNs >= c.toNs) return badRequest("\"from\" must be before \"to\"");
  return c;
}

// A search request's body and the fields every endpoint reads; `parser` owns what `root` views.
struct Request {
  simdjson::dom::element root;
  Common common;
};

std::variant<Request, SqlApiReply> readRequest(simdjson::dom::parser& parser, std::string_view body,
                                               int64_t nowNs) {
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS ||
      !root.is_object()) {
    return badRequest("the body must be a JSON object");
  }
  auto common = readCommon(root, nowNs);
  if (auto* e = std::get_if<SqlApiReply>(&common)) return std::move(*e);
  return Request{root, std::move(std::get<Common>(common))};
}

bool readInt(simdjson::dom::element root, const char* key, int64_t low, int64_t high, int64_t* out,
             std::string* error) {
  simdjson::dom::element v;
  if (root[key].get(v) != simdjson::SUCCESS || v.is_null()) return true;
  int64_t n = 0;
  if (v.get_int64().get(n) != simdjson::SUCCESS || n < low || n > high) {
    *error = std::string("\"") + key + "\" must be an integer from " + std::to_string(low) +
             " to " + std::to_string(high);
    return false;
  }
  *out = n;
  return true;
}

// The statement's WHERE: the time range (always), then the user's filter. In search mode the
// filter is built by us with parameters; in SQL mode it is the user's expression, and the whole
// statement is then checked by runUserQuery like any user query. The time range of SQL mode sits
// in PREWHERE, so that no text in the expression (a stray `)`, an OR) can lift it.
struct Where {
  std::string prewhere;  // SQL mode: the time range
  std::string where;
  store::QueryParams params;
  bool pinsAnId = false;  // search::SqlFilter::pinsAnId
  bool matchAll = false;  // no filter but the time range
};

std::string timeRange(Source source, std::string_view fromParam, std::string_view toParam,
                      store::QueryParams& params, int64_t fromNs, int64_t toNs) {
  params.emplace_back(std::string(fromParam), std::to_string(fromNs));
  params.emplace_back(std::string(toParam), std::to_string(toNs));
  std::string out = "Timestamp >= fromUnixTimestamp64Nano({" + std::string(fromParam) +
                    ":Int64}) AND Timestamp < fromUnixTimestamp64Nano({" + std::string(toParam) +
                    ":Int64})";
  if (source == Source::kLogs) {
    // TimestampTime is in the primary key and the partition key; Timestamp is not.
    const int64_t fromS = fromNs >= 0 ? fromNs / 1000000000 : -((-fromNs + 999999999) / 1000000000);
    const int64_t toS = toNs / 1000000000;
    params.emplace_back(std::string(fromParam) + "_s", std::to_string(fromS));
    params.emplace_back(std::string(toParam) + "_s", std::to_string(toS));
    out += " AND TimestampTime >= toDateTime({" + std::string(fromParam) +
           "_s:Int64}) AND TimestampTime <= toDateTime({" + std::string(toParam) + "_s:Int64})";
  }
  return out;
}

std::variant<Where, SqlApiReply> buildWhere(const Common& c, int64_t fromNs, int64_t toNs) {
  Where w;
  std::string range = timeRange(c.source, "t_from", "t_to", w.params, fromNs, toNs);
  if (c.sqlMode) {
    w.prewhere = std::move(range);
    std::string_view expr = c.query;
    while (!expr.empty() && (expr.front() == ' ' || expr.front() == '\n')) expr.remove_prefix(1);
    w.where = expr.empty() ? "1" : "(" + c.query + "\n)";
    w.matchAll = expr.empty();
    return w;
  }
  auto filter = search::searchToSql(c.query, c.source);
  if (!filter.isOk()) return errorReply(400, 0, "BAD_QUERY", filter.status().message());
  for (const auto& p : filter.value().params) {
    w.params.emplace_back(p.name, escapeParamValue(p.value));
  }
  w.where = range;
  if (filter.value().where != "1") w.where += " AND " + filter.value().where;
  w.pinsAnId = filter.value().pinsAnId;
  w.matchAll = filter.value().where == "1";
  return w;
}

std::string fromClause(const Common& c, const Where& w) {
  std::string out = " FROM otel." + std::string(search::tableOf(c.source));
  if (!w.prewhere.empty()) out += " PREWHERE " + w.prewhere;
  out += " WHERE " + w.where;
  return out;
}

std::string selectList(const std::vector<std::string>& columns, Source source);

// The newest `limit` matching rows, in one of two forms.
// With `capped`, the statement ends `LIMIT limit + 1`: under a plain LIMIT the engine reads the
// sort key and the filter's columns, keeps the top rows, and reads the wide columns (Body, the
// attribute maps) of those rows only (lazy materialization). The answer holds the page unless its
// last row ties with the page's last (searchStep).
// Otherwise it ends `LIMIT limit WITH TIES`, which the engine cannot materialize lazily, and a
// top-N sort that carries every selected column runs out of memory on wide rows (measured: the
// 1 GiB bound hit on 10M logs with their attribute maps); so a subquery finds the oldest
// timestamp of the page from the Timestamp column and the filter's columns alone, and the outer
// query reads the wide columns of the rows from that timestamp on only.
// Engine time on 2M logs over 24 h (docs/benchmarks.md): the capped form took 17-20 against 31 ms
// for a rare token, 39 against 78 for an attribute lookup, 93 against 130 for an attribute
// equality that a third of the rows match.
std::string newestRows(const std::vector<std::string>& select, const Common& c, const Where& w,
                       int64_t limit, bool capped, std::string_view hidden = {}) {
  const std::string from = fromClause(c, w);
  if (capped) {
    return selectList(select, c.source) + std::string(hidden) + from +
           "\nORDER BY Timestamp DESC LIMIT " + std::to_string(limit + 1);
  }
  const std::string n = std::to_string(limit);
  return selectList(select, c.source) + std::string(hidden) + from +
         "\nAND Timestamp >= (SELECT min(Timestamp) FROM (SELECT Timestamp" + from +
         "\nORDER BY Timestamp DESC LIMIT " + n + "))\nORDER BY Timestamp DESC LIMIT " + n +
         " WITH TIES";
}

const std::vector<std::string>& defaultColumns(Source source) {
  static const std::vector<std::string> logs = {
      "Timestamp", "ServiceName", "SeverityText", "SeverityNumber", "Body",
      "TraceId",   "SpanId",      "ScopeName",    "LogAttributes",  "ResourceAttributes"};
  static const std::vector<std::string> spans = {
      "Timestamp",    "ServiceName",    "SpanName",          "SpanKind",
      "Duration",     "StatusCode",     "TraceId",           "SpanId",
      "ParentSpanId", "SpanAttributes", "ResourceAttributes"};
  return source == Source::kLogs ? logs : spans;
}

// The order of results and its tiebreak among rows of one timestamp: a span's id is unique; a
// log has none, so its body's hash stands in (rows equal in both time and body may be skipped or
// repeated across a page boundary: they are the same line).
std::string tiebreak(Source source) {
  return source == Source::kLogs ? "cityHash64(Body)" : "cityHash64(SpanId)";
}

std::variant<std::vector<std::string>, SqlApiReply> readSelect(simdjson::dom::element root,
                                                               Source source) {
  simdjson::dom::element v;
  if (root["select"].get(v) != simdjson::SUCCESS || v.is_null()) return defaultColumns(source);
  std::vector<std::string> out;
  auto add = [&](std::string_view name) -> bool {
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.empty()) return true;
    if (!search::isColumn(source, name)) return false;
    out.emplace_back(name);
    return true;
  };
  std::string_view text;
  if (v.get_string().get(text) == simdjson::SUCCESS) {
    size_t start = 0;
    for (;;) {
      const size_t comma = text.find(',', start);
      const std::string_view part = text.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (!add(part)) return badRequest("\"select\": unknown column '" + std::string(part) + "'");
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  } else if (v.is_array()) {
    const simdjson::dom::array items = v.get_array().value();
    for (simdjson::dom::element item : items) {
      std::string_view name;
      if (item.get_string().get(name) != simdjson::SUCCESS || !add(name)) {
        return badRequest("\"select\": every item must be a column of the table");
      }
    }
  } else {
    return badRequest("\"select\" must be a list of column names");
  }
  if (out.empty()) return defaultColumns(source);
  return out;
}

std::string selectList(const std::vector<std::string>& columns, Source source) {
  std::string out = "SELECT ";
  for (const auto& c : columns) out += "`" + c + "`, ";
  out += "toUnixTimestamp64Nano(Timestamp) AS _cursor_ts, " + tiebreak(source) + " AS _cursor_tie";
  return out;
}

struct Rows {
  std::string columns;                         // JSON array, the hidden ones cut
  std::vector<std::vector<std::string>> rows;  // raw JSON of each value
};

// The runUserQuery answer {columns, rows, elapsed_ms} read back; false if it is not that.
bool readRows(const std::string& json, size_t visible, Rows* out, double* elapsedMs) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return false;
  simdjson::dom::array columns, rows;
  if (root["columns"].get_array().get(columns) != simdjson::SUCCESS ||
      root["rows"].get_array().get(rows) != simdjson::SUCCESS) {
    return false;
  }
  double elapsed = 0;
  if (root["elapsed_ms"].get_double().get(elapsed) == simdjson::SUCCESS) *elapsedMs = elapsed;
  out->columns = "[";
  size_t i = 0;
  for (simdjson::dom::element c : columns) {
    if (i++ >= visible) break;
    if (i > 1) out->columns += ",";
    out->columns += simdjson::minify(c);
  }
  out->columns += "]";
  for (simdjson::dom::element row : rows) {
    std::vector<std::string> values;
    simdjson::dom::array cells;
    if (row.get_array().get(cells) != simdjson::SUCCESS) return false;
    for (simdjson::dom::element v : cells) values.push_back(simdjson::minify(v));
    out->rows.push_back(std::move(values));
  }
  return true;
}

// A value that ClickHouse may quote (64-bit integers) as a number's text.
std::string unquoted(const std::string& raw) {
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
    return raw.substr(1, raw.size() - 2);
  }
  return raw;
}

void writeRows(JsonWriter& w, const Rows& r, size_t visible) {
  w.key("columns").raw(r.columns);
  w.key("rows").beginArray();
  for (const auto& row : r.rows) {
    w.beginArray();
    for (size_t i = 0; i < visible && i < row.size(); ++i) w.raw(row[i]);
    w.endArray();
  }
  w.endArray();
}

uint64_t hiddenNumber(const std::vector<std::string>& row, size_t at) {
  uint64_t v = 0;
  if (at < row.size()) {
    const std::string text = unquoted(row[at]);
    std::from_chars(text.data(), text.data() + text.size(), v);
  }
  return v;
}

// The engine sorts by Timestamp alone and returns the rows tied with the last one too (LIMIT n
// WITH TIES), so that the tiebreak hash is computed for the rows returned only, not for every
// matching row; the tiebreak order and the cut to `limit` happen here. True when there may be
// more rows after these.
bool orderAndCut(Rows& rows, size_t visible, int limit) {
  const bool more = static_cast<int>(rows.rows.size()) >= limit;
  std::stable_sort(rows.rows.begin(), rows.rows.end(),
                   [visible](const std::vector<std::string>& a, const std::vector<std::string>& b) {
                     const int64_t ta = static_cast<int64_t>(hiddenNumber(a, visible));
                     const int64_t tb = static_cast<int64_t>(hiddenNumber(b, visible));
                     if (ta != tb) return ta > tb;
                     return hiddenNumber(a, visible + 1) > hiddenNumber(b, visible + 1);
                   });
  if (static_cast<int>(rows.rows.size()) > limit) rows.rows.resize(static_cast<size_t>(limit));
  return more;
}

SqlApiReply notShaped() {
  return errorReply(500, 0, "INTERNAL", "the store returned an answer of an unexpected shape");
}

bool parseCursor(std::string_view text, int64_t* ts, uint64_t* tie) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  const char* end = text.data() + colon;
  auto a = std::from_chars(text.data(), end, *ts);
  auto b = std::from_chars(text.data() + colon + 1, text.data() + text.size(), *tie);
  return a.ec == std::errc() && a.ptr == end && b.ec == std::errc() &&
         b.ptr == text.data() + text.size();
}

// A tail's `after`: "<ns>" (a first poll: the time of the newest row the client has) or
// "<ns>:<block>" (from a previous answer).
bool parseTailCursor(std::string_view text, PreparedTail* p) {
  const auto colon = text.find(':');
  const std::string_view ns = text.substr(0, colon);
  auto a = std::from_chars(ns.data(), ns.data() + ns.size(), p->afterNs);
  if (a.ec != std::errc() || a.ptr != ns.data() + ns.size()) return false;
  if (colon == std::string_view::npos) return true;
  const std::string_view block = text.substr(colon + 1);
  auto b = std::from_chars(block.data(), block.data() + block.size(), p->afterBlock);
  return b.ec == std::errc() && b.ptr == block.data() + block.size() && p->afterBlock >= 0;
}

// Bucket widths people read easily, in milliseconds.
constexpr int64_t kWidthsMs[] = {
    1,        2,        5,        10,        20,        50,         100,        200,
    500,      1000,     2000,     5000,      10000,     15000,      30000,      60000,
    120000,   300000,   600000,   900000,    1800000,   3600000,    7200000,    10800000,
    21600000, 43200000, 86400000, 172800000, 604800000, 2592000000, 31536000000};

}  // namespace

bool parseTimestamp(std::string_view s, int64_t* ns) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t ms = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), ms);
    if (r.ec != std::errc() || ms > 9200000000000) return false;
    *ns = ms * kNsPerMs;
    return true;
  }
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, &y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, &mo) ||
      s[7] != '-' || !digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, &h) || s[13] != ':' || !digits(s, 14, 2, &mi) || s[16] != ':' ||
      !digits(s, 17, 2, &sec)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  size_t i = 19;
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n < 9) frac = frac * 10 + (s[i] - '0'), ++n;
      ++i;
    }
    if (n == 0) return false;
    while (n < 9) frac *= 10, ++n;
  }
  int64_t offsetS = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, &om)) {
      return false;
    }
    offsetS = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return false;
  }
  if (i != s.size()) return false;
  const int64_t days = daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offsetS;
  *ns = secs * 1000000000 + frac;
  return true;
}

std::variant<PreparedSearch, SqlApiReply> prepareSearch(std::string_view body, int64_t nowNs,
                                                        int64_t firstWindowNs, int narrowWindows) {
  simdjson::dom::parser parser;
  auto request = readRequest(parser, body, nowNs);
  if (auto* e = std::get_if<SqlApiReply>(&request)) return std::move(*e);
  const simdjson::dom::element element = std::get<Request>(request).root;
  const Common& c = std::get<Request>(request).common;
  int64_t limit = 100;
  std::string error;
  if (!readInt(element, "limit", 1, 1000, &limit, &error)) return badRequest(error);
  auto columns = readSelect(element, c.source);
  if (auto* e = std::get_if<SqlApiReply>(&columns)) return std::move(*e);
  const auto& select = std::get<std::vector<std::string>>(columns);

  simdjson::dom::element cursor;
  bool hasCursor = false;
  int64_t cursorTs = 0;
  uint64_t cursorTie = 0;
  if (element["cursor"].get(cursor) == simdjson::SUCCESS && !cursor.is_null()) {
    std::string_view text;
    if (cursor.get_string().get(text) != simdjson::SUCCESS ||
        !parseCursor(text, &cursorTs, &cursorTie)) {
      return badRequest("\"cursor\" must be the cursor of a previous answer");
    }
    hasCursor = true;
  }
  // The statement over [fromNs, to), after the cursor when there is one, in both forms
  // (newestRows).
  bool pinsAnId = false;
  auto statement = [&](int64_t fromNs, SqlRequest* capped,
                       SqlRequest* tied) -> std::optional<SqlApiReply> {
    auto where = buildWhere(c, fromNs, c.toNs);
    if (auto* e = std::get_if<SqlApiReply>(&where)) return std::move(*e);
    Where& w = std::get<Where>(where);
    pinsAnId = w.pinsAnId;
    if (hasCursor) {
      w.params.emplace_back("c_ts", std::to_string(cursorTs));
      w.params.emplace_back("c_tie", std::to_string(cursorTie));
      w.where +=
          " AND Timestamp <= fromUnixTimestamp64Nano({c_ts:Int64}) AND (Timestamp < "
          "fromUnixTimestamp64Nano({c_ts:Int64}) OR " +
          tiebreak(c.source) + " < {c_tie:UInt64})";
    }
    capped->sql = newestRows(select, c, w, limit, /*capped=*/true);
    capped->params = w.params;
    tied->sql = newestRows(select, c, w, limit, /*capped=*/false);
    tied->params = std::move(w.params);
    return std::nullopt;
  };
  PreparedSearch p;
  p.limit = static_cast<int>(limit);
  p.visibleColumns = select.size();
  SqlRequest whole, wholeTied;
  if (auto e = statement(c.fromNs, &whole, &wholeTied)) return std::move(*e);
  // The narrowing windows, newest first: the rows newer than the page's oldest are all inside a
  // window that holds a full page, so that window's page is the range's page. None for an id
  // lookup: one trace's records never fill a page, so a window would only add a statement.
  if (pinsAnId) narrowWindows = 0;
  const int64_t top = std::max(c.fromNs, hasCursor && cursorTs < c.toNs ? cursorTs + 1 : c.toNs);
  const uint64_t span = static_cast<uint64_t>(top) - static_cast<uint64_t>(c.fromNs);
  for (uint64_t width = static_cast<uint64_t>(std::max<int64_t>(firstWindowNs, 0));
       width > 0 && width < span && static_cast<int>(p.windows.size()) < narrowWindows;
       width *= 4) {
    SqlRequest window, windowTied;
    if (auto e = statement(top - static_cast<int64_t>(width), &window, &windowTied)) {
      return std::move(*e);
    }
    p.windows.push_back(std::move(window));
    p.tiedWindows.push_back(std::move(windowTied));
  }
  p.windows.push_back(std::move(whole));
  p.tiedWindows.push_back(std::move(wholeTied));
  return p;
}

SearchStep searchStep(const PreparedSearch& prepared, size_t window, bool tied,
                      const SqlApiReply& raw) {
  if (raw.httpStatus != 200) return SearchStep::kAnswer;
  Rows rows;
  double elapsed = 0;
  if (!readRows(raw.json, prepared.visibleColumns, &rows, &elapsed)) return SearchStep::kAnswer;
  const auto n = static_cast<size_t>(prepared.limit);
  // Rows come newest first: past the page's last row, a row of the same time may be one of many.
  if (!tied && rows.rows.size() > n &&
      hiddenNumber(rows.rows[n - 1], prepared.visibleColumns) ==
          hiddenNumber(rows.rows[n], prepared.visibleColumns)) {
    return SearchStep::kTied;
  }
  if (rows.rows.size() < n && window + 1 < prepared.windows.size()) return SearchStep::kNextWindow;
  return SearchStep::kAnswer;
}

SqlApiReply shapeSearchReply(const PreparedSearch& prepared, SqlApiReply raw) {
  if (raw.httpStatus != 200) return raw;
  Rows rows;
  double elapsed = 0;
  if (!readRows(raw.json, prepared.visibleColumns, &rows, &elapsed)) return notShaped();
  const bool more = orderAndCut(rows, prepared.visibleColumns, prepared.limit);
  SqlApiReply reply;
  JsonWriter w(reply.json);
  w.beginObject();
  writeRows(w, rows, prepared.visibleColumns);
  w.field("elapsed_ms", elapsed);
  if (more && !rows.rows.empty()) {
    const auto& last = rows.rows.back();
    if (last.size() < prepared.visibleColumns + 2) return notShaped();
    w.field("cursor", unquoted(last[prepared.visibleColumns]) + ":" +
                          unquoted(last[prepared.visibleColumns + 1]));
  } else {
    w.key("cursor").raw("null");
  }
  w.endObject();
  return reply;
}

std::variant<PreparedHistogram, SqlApiReply> prepareHistogram(std::string_view body,
                                                              int64_t nowNs) {
  simdjson::dom::parser parser;
  auto request = readRequest(parser, body, nowNs);
  if (auto* e = std::get_if<SqlApiReply>(&request)) return std::move(*e);
  const simdjson::dom::element element = std::get<Request>(request).root;
  const Common& c = std::get<Request>(request).common;
  int64_t buckets = 60;
  std::string error;
  if (!readInt(element, "buckets", 1, 500, &buckets, &error)) return badRequest(error);
  auto where = buildWhere(c, c.fromNs, c.toNs);
  if (auto* e = std::get_if<SqlApiReply>(&where)) return std::move(*e);
  Where& w = std::get<Where>(where);

  // The smallest readable width that covers the range in at most `buckets` buckets.
  const int64_t fromMs = c.fromNs / kNsPerMs - (c.fromNs % kNsPerMs < 0 ? 1 : 0);
  const int64_t toMs = (c.toNs + kNsPerMs - 1) / kNsPerMs;
  const int64_t rangeMs = std::max<int64_t>(1, toMs - fromMs);
  int64_t width = kWidthsMs[std::size(kWidthsMs) - 1];
  for (int64_t candidate : kWidthsMs) {
    if (rangeMs <= candidate * buckets) {
      width = candidate;
      break;
    }
  }
  PreparedHistogram p;
  p.source = c.source;
  p.widthMs = width;
  p.baseMs = fromMs - ((fromMs % width) + width) % width;
  p.buckets = (toMs - p.baseMs + width - 1) / width;
  w.params.emplace_back("h_base", std::to_string(p.baseMs));
  w.params.emplace_back("h_width", std::to_string(width));
  const std::string group = c.source == Source::kLogs ? "SeverityText" : "StatusCode";
  // The count per bucket and group of the rows `from` (a FROM ... WHERE ...) holds, the bucket
  // taken from `ms`, a row's time in milliseconds.
  auto counts = [&](const std::string& ms, const std::string& from) {
    return "SELECT intDiv(" + ms + " - {h_base:Int64}, {h_width:Int64}) AS bucket, " + group +
           " AS grp, count() AS n" + from + "\nGROUP BY bucket, grp";
  };
  const std::string rowsMs = "toUnixTimestamp64Milli(Timestamp)";
  // Logs with no filter, in buckets of whole minutes: the whole minutes of the range are counted
  // from the per-minute counts the embedded store keeps by severity (store/schema.cc,
  // kLogsHistogramProjection), the rest of the range from its rows. A bucket starts at a multiple
  // of its width (baseMs), so every row of a minute falls in that minute's bucket; the minutes
  // [lo, hi) and the rows outside them split [from, to) exactly (TimestampTime is Timestamp's
  // second). A server without the projection computes the same from the rows.
  constexpr int64_t kNsPerMinute = int64_t{60} * 1000 * 1000 * 1000;
  const int64_t loS = (c.fromNs / kNsPerMinute + (c.fromNs % kNsPerMinute > 0 ? 1 : 0)) * 60;
  const int64_t hiS = c.toNs / kNsPerMinute * 60;
  if (c.source == Source::kLogs && w.matchAll && width % 60000 == 0 && c.fromNs >= 0 && loS < hiS) {
    w.params.emplace_back("h_lo", std::to_string(loS));
    w.params.emplace_back("h_hi", std::to_string(hiS));
    const std::string minute = "toStartOfMinute(TimestampTime)";
    const std::string minutes = " FROM otel." + std::string(search::tableOf(c.source)) + " WHERE " +
                                minute + " >= toDateTime({h_lo:Int64}) AND " + minute +
                                " < toDateTime({h_hi:Int64})";
    const std::string edges = fromClause(c, w) +
                              "\nAND (TimestampTime < toDateTime({h_lo:Int64}) OR TimestampTime >= "
                              "toDateTime({h_hi:Int64}))";
    p.sql.sql = "SELECT bucket, grp, sum(n) AS n FROM (\n" +
                counts("toUnixTimestamp(" + minute + ") * 1000", minutes) + "\nUNION ALL\n" +
                counts(rowsMs, edges) + ")\nGROUP BY bucket, grp ORDER BY bucket, grp";
  } else {
    p.sql.sql = counts(rowsMs, fromClause(c, w)) + " ORDER BY bucket, grp";
  }
  p.sql.params = std::move(w.params);
  return p;
}

SqlApiReply shapeHistogramReply(const PreparedHistogram& prepared, SqlApiReply raw) {
  if (raw.httpStatus != 200) return raw;
  Rows rows;
  double elapsed = 0;
  if (!readRows(raw.json, 3, &rows, &elapsed)) return notShaped();
  SqlApiReply reply;
  JsonWriter w(reply.json);
  w.beginObject();
  w.key("buckets").beginArray();
  uint64_t total = 0;
  size_t next = 0;
  const char* byKey = prepared.source == Source::kLogs ? "bySeverity" : "byStatus";
  for (int64_t b = 0; b < prepared.buckets; ++b) {
    w.beginObject();
    w.field("start", prepared.baseMs + b * prepared.widthMs);
    uint64_t count = 0;
    std::string by = "{";
    while (next < rows.rows.size()) {
      const auto& row = rows.rows[next];
      if (row.size() < 3) return notShaped();
      int64_t bucket = 0;
      const std::string text = unquoted(row[0]);
      std::from_chars(text.data(), text.data() + text.size(), bucket);
      if (bucket > b) break;
      ++next;
      if (bucket < b) continue;  // outside the buckets: cannot happen within [from, to)
      uint64_t n = 0;
      const std::string nText = unquoted(row[2]);
      std::from_chars(nText.data(), nText.data() + nText.size(), n);
      count += n;
      if (by.size() > 1) by += ",";
      by += row[1] + ":" + std::to_string(n);
    }
    by += "}";
    total += count;
    w.field("count", count);
    w.key(byKey).raw(by);
    w.endObject();
  }
  w.endArray();
  w.field("total", total);
  w.field("width_ms", prepared.widthMs);
  w.field("elapsed_ms", elapsed);
  w.endObject();
  return reply;
}

std::variant<PreparedTail, SqlApiReply> prepareTail(std::string_view body, int64_t nowNs) {
  simdjson::dom::parser parser;
  auto request = readRequest(parser, body, nowNs);
  if (auto* e = std::get_if<SqlApiReply>(&request)) return std::move(*e);
  const simdjson::dom::element element = std::get<Request>(request).root;
  Common c = std::get<Request>(request).common;
  PreparedTail p;
  int64_t limit = 100, timeout = 20000;
  std::string error;
  if (!readInt(element, "limit", 1, 1000, &limit, &error) ||
      !readInt(element, "timeout_ms", 0, 30000, &timeout, &error)) {
    return badRequest(error);
  }
  p.afterNs = nowNs;
  simdjson::dom::element after;
  if (element["after"].get(after) == simdjson::SUCCESS && !after.is_null()) {
    std::string_view text;
    if (after.get_string().get(text) != simdjson::SUCCESS || !parseTailCursor(text, &p)) {
      return badRequest("\"after\" must be the \"after\" of a previous answer");
    }
  }
  // The window bounds what a poll reads: records up to an hour late, and up to an hour ahead of
  // now (clocks of senders drift).
  const int64_t windowFrom = nowNs - kTailWindowNs;
  const int64_t windowTo = nowNs + kTailWindowNs;
  auto where = buildWhere(c, windowFrom, windowTo);
  if (auto* e = std::get_if<SqlApiReply>(&where)) return std::move(*e);
  Where& w = std::get<Where>(where);
  w.params.emplace_back("a_ts", std::to_string(p.afterNs));
  w.params.emplace_back("a_block", std::to_string(std::max<int64_t>(p.afterBlock, 0)));
  w.where +=
      " AND (_block_number > {a_block:UInt64} OR Timestamp > "
      "fromUnixTimestamp64Nano({a_ts:Int64}))";
  auto columns = readSelect(element, c.source);
  if (auto* e = std::get_if<SqlApiReply>(&columns)) return std::move(*e);
  const auto& select = std::get<std::vector<std::string>>(columns);
  p.limit = static_cast<int>(limit);
  p.timeoutMs = static_cast<int>(timeout);
  p.visibleColumns = select.size();
  p.sql.sql = newestRows(select, c, w, limit, /*capped=*/false, ", _block_number AS _cursor_block");
  p.sql.params = std::move(w.params);
  if (p.afterBlock < 0) {
    // The newest block in the window, whatever the filter: the rows stored up to it are the
    // search's the UI already has (those timed after `after` excepted).
    Where window;
    window.where = timeRange(c.source, "t_from", "t_to", window.params, windowFrom, windowTo);
    Common plain = c;
    plain.sqlMode = false;
    p.startSql.sql = "SELECT max(_block_number) AS top" + fromClause(plain, window);
    p.startSql.params = std::move(window.params);
  }
  return p;
}

bool setTailStart(PreparedTail& prepared, const SqlApiReply& startReply) {
  if (startReply.httpStatus != 200) return false;
  Rows rows;
  double elapsed = 0;
  if (!readRows(startReply.json, 1, &rows, &elapsed) || rows.rows.size() != 1 ||
      rows.rows[0].empty()) {
    return false;
  }
  uint64_t top = hiddenNumber(rows.rows[0], 0);  // an empty table's max() is 0
  prepared.afterBlock = static_cast<int64_t>(top);
  for (auto& [name, value] : prepared.sql.params) {
    if (name == "a_block") value = std::to_string(top);
  }
  prepared.startSql = {};
  return true;
}

SqlApiReply shapeTailReply(const PreparedTail& prepared, SqlApiReply raw, bool* empty) {
  *empty = false;
  if (raw.httpStatus != 200) return raw;
  Rows rows;
  double elapsed = 0;
  if (!readRows(raw.json, prepared.visibleColumns, &rows, &elapsed)) return notShaped();
  const bool more = orderAndCut(rows, prepared.visibleColumns, prepared.limit);
  *empty = rows.rows.empty();
  // The next cursor: the newest time and block shown, never behind this one.
  int64_t afterNs = prepared.afterNs;
  int64_t afterBlock = prepared.afterBlock;
  for (const auto& row : rows.rows) {
    if (row.size() < prepared.visibleColumns + 3) return notShaped();
    afterNs = std::max(afterNs, static_cast<int64_t>(hiddenNumber(row, prepared.visibleColumns)));
    afterBlock =
        std::max(afterBlock, static_cast<int64_t>(hiddenNumber(row, prepared.visibleColumns + 2)));
  }
  SqlApiReply reply;
  JsonWriter w(reply.json);
  w.beginObject();
  writeRows(w, rows, prepared.visibleColumns);
  w.field("elapsed_ms", elapsed);
  w.field("after", std::to_string(afterNs) +
                       (afterBlock >= 0 ? ":" + std::to_string(afterBlock) : std::string()));
  w.field("truncated", more);
  w.endObject();
  return reply;
}

}  // namespace stackhouse::query
