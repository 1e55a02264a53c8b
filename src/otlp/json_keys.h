// The OTLP/JSON field names. OTLP/JSON uses the lowerCamelCase JSON names, and the protobuf JSON
// mapping also accepts the original snake_case names; we match both by comparing keys with
// underscores dropped and ASCII case folded ("timeUnixNano", "time_unix_nano"). No two OTLP
// fields differ only in that way. Internal to stackhouse_otlp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace stackhouse::otlp::detail {

// X(enumerator, folded name, JSON name)
#define STACKHOUSE_OTLP_JSON_KEYS(X)                                             \
  X(kResourceLogs, "resourcelogs", "resourceLogs")                               \
  X(kResourceSpans, "resourcespans", "resourceSpans")                            \
  X(kResourceMetrics, "resourcemetrics", "resourceMetrics")                      \
  X(kResource, "resource", "resource")                                           \
  X(kScopeLogs, "scopelogs", "scopeLogs")                                        \
  X(kScopeSpans, "scopespans", "scopeSpans")                                     \
  X(kScopeMetrics, "scopemetrics", "scopeMetrics")                               \
  X(kSchemaUrl, "schemaurl", "schemaUrl")                                        \
  X(kScope, "scope", "scope")                                                    \
  X(kLogRecords, "logrecords", "logRecords")                                     \
  X(kSpans, "spans", "spans")                                                    \
  X(kMetrics, "metrics", "metrics")                                              \
  X(kAttributes, "attributes", "attributes")                                     \
  X(kDroppedAttributesCount, "droppedattributescount", "droppedAttributesCount") \
  X(kName, "name", "name")                                                       \
  X(kVersion, "version", "version")                                              \
  X(kTimeUnixNano, "timeunixnano", "timeUnixNano")                               \
  X(kObservedTimeUnixNano, "observedtimeunixnano", "observedTimeUnixNano")       \
  X(kSeverityNumber, "severitynumber", "severityNumber")                         \
  X(kSeverityText, "severitytext", "severityText")                               \
  X(kBody, "body", "body")                                                       \
  X(kFlags, "flags", "flags")                                                    \
  X(kTraceId, "traceid", "traceId")                                              \
  X(kSpanId, "spanid", "spanId")                                                 \
  X(kEventName, "eventname", "eventName")                                        \
  X(kTraceState, "tracestate", "traceState")                                     \
  X(kParentSpanId, "parentspanid", "parentSpanId")                               \
  X(kKind, "kind", "kind")                                                       \
  X(kStartTimeUnixNano, "starttimeunixnano", "startTimeUnixNano")                \
  X(kEndTimeUnixNano, "endtimeunixnano", "endTimeUnixNano")                      \
  X(kEvents, "events", "events")                                                 \
  X(kLinks, "links", "links")                                                    \
  X(kStatus, "status", "status")                                                 \
  X(kMessage, "message", "message")                                              \
  X(kCode, "code", "code")                                                       \
  X(kDescription, "description", "description")                                  \
  X(kUnit, "unit", "unit")                                                       \
  X(kGauge, "gauge", "gauge")                                                    \
  X(kSum, "sum", "sum")                                                          \
  X(kHistogram, "histogram", "histogram")                                        \
  X(kExponentialHistogram, "exponentialhistogram", "exponentialHistogram")       \
  X(kSummary, "summary", "summary")                                              \
  X(kDataPoints, "datapoints", "dataPoints")                                     \
  X(kAggregationTemporality, "aggregationtemporality", "aggregationTemporality") \
  X(kIsMonotonic, "ismonotonic", "isMonotonic")                                  \
  X(kAsDouble, "asdouble", "asDouble")                                           \
  X(kAsInt, "asint", "asInt")                                                    \
  X(kExemplars, "exemplars", "exemplars")                                        \
  X(kCount, "count", "count")                                                    \
  X(kBucketCounts, "bucketcounts", "bucketCounts")                               \
  X(kExplicitBounds, "explicitbounds", "explicitBounds")                         \
  X(kMin, "min", "min")                                                          \
  X(kMax, "max", "max")                                                          \
  X(kScale, "scale", "scale")                                                    \
  X(kZeroCount, "zerocount", "zeroCount")                                        \
  X(kPositive, "positive", "positive")                                           \
  X(kNegative, "negative", "negative")                                           \
  X(kOffset, "offset", "offset")                                                 \
  X(kQuantileValues, "quantilevalues", "quantileValues")                         \
  X(kQuantile, "quantile", "quantile")                                           \
  X(kValue, "value", "value")                                                    \
  X(kFilteredAttributes, "filteredattributes", "filteredAttributes")             \
  X(kKey, "key", "key")                                                          \
  X(kValues, "values", "values")                                                 \
  X(kStringValue, "stringvalue", "stringValue")                                  \
  X(kBoolValue, "boolvalue", "boolValue")                                        \
  X(kIntValue, "intvalue", "intValue")                                           \
  X(kDoubleValue, "doublevalue", "doubleValue")                                  \
  X(kArrayValue, "arrayvalue", "arrayValue")                                     \
  X(kKvlistValue, "kvlistvalue", "kvlistValue")                                  \
  X(kBytesValue, "bytesvalue", "bytesValue")

enum class Key : uint8_t {
  kUnknown,
#define STACKHOUSE_OTLP_KEY_ENUM(id, folded, json) id,
  STACKHOUSE_OTLP_JSON_KEYS(STACKHOUSE_OTLP_KEY_ENUM)
#undef STACKHOUSE_OTLP_KEY_ENUM
};

constexpr char foldChar(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// FNV-1a over the key with underscores dropped and case folded.
constexpr uint64_t foldedKeyHash(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    if (c == '_') continue;
    h ^= static_cast<uint8_t>(foldChar(c));
    h *= 1099511628211ull;
  }
  return h;
}

// Whether `raw`, with underscores dropped and case folded, equals `folded`.
constexpr bool foldedEquals(std::string_view raw, std::string_view folded) {
  size_t j = 0;
  for (char c : raw) {
    if (c == '_') continue;
    if (j == folded.size() || foldChar(c) != folded[j]) return false;
    ++j;
  }
  return j == folded.size();
}

// Matches `raw` with underscores dropped and case folded. Duplicate hashes among the known names
// would not compile (duplicate case labels), and a hash match is confirmed by comparing names.
constexpr Key lookupFoldedKey(std::string_view raw) {
  switch (foldedKeyHash(raw)) {
#define STACKHOUSE_OTLP_KEY_CASE(id, folded, json) \
  case foldedKeyHash(folded): return foldedEquals(raw, folded) ? Key::id : Key::kUnknown;
    STACKHOUSE_OTLP_JSON_KEYS(STACKHOUSE_OTLP_KEY_CASE)
#undef STACKHOUSE_OTLP_KEY_CASE
    default: return Key::kUnknown;
  }
}

// The exact JSON names bucketed by length, for the fast path: OTLP/JSON writers use them.
struct ExactKeys {
  static constexpr size_t kMaxLength = 32;
  struct Entry {
    std::string_view name;
    Key key;
  };
  static constexpr Entry kAll[] = {
#define STACKHOUSE_OTLP_KEY_ENTRY(id, folded, json) {json, Key::id},
      STACKHOUSE_OTLP_JSON_KEYS(STACKHOUSE_OTLP_KEY_ENTRY)
#undef STACKHOUSE_OTLP_KEY_ENTRY
  };
  static constexpr size_t kCount = sizeof kAll / sizeof kAll[0];
  Entry sorted[kCount] = {};
  uint8_t begin[kMaxLength + 2] = {};  // entries of length n: sorted[begin[n] .. begin[n + 1])

  constexpr ExactKeys() {
    size_t at = 0;
    for (size_t n = 0; n <= kMaxLength; ++n) {
      begin[n] = static_cast<uint8_t>(at);
      for (const Entry& e : kAll) {
        if (e.name.size() == n) sorted[at++] = e;
      }
    }
    begin[kMaxLength + 1] = static_cast<uint8_t>(at);
  }
};
inline constexpr ExactKeys kExactKeys{};
static_assert(kExactKeys.begin[ExactKeys::kMaxLength + 1] == ExactKeys::kCount,
              "a JSON name is longer than ExactKeys::kMaxLength");

// The field a JSON key names, or kUnknown: the exact name first, then the folded comparison
// (snake_case, other capitalizations).
inline Key lookupKey(std::string_view raw) {
  if (raw.size() <= ExactKeys::kMaxLength) {
    const size_t n = raw.size();
    for (size_t i = kExactKeys.begin[n]; i < kExactKeys.begin[n + 1]; ++i) {
      const ExactKeys::Entry& e = kExactKeys.sorted[i];
      if (e.name[0] == raw[0] && std::memcmp(e.name.data(), raw.data(), n) == 0) return e.key;
    }
  }
  return lookupFoldedKey(raw);
}

// The lowerCamelCase JSON name of a key, for error messages (never the payload's spelling).
constexpr std::string_view keyName(Key k) {
  switch (k) {
#define STACKHOUSE_OTLP_KEY_NAME(id, folded, json) \
  case Key::id: return json;
    STACKHOUSE_OTLP_JSON_KEYS(STACKHOUSE_OTLP_KEY_NAME)
#undef STACKHOUSE_OTLP_KEY_NAME
    default: return "?";
  }
}

}  // namespace stackhouse::otlp::detail
