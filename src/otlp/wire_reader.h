// Protobuf wire-format reading over a span of the request, and the OTLP message layouts (field
// numbers, names and wire types from the opentelemetry-proto .proto files). No generated code:
// the decoders switch on field numbers themselves. Internal to stackhouse_otlp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "otlp/decode_context.h"

namespace stackhouse::otlp::detail {

using Bytes = std::span<const uint8_t>;

enum class WireType : uint8_t {
  kVarint = 0,
  kI64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kI32 = 5,
};

// Field numbers of the OTLP messages stay below this; higher ones are unknown fields.
inline constexpr uint32_t kMaxKnownField = 17;

struct FieldInfo {
  const char* name = nullptr;  // nullptr: not a field we know
  WireType wire = WireType::kVarint;
  bool packable = false;  // a repeated scalar: its own wire type, or length-delimited (packed)
};

struct FieldDef {
  uint32_t number;
  const char* name;
  WireType wire;
  bool packable = false;
};

struct MessageInfo {
  const char* name;
  std::array<FieldInfo, kMaxKnownField> fields{};
};

constexpr MessageInfo makeMessage(const char* name, std::initializer_list<FieldDef> defs) {
  MessageInfo m{name, {}};
  for (const FieldDef& d : defs) m.fields[d.number] = FieldInfo{d.name, d.wire, d.packable};
  return m;
}

namespace msg {
using W = WireType;
// collector/*/v1/*_service.proto
inline constexpr MessageInfo kExportLogsRequest =
    makeMessage("ExportLogsServiceRequest", {{1, "resource_logs", W::kLen}});
inline constexpr MessageInfo kExportTraceRequest =
    makeMessage("ExportTraceServiceRequest", {{1, "resource_spans", W::kLen}});
inline constexpr MessageInfo kExportMetricsRequest =
    makeMessage("ExportMetricsServiceRequest", {{1, "resource_metrics", W::kLen}});
// common/v1/common.proto, resource/v1/resource.proto
inline constexpr MessageInfo kAnyValue =
    makeMessage("AnyValue", {{1, "string_value", W::kLen},
                             {2, "bool_value", W::kVarint},
                             {3, "int_value", W::kVarint},
                             {4, "double_value", W::kI64},
                             {5, "array_value", W::kLen},
                             {6, "kvlist_value", W::kLen},
                             {7, "bytes_value", W::kLen},
                             {8, "string_value_strindex", W::kVarint}});
inline constexpr MessageInfo kArrayValue = makeMessage("ArrayValue", {{1, "values", W::kLen}});
inline constexpr MessageInfo kKeyValueList = makeMessage("KeyValueList", {{1, "values", W::kLen}});
inline constexpr MessageInfo kKeyValue = makeMessage(
    "KeyValue", {{1, "key", W::kLen}, {2, "value", W::kLen}, {3, "key_strindex", W::kVarint}});
inline constexpr MessageInfo kScope =
    makeMessage("InstrumentationScope", {{1, "name", W::kLen},
                                         {2, "version", W::kLen},
                                         {3, "attributes", W::kLen},
                                         {4, "dropped_attributes_count", W::kVarint}});
inline constexpr MessageInfo kResource =
    makeMessage("Resource", {{1, "attributes", W::kLen},
                             {2, "dropped_attributes_count", W::kVarint},
                             {3, "entity_refs", W::kLen}});
// logs/v1/logs.proto
inline constexpr MessageInfo kResourceLogs =
    makeMessage("ResourceLogs",
                {{1, "resource", W::kLen}, {2, "scope_logs", W::kLen}, {3, "schema_url", W::kLen}});
inline constexpr MessageInfo kScopeLogs = makeMessage(
    "ScopeLogs", {{1, "scope", W::kLen}, {2, "log_records", W::kLen}, {3, "schema_url", W::kLen}});
inline constexpr MessageInfo kLogRecord =
    makeMessage("LogRecord", {{1, "time_unix_nano", W::kI64},
                              {2, "severity_number", W::kVarint},
                              {3, "severity_text", W::kLen},
                              {5, "body", W::kLen},
                              {6, "attributes", W::kLen},
                              {7, "dropped_attributes_count", W::kVarint},
                              {8, "flags", W::kI32},
                              {9, "trace_id", W::kLen},
                              {10, "span_id", W::kLen},
                              {11, "observed_time_unix_nano", W::kI64},
                              {12, "event_name", W::kLen}});
// trace/v1/trace.proto
inline constexpr MessageInfo kResourceSpans = makeMessage(
    "ResourceSpans",
    {{1, "resource", W::kLen}, {2, "scope_spans", W::kLen}, {3, "schema_url", W::kLen}});
inline constexpr MessageInfo kScopeSpans = makeMessage(
    "ScopeSpans", {{1, "scope", W::kLen}, {2, "spans", W::kLen}, {3, "schema_url", W::kLen}});
inline constexpr MessageInfo kSpan =
    makeMessage("Span", {{1, "trace_id", W::kLen},
                         {2, "span_id", W::kLen},
                         {3, "trace_state", W::kLen},
                         {4, "parent_span_id", W::kLen},
                         {5, "name", W::kLen},
                         {6, "kind", W::kVarint},
                         {7, "start_time_unix_nano", W::kI64},
                         {8, "end_time_unix_nano", W::kI64},
                         {9, "attributes", W::kLen},
                         {10, "dropped_attributes_count", W::kVarint},
                         {11, "events", W::kLen},
                         {12, "dropped_events_count", W::kVarint},
                         {13, "links", W::kLen},
                         {14, "dropped_links_count", W::kVarint},
                         {15, "status", W::kLen},
                         {16, "flags", W::kI32}});
inline constexpr MessageInfo kEvent =
    makeMessage("Span.Event", {{1, "time_unix_nano", W::kI64},
                               {2, "name", W::kLen},
                               {3, "attributes", W::kLen},
                               {4, "dropped_attributes_count", W::kVarint}});
inline constexpr MessageInfo kLink =
    makeMessage("Span.Link", {{1, "trace_id", W::kLen},
                              {2, "span_id", W::kLen},
                              {3, "trace_state", W::kLen},
                              {4, "attributes", W::kLen},
                              {5, "dropped_attributes_count", W::kVarint},
                              {6, "flags", W::kI32}});
inline constexpr MessageInfo kStatus =
    makeMessage("Status", {{2, "message", W::kLen}, {3, "code", W::kVarint}});
// metrics/v1/metrics.proto
inline constexpr MessageInfo kResourceMetrics = makeMessage(
    "ResourceMetrics",
    {{1, "resource", W::kLen}, {2, "scope_metrics", W::kLen}, {3, "schema_url", W::kLen}});
inline constexpr MessageInfo kScopeMetrics = makeMessage(
    "ScopeMetrics", {{1, "scope", W::kLen}, {2, "metrics", W::kLen}, {3, "schema_url", W::kLen}});
inline constexpr MessageInfo kMetric =
    makeMessage("Metric", {{1, "name", W::kLen},
                           {2, "description", W::kLen},
                           {3, "unit", W::kLen},
                           {5, "gauge", W::kLen},
                           {7, "sum", W::kLen},
                           {9, "histogram", W::kLen},
                           {10, "exponential_histogram", W::kLen},
                           {11, "summary", W::kLen},
                           {12, "metadata", W::kLen}});
inline constexpr MessageInfo kGauge = makeMessage("Gauge", {{1, "data_points", W::kLen}});
inline constexpr MessageInfo kSum = makeMessage("Sum", {{1, "data_points", W::kLen},
                                                        {2, "aggregation_temporality", W::kVarint},
                                                        {3, "is_monotonic", W::kVarint}});
inline constexpr MessageInfo kHistogram = makeMessage(
    "Histogram", {{1, "data_points", W::kLen}, {2, "aggregation_temporality", W::kVarint}});
inline constexpr MessageInfo kExpHistogram =
    makeMessage("ExponentialHistogram",
                {{1, "data_points", W::kLen}, {2, "aggregation_temporality", W::kVarint}});
inline constexpr MessageInfo kSummary = makeMessage("Summary", {{1, "data_points", W::kLen}});
inline constexpr MessageInfo kNumberDataPoint =
    makeMessage("NumberDataPoint", {{2, "start_time_unix_nano", W::kI64},
                                    {3, "time_unix_nano", W::kI64},
                                    {4, "as_double", W::kI64},
                                    {5, "exemplars", W::kLen},
                                    {6, "as_int", W::kI64},
                                    {7, "attributes", W::kLen},
                                    {8, "flags", W::kVarint}});
inline constexpr MessageInfo kHistogramDataPoint =
    makeMessage("HistogramDataPoint", {{2, "start_time_unix_nano", W::kI64},
                                       {3, "time_unix_nano", W::kI64},
                                       {4, "count", W::kI64},
                                       {5, "sum", W::kI64},
                                       {6, "bucket_counts", W::kI64, true},
                                       {7, "explicit_bounds", W::kI64, true},
                                       {8, "exemplars", W::kLen},
                                       {9, "attributes", W::kLen},
                                       {10, "flags", W::kVarint},
                                       {11, "min", W::kI64},
                                       {12, "max", W::kI64}});
inline constexpr MessageInfo kExpHistogramDataPoint =
    makeMessage("ExponentialHistogramDataPoint", {{1, "attributes", W::kLen},
                                                  {2, "start_time_unix_nano", W::kI64},
                                                  {3, "time_unix_nano", W::kI64},
                                                  {4, "count", W::kI64},
                                                  {5, "sum", W::kI64},
                                                  {6, "scale", W::kVarint},
                                                  {7, "zero_count", W::kI64},
                                                  {8, "positive", W::kLen},
                                                  {9, "negative", W::kLen},
                                                  {10, "flags", W::kVarint},
                                                  {11, "exemplars", W::kLen},
                                                  {12, "min", W::kI64},
                                                  {13, "max", W::kI64},
                                                  {14, "zero_threshold", W::kI64}});
inline constexpr MessageInfo kBuckets =
    makeMessage("ExponentialHistogramDataPoint.Buckets",
                {{1, "offset", W::kVarint}, {2, "bucket_counts", W::kVarint, true}});
inline constexpr MessageInfo kSummaryDataPoint =
    makeMessage("SummaryDataPoint", {{2, "start_time_unix_nano", W::kI64},
                                     {3, "time_unix_nano", W::kI64},
                                     {4, "count", W::kI64},
                                     {5, "sum", W::kI64},
                                     {6, "quantile_values", W::kLen},
                                     {7, "attributes", W::kLen},
                                     {8, "flags", W::kVarint}});
inline constexpr MessageInfo kValueAtQuantile = makeMessage(
    "SummaryDataPoint.ValueAtQuantile", {{1, "quantile", W::kI64}, {2, "value", W::kI64}});
inline constexpr MessageInfo kExemplar =
    makeMessage("Exemplar", {{2, "time_unix_nano", W::kI64},
                             {3, "as_double", W::kI64},
                             {4, "span_id", W::kLen},
                             {5, "trace_id", W::kLen},
                             {6, "as_int", W::kI64},
                             {7, "filtered_attributes", W::kLen}});
}  // namespace msg

// One field as read from the wire.
struct Field {
  uint32_t number = 0;
  WireType wire = WireType::kVarint;
  uint64_t value = 0;  // the payload of kVarint, kI64 and kI32 fields
  Bytes bytes;         // the payload of kLen fields

  std::string_view str() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  double asDouble() const {
    double d;
    std::memcpy(&d, &value, sizeof d);
    return d;
  }
};

std::string_view wireTypeName(WireType w);

// Parses a varint of at most 10 bytes whose value fits 64 bits at [p, end). Returns the byte
// after it, or nullptr when it is truncated, longer than 10 bytes, or overflows.
inline const uint8_t* parseVarintSlow(const uint8_t* p, const uint8_t* end, uint64_t& v) {
  uint64_t result = 0;
  for (unsigned i = 0; i < 10; ++i) {
    if (p >= end) return nullptr;
    const uint8_t b = *p++;
    if (i == 9 && b > 1) return nullptr;
    result |= uint64_t{b & 0x7fu} << (7 * i);
    if (b < 0x80) {
      v = result;
      return p;
    }
  }
  return nullptr;
}

[[gnu::always_inline]] inline const uint8_t* parseVarint(const uint8_t* p, const uint8_t* end,
                                                         uint64_t& v) {
  if (p < end && *p < 0x80) {
    v = *p;
    return p + 1;
  }
  return parseVarintSlow(p, end, v);
}

// Reads the fields of one message in order. A field of a known number must have its declared
// wire type (or be packed, when packable); unknown fields are skipped by their framing. Groups
// (wire types 3 and 4) are refused: OTLP never uses them.
//
// Errors go to the DecodeContext (first one wins) and next() returns false, as it does at the end
// of the message; callers tell the two apart with ctx.failed().
class WireReader {
 public:
  WireReader(DecodeContext& ctx, Bytes message, const MessageInfo& info)
      : ctx_(ctx), p_(message.data()), end_(message.data() + message.size()), info_(info) {}

  // Inlined into each decoder loop: it runs once per field, and a call costs about as much as
  // reading a field.
  [[gnu::always_inline]] bool next(Field& f) {
    if (p_ >= end_) return false;
    const uint8_t* tagAt = p_;
    uint64_t tag;
    if (!readVarint(tag)) return failVarint(tagAt, "a field tag");
    const uint64_t number = tag >> 3;
    const auto wire = static_cast<WireType>(tag & 7);
    if (number == 0 || number > kMaxFieldNumber) return failFieldNumber(tagAt, number);
    f.number = static_cast<uint32_t>(number);
    f.wire = wire;
    if (number < kMaxKnownField) {
      const FieldInfo& fi = info_.fields[number];
      if (fi.name != nullptr && fi.wire != wire && !(fi.packable && wire == WireType::kLen)) {
        return failWireType(tagAt, f.number, wire, fi);
      }
    }
    switch (wire) {
      case WireType::kVarint:
        if (!readVarint(f.value)) return failVarint(tagAt, "a varint field");
        return true;
      case WireType::kI64:
        if (end_ - p_ < 8) return failFixed(tagAt, f.number, 8);
        std::memcpy(&f.value, p_, 8);
        p_ += 8;
        return true;
      case WireType::kI32: {
        if (end_ - p_ < 4) return failFixed(tagAt, f.number, 4);
        uint32_t v;
        std::memcpy(&v, p_, 4);
        f.value = v;
        p_ += 4;
        return true;
      }
      case WireType::kLen: {
        uint64_t len;
        if (!readVarint(len)) return failVarint(tagAt, "a length prefix");
        const auto left = static_cast<uint64_t>(end_ - p_);
        if (len > left) return failLength(tagAt, f.number, len, left);
        f.bytes = Bytes(p_, static_cast<size_t>(len));
        p_ += len;
        return true;
      }
      default: return failGroupOrInvalid(tagAt, f.number, wire);
    }
  }

 private:
  static constexpr uint64_t kMaxFieldNumber = (uint64_t{1} << 29) - 1;

  [[gnu::always_inline]] bool readVarint(uint64_t& v) {
    const uint8_t* q = parseVarint(p_, end_, v);
    if (q == nullptr) return false;
    p_ = q;
    return true;
  }

  [[gnu::cold]] bool failVarint(const uint8_t* tagAt, const char* what);
  [[gnu::cold]] bool failFieldNumber(const uint8_t* tagAt, uint64_t number);
  [[gnu::cold]] bool failWireType(const uint8_t* tagAt, uint32_t number, WireType got,
                                  const FieldInfo& want);
  [[gnu::cold]] bool failFixed(const uint8_t* tagAt, uint32_t number, size_t need);
  [[gnu::cold]] bool failLength(const uint8_t* tagAt, uint32_t number, uint64_t len, uint64_t left);
  [[gnu::cold]] bool failGroupOrInvalid(const uint8_t* tagAt, uint32_t number, WireType wire);
  std::string fieldLabel(uint32_t number) const;

  DecodeContext& ctx_;
  const uint8_t* p_;
  const uint8_t* end_;
  const MessageInfo& info_;
};

// Calls f(element) for each element of a packable repeated field, whether it came as one element
// of its declared wire type (kI64 or kVarint) or packed into a length-delimited payload.
template <typename F>
bool forEachPacked(DecodeContext& ctx, const Field& field, WireType elementWire, const char* where,
                   F&& f) {
  if (field.wire != WireType::kLen) {
    f(field.value);
    return true;
  }
  const uint8_t* p = field.bytes.data();
  const uint8_t* end = p + field.bytes.size();
  if (elementWire == WireType::kI64) {
    if (field.bytes.size() % 8 != 0) {
      return ctx.fail(std::string("packed field ") + where + " has " +
                      std::to_string(field.bytes.size()) +
                      " bytes, not a multiple of 8, at offset " + std::to_string(ctx.offsetOf(p)));
    }
    for (; p < end; p += 8) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      f(v);
    }
    return true;
  }
  while (p < end) {
    uint64_t v;
    const uint8_t* q = parseVarint(p, end, v);
    if (q == nullptr) {
      return ctx.fail(std::string("packed field ") + where +
                      " has a truncated or over-long varint at offset " +
                      std::to_string(ctx.offsetOf(p)));
    }
    f(v);
    p = q;
  }
  return true;
}

// zigzag decoding of sint32
inline int32_t zigzag32(uint64_t v) {
  const auto u = static_cast<uint32_t>(v);
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

}  // namespace stackhouse::otlp::detail
