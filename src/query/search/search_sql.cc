#include "query/search/search_sql.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <span>

#include "query/search/search_parser.h"

namespace stackhouse::query::search {

namespace {

bool isTokenByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool hasAsciiLetter(std::string_view s) {
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  }
  return false;
}

// How a field's value is read and compared.
enum class FieldType : unsigned char {
  kText,    // the implicit field (Body, SpanName): free-text rules
  kString,  // a String column: equality, wildcards, presence = notEmpty
  kHex,     // TraceId, SpanId, ParentSpanId: stored lower-case hex, compared exactly (index)
  kNumber,  // a numeric column
  kMap,     // one attribute map, one key
  kAttr,    // a bare key: the record's attributes, then its resource attributes
};

struct Field {
  FieldType type = FieldType::kString;
  std::string column;  // the column, or the map column for kMap / the record's map for kAttr
  std::string key;     // kMap, kAttr
  const char* scale = nullptr;  // kNumber: the SQL factor from the user's unit to the column's
};

struct ColumnInfo {
  const char* name;
  FieldType type;
};

constexpr ColumnInfo kLogColumns[] = {
    {"Body", FieldType::kText},
    {"ServiceName", FieldType::kString},
    {"SeverityText", FieldType::kString},
    {"SeverityNumber", FieldType::kNumber},
    {"TraceId", FieldType::kHex},
    {"SpanId", FieldType::kHex},
    {"TraceFlags", FieldType::kNumber},
    {"ScopeName", FieldType::kString},
    {"ScopeVersion", FieldType::kString},
    {"ResourceSchemaUrl", FieldType::kString},
    {"ScopeSchemaUrl", FieldType::kString},
    {"EventName", FieldType::kString},
};

constexpr ColumnInfo kSpanColumns[] = {
    {"SpanName", FieldType::kText},       {"ServiceName", FieldType::kString},
    {"TraceId", FieldType::kHex},         {"SpanId", FieldType::kHex},
    {"ParentSpanId", FieldType::kHex},    {"TraceState", FieldType::kString},
    {"SpanKind", FieldType::kString},     {"ScopeName", FieldType::kString},
    {"ScopeVersion", FieldType::kString}, {"Duration", FieldType::kNumber},
    {"StatusCode", FieldType::kString},   {"StatusMessage", FieldType::kString},
};

// The columns every metric table has (store/schema.cc); MetricName is the chart's own choice.
constexpr ColumnInfo kMetricColumns[] = {
    {"ServiceName", FieldType::kString},       {"ScopeName", FieldType::kString},
    {"ScopeVersion", FieldType::kString},      {"ResourceSchemaUrl", FieldType::kString},
    {"ScopeSchemaUrl", FieldType::kString},    {"MetricUnit", FieldType::kString},
    {"MetricDescription", FieldType::kString},
};

struct Alias {
  const char* name;
  const char* column;
};

constexpr Alias kLogAliases[] = {
    {"service", "ServiceName"}, {"level", "SeverityText"}, {"severity", "SeverityText"},
    {"trace_id", "TraceId"},    {"span_id", "SpanId"},     {"body", "Body"},
};

constexpr Alias kSpanAliases[] = {
    {"service", "ServiceName"}, {"trace_id", "TraceId"},
    {"span_id", "SpanId"},      {"parent_span_id", "ParentSpanId"},
    {"span_name", "SpanName"},  {"name", "SpanName"},
    {"kind", "SpanKind"},       {"status", "StatusCode"},
    {"duration", "Duration"},
};

constexpr Alias kMetricAliases[] = {{"service", "ServiceName"}};

template <size_t N>
const ColumnInfo* findColumn(const ColumnInfo (&columns)[N], std::string_view name) {
  for (const auto& c : columns) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

const ColumnInfo* columnOf(Source source, std::string_view name) {
  switch (source) {
    case Source::kLogs: return findColumn(kLogColumns, name);
    case Source::kTraces: return findColumn(kSpanColumns, name);
    case Source::kMetrics: return findColumn(kMetricColumns, name);
  }
  return nullptr;
}

// The map of the record's own attributes: LogAttributes, SpanAttributes or Attributes.
const char* ownMap(Source source) {
  switch (source) {
    case Source::kLogs: return "LogAttributes";
    case Source::kTraces: return "SpanAttributes";
    case Source::kMetrics: return "Attributes";
  }
  return "";
}

Field resolve(Source source, std::string_view name) {
  Field f;
  const ColumnInfo* column = columnOf(source, name);
  if (column == nullptr) {
    const std::span<const Alias> aliases =
        source == Source::kLogs     ? std::span<const Alias>(kLogAliases)
        : source == Source::kTraces ? std::span<const Alias>(kSpanAliases)
                                    : std::span<const Alias>(kMetricAliases);
    for (const Alias& a : aliases) {
      if (name == a.name) {
        column = columnOf(source, a.column);
        // duration is in milliseconds for people; the column holds nanoseconds.
        if (source == Source::kTraces && name == "duration") f.scale = "1000000";
        break;
      }
    }
  }
  if (column != nullptr) {
    f.type = column->type;
    f.column = column->name;
    return f;
  }
  const char* own = ownMap(source);
  for (std::string_view map :
       {std::string_view(own), std::string_view("ResourceAttributes"),
        std::string_view(source != Source::kTraces ? "ScopeAttributes" : "")}) {
    if (map.empty()) continue;
    if (name.size() > map.size() + 1 && name.starts_with(map) && name[map.size()] == '.') {
      f.type = FieldType::kMap;
      f.column = std::string(map);
      f.key = std::string(name.substr(map.size() + 1));
      return f;
    }
  }
  f.type = FieldType::kAttr;
  f.column = own;
  f.key = std::string(name);
  return f;
}

// A regular expression that matches `text` literally (RE2 syntax).
std::string quoteMeta(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (!isTokenByte(static_cast<unsigned char>(c))) out += '\\';
    out += c;
  }
  return out;
}

// A separator as hasToken sees it: an ASCII byte that is not a letter or a digit. Written with
// ASCII ranges so that it means the same whether RE2 reads the text as UTF-8 or Latin-1.
constexpr std::string_view kSeparatorClass = "[\\x00-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]";

std::string prefixPattern(std::string_view value) {
  return "(?i)(?:^|" + std::string(kSeparatorClass) + ")" + quoteMeta(value);
}
std::string suffixPattern(std::string_view value) {
  return "(?i)" + quoteMeta(value) + "(?:$|" + std::string(kSeparatorClass) + ")";
}

bool isNumber(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && errno == 0 && std::isfinite(v);
}

const char* sqlOp(CompareOp op) {
  switch (op) {
    case CompareOp::kGt: return " > ";
    case CompareOp::kGe: return " >= ";
    case CompareOp::kLt: return " < ";
    case CompareOp::kLe: return " <= ";
  }
  return " = ";
}

class Builder {
 public:
  Builder(Source source, std::string_view prefix) : source_(source), prefix_(prefix) {}

  Result<std::string> build(const Node& n) {
    switch (n.kind) {
      case NodeKind::kAll: return std::string("1");
      case NodeKind::kNot: {
        auto inner = build(*n.children.front());
        if (!inner.isOk()) return inner;
        return "NOT " + wrap(*n.children.front(), inner.value());
      }
      case NodeKind::kAnd:
      case NodeKind::kOr: {
        std::string out = "(";
        for (size_t i = 0; i < n.children.size(); ++i) {
          auto part = build(*n.children[i]);
          if (!part.isOk()) return part;
          if (i > 0) out += n.kind == NodeKind::kAnd ? " AND " : " OR ";
          out += part.value();
        }
        return out + ")";
      }
      case NodeKind::kTerm: return term(n);
    }
    return internalError("unknown node");
  }

  std::vector<SqlParam> takeParams() { return std::move(params_); }

 private:
  // NOT binds tighter than AND in SQL too, but a leaf of several conditions needs parentheses.
  static std::string wrap(const Node& n, const std::string& sql) {
    if (n.kind == NodeKind::kTerm && sql.find(" AND ") != std::string::npos && sql.front() != '(') {
      return "(" + sql + ")";
    }
    return sql;
  }

  // One parameter per distinct value: the attribute lookup's two maps share the key and value.
  std::string param(std::string value, const char* type = "String") {
    for (const SqlParam& p : params_) {
      if (p.type == type && p.value == value) return "{" + p.name + ":" + type + "}";
    }
    std::string name = std::string(prefix_) + std::to_string(params_.size());
    params_.push_back({name, type, std::move(value)});
    return "{" + name + ":" + type + "}";
  }

  static Status errorAt(const Node& n, const std::string& what) {
    return invalidArgument(what + " at column " + std::to_string(n.column));
  }

  static std::string fieldName(const Node& n) { return n.field.empty() ? "free text" : n.field; }

  Result<std::string> term(const Node& n) {
    Field f;
    if (n.field.empty() && source_ == Source::kMetrics) {
      return errorAt(n,
                     "a metric filter has no free text: write key:value (a bare key is an "
                     "attribute, then a resource attribute)");
    }
    if (n.field.empty()) {
      f.type = FieldType::kText;
      f.column = source_ == Source::kLogs ? "Body" : "SpanName";
    } else {
      f = resolve(source_, n.field);
    }
    switch (f.type) {
      case FieldType::kText: return text(n, f.column);
      case FieldType::kNumber: return number(n, f);
      case FieldType::kString:
      case FieldType::kHex: return string(n, f, f.column);
      case FieldType::kMap: {
        const std::string key = param(f.key);
        if (n.match == MatchKind::kPresent) return "mapContains(" + f.column + ", " + key + ")";
        return string(n, f, f.column + "[" + key + "]");
      }
      case FieldType::kAttr: {
        const std::string key = param(f.key);
        if (n.match == MatchKind::kPresent) {
          return "(mapContains(" + f.column + ", " + key + ") OR mapContains(ResourceAttributes, " +
                 key + "))";
        }
        // Written as two conditions rather than one if(): each can use the skip index over its
        // map's values.
        auto own = string(n, f, f.column + "[" + key + "]");
        if (!own.isOk()) return own;
        auto resource = string(n, f, "ResourceAttributes[" + key + "]");
        if (!resource.isOk()) return resource;
        return "(" + own.value() + " OR (NOT mapContains(" + f.column + ", " + key + ") AND " +
               resource.value() + "))";
      }
    }
    return internalError("unknown field type");
  }

  // A whole token, any case. On Body as hasToken(lower(Body), 'token'): the same meaning as
  // hasTokenCaseInsensitive (both fold ASCII letters only), and the skip index idx_body_lower
  // over lower(Body) serves it (store/schema.cc); no index serves hasTokenCaseInsensitive.
  std::string hasToken(const std::string& column, const std::string& token) {
    if (column == "Body") return "hasToken(lower(Body), " + param(asciiLower(token)) + ")";
    return "hasTokenCaseInsensitive(" + column + ", " + param(token) + ")";
  }

  // `value` anywhere in the column, any case (ASCII letters fold, as positionCaseInsensitive
  // does). On Body as lower(Body) LIKE '%value%': the same meaning, and the text index over
  // lower(Body) (store/schema.cc) serves it from its dictionary; nothing serves
  // positionCaseInsensitive.
  std::string containsAnyCase(const std::string& column, const std::string& value) {
    if (column != "Body") {
      return "positionCaseInsensitive(" + column + ", " + param(value) + ") > 0";
    }
    std::string pattern = "%";
    for (char ch : asciiLower(value)) {
      if (ch == '%' || ch == '_' || ch == '\\') pattern += '\\';
      pattern += ch;
    }
    return "lower(Body) LIKE " + param(pattern + "%");
  }

  Result<std::string> text(const Node& n, const std::string& column) {
    switch (n.match) {
      case MatchKind::kWord:
      case MatchKind::kPhrase: {
        const std::vector<std::string> tokens = tokensOf(n.value);
        if (tokens.size() == 1 && tokens.front() == n.value) return hasToken(column, n.value);
        if (n.value.empty()) return std::string("1");
        std::string out = "(";
        std::vector<std::string> seen;
        for (const std::string& t : tokens) {
          const std::string lowered = asciiLower(t);
          bool dup = false;
          for (const auto& s : seen) dup = dup || s == lowered;
          if (dup) continue;
          seen.push_back(lowered);
          out += hasToken(column, t) + " AND ";
        }
        out += containsAnyCase(column, n.value) + ")";
        return out;
      }
      case MatchKind::kSubstring: return containsAnyCase(column, n.value);
      case MatchKind::kPrefix:
        return "match(" + column + ", " + param(prefixPattern(n.value)) + ")";
      case MatchKind::kSuffix:
        return "match(" + column + ", " + param(suffixPattern(n.value)) + ")";
      case MatchKind::kPresent: return "notEmpty(" + column + ")";
      case MatchKind::kCompare:
      case MatchKind::kRange:
        return errorAt(n, fieldName(n) + " is text: a comparison needs a numeric field");
    }
    return internalError("unknown match");
  }

  Result<std::string> numberParam(const Node& n, const std::string& value, const Field& f) {
    if (!isNumber(value)) {
      return errorAt(n, n.field + " takes a number, not '" + value + "'");
    }
    std::string p = param(value, "Float64");
    if (f.scale != nullptr) p += std::string(" * ") + f.scale;
    return p;
  }

  // A numeric comparison of `value` (a numeric column, or text read as a number).
  Result<std::string> compare(const Node& n, const std::string& value, const Field& f) {
    if (n.match == MatchKind::kCompare) {
      auto p = numberParam(n, n.value, f);
      if (!p.isOk()) return p;
      return value + sqlOp(n.op) + p.value();
    }
    std::string out;
    if (n.low != "*") {
      auto p = numberParam(n, n.low, f);
      if (!p.isOk()) return p;
      out += value + (n.lowInclusive ? " >= " : " > ") + p.value();
    }
    if (n.high != "*") {
      auto p = numberParam(n, n.high, f);
      if (!p.isOk()) return p;
      if (!out.empty()) out += " AND ";
      out += value + (n.highInclusive ? " <= " : " < ") + p.value();
    }
    if (out.empty()) return std::string("1");
    return n.low != "*" && n.high != "*" ? "(" + out + ")" : out;
  }

  Result<std::string> number(const Node& n, const Field& f) {
    switch (n.match) {
      case MatchKind::kWord:
      case MatchKind::kPhrase: {
        auto p = numberParam(n, n.value, f);
        if (!p.isOk()) return p;
        return f.column + " = " + p.value();
      }
      case MatchKind::kCompare:
      case MatchKind::kRange: return compare(n, f.column, f);
      case MatchKind::kPresent: return std::string("1");
      default: return errorAt(n, n.field + " is a number: wildcards need a text field");
    }
  }

  // `value` is a String expression: a column or one map element.
  // lower(value) = v. On a log attribute or resource attribute, also the value among the map's
  // lower-cased values: the same meaning (v is not empty), and the skip indexes
  // idx_log_attr_value_lower / idx_res_attr_value_lower (store/schema.cc) over exactly that
  // expression serve it; nothing serves lower(map[key]).
  std::string lowerEquals(const std::string& value, const std::string& lowered) {
    const std::string v = param(lowered);
    std::string out = "lower(" + value + ") = " + v;
    if (source_ != Source::kLogs) return out;
    for (std::string_view map : {"LogAttributes", "ResourceAttributes"}) {
      if (value.starts_with(std::string(map) + "[")) {
        return "(has(arrayMap(v -> lower(v), mapValues(" + std::string(map) + ")), " + v +
               ") AND " + out + ")";
      }
    }
    return out;
  }

  Result<std::string> string(const Node& n, const Field& f, const std::string& value) {
    switch (n.match) {
      case MatchKind::kWord:
        if (f.type == FieldType::kHex) return value + " = " + param(asciiLower(n.value));
        // Without a letter in the value, only the same text lower-cases to it: the exact form
        // means the same, and the skip index over the map's values can serve it.
        if (!hasAsciiLetter(n.value)) return value + " = " + param(n.value);
        return lowerEquals(value, asciiLower(n.value));
      case MatchKind::kPhrase: return value + " = " + param(n.value);
      case MatchKind::kSubstring:
        return "positionCaseInsensitive(" + value + ", " + param(n.value) + ") > 0";
      case MatchKind::kPrefix: return "match(" + value + ", " + param(prefixPattern(n.value)) + ")";
      case MatchKind::kSuffix: return "match(" + value + ", " + param(suffixPattern(n.value)) + ")";
      case MatchKind::kPresent: return "notEmpty(" + value + ")";
      case MatchKind::kCompare:
      case MatchKind::kRange: return compare(n, "toFloat64OrNull(" + value + ")", f);
    }
    return internalError("unknown match");
  }

  Source source_;
  std::string_view prefix_;
  std::vector<SqlParam> params_;
};

}  // namespace

Result<Source> parseSource(std::string_view name) {
  if (name == "logs") return Source::kLogs;
  if (name == "traces") return Source::kTraces;
  if (name == "metrics") return Source::kMetrics;
  return invalidArgument("source must be \"logs\", \"traces\" or \"metrics\"");
}

std::string_view tableOf(Source source) {
  switch (source) {
    case Source::kLogs: return "otel_logs";
    case Source::kTraces: return "otel_traces";
    case Source::kMetrics: return "";
  }
  return "";
}

bool isColumn(Source source, std::string_view name) {
  if (columnOf(source, name) != nullptr) return true;
  static constexpr std::string_view kCommon[] = {"Timestamp", "ResourceAttributes"};
  for (auto c : kCommon) {
    if (name == c) return true;
  }
  if (source == Source::kLogs) {
    return name == "LogAttributes" || name == "ScopeAttributes" || name == "TimestampTime";
  }
  if (source == Source::kMetrics) return false;  // no row search over metric points
  return name == "SpanAttributes" || name == "Events.Name" || name == "Events.Timestamp" ||
         name == "Links.TraceId";
}

std::vector<std::string> tokensOf(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !isTokenByte(static_cast<unsigned char>(text[i]))) ++i;
    const size_t start = i;
    while (i < text.size() && isTokenByte(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

namespace {

// An exact id term (`trace_id:<id>`, `TraceId:"<id>"`), or an AND with one among its terms.
bool pinsAnId(const Node& node, Source source) {
  if (node.kind == NodeKind::kAnd) {
    return std::any_of(node.children.begin(), node.children.end(),
                       [source](const NodePtr& child) { return pinsAnId(*child, source); });
  }
  return node.kind == NodeKind::kTerm && !node.field.empty() &&
         (node.match == MatchKind::kWord || node.match == MatchKind::kPhrase) &&
         resolve(source, node.field).type == FieldType::kHex;
}

}  // namespace

Result<SqlFilter> buildFilter(const Node& node, Source source, std::string_view prefix) {
  Builder b(source, prefix);
  auto where = b.build(node);
  if (!where.isOk()) return where.status();
  return SqlFilter{std::move(where.value()), b.takeParams(), pinsAnId(node, source)};
}

Result<SqlFilter> searchToSql(std::string_view query, Source source) {
  auto tree = parseSearch(query);
  if (!tree.isOk()) return tree.status();
  return buildFilter(*tree.value(), source);
}

}  // namespace stackhouse::query::search
