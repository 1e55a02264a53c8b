#include "otlp/request_encode.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

namespace stackhouse::otlp {
namespace {

using telemetry::MapColumn;
using telemetry::MetricPointCommon;
using telemetry::StringColumn;

enum Wire : uint32_t { kVarint = 0, kI64 = 1, kLen = 2, kI32 = 5 };

// Appends protobuf fields to a string. Nested messages are written in place: begin() leaves a
// one-byte length, end() widens it when the message turned out longer than 127 bytes (moving the
// message up by the extra bytes), so lengths are minimal varints as every encoder writes them.
class ProtoWriter {
 public:
  explicit ProtoWriter(std::string& out) : out_(out) {}

  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void tag(uint32_t field, Wire wire) { varint((static_cast<uint64_t>(field) << 3) | wire); }
  // proto3 scalars: the default value is not written.
  void uint64Field(uint32_t field, uint64_t v) {
    if (v == 0) return;
    tag(field, kVarint);
    varint(v);
  }
  void sint32Field(uint32_t field, int32_t v) {
    if (v == 0) return;
    tag(field, kVarint);
    varint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
  }
  void fixed64Field(uint32_t field, uint64_t v) {
    if (v == 0) return;
    tag(field, kI64);
    fixed64(v);
  }
  void fixed32Field(uint32_t field, uint32_t v) {
    if (v == 0) return;
    tag(field, kI32);
    char b[4];
    std::memcpy(b, &v, 4);
    out_.append(b, 4);
  }
  // `always`: an `optional double`, whose presence is explicit, or a oneof member.
  void doubleField(uint32_t field, double v, bool always = false) {
    if (!always && v == 0 && !std::signbit(v)) return;
    tag(field, kI64);
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    fixed64(bits);
  }
  void stringField(uint32_t field, std::string_view v, bool always = false) {
    if (v.empty() && !always) return;
    tag(field, kLen);
    varint(v.size());
    out_.append(v);
  }
  void bytesField(uint32_t field, const uint8_t* data, size_t size) {
    tag(field, kLen);
    varint(size);
    out_.append(reinterpret_cast<const char*>(data), size);
  }
  // A hex id ("4bf9...") as bytes; nothing when empty, all zeros or not hex of an even length.
  void hexIdField(uint32_t field, std::string_view hex) {
    if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 64) return;
    uint8_t bytes[32];
    bool zero = true;
    for (size_t i = 0; i < hex.size() / 2; ++i) {
      const int hi = nibble(hex[2 * i]);
      const int lo = nibble(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return;
      bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
      zero = zero && bytes[i] == 0;
    }
    if (!zero) bytesField(field, bytes, hex.size() / 2);
  }
  size_t begin(uint32_t field) {
    tag(field, kLen);
    out_.push_back('\0');
    return out_.size();
  }
  void end(size_t start) {
    const size_t length = out_.size() - start;
    size_t width = 1;
    for (uint64_t v = length; v >= 0x80; v >>= 7) ++width;
    if (width > 1) out_.insert(start, width - 1, '\0');
    uint64_t v = length;
    for (size_t i = 0; i < width; ++i) {
      out_[start - 1 + i] = static_cast<char>((v & 0x7f) | (i + 1 < width ? 0x80 : 0));
      v >>= 7;
    }
  }

  // The 8 little-endian bytes of a fixed64 or double, without a tag (inside a packed run).
  void rawFixed64(uint64_t v) { fixed64(v); }
  void rawDouble(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    fixed64(bits);
  }

 private:
  static int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  void fixed64(uint64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out_.append(b, 8);
  }

  std::string& out_;
};

// Whether a column value that stands for "absent" (0) is really something: -0 is a value.
bool nonZero(double v) { return v != 0 || std::signbit(v); }

// KeyValue {key = 1, value = 2 AnyValue {string_value = 1}} for each entry of a map row.
void writeAttributes(ProtoWriter& w, uint32_t field, const MapColumn& map, size_t row) {
  const auto first = static_cast<size_t>(map.offset(row));
  const auto last = static_cast<size_t>(map.offset(row + 1));
  for (size_t e = first; e < last; ++e) {
    const size_t kv = w.begin(field);
    w.stringField(1, map.keys().at(e));
    const size_t value = w.begin(2);
    // An empty string is still a string value: written, so the value is not "empty".
    w.stringField(1, map.values().at(e), /*always=*/true);
    w.end(value);
    w.end(kv);
  }
}

bool sameMapRow(const MapColumn& a, size_t ra, const MapColumn& b, size_t rb) {
  const auto a0 = static_cast<size_t>(a.offset(ra)), a1 = static_cast<size_t>(a.offset(ra + 1));
  const auto b0 = static_cast<size_t>(b.offset(rb)), b1 = static_cast<size_t>(b.offset(rb + 1));
  if (a1 - a0 != b1 - b0) return false;
  for (size_t i = 0; i < a1 - a0; ++i) {
    if (a.keys().at(a0 + i) != b.keys().at(b0 + i) ||
        a.values().at(a0 + i) != b.values().at(b0 + i)) {
      return false;
    }
  }
  return true;
}

// The resource and scope columns of a row, whatever the signal.
struct RowRef {
  const MapColumn* resourceAttributes = nullptr;
  const StringColumn* resourceSchemaUrl = nullptr;  // null: the table has none (traces)
  const StringColumn* scopeName = nullptr;
  const StringColumn* scopeVersion = nullptr;
  const MapColumn* scopeAttributes = nullptr;             // null: none (traces)
  const StringColumn* scopeSchemaUrl = nullptr;           // null: none (traces)
  const telemetry::UInt32Column* scopeDropped = nullptr;  // metrics only
  size_t row = 0;

  bool sameResource(const RowRef& o) const {
    if (!sameMapRow(*resourceAttributes, row, *o.resourceAttributes, o.row)) return false;
    return resourceSchemaUrl == nullptr ||
           resourceSchemaUrl->at(row) == o.resourceSchemaUrl->at(o.row);
  }
  bool sameScope(const RowRef& o) const {
    if (scopeName->at(row) != o.scopeName->at(o.row) ||
        scopeVersion->at(row) != o.scopeVersion->at(o.row)) {
      return false;
    }
    if (scopeAttributes != nullptr &&
        !sameMapRow(*scopeAttributes, row, *o.scopeAttributes, o.row)) {
      return false;
    }
    if (scopeDropped != nullptr && scopeDropped->at(row) != o.scopeDropped->at(o.row)) {
      return false;
    }
    return scopeSchemaUrl == nullptr || scopeSchemaUrl->at(row) == o.scopeSchemaUrl->at(o.row);
  }
};

// Keeps ResourceX { resource = 1, scope_x = 2 { scope = 1, records = 2, schema_url = 3 },
// schema_url = 3 } open while consecutive rows share them. `records` is the field number of the
// records inside ScopeX (2 for every signal).
class Grouper {
 public:
  explicit Grouper(ProtoWriter& w) : w_(w) {}

  // Opens (or keeps) the resource and scope of `row`. Returns true when a new scope was opened,
  // so callers that group further (metrics) start afresh.
  bool enter(const RowRef& row) {
    const bool newResource = !open_ || !row.sameResource(current_);
    const bool newScope = newResource || !row.sameScope(current_);
    if (newScope && open_) closeScope(newResource);
    if (newResource) {
      resource_ = w_.begin(1);
      const size_t r = w_.begin(1);
      writeAttributes(w_, 1, *row.resourceAttributes, row.row);
      w_.end(r);
    }
    if (newScope) {
      scope_ = w_.begin(2);
      const size_t s = w_.begin(1);
      w_.stringField(1, row.scopeName->at(row.row));
      w_.stringField(2, row.scopeVersion->at(row.row));
      if (row.scopeAttributes != nullptr) writeAttributes(w_, 3, *row.scopeAttributes, row.row);
      if (row.scopeDropped != nullptr) w_.uint64Field(4, row.scopeDropped->at(row.row));
      w_.end(s);
    }
    current_ = row;
    open_ = true;
    return newScope;
  }
  void finish() {
    if (open_) closeScope(true);
    open_ = false;
  }

 private:
  void closeScope(bool alsoResource) {
    if (current_.scopeSchemaUrl != nullptr) {
      w_.stringField(3, current_.scopeSchemaUrl->at(current_.row));
    }
    w_.end(scope_);
    if (alsoResource) {
      if (current_.resourceSchemaUrl != nullptr) {
        w_.stringField(3, current_.resourceSchemaUrl->at(current_.row));
      }
      w_.end(resource_);
    }
  }

  ProtoWriter& w_;
  bool open_ = false;
  RowRef current_;
  size_t resource_ = 0;
  size_t scope_ = 0;
};

int spanKindValue(std::string_view kind) {
  if (kind == "Internal") return 1;
  if (kind == "Server") return 2;
  if (kind == "Client") return 3;
  if (kind == "Producer") return 4;
  if (kind == "Consumer") return 5;
  return 0;
}

int statusCodeValue(std::string_view code) {
  if (code == "Ok") return 1;
  if (code == "Error") return 2;
  return 0;
}

// Exemplar { filtered_attributes = 7, time_unix_nano = 2, as_double = 3, span_id = 4,
// trace_id = 5 } for each exemplar of a point.
void writeExemplars(ProtoWriter& w, uint32_t field, const telemetry::ExemplarColumns& x,
                    size_t row) {
  const auto first = static_cast<size_t>(x.timeUnix.offset(row));
  const auto last = static_cast<size_t>(x.timeUnix.offset(row + 1));
  for (size_t e = first; e < last; ++e) {
    const size_t m = w.begin(field);
    w.fixed64Field(2, static_cast<uint64_t>(x.timeUnix.child().at(e)));
    w.doubleField(3, x.value.child().at(e), /*always=*/true);
    w.hexIdField(4, x.spanId.child().at(e));
    w.hexIdField(5, x.traceId.child().at(e));
    writeAttributes(w, 7, x.filteredAttributes.child(), e);
    w.end(m);
  }
}

void writeCounts(ProtoWriter& w, uint32_t field, const telemetry::UInt64ListColumn& list,
                 size_t row, bool fixed) {
  const auto first = static_cast<size_t>(list.offset(row));
  const auto last = static_cast<size_t>(list.offset(row + 1));
  if (first == last) return;
  const size_t m = w.begin(field);  // packed
  for (size_t i = first; i < last; ++i) {
    const uint64_t v = list.child().at(i);
    if (fixed) {
      w.rawFixed64(v);
    } else {
      w.varint(v);
    }
  }
  w.end(m);
}

void writeDoubles(ProtoWriter& w, uint32_t field, const telemetry::Float64ListColumn& list,
                  size_t row) {
  const auto first = static_cast<size_t>(list.offset(row));
  const auto last = static_cast<size_t>(list.offset(row + 1));
  if (first == last) return;
  const size_t m = w.begin(field);  // packed
  for (size_t i = first; i < last; ++i) w.rawDouble(list.child().at(i));
  w.end(m);
}

RowRef logRow(const telemetry::LogBatch& b, size_t row) {
  return RowRef{&b.resourceAttributes, &b.resourceSchemaUrl, &b.scopeName, &b.scopeVersion,
                &b.scopeAttributes,    &b.scopeSchemaUrl,    nullptr,      row};
}

RowRef spanRow(const telemetry::SpanBatch& b, size_t row) {
  return RowRef{&b.resourceAttributes,
                nullptr,
                &b.scopeName,
                &b.scopeVersion,
                nullptr,
                nullptr,
                nullptr,
                row};
}

RowRef metricRow(const MetricPointCommon& c, size_t row) {
  return RowRef{&c.resourceAttributes,
                &c.resourceSchemaUrl,
                &c.scopeName,
                &c.scopeVersion,
                &c.scopeAttributes,
                &c.scopeSchemaUrl,
                &c.scopeDroppedAttrCount,
                row};
}

// LogRecord { time_unix_nano = 1, severity_number = 2, severity_text = 3, body = 5,
// attributes = 6, flags = 8, trace_id = 9, span_id = 10, event_name = 12 }.
void writeLogRecord(ProtoWriter& w, const telemetry::LogBatch& b, size_t i) {
  const size_t m = w.begin(2);
  w.fixed64Field(1, static_cast<uint64_t>(b.timestamp.at(i)));
  w.uint64Field(2, b.severityNumber.at(i));
  w.stringField(3, b.severityText.at(i));
  const size_t body = w.begin(5);
  w.stringField(1, b.body.at(i), /*always=*/true);
  w.end(body);
  writeAttributes(w, 6, b.logAttributes, i);
  w.fixed32Field(8, b.traceFlags.at(i));
  w.hexIdField(9, b.traceId.at(i));
  w.hexIdField(10, b.spanId.at(i));
  w.stringField(12, b.eventName.at(i));
  w.end(m);
}

// Span { trace_id = 1, span_id = 2, trace_state = 3, parent_span_id = 4, name = 5, kind = 6,
// start = 7, end = 8, attributes = 9, events = 11, links = 13, status = 15 }.
void writeSpan(ProtoWriter& w, const telemetry::SpanBatch& b, size_t i) {
  const size_t m = w.begin(2);
  w.hexIdField(1, b.traceId.at(i));
  w.hexIdField(2, b.spanId.at(i));
  w.stringField(3, b.traceState.at(i));
  w.hexIdField(4, b.parentSpanId.at(i));
  w.stringField(5, b.spanName.at(i));
  w.uint64Field(6, static_cast<uint64_t>(spanKindValue(b.spanKind.at(i))));
  const auto start = static_cast<uint64_t>(b.timestamp.at(i));
  w.fixed64Field(7, start);
  w.fixed64Field(8, start + b.duration.at(i));
  writeAttributes(w, 9, b.spanAttributes, i);
  for (auto e = static_cast<size_t>(b.eventsTimestamp.offset(i));
       e < static_cast<size_t>(b.eventsTimestamp.offset(i + 1)); ++e) {
    const size_t ev = w.begin(11);  // Event { time_unix_nano = 1, name = 2, attributes = 3 }
    w.fixed64Field(1, static_cast<uint64_t>(b.eventsTimestamp.child().at(e)));
    w.stringField(2, b.eventsName.child().at(e));
    writeAttributes(w, 3, b.eventsAttributes.child(), e);
    w.end(ev);
  }
  for (auto l = static_cast<size_t>(b.linksTraceId.offset(i));
       l < static_cast<size_t>(b.linksTraceId.offset(i + 1)); ++l) {
    // Link { trace_id = 1, span_id = 2, trace_state = 3, attributes = 4 }
    const size_t link = w.begin(13);
    w.hexIdField(1, b.linksTraceId.child().at(l));
    w.hexIdField(2, b.linksSpanId.child().at(l));
    w.stringField(3, b.linksTraceState.child().at(l));
    writeAttributes(w, 4, b.linksAttributes.child(), l);
    w.end(link);
  }
  const std::string_view message = b.statusMessage.at(i);
  const int code = statusCodeValue(b.statusCode.at(i));
  if (!message.empty() || code != 0) {
    const size_t st = w.begin(15);  // Status { message = 2, code = 3 }
    w.stringField(2, message);
    w.uint64Field(3, static_cast<uint64_t>(code));
    w.end(st);
  }
  w.end(m);
}

// The fields every data point has: start_time_unix_nano = 2, time_unix_nano = 3, and the
// attributes and flags at their per-type numbers.
void writePointCommon(ProtoWriter& w, const MetricPointCommon& c, size_t i, uint32_t attributes,
                      uint32_t flags) {
  writeAttributes(w, attributes, c.attributes, i);
  w.fixed64Field(2, static_cast<uint64_t>(c.startTimeUnix.at(i)));
  w.fixed64Field(3, static_cast<uint64_t>(c.timeUnix.at(i)));
  w.uint64Field(flags, c.flags.at(i));
}

// One point kind's rows, grouped into Metric { name = 1, description = 2, unit = 3,
// <data> = dataField { data_points = 1, aggregation_temporality = 2, is_monotonic = 3 } }.
template <typename KindBatch, typename PointWriter, typename SameData, typename DataTail>
void writeMetricRows(ProtoWriter& w, Grouper& grouper, const KindBatch& b, size_t begin, size_t end,
                     uint32_t dataField, PointWriter&& writePoint, SameData&& sameData,
                     DataTail&& writeDataTail) {
  const MetricPointCommon& c = b.common;
  size_t metric = 0, data = 0;
  bool open = false;
  size_t last = 0;
  auto close = [&] {
    if (!open) return;
    writeDataTail(last);
    w.end(data);
    w.end(metric);
    open = false;
  };
  for (size_t i = begin; i < end; ++i) {
    const RowRef ref = metricRow(c, i);
    // Close the metric before the grouper may close its scope.
    const bool sameMetric = open && ref.sameResource(metricRow(c, last)) &&
                            ref.sameScope(metricRow(c, last)) &&
                            c.metricName.at(i) == c.metricName.at(last) &&
                            c.metricDescription.at(i) == c.metricDescription.at(last) &&
                            c.metricUnit.at(i) == c.metricUnit.at(last) && sameData(i, last);
    if (!sameMetric) close();
    grouper.enter(ref);
    if (!open) {
      metric = w.begin(2);
      w.stringField(1, c.metricName.at(i));
      w.stringField(2, c.metricDescription.at(i));
      w.stringField(3, c.metricUnit.at(i));
      data = w.begin(dataField);
      open = true;
    }
    writePoint(i);
    last = i;
  }
  close();
}

void writeMetricBatchRows(ProtoWriter& w, Grouper& grouper, const telemetry::MetricBatch& mb,
                          size_t begin, size_t end) {
  auto always = [](size_t, size_t) { return true; };
  auto noTail = [](size_t) {};
  size_t base = 0;
  auto rangeOf = [&](size_t rows, size_t& from, size_t& to) {
    from = std::max(begin, base) - base;
    to = std::min(end, base + rows);
    to = to > base ? to - base : 0;
    base += rows;
    return from < to;
  };
  size_t from = 0, to = 0;
  if (rangeOf(mb.gauge.rows(), from, to)) {
    const auto& b = mb.gauge;
    writeMetricRows(
        w, grouper, b, from, to, 5,
        [&](size_t
                i) {  // NumberDataPoint { as_double = 4, exemplars = 5, attributes = 7, flags = 8 }
          const size_t p = w.begin(1);
          writePointCommon(w, b.common, i, 7, 8);
          w.doubleField(4, b.value.at(i), /*always=*/true);
          writeExemplars(w, 5, b.exemplars, i);
          w.end(p);
        },
        always, noTail);
  }
  if (rangeOf(mb.sum.rows(), from, to)) {
    const auto& b = mb.sum;
    writeMetricRows(
        w, grouper, b, from, to, 7,
        [&](size_t i) {
          const size_t p = w.begin(1);
          writePointCommon(w, b.common, i, 7, 8);
          w.doubleField(4, b.value.at(i), /*always=*/true);
          writeExemplars(w, 5, b.exemplars, i);
          w.end(p);
        },
        [&](size_t i, size_t j) {
          return b.aggregationTemporality.at(i) == b.aggregationTemporality.at(j) &&
                 b.isMonotonic.at(i) == b.isMonotonic.at(j);
        },
        [&](size_t i) {
          w.uint64Field(2, static_cast<uint64_t>(b.aggregationTemporality.at(i)));
          w.uint64Field(3, b.isMonotonic.at(i));
        });
  }
  if (rangeOf(mb.histogram.rows(), from, to)) {
    const auto& b = mb.histogram;
    writeMetricRows(
        w, grouper, b, from, to, 9,
        [&](size_t i) {
          // HistogramDataPoint { count = 4, sum = 5, bucket_counts = 6, explicit_bounds = 7,
          // exemplars = 8, attributes = 9, flags = 10, min = 11, max = 12 }
          const size_t p = w.begin(1);
          writePointCommon(w, b.common, i, 9, 10);
          w.fixed64Field(4, b.count.at(i));
          if (b.count.at(i) != 0 || nonZero(b.sum.at(i))) w.doubleField(5, b.sum.at(i), true);
          writeCounts(w, 6, b.bucketCounts, i, /*fixed=*/true);
          writeDoubles(w, 7, b.explicitBounds, i);
          writeExemplars(w, 8, b.exemplars, i);
          if (nonZero(b.min.at(i)) || nonZero(b.max.at(i))) {
            w.doubleField(11, b.min.at(i), true);
            w.doubleField(12, b.max.at(i), true);
          }
          w.end(p);
        },
        [&](size_t i, size_t j) {
          return b.aggregationTemporality.at(i) == b.aggregationTemporality.at(j);
        },
        [&](size_t i) { w.uint64Field(2, static_cast<uint64_t>(b.aggregationTemporality.at(i))); });
  }
  if (rangeOf(mb.expHistogram.rows(), from, to)) {
    const auto& b = mb.expHistogram;
    writeMetricRows(
        w, grouper, b, from, to, 10,
        [&](size_t i) {
          // ExponentialHistogramDataPoint { attributes = 1, count = 4, sum = 5, scale = 6,
          // zero_count = 7, positive = 8, negative = 9, flags = 10, exemplars = 11, min = 12,
          // max = 13 }; Buckets { offset = 1, bucket_counts = 2 }
          const size_t p = w.begin(1);
          writePointCommon(w, b.common, i, 1, 10);
          w.fixed64Field(4, b.count.at(i));
          if (b.count.at(i) != 0 || nonZero(b.sum.at(i))) w.doubleField(5, b.sum.at(i), true);
          w.sint32Field(6, b.scale.at(i));
          w.fixed64Field(7, b.zeroCount.at(i));
          const size_t pos = w.begin(8);
          w.sint32Field(1, b.positiveOffset.at(i));
          writeCounts(w, 2, b.positiveBucketCounts, i, /*fixed=*/false);
          w.end(pos);
          const size_t neg = w.begin(9);
          w.sint32Field(1, b.negativeOffset.at(i));
          writeCounts(w, 2, b.negativeBucketCounts, i, /*fixed=*/false);
          w.end(neg);
          writeExemplars(w, 11, b.exemplars, i);
          if (nonZero(b.min.at(i)) || nonZero(b.max.at(i))) {
            w.doubleField(12, b.min.at(i), true);
            w.doubleField(13, b.max.at(i), true);
          }
          w.end(p);
        },
        [&](size_t i, size_t j) {
          return b.aggregationTemporality.at(i) == b.aggregationTemporality.at(j);
        },
        [&](size_t i) { w.uint64Field(2, static_cast<uint64_t>(b.aggregationTemporality.at(i))); });
  }
  if (rangeOf(mb.summary.rows(), from, to)) {
    const auto& b = mb.summary;
    writeMetricRows(
        w, grouper, b, from, to, 11,
        [&](size_t i) {
          // SummaryDataPoint { count = 4, sum = 5, quantile_values = 6 { quantile = 1,
          // value = 2 }, attributes = 7, flags = 8 }
          const size_t p = w.begin(1);
          writePointCommon(w, b.common, i, 7, 8);
          w.fixed64Field(4, b.count.at(i));
          w.doubleField(5, b.sum.at(i));
          for (auto q = static_cast<size_t>(b.quantile.offset(i));
               q < static_cast<size_t>(b.quantile.offset(i + 1)); ++q) {
            const size_t v = w.begin(6);
            w.doubleField(1, b.quantile.child().at(q));
            w.doubleField(2, b.quantileValue.child().at(q));
            w.end(v);
          }
          w.end(p);
        },
        always, noTail);
  }
}

}  // namespace

void encodeLogsRequest(std::span<const RowSlice<telemetry::LogBatch>> slices, std::string& out) {
  ProtoWriter w(out);
  Grouper grouper(w);
  for (const auto& slice : slices) {
    for (size_t i = slice.begin; i < slice.end; ++i) {
      grouper.enter(logRow(*slice.batch, i));
      writeLogRecord(w, *slice.batch, i);
    }
  }
  grouper.finish();
}

void encodeTraceRequest(std::span<const RowSlice<telemetry::SpanBatch>> slices, std::string& out) {
  ProtoWriter w(out);
  Grouper grouper(w);
  for (const auto& slice : slices) {
    for (size_t i = slice.begin; i < slice.end; ++i) {
      grouper.enter(spanRow(*slice.batch, i));
      writeSpan(w, *slice.batch, i);
    }
  }
  grouper.finish();
}

void encodeMetricsRequest(std::span<const RowSlice<telemetry::MetricBatch>> slices,
                          std::string& out) {
  ProtoWriter w(out);
  Grouper grouper(w);
  for (const auto& slice : slices) {
    writeMetricBatchRows(w, grouper, *slice.batch, slice.begin, slice.end);
  }
  grouper.finish();
}

}  // namespace stackhouse::otlp
