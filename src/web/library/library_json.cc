#include "web/library/library_json.h"

#include <simdjson.h>

#include <cmath>
#include <set>
#include <vector>

#include "common/json_writer.h"

namespace stackhouse::web::library {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr size_t kMaxName = 200;
constexpr size_t kMaxQuery = 16 << 10;
constexpr size_t kMaxMarkdown = 16 << 10;
constexpr size_t kMaxTimeExpr = 64;
constexpr size_t kMaxColumns = 50;
constexpr size_t kMaxColumnName = 256;

// Reads the members of one JSON object, each by name and expected type; the first problem found
// is kept with the path of its field.
class Reader {
 public:
  Reader(object o, std::string path) : o_(o), path_(std::move(path)) {}

  std::string field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  bool has(std::string_view key) const {
    element e;
    return o_[key].get(e) == simdjson::SUCCESS && !e.is_null();
  }
  // A string of at most `max` bytes; `required` refuses absence and (with nonEmpty) "".
  std::optional<std::string> string(std::string_view key, size_t max, bool required, bool nonEmpty,
                                    std::string* error) const {
    element e;
    if (o_[key].get(e) != simdjson::SUCCESS || e.is_null()) {
      if (required) *error = field(key) + ": required";
      return std::nullopt;
    }
    std::string_view v;
    if (e.get_string().get(v) != simdjson::SUCCESS) {
      *error = field(key) + ": must be a string";
      return std::nullopt;
    }
    if (nonEmpty && v.empty()) {
      *error = field(key) + ": must not be empty";
      return std::nullopt;
    }
    if (v.size() > max) {
      *error = field(key) + ": longer than " + std::to_string(max) + " bytes";
      return std::nullopt;
    }
    return std::string(v);
  }
  std::optional<bool> boolean(std::string_view key, std::string* error) const {
    element e;
    if (o_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    bool v = false;
    if (e.get_bool().get(v) != simdjson::SUCCESS) {
      *error = field(key) + ": must be true or false";
      return std::nullopt;
    }
    return v;
  }
  // An integer in [lo, hi]; required.
  std::optional<int64_t> integer(std::string_view key, int64_t lo, int64_t hi,
                                 std::string* error) const {
    element e;
    int64_t v = 0;
    if (o_[key].get(e) != simdjson::SUCCESS || e.get_int64().get(v) != simdjson::SUCCESS ||
        v < lo || v > hi) {
      *error = field(key) + ": must be an integer from " + std::to_string(lo) + " to " +
               std::to_string(hi);
      return std::nullopt;
    }
    return v;
  }
  std::optional<object> child(std::string_view key, bool required, std::string* error) const {
    element e;
    if (o_[key].get(e) != simdjson::SUCCESS || e.is_null()) {
      if (required) *error = field(key) + ": required";
      return std::nullopt;
    }
    object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) {
      *error = field(key) + ": must be an object";
      return std::nullopt;
    }
    return o;
  }
  std::optional<array> list(std::string_view key, std::string* error) const {
    element e;
    if (o_[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    array a;
    if (e.get_array().get(a) != simdjson::SUCCESS) {
      *error = field(key) + ": must be an array";
      return std::nullopt;
    }
    return a;
  }
  // A string that must be one of `allowed`; absent: `fallback`.
  std::optional<std::string> oneOf(std::string_view key,
                                   std::initializer_list<std::string_view> allowed,
                                   std::string_view fallback, std::string* error) const {
    auto v = string(key, 64, fallback.empty(), false, error);
    if (!error->empty()) return std::nullopt;
    if (!v) return std::string(fallback);
    for (std::string_view a : allowed) {
      if (*v == a) return v;
    }
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    *error = field(key) + ": must be one of " + list;
    return std::nullopt;
  }
  // Every member must be one of `known`: a typo is an error, not silently dropped.
  bool onlyKnown(std::initializer_list<std::string_view> known, std::string* error) const {
    for (auto [k, v] : o_) {
      bool ok = false;
      for (std::string_view name : known) ok = ok || k == name;
      if (!ok) {
        *error = field(k) + ": unknown field";
        return false;
      }
    }
    return true;
  }

 private:
  object o_;
  std::string path_;
};

Status bad(std::string message) { return invalidArgument(std::move(message)); }

std::optional<object> parseRoot(simdjson::dom::parser& parser, std::string_view body,
                                std::string* error) {
  element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    *error = "the body is not valid JSON";
    return std::nullopt;
  }
  object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) {
    *error = "the body must be a JSON object";
    return std::nullopt;
  }
  return o;
}

// columns: an array of up to kMaxColumns non-empty strings.
bool writeColumns(const Reader& r, JsonWriter& w, std::string* error) {
  auto a = r.list("columns", error);
  if (!error->empty()) return false;
  w.key("columns").beginArray();
  if (a) {
    if (a->size() > kMaxColumns) {
      *error = r.field("columns") + ": at most " + std::to_string(kMaxColumns) + " columns";
      return false;
    }
    size_t i = 0;
    for (element e : *a) {
      std::string_view v;
      if (e.get_string().get(v) != simdjson::SUCCESS || v.empty() || v.size() > kMaxColumnName) {
        *error = r.field("columns") + "[" + std::to_string(i) + "]: must be a column name";
        return false;
      }
      w.value(v);
      ++i;
    }
  }
  w.endArray();
  return true;
}

bool writeTimeRange(const Reader& r, JsonWriter& w, std::string_view defaultFrom,
                    std::string* error) {
  auto o = r.child("timeRange", false, error);
  if (!error->empty()) return false;
  std::string from(defaultFrom), to = "now";
  if (o) {
    Reader t(*o, r.field("timeRange"));
    if (!t.onlyKnown({"from", "to"}, error)) return false;
    auto f = t.string("from", kMaxTimeExpr, true, true, error);
    if (!f) return false;
    auto e = t.string("to", kMaxTimeExpr, true, true, error);
    if (!e) return false;
    from = *f;
    to = *e;
  }
  w.key("timeRange").beginObject().field("from", std::string_view(from));
  w.field("to", std::string_view(to)).endObject();
  return true;
}

// source, query, mode: the search a search or count tile (or a saved search) runs.
bool writeSearch(const Reader& r, JsonWriter& w, std::string* error) {
  auto source = r.oneOf("source", {"logs", "traces"}, "", error);
  if (!source) return false;
  auto query = r.string("query", kMaxQuery, false, false, error);
  if (!error->empty()) return false;
  auto mode = r.oneOf("mode", {"search", "sql"}, "search", error);
  if (!mode) return false;
  w.field("source", std::string_view(*source));
  w.field("query", std::string_view(query.value_or("")));
  w.field("mode", std::string_view(*mode));
  return true;
}

bool isIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool writeMetric(const Reader& m, JsonWriter& w, std::string* error) {
  if (!m.onlyKnown({"metric", "aggregation", "where", "groupBy", "step", "display"}, error)) {
    return false;
  }
  auto metric = m.string("metric", kMaxName, true, true, error);
  if (!metric) return false;
  w.field("metric", std::string_view(*metric));
  auto aggregation = m.string("aggregation", 32, false, true, error);
  if (!error->empty()) return false;
  if (aggregation) {
    for (char c : *aggregation) {
      if (!isIdChar(c)) {
        *error = m.field("aggregation") + ": must be a name such as rate, avg or p99";
        return false;
      }
    }
    w.field("aggregation", std::string_view(*aggregation));
  }
  auto where = m.string("where", kMaxQuery, false, false, error);
  if (!error->empty()) return false;
  if (where) w.field("where", std::string_view(*where));
  auto groupBy = m.list("groupBy", error);
  if (!error->empty()) return false;
  if (groupBy) {
    if (groupBy->size() > 3) {
      *error = m.field("groupBy") + ": at most 3 attributes";
      return false;
    }
    w.key("groupBy").beginArray();
    size_t i = 0;
    for (element e : *groupBy) {
      std::string_view v;
      if (e.get_string().get(v) != simdjson::SUCCESS || v.empty() || v.size() > kMaxColumnName) {
        *error = m.field("groupBy") + "[" + std::to_string(i) + "]: must be an attribute name";
        return false;
      }
      w.value(v);
      ++i;
    }
    w.endArray();
  }
  if (m.has("step")) {
    // Seconds, as a number; the metrics query chooses when absent.
    auto step = m.integer("step", 1, 86400, error);
    if (!step) return false;
    w.field("step", *step);
  }
  auto display = m.oneOf("display", {"line", "bar", "number", "table"}, "line", error);
  if (!display) return false;
  w.field("display", std::string_view(*display));
  return true;
}

bool writeTile(object o, std::string path, std::set<std::string>& ids, JsonWriter& w,
               std::string* error) {
  Reader t(o, std::move(path));
  if (!t.onlyKnown(
          {"id", "kind", "title", "x", "y", "w", "h", "search", "count", "markdown", "metric"},
          error)) {
    return false;
  }
  auto id = t.string("id", 64, true, true, error);
  if (!id) return false;
  for (char c : *id) {
    if (!isIdChar(c)) {
      *error = t.field("id") + ": letters, digits, - and _ only";
      return false;
    }
  }
  if (!ids.insert(*id).second) {
    *error = t.field("id") + ": \"" + *id + "\" is the id of another tile";
    return false;
  }
  auto kind = t.oneOf("kind", {"search", "count", "markdown", "metric"}, "", error);
  if (!kind) return false;
  auto title = t.string("title", kMaxName, false, false, error);
  if (!error->empty()) return false;
  auto x = t.integer("x", 0, kGridColumns - 1, error);
  if (!x) return false;
  auto y = t.integer("y", 0, 10000, error);
  if (!y) return false;
  auto width = t.integer("w", 1, kGridColumns, error);
  if (!width) return false;
  auto height = t.integer("h", 1, 24, error);
  if (!height) return false;
  if (*x + *width > kGridColumns) {
    *error = t.field("w") + ": the tile ends past the grid's " + std::to_string(kGridColumns) +
             " columns (x + w > " + std::to_string(kGridColumns) + ")";
    return false;
  }
  w.beginObject();
  w.field("id", std::string_view(*id)).field("kind", std::string_view(*kind));
  w.field("title", std::string_view(title.value_or("")));
  w.field("x", *x).field("y", *y).field("w", *width).field("h", *height);
  auto body = t.child(*kind, true, error);
  if (!body) return false;
  Reader b(*body, t.field(*kind));
  w.key(*kind).beginObject();
  if (*kind == "search") {
    if (!b.onlyKnown({"source", "query", "mode", "columns"}, error)) return false;
    if (!writeSearch(b, w, error) || !writeColumns(b, w, error)) return false;
  } else if (*kind == "count") {
    if (!b.onlyKnown({"source", "query", "mode"}, error)) return false;
    if (!writeSearch(b, w, error)) return false;
  } else if (*kind == "markdown") {
    if (!b.onlyKnown({"text"}, error)) return false;
    auto text = b.string("text", kMaxMarkdown, true, false, error);
    if (!text) return false;
    w.field("text", std::string_view(*text));
  } else if (!writeMetric(b, w, error)) {
    return false;
  }
  w.endObject();
  w.endObject();
  return true;
}

// The dashboard's fields, in `o` (a request body or an export's "dashboard").
Result<ParsedItem> readDashboard(object o, std::string path, bool allowShared) {
  std::string error;
  Reader r(o, std::move(path));
  std::initializer_list<std::string_view> known = {"name", "shared", "timeRange", "filter",
                                                   "tiles"};
  std::initializer_list<std::string_view> knownExport = {"name", "timeRange", "filter", "tiles"};
  if (!r.onlyKnown(allowShared ? known : knownExport, &error)) return bad(error);
  ParsedItem out;
  auto name = r.string("name", kMaxName, true, true, &error);
  if (!name) return bad(error);
  out.name = *name;
  if (allowShared) {
    out.shared = r.boolean("shared", &error);
    if (!error.empty()) return bad(error);
  }
  JsonWriter w(out.document);
  w.beginObject();
  if (!writeTimeRange(r, w, "1h ago", &error)) return bad(error);
  auto filter = r.string("filter", kMaxQuery, false, false, &error);
  if (!error.empty()) return bad(error);
  w.field("filter", std::string_view(filter.value_or("")));
  auto tiles = r.list("tiles", &error);
  if (!error.empty()) return bad(error);
  w.key("tiles").beginArray();
  if (tiles) {
    if (tiles->size() > kMaxTiles) {
      return bad(r.field("tiles") + ": at most " + std::to_string(kMaxTiles) + " tiles");
    }
    std::set<std::string> ids;
    size_t i = 0;
    for (element e : *tiles) {
      object t;
      if (e.get_object().get(t) != simdjson::SUCCESS) {
        return bad(r.field("tiles[" + std::to_string(i) + "]") + ": must be an object");
      }
      if (!writeTile(t, r.field("tiles") + "[" + std::to_string(i) + "]", ids, w, &error)) {
        return bad(error);
      }
      ++i;
    }
  }
  w.endArray();
  w.endObject();
  return out;
}

}  // namespace

Result<ParsedItem> parseSavedSearch(std::string_view body) {
  simdjson::dom::parser parser;
  std::string error;
  auto root = parseRoot(parser, body, &error);
  if (!root) return bad(error);
  Reader r(*root, "");
  if (!r.onlyKnown({"name", "shared", "source", "query", "mode", "columns", "timeRange"}, &error)) {
    return bad(error);
  }
  ParsedItem out;
  auto name = r.string("name", kMaxName, true, true, &error);
  if (!name) return bad(error);
  out.name = *name;
  out.shared = r.boolean("shared", &error);
  if (!error.empty()) return bad(error);
  JsonWriter w(out.document);
  w.beginObject();
  if (!writeSearch(r, w, &error) || !writeColumns(r, w, &error) ||
      !writeTimeRange(r, w, "15m ago", &error)) {
    return bad(error);
  }
  w.endObject();
  return out;
}

Result<ParsedItem> parseDashboard(std::string_view body) {
  simdjson::dom::parser parser;
  std::string error;
  auto root = parseRoot(parser, body, &error);
  if (!root) return bad(error);
  return readDashboard(*root, "", true);
}

Result<ParsedItem> parseDashboardExport(std::string_view body) {
  simdjson::dom::parser parser;
  std::string error;
  auto root = parseRoot(parser, body, &error);
  if (!root) return bad(error);
  Reader r(*root, "");
  if (!r.onlyKnown({"format", "version", "dashboard"}, &error)) return bad(error);
  auto format = r.string("format", 64, true, true, &error);
  if (!format) return bad(error);
  if (*format != kExportFormat) {
    return bad("format: must be \"" + std::string(kExportFormat) +
               "\" (a dashboard exported by stackhouse)");
  }
  element version;
  int64_t v = 0;
  if ((*root)["version"].get(version) != simdjson::SUCCESS ||
      version.get_int64().get(v) != simdjson::SUCCESS) {
    return bad("version: required, an integer");
  }
  if (v != kExportVersion) {
    return bad("version: " + std::to_string(v) + " is not a version this stackhouse reads (" +
               std::to_string(kExportVersion) + ")");
  }
  auto dashboard = r.child("dashboard", true, &error);
  if (!dashboard) return bad(error);
  return readDashboard(*dashboard, "dashboard", false);
}

std::string mergeObjects(std::string_view head, std::string_view document) {
  std::string out(head);
  while (!out.empty() && out.back() != '}') out.pop_back();
  if (out.empty()) return std::string(document);
  out.pop_back();
  std::string_view rest = document;
  while (!rest.empty() && rest.front() != '{') rest.remove_prefix(1);
  if (rest.empty()) return out + "}";
  rest.remove_prefix(1);
  const bool headEmpty = !out.empty() && out.back() == '{';
  const bool restEmpty = !rest.empty() && rest.front() == '}';
  if (!headEmpty && !restEmpty) out += ',';
  out += rest;
  return out;
}

}  // namespace stackhouse::web::library
