#include "otlp_test_support.h"

#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace stackhouse::otlp::testing {

namespace {

std::string escapeForCell(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// Decodes one UTF-8 code point at s[i]; returns its length, or 0 if ill-formed.
size_t decodeCodePoint(std::string_view s, size_t i, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  auto at = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F);
  };
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) {
    *cp = (b0 & 0x1Fu) << 6 | at(1);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    *cp = (b0 & 0x0Fu) << 12 | at(1) << 6 | at(2);
    if (*cp < 0x800 || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    *cp = (b0 & 0x07u) << 18 | at(1) << 12 | at(2) << 6 | at(3);
    if (*cp < 0x10000 || *cp > 0x10FFFF) return 0;
    return 4;
  }
  return 0;
}

bool idOk(const std::string& id, size_t want) { return id.empty() || id.size() == want; }

std::string hexOrEmpty(const std::string& id) {
  for (char c : id) {
    if (c != 0) return refHex(id);
  }
  return "";
}

// Exemplar ids: hex of pdata's fixed arrays, zeros when absent.
std::string exemplarHex(const std::string& id, size_t width) {
  return id.empty() ? std::string(width * 2, '0') : refHex(id);
}

using Kvs = google::protobuf::RepeatedPtrField<pbcommon::KeyValue>;

std::vector<std::pair<std::string, std::string>> attrs(const Kvs& kvs) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& kv : kvs) {
    out.emplace_back(kv.key(), kv.has_value() ? refAsString(kv.value()) : "");
  }
  return out;
}

std::string serviceName(const Kvs& kvs) {
  for (const auto& kv : kvs) {
    if (kv.key() == "service.name") return kv.has_value() ? refAsString(kv.value()) : "";
  }
  return "";
}

std::string severityCell(int n) {
  return cellUint(n >= 0 && n <= 255 ? static_cast<uint64_t>(n) : 0);
}

std::string spanKind(int k) {
  static const char* kNames[] = {"Unspecified", "Internal", "Server",
                                 "Client",      "Producer", "Consumer"};
  return k >= 0 && k < 6 ? kNames[k] : "";
}

std::string statusCode(int c) {
  static const char* kNames[] = {"Unset", "Ok", "Error"};
  return c >= 0 && c < 3 ? kNames[c] : "";
}

}  // namespace

std::string cellString(std::string_view s) { return "\"" + escapeForCell(s) + "\""; }
std::string cellInt(int64_t v) { return std::to_string(v); }
std::string cellUint(uint64_t v) { return std::to_string(v); }
std::string cellDouble(double v) {
  if (std::isnan(v)) return "nan";
  // The shortest form that reads back as the same double: exact, and readable.
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
std::string cellMap(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out = "{";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += ", ";
    out += cellString(entries[i].first) + ": " + cellString(entries[i].second);
  }
  return out + "}";
}
std::string cellList(const std::vector<std::string>& cells) {
  std::string out = "[";
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += ", ";
    out += cells[i];
  }
  return out + "]";
}

std::string refHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out += kDigits[u >> 4];
    out += kDigits[u & 15];
  }
  return out;
}

std::string refBase64(std::string_view bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  while (i < bytes.size()) {
    uint32_t group = 0;
    size_t n = 0;
    for (; n < 3 && i < bytes.size(); ++n, ++i) {
      group |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << (16 - 8 * n);
    }
    for (size_t k = 0; k < 4; ++k) {
      out += k <= n ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return out;
}

std::string refEs6(double v) {
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  // Shortest digits that round-trip: the correctly rounded p-digit form for the smallest p.
  char buf[64];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*e", p - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  const bool negative = s[0] == '-';
  if (negative) s.erase(0, 1);
  const size_t e = s.find('e');
  std::string digits = s.substr(0, e);
  if (digits.size() > 1) digits.erase(1, 1);  // the '.'
  const int exp = std::atoi(s.c_str() + e + 1);
  std::string out = negative ? "-" : "";
  const double a = std::fabs(v);
  if (a < 1e-6 || a >= 1e21) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exp < 0 ? "e-" : "e+";
    const int ae = exp < 0 ? -exp : exp;
    // Go writes at least two exponent digits, then drops the leading zero of a negative one.
    if (ae < 10 && exp >= 0) out += "0";
    out += std::to_string(ae);
    return out;
  }
  if (exp < 0) {
    out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else if (digits.size() <= static_cast<size_t>(exp) + 1) {
    out += digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0');
  } else {
    out += digits.substr(0, static_cast<size_t>(exp) + 1) + "." +
           digits.substr(static_cast<size_t>(exp) + 1);
  }
  return out;
}

std::string refGoJsonQuote(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    const size_t len = decodeCodePoint(s, i, &cp);
    if (len == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    i += len;
    char buf[8];
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<':
      case '>':
      case '&':
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
        out += buf;
        break;
      case 0x2028: out += "\\u2028"; break;
      case 0x2029: out += "\\u2029"; break;
      default:
        if (cp < 0x20) {
          std::snprintf(buf, sizeof buf, "\\u%04x", cp);
          out += buf;
        } else {
          out.append(s.substr(i - len, len));
        }
    }
  }
  return out + "\"";
}

std::string refJson(const pbcommon::AnyValue& v) {
  switch (v.value_case()) {
    case pbcommon::AnyValue::kStringValue: return refGoJsonQuote(v.string_value());
    case pbcommon::AnyValue::kBoolValue: return v.bool_value() ? "true" : "false";
    case pbcommon::AnyValue::kIntValue: return std::to_string(v.int_value());
    case pbcommon::AnyValue::kDoubleValue: {
      const double d = v.double_value();
      if (std::isnan(d)) return "\"NaN\"";
      if (std::isinf(d)) return d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      return refEs6(d);
    }
    case pbcommon::AnyValue::kBytesValue: return "\"" + refBase64(v.bytes_value()) + "\"";
    case pbcommon::AnyValue::kArrayValue: {
      std::string out = "[";
      for (int i = 0; i < v.array_value().values_size(); ++i) {
        if (i > 0) out += ",";
        out += refJson(v.array_value().values(i));
      }
      return out + "]";
    }
    case pbcommon::AnyValue::kKvlistValue: {
      // A Go map: keys sorted bytewise, the last of equal keys wins.
      std::map<std::string, const pbcommon::AnyValue*> sorted;
      for (const auto& kv : v.kvlist_value().values()) sorted[kv.key()] = &kv.value();
      std::string out = "{";
      bool first = true;
      for (const auto& [key, value] : sorted) {
        if (!first) out += ",";
        first = false;
        out += refGoJsonQuote(key) + ":" + refJson(*value);
      }
      return out + "}";
    }
    default: return "null";
  }
}

std::string refAsString(const pbcommon::AnyValue& v) {
  switch (v.value_case()) {
    case pbcommon::AnyValue::kStringValue: return v.string_value();
    case pbcommon::AnyValue::kBoolValue: return v.bool_value() ? "true" : "false";
    case pbcommon::AnyValue::kIntValue: return std::to_string(v.int_value());
    case pbcommon::AnyValue::kDoubleValue: {
      const double d = v.double_value();
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
      return refEs6(d);
    }
    case pbcommon::AnyValue::kBytesValue: return refBase64(v.bytes_value());
    case pbcommon::AnyValue::kArrayValue:
    case pbcommon::AnyValue::kKvlistValue: return refJson(v);
    default: return "";
  }
}

Expected refLogs(const LogsRequest& request) {
  Expected out;
  for (const auto& rl : request.resource_logs()) {
    const auto resAttrs = cellMap(attrs(rl.resource().attributes()));
    const auto service = serviceName(rl.resource().attributes());
    for (const auto& sl : rl.scope_logs()) {
      const auto scopeAttrs = cellMap(attrs(sl.scope().attributes()));
      for (const auto& lr : sl.log_records()) {
        if (!idOk(lr.trace_id(), 16) || !idOk(lr.span_id(), 8)) {
          ++out.rejected;
          continue;
        }
        Row r;
        const uint64_t ts =
            lr.time_unix_nano() != 0 ? lr.time_unix_nano() : lr.observed_time_unix_nano();
        r["Timestamp"] = cellInt(static_cast<int64_t>(ts));
        r["TraceId"] = cellString(hexOrEmpty(lr.trace_id()));
        r["SpanId"] = cellString(hexOrEmpty(lr.span_id()));
        r["TraceFlags"] = cellUint(lr.flags() & 0xff);
        r["SeverityText"] = cellString(lr.severity_text());
        r["SeverityNumber"] = severityCell(lr.severity_number());
        r["ServiceName"] = cellString(service);
        r["Body"] = cellString(lr.has_body() ? refAsString(lr.body()) : "");
        r["ResourceSchemaUrl"] = cellString(rl.schema_url());
        r["ResourceAttributes"] = resAttrs;
        r["ScopeSchemaUrl"] = cellString(sl.schema_url());
        r["ScopeName"] = cellString(sl.scope().name());
        r["ScopeVersion"] = cellString(sl.scope().version());
        r["ScopeAttributes"] = scopeAttrs;
        r["LogAttributes"] = cellMap(attrs(lr.attributes()));
        r["EventName"] = cellString(lr.event_name());
        out.rows.push_back(std::move(r));
      }
    }
  }
  return out;
}

Expected refSpans(const TraceRequest& request) {
  Expected out;
  for (const auto& rs : request.resource_spans()) {
    const auto resAttrs = cellMap(attrs(rs.resource().attributes()));
    const auto service = serviceName(rs.resource().attributes());
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& s : ss.spans()) {
        bool ok = idOk(s.trace_id(), 16) && idOk(s.span_id(), 8) && idOk(s.parent_span_id(), 8);
        for (const auto& l : s.links()) ok = ok && idOk(l.trace_id(), 16) && idOk(l.span_id(), 8);
        if (!ok) {
          ++out.rejected;
          continue;
        }
        Row r;
        r["Timestamp"] = cellInt(static_cast<int64_t>(s.start_time_unix_nano()));
        r["TraceId"] = cellString(hexOrEmpty(s.trace_id()));
        r["SpanId"] = cellString(hexOrEmpty(s.span_id()));
        r["ParentSpanId"] = cellString(hexOrEmpty(s.parent_span_id()));
        r["TraceState"] = cellString(s.trace_state());
        r["SpanName"] = cellString(s.name());
        r["SpanKind"] = cellString(spanKind(s.kind()));
        r["ServiceName"] = cellString(service);
        r["ResourceAttributes"] = resAttrs;
        r["ScopeName"] = cellString(ss.scope().name());
        r["ScopeVersion"] = cellString(ss.scope().version());
        r["SpanAttributes"] = cellMap(attrs(s.attributes()));
        const uint64_t start = s.start_time_unix_nano();
        const uint64_t end = s.end_time_unix_nano();
        r["Duration"] = cellUint(end > start ? end - start : 0);
        r["StatusCode"] = cellString(statusCode(s.status().code()));
        r["StatusMessage"] = cellString(s.status().message());
        std::vector<std::string> et, en, ea, lt, ls, lst, la;
        for (const auto& e : s.events()) {
          et.push_back(cellInt(static_cast<int64_t>(e.time_unix_nano())));
          en.push_back(cellString(e.name()));
          ea.push_back(cellMap(attrs(e.attributes())));
        }
        for (const auto& l : s.links()) {
          lt.push_back(cellString(hexOrEmpty(l.trace_id())));
          ls.push_back(cellString(hexOrEmpty(l.span_id())));
          lst.push_back(cellString(l.trace_state()));
          la.push_back(cellMap(attrs(l.attributes())));
        }
        r["Events.Timestamp"] = cellList(et);
        r["Events.Name"] = cellList(en);
        r["Events.Attributes"] = cellList(ea);
        r["Links.TraceId"] = cellList(lt);
        r["Links.SpanId"] = cellList(ls);
        r["Links.TraceState"] = cellList(lst);
        r["Links.Attributes"] = cellList(la);
        out.rows.push_back(std::move(r));
      }
    }
  }
  return out;
}

namespace {

struct MetricContext {
  std::string resAttrs, resUrl, scopeName, scopeVersion, scopeAttrs, scopeUrl, service, name,
      description, unit;
  uint32_t scopeDropped = 0;
};

Row commonRow(const MetricContext& m, const Kvs& attributes, uint64_t start, uint64_t time,
              uint32_t flags) {
  Row r;
  r["ResourceAttributes"] = m.resAttrs;
  r["ResourceSchemaUrl"] = cellString(m.resUrl);
  r["ScopeName"] = cellString(m.scopeName);
  r["ScopeVersion"] = cellString(m.scopeVersion);
  r["ScopeAttributes"] = m.scopeAttrs;
  r["ScopeDroppedAttrCount"] = cellUint(m.scopeDropped);
  r["ScopeSchemaUrl"] = cellString(m.scopeUrl);
  r["ServiceName"] = cellString(m.service);
  r["MetricName"] = cellString(m.name);
  r["MetricDescription"] = cellString(m.description);
  r["MetricUnit"] = cellString(m.unit);
  r["Attributes"] = cellMap(attrs(attributes));
  r["StartTimeUnix"] = cellInt(static_cast<int64_t>(start));
  r["TimeUnix"] = cellInt(static_cast<int64_t>(time));
  r["Flags"] = cellUint(flags);
  return r;
}

// Adds the Exemplars.* cells; false when an exemplar id makes the point rejected.
bool exemplarCells(const google::protobuf::RepeatedPtrField<pbmetrics::Exemplar>& exemplars,
                   Row& r) {
  std::vector<std::string> fa, tu, va, si, ti;
  for (const auto& e : exemplars) {
    if (!idOk(e.trace_id(), 16) || !idOk(e.span_id(), 8)) return false;
    fa.push_back(cellMap(attrs(e.filtered_attributes())));
    tu.push_back(cellInt(static_cast<int64_t>(e.time_unix_nano())));
    va.push_back(cellDouble(e.value_case() == pbmetrics::Exemplar::kAsInt
                                ? static_cast<double>(e.as_int())
                                : e.as_double()));
    si.push_back(cellString(exemplarHex(e.span_id(), 8)));
    ti.push_back(cellString(exemplarHex(e.trace_id(), 16)));
  }
  r["Exemplars.FilteredAttributes"] = cellList(fa);
  r["Exemplars.TimeUnix"] = cellList(tu);
  r["Exemplars.Value"] = cellList(va);
  r["Exemplars.SpanId"] = cellList(si);
  r["Exemplars.TraceId"] = cellList(ti);
  return true;
}

template <typename T>
std::string listOf(const google::protobuf::RepeatedField<T>& values) {
  std::vector<std::string> cells;
  for (T v : values) {
    if constexpr (std::is_same_v<T, double>) {
      cells.push_back(cellDouble(v));
    } else {
      cells.push_back(cellUint(v));
    }
  }
  return cellList(cells);
}

double numberValue(const pbmetrics::NumberDataPoint& p) {
  return p.value_case() == pbmetrics::NumberDataPoint::kAsInt ? static_cast<double>(p.as_int())
                                                              : p.as_double();
}

}  // namespace

ExpectedMetrics refMetrics(const MetricsRequest& request) {
  ExpectedMetrics out;
  for (const auto& rm : request.resource_metrics()) {
    MetricContext m;
    m.resAttrs = cellMap(attrs(rm.resource().attributes()));
    m.resUrl = rm.schema_url();
    m.service = serviceName(rm.resource().attributes());
    for (const auto& sm : rm.scope_metrics()) {
      m.scopeName = sm.scope().name();
      m.scopeVersion = sm.scope().version();
      m.scopeAttrs = cellMap(attrs(sm.scope().attributes()));
      m.scopeDropped = sm.scope().dropped_attributes_count();
      m.scopeUrl = sm.schema_url();
      for (const auto& metric : sm.metrics()) {
        m.name = metric.name();
        m.description = metric.description();
        m.unit = metric.unit();
        switch (metric.data_case()) {
          case pbmetrics::Metric::kGauge:
            for (const auto& p : metric.gauge().data_points()) {
              Row r = commonRow(m, p.attributes(), p.start_time_unix_nano(), p.time_unix_nano(),
                                p.flags());
              if (!exemplarCells(p.exemplars(), r)) {
                ++out.rejected;
                continue;
              }
              r["Value"] = cellDouble(numberValue(p));
              out.gauge.push_back(std::move(r));
            }
            break;
          case pbmetrics::Metric::kSum:
            for (const auto& p : metric.sum().data_points()) {
              Row r = commonRow(m, p.attributes(), p.start_time_unix_nano(), p.time_unix_nano(),
                                p.flags());
              if (!exemplarCells(p.exemplars(), r)) {
                ++out.rejected;
                continue;
              }
              r["Value"] = cellDouble(numberValue(p));
              r["AggregationTemporality"] = cellInt(metric.sum().aggregation_temporality());
              r["IsMonotonic"] = cellUint(metric.sum().is_monotonic() ? 1 : 0);
              out.sum.push_back(std::move(r));
            }
            break;
          case pbmetrics::Metric::kHistogram:
            for (const auto& p : metric.histogram().data_points()) {
              Row r = commonRow(m, p.attributes(), p.start_time_unix_nano(), p.time_unix_nano(),
                                p.flags());
              if (!exemplarCells(p.exemplars(), r)) {
                ++out.rejected;
                continue;
              }
              r["Count"] = cellUint(p.count());
              r["Sum"] = cellDouble(p.has_sum() ? p.sum() : 0);
              r["BucketCounts"] = listOf(p.bucket_counts());
              r["ExplicitBounds"] = listOf(p.explicit_bounds());
              r["Min"] = cellDouble(p.has_min() ? p.min() : 0);
              r["Max"] = cellDouble(p.has_max() ? p.max() : 0);
              r["AggregationTemporality"] = cellInt(metric.histogram().aggregation_temporality());
              out.histogram.push_back(std::move(r));
            }
            break;
          case pbmetrics::Metric::kExponentialHistogram:
            for (const auto& p : metric.exponential_histogram().data_points()) {
              Row r = commonRow(m, p.attributes(), p.start_time_unix_nano(), p.time_unix_nano(),
                                p.flags());
              if (!exemplarCells(p.exemplars(), r)) {
                ++out.rejected;
                continue;
              }
              r["Count"] = cellUint(p.count());
              r["Sum"] = cellDouble(p.has_sum() ? p.sum() : 0);
              r["Scale"] = cellInt(p.scale());
              r["ZeroCount"] = cellUint(p.zero_count());
              r["PositiveOffset"] = cellInt(p.positive().offset());
              r["PositiveBucketCounts"] = listOf(p.positive().bucket_counts());
              r["NegativeOffset"] = cellInt(p.negative().offset());
              r["NegativeBucketCounts"] = listOf(p.negative().bucket_counts());
              r["Min"] = cellDouble(p.has_min() ? p.min() : 0);
              r["Max"] = cellDouble(p.has_max() ? p.max() : 0);
              r["AggregationTemporality"] =
                  cellInt(metric.exponential_histogram().aggregation_temporality());
              out.expHistogram.push_back(std::move(r));
            }
            break;
          case pbmetrics::Metric::kSummary:
            for (const auto& p : metric.summary().data_points()) {
              Row r = commonRow(m, p.attributes(), p.start_time_unix_nano(), p.time_unix_nano(),
                                p.flags());
              r["Count"] = cellUint(p.count());
              r["Sum"] = cellDouble(p.sum());
              std::vector<std::string> q, v;
              for (const auto& qv : p.quantile_values()) {
                q.push_back(cellDouble(qv.quantile()));
                v.push_back(cellDouble(qv.value()));
              }
              r["ValueAtQuantiles.Quantile"] = cellList(q);
              r["ValueAtQuantiles.Value"] = cellList(v);
              out.summary.push_back(std::move(r));
            }
            break;
          default: break;
        }
      }
    }
  }
  return out;
}

// ---- the generator

std::string RequestGenerator::string() {
  static const char* kPieces[] = {
      "a",    "b", "Z", "0", " ",      "\"",     "\\",     "<", ">", "&", "\n", "\t", "\x01",
      "\x7f", "é", "€", "𝄞", "\u2028", "\u2029", "\uFFFD", "/", "{", "}", "[",  ":",  ","};
  const int n = pick(4) == 0 ? 0 : pick(12);
  std::string s;
  for (int i = 0; i < n; ++i) s += kPieces[pick(sizeof kPieces / sizeof kPieces[0])];
  return s;
}

double RequestGenerator::number() {
  static const double kSpecial[] = {0.0,
                                    -0.0,
                                    1.0,
                                    0.1,
                                    -2.5,
                                    1e21,
                                    9.999999999999999e20,
                                    1e-6,
                                    9.99e-7,
                                    1e-7,
                                    123456789012345680000.0,
                                    1.5e300,
                                    5e-324,
                                    std::numeric_limits<double>::max(),
                                    std::numeric_limits<double>::quiet_NaN(),
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity()};
  if (chance(0.5)) return kSpecial[pick(sizeof kSpecial / sizeof kSpecial[0])];
  for (;;) {
    const uint64_t bits = rng_();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d)) return chance(0.5) ? d : static_cast<double>(rng_() % 100000) / 100;
  }
}

uint64_t RequestGenerator::u64() {
  switch (pick(4)) {
    case 0: return 0;
    case 1: return rng_() % 1000;
    case 2: return 1700000000000000000ull + rng_() % 1000000000000ull;
    default: return rng_();
  }
}

std::string RequestGenerator::id(size_t size) {
  if (chance(0.15)) return "";
  if (chance(0.05)) return std::string(size, '\0');
  if (chance(opt_.badIdRate)) size = static_cast<size_t>(pick(2) == 0 ? size - 1 : size + 1);
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>(rng_());
  return s;
}

void RequestGenerator::anyValue(pbcommon::AnyValue* v, int depth) {
  const int kinds = depth >= opt_.maxDepth ? 6 : 8;
  switch (pick(kinds)) {
    case 0: v->set_string_value(string()); break;
    case 1: v->set_bool_value(pick(2) == 0); break;
    case 2: {
      static const int64_t kInts[] = {0, -1, 1, std::numeric_limits<int64_t>::min(),
                                      std::numeric_limits<int64_t>::max()};
      v->set_int_value(chance(0.5) ? kInts[pick(5)] : static_cast<int64_t>(rng_()));
      break;
    }
    case 3: v->set_double_value(number()); break;
    case 4: {
      std::string b(static_cast<size_t>(pick(10)), '\0');
      for (auto& c : b) c = static_cast<char>(rng_());
      v->set_bytes_value(b);
      break;
    }
    case 5: break;  // no value
    case 6: {
      auto* a = v->mutable_array_value();
      for (int i = pick(4); i > 0; --i) anyValue(a->add_values(), depth + 1);
      break;
    }
    default: {
      auto* kv = v->mutable_kvlist_value();
      static const char* kKeys[] = {"a", "b", "c", "", "Z", "é", "<k>"};
      for (int i = pick(5); i > 0; --i) {
        auto* e = kv->add_values();
        e->set_key(chance(0.7) ? kKeys[pick(7)] : string());
        if (chance(0.9)) anyValue(e->mutable_value(), depth + 1);
      }
    }
  }
}

void RequestGenerator::attributes(google::protobuf::RepeatedPtrField<pbcommon::KeyValue>* kvs,
                                  int max) {
  static const char* kKeys[] = {"service.name", "http.method", "k", "k", "host.name", ""};
  for (int i = pick(max + 1); i > 0; --i) {
    auto* kv = kvs->Add();
    kv->set_key(chance(0.6) ? kKeys[pick(6)] : string());
    if (chance(0.95)) anyValue(kv->mutable_value(), 1);
  }
}

void RequestGenerator::resource(opentelemetry::proto::resource::v1::Resource* r) {
  attributes(r->mutable_attributes(), 6);
  if (chance(0.2)) r->set_dropped_attributes_count(static_cast<uint32_t>(pick(5)));
}

void RequestGenerator::scope(pbcommon::InstrumentationScope* s) {
  if (chance(0.3)) return;
  s->set_name(string());
  s->set_version(string());
  attributes(s->mutable_attributes(), 3);
  s->set_dropped_attributes_count(static_cast<uint32_t>(pick(3)));
}

LogsRequest RequestGenerator::logs() {
  LogsRequest req;
  for (int i = pick(4); i > 0; --i) {
    auto* rl = req.add_resource_logs();
    if (chance(0.9)) resource(rl->mutable_resource());
    if (chance(0.5)) rl->set_schema_url(string());
    for (int j = pick(4); j > 0; --j) {
      auto* sl = rl->add_scope_logs();
      scope(sl->mutable_scope());
      if (chance(0.5)) sl->set_schema_url(string());
      for (int k = pick(6); k > 0; --k) {
        auto* lr = sl->add_log_records();
        lr->set_time_unix_nano(u64());
        lr->set_observed_time_unix_nano(u64());
        lr->set_severity_number(static_cast<pblogs::SeverityNumber>(pick(25)));
        lr->set_severity_text(string());
        if (chance(0.9)) anyValue(lr->mutable_body(), 1);
        attributes(lr->mutable_attributes(), 8);
        lr->set_flags(static_cast<uint32_t>(rng_()));
        lr->set_trace_id(id(16));
        lr->set_span_id(id(8));
        if (chance(0.3)) lr->set_event_name(string());
      }
    }
  }
  return req;
}

TraceRequest RequestGenerator::traces() {
  TraceRequest req;
  for (int i = pick(4); i > 0; --i) {
    auto* rs = req.add_resource_spans();
    if (chance(0.9)) resource(rs->mutable_resource());
    if (chance(0.5)) rs->set_schema_url(string());
    for (int j = pick(4); j > 0; --j) {
      auto* ss = rs->add_scope_spans();
      scope(ss->mutable_scope());
      for (int k = pick(6); k > 0; --k) {
        auto* s = ss->add_spans();
        s->set_trace_id(id(16));
        s->set_span_id(id(8));
        s->set_parent_span_id(id(8));
        s->set_trace_state(string());
        s->set_name(string());
        s->set_kind(static_cast<pbtrace::Span::SpanKind>(pick(6)));
        s->set_start_time_unix_nano(u64());
        s->set_end_time_unix_nano(chance(0.8) ? s->start_time_unix_nano() + rng_() % 1000000
                                              : u64());
        s->set_flags(static_cast<uint32_t>(rng_()));
        attributes(s->mutable_attributes(), 8);
        for (int e = pick(4); e > 0; --e) {
          auto* ev = s->add_events();
          ev->set_time_unix_nano(u64());
          ev->set_name(string());
          attributes(ev->mutable_attributes(), 3);
        }
        for (int l = pick(3); l > 0; --l) {
          auto* link = s->add_links();
          link->set_trace_id(id(16));
          link->set_span_id(id(8));
          link->set_trace_state(string());
          attributes(link->mutable_attributes(), 2);
        }
        if (chance(0.7)) {
          s->mutable_status()->set_code(static_cast<pbtrace::Status::StatusCode>(pick(3)));
          s->mutable_status()->set_message(string());
        }
      }
    }
  }
  return req;
}

void RequestGenerator::exemplars(google::protobuf::RepeatedPtrField<pbmetrics::Exemplar>* out) {
  for (int i = pick(3); i > 0; --i) {
    auto* e = out->Add();
    attributes(e->mutable_filtered_attributes(), 2);
    e->set_time_unix_nano(u64());
    if (pick(2) == 0) {
      e->set_as_double(number());
    } else {
      e->set_as_int(static_cast<int64_t>(rng_()));
    }
    e->set_span_id(id(8));
    e->set_trace_id(id(16));
  }
}

MetricsRequest RequestGenerator::metrics() {
  MetricsRequest req;
  for (int i = pick(3); i > 0; --i) {
    auto* rm = req.add_resource_metrics();
    if (chance(0.9)) resource(rm->mutable_resource());
    if (chance(0.5)) rm->set_schema_url(string());
    for (int j = pick(3); j > 0; --j) {
      auto* sm = rm->add_scope_metrics();
      scope(sm->mutable_scope());
      if (chance(0.5)) sm->set_schema_url(string());
      for (int k = pick(7); k > 0; --k) {
        auto* m = sm->add_metrics();
        m->set_name(string());
        m->set_description(string());
        m->set_unit(string());
        const int points = pick(4);
        switch (pick(6)) {
          case 0: {
            auto* g = m->mutable_gauge();
            for (int p = 0; p < points; ++p) {
              auto* dp = g->add_data_points();
              attributes(dp->mutable_attributes(), 4);
              dp->set_start_time_unix_nano(u64());
              dp->set_time_unix_nano(u64());
              if (pick(2) == 0) {
                dp->set_as_double(number());
              } else {
                dp->set_as_int(static_cast<int64_t>(rng_()));
              }
              exemplars(dp->mutable_exemplars());
              dp->set_flags(static_cast<uint32_t>(pick(3)));
            }
            break;
          }
          case 1: {
            auto* s = m->mutable_sum();
            s->set_aggregation_temporality(static_cast<pbmetrics::AggregationTemporality>(pick(3)));
            s->set_is_monotonic(pick(2) == 0);
            for (int p = 0; p < points; ++p) {
              auto* dp = s->add_data_points();
              attributes(dp->mutable_attributes(), 4);
              dp->set_time_unix_nano(u64());
              if (chance(0.8)) dp->set_as_double(number());
              exemplars(dp->mutable_exemplars());
            }
            break;
          }
          case 2: {
            auto* h = m->mutable_histogram();
            h->set_aggregation_temporality(static_cast<pbmetrics::AggregationTemporality>(pick(3)));
            for (int p = 0; p < points; ++p) {
              auto* dp = h->add_data_points();
              attributes(dp->mutable_attributes(), 3);
              dp->set_start_time_unix_nano(u64());
              dp->set_time_unix_nano(u64());
              dp->set_count(u64());
              if (chance(0.7)) dp->set_sum(number());
              for (int b = pick(6); b > 0; --b) dp->add_bucket_counts(u64());
              for (int b = pick(5); b > 0; --b) dp->add_explicit_bounds(number());
              exemplars(dp->mutable_exemplars());
              dp->set_flags(static_cast<uint32_t>(pick(2)));
              if (chance(0.5)) dp->set_min(number());
              if (chance(0.5)) dp->set_max(number());
            }
            break;
          }
          case 3: {
            auto* h = m->mutable_exponential_histogram();
            h->set_aggregation_temporality(static_cast<pbmetrics::AggregationTemporality>(pick(3)));
            for (int p = 0; p < points; ++p) {
              auto* dp = h->add_data_points();
              attributes(dp->mutable_attributes(), 3);
              dp->set_time_unix_nano(u64());
              dp->set_count(u64());
              if (chance(0.7)) dp->set_sum(number());
              dp->set_scale(static_cast<int32_t>(pick(41)) - 20);
              dp->set_zero_count(u64());
              if (chance(0.8)) {
                dp->mutable_positive()->set_offset(static_cast<int32_t>(rng_()));
                for (int b = pick(6); b > 0; --b) dp->mutable_positive()->add_bucket_counts(u64());
              }
              if (chance(0.5)) {
                dp->mutable_negative()->set_offset(-static_cast<int32_t>(pick(100)));
                for (int b = pick(6); b > 0; --b) dp->mutable_negative()->add_bucket_counts(u64());
              }
              dp->set_flags(static_cast<uint32_t>(pick(2)));
              exemplars(dp->mutable_exemplars());
              if (chance(0.5)) dp->set_min(number());
              if (chance(0.5)) dp->set_max(number());
              dp->set_zero_threshold(number());
            }
            break;
          }
          case 4: {
            auto* s = m->mutable_summary();
            for (int p = 0; p < points; ++p) {
              auto* dp = s->add_data_points();
              attributes(dp->mutable_attributes(), 3);
              dp->set_start_time_unix_nano(u64());
              dp->set_time_unix_nano(u64());
              dp->set_count(u64());
              dp->set_sum(number());
              for (int q = pick(4); q > 0; --q) {
                auto* qv = dp->add_quantile_values();
                qv->set_quantile(number());
                qv->set_value(number());
              }
              dp->set_flags(static_cast<uint32_t>(pick(2)));
            }
            break;
          }
          default: break;  // a metric without data
        }
      }
    }
  }
  return req;
}

// ---- OTLP/JSON

std::string toOtlpJson(const google::protobuf::Message& message, bool snakeCase, bool enumsAsInts) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = snakeCase;
  options.always_print_enums_as_ints = enumsAsInts;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return "";
  // libprotobuf writes bytes as base64; OTLP/JSON wants trace and span ids as hex. Keys are
  // found by walking string literals, so string contents never match.
  static const char* kIdKeys[] = {"\"traceId\":\"",  "\"spanId\":\"",  "\"parentSpanId\":\"",
                                  "\"trace_id\":\"", "\"span_id\":\"", "\"parent_span_id\":\""};
  std::string out;
  out.reserve(json.size());
  size_t i = 0;
  while (i < json.size()) {
    // Copy up to the next quote, then see whether an id key starts there.
    const size_t q = json.find('"', i);
    if (q == std::string::npos) {
      out.append(json, i, std::string::npos);
      break;
    }
    out.append(json, i, q - i);
    size_t keyLen = 0;
    for (const char* key : kIdKeys) {
      const size_t n = std::strlen(key);
      if (json.compare(q, n, key) == 0) {
        keyLen = n;
        break;
      }
    }
    if (keyLen == 0) {
      // Not an id key: copy this string literal whole (escapes included).
      size_t j = q + 1;
      while (j < json.size() && json[j] != '"') j += json[j] == '\\' ? 2 : 1;
      out.append(json, q, j + 1 - q);
      i = j + 1;
      continue;
    }
    const size_t valueStart = q + keyLen;
    const size_t valueEnd = json.find('"', valueStart);
    out.append(json, q, keyLen);
    // base64 -> bytes -> hex
    std::string bytes;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t k = valueStart; k < valueEnd; ++k) {
      const char c = json[k];
      int v = -1;
      if (c >= 'A' && c <= 'Z') v = c - 'A';
      if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
      if (c >= '0' && c <= '9') v = c - '0' + 52;
      if (c == '+' || c == '-') v = 62;
      if (c == '/' || c == '_') v = 63;
      if (v < 0) continue;
      acc = acc << 6 | static_cast<uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes += static_cast<char>((acc >> bits) & 0xff);
      }
    }
    out += refHex(bytes);
    out += '"';
    i = valueEnd + 1;
  }
  return out;
}

void normalizeNegativeZero(google::protobuf::Message* message) {
  using google::protobuf::FieldDescriptor;
  const auto* reflection = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
      if (f->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*message, f); ++i) {
          const double d = reflection->GetRepeatedDouble(*message, f, i);
          if (d == 0 && std::signbit(d)) reflection->SetRepeatedDouble(message, f, i, 0.0);
        }
      } else {
        const double d = reflection->GetDouble(*message, f);
        if (d == 0 && std::signbit(d)) reflection->SetDouble(message, f, 0.0);
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (f->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*message, f); ++i) {
          normalizeNegativeZero(reflection->MutableRepeatedMessage(message, f, i));
        }
      } else {
        normalizeNegativeZero(reflection->MutableMessage(message, f));
      }
    }
  }
}

}  // namespace stackhouse::otlp::testing
