#include "otlp/proto_decode.h"

#include "otlp/row_emit.h"

namespace stackhouse::otlp::detail {

namespace {

using telemetry::LogBatch;
using telemetry::MetricBatch;
using telemetry::SpanBatch;

// Reads AnyValue, ArrayValue and KeyValueList messages for the ValueRenderer. Singular fields
// follow protobuf's last-one-wins; a nested message is parsed only when it is rendered.
class ProtoSource {
 public:
  using Ref = Bytes;

  ProtoSource(DecodeContext& ctx, std::vector<KvEntry<Bytes>>& entries)
      : ctx_(ctx), entries_(entries) {}

  DecodeContext& ctx() { return ctx_; }
  std::vector<KvEntry<Bytes>>& entries() { return entries_; }

  bool readValue(Bytes v, AnyValueView<Bytes>& out) {
    WireReader r(ctx_, v, msg::kAnyValue);
    Field f;
    while (r.next(f)) {
      switch (f.number) {
        case 1:
          out.kind = ValueKind::kString;
          out.text = f.str();
          break;
        case 2:
          out.kind = ValueKind::kBool;
          out.boolean = f.value != 0;
          break;
        case 3:
          out.kind = ValueKind::kInt;
          out.integer = static_cast<int64_t>(f.value);
          break;
        case 4:
          out.kind = ValueKind::kDouble;
          out.number = f.asDouble();
          break;
        case 5:
          out.kind = ValueKind::kArray;
          out.child = f.bytes;
          break;
        case 6:
          out.kind = ValueKind::kKvlist;
          out.child = f.bytes;
          break;
        case 7:
          out.kind = ValueKind::kBytes;
          out.text = f.str();
          break;
        // A string-table index only means something in profiles; here it leaves no value.
        case 8: out.kind = ValueKind::kEmpty; break;
        default: break;
      }
    }
    return !ctx_.failed();
  }

  template <typename F>
  bool forEachItem(Bytes array, F&& f) {
    WireReader r(ctx_, array, msg::kArrayValue);
    Field field;
    while (r.next(field)) {
      if (field.number == 1 && !f(field.bytes)) return false;
    }
    return !ctx_.failed();
  }

  template <typename F>
  bool forEachEntry(Bytes kvlist, F&& f) {
    WireReader r(ctx_, kvlist, msg::kKeyValueList);
    Field field;
    while (r.next(field)) {
      if (field.number != 1) continue;
      std::string_view key;
      Bytes value;
      bool has = false;
      if (!readKeyValue(field.bytes, key, value, has) || !f(key, value, has)) return false;
    }
    return !ctx_.failed();
  }

  bool readKeyValue(Bytes kv, std::string_view& key, Bytes& value, bool& has) {
    WireReader r(ctx_, kv, msg::kKeyValue);
    Field f;
    while (r.next(f)) {
      if (f.number == 1) {
        key = f.str();
      } else if (f.number == 2) {
        value = f.bytes;
        has = true;
      }
    }
    return !ctx_.failed();
  }

  // Appends the KeyValue message `kv` as one entry of the current row of `map`.
  bool appendKeyValue(Bytes kv, telemetry::MapColumn& map) {
    std::string_view key;
    Bytes value;
    bool has = false;
    return readKeyValue(kv, key, value, has) && appendAttribute(*this, key, value, has, map);
  }

 private:
  DecodeContext& ctx_;
  std::vector<KvEntry<Bytes>>& entries_;
};

// Renders a Resource (possibly absent: empty bytes) once for all rows of its ResourceX.
bool readResource(ProtoSource& src, Bytes resource, std::string_view schemaUrl, ResourceRow& row) {
  row.clear();
  WireReader r(src.ctx(), resource, msg::kResource);
  Field f;
  while (r.next(f)) {
    if (f.number == 1 && !src.appendKeyValue(f.bytes, row.attributes)) return false;
  }
  if (src.ctx().failed()) return false;
  src.ctx().endAttributes(row.attributes);
  row.finish(src.ctx(), schemaUrl);
  return true;
}

bool readScope(ProtoSource& src, Bytes scope, std::string_view schemaUrl, ScopeRow& row) {
  row.clear();
  std::string_view name;
  std::string_view version;
  WireReader r(src.ctx(), scope, msg::kScope);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: name = f.str(); break;
      case 2: version = f.str(); break;
      case 3:
        if (!src.appendKeyValue(f.bytes, row.attributes)) return false;
        break;
      case 4: row.droppedAttributesCount = static_cast<uint32_t>(f.value); break;
      default: break;
    }
  }
  if (src.ctx().failed()) return false;
  src.ctx().endAttributes(row.attributes);
  src.ctx().appendString(row.text, name);
  src.ctx().appendString(row.text, version);
  src.ctx().appendString(row.text, schemaUrl);
  return true;
}

// ResourceX and ScopeX messages share one shape: the singular message at field 1, the repeated
// children at field 2 and the schema url at field 3. The url may follow the children, so a first
// pass finds fields 1 and 3 (checking every field's framing), a second (forEachMessage) walks
// the children.
bool readHeader(DecodeContext& ctx, Bytes message, const MessageInfo& info, Bytes& first,
                std::string_view& schemaUrl) {
  WireReader r(ctx, message, info);
  Field f;
  while (r.next(f)) {
    if (f.number == 1) {
      first = f.bytes;
    } else if (f.number == 3) {
      schemaUrl = f.str();
    }
  }
  return !ctx.failed();
}

// Calls f(payload) for each occurrence of the message field `number` (a repeated message).
template <typename F>
bool forEachMessage(DecodeContext& ctx, Bytes message, const MessageInfo& info, uint32_t number,
                    F&& f) {
  WireReader r(ctx, message, info);
  Field field;
  while (r.next(field)) {
    if (field.number == number && !f(field.bytes)) return false;
  }
  return !ctx.failed();
}

// Decodes one ResourceX: its resource, then each ScopeX with its scope, then each record.
template <typename Record>
bool walkResource(ProtoSource& src, ProtoScratch& s, Bytes message, const MessageInfo& resourceInfo,
                  const MessageInfo& scopeInfo, Record&& record) {
  DecodeContext& ctx = src.ctx();
  if (!ctx.nextResource()) return false;
  Bytes resource;
  std::string_view schemaUrl;
  if (!readHeader(ctx, message, resourceInfo, resource, schemaUrl)) return false;
  if (!readResource(src, resource, schemaUrl, s.resource)) return false;
  return forEachMessage(ctx, message, resourceInfo, 2, [&](Bytes scopeMessage) {
    Bytes scope;
    std::string_view scopeUrl;
    if (!readHeader(ctx, scopeMessage, scopeInfo, scope, scopeUrl)) return false;
    if (!readScope(src, scope, scopeUrl, s.scope)) return false;
    return forEachMessage(ctx, scopeMessage, scopeInfo, 2, record);
  });
}

template <typename F>
bool walkRequest(DecodeContext& ctx, Bytes body, const MessageInfo& info, F&& f) {
  WireReader r(ctx, body, info);
  Field field;
  while (r.next(field)) {
    if (field.number == 1 && !f(field.bytes)) return false;
  }
  return !ctx.failed();
}

// ---- logs

bool decodeLogRecord(ProtoSource& src, ProtoScratch& s, Bytes message, LogBatch& b) {
  DecodeContext& ctx = src.ctx();
  const size_t rows = b.rows();
  LogFields<Bytes> lf;
  WireReader r(ctx, message, msg::kLogRecord);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: lf.time = f.value; break;
      case 2: lf.severityNumber = static_cast<int32_t>(f.value); break;
      case 3: lf.severityText = f.str(); break;
      case 5:
        lf.body = f.bytes;
        lf.hasBody = true;
        break;
      case 6:
        if (!src.appendKeyValue(f.bytes, b.logAttributes)) return false;
        break;
      case 8: lf.flags = static_cast<uint32_t>(f.value); break;
      case 9: lf.traceId.setRaw(f.bytes.data(), f.bytes.size()); break;
      case 10: lf.spanId.setRaw(f.bytes.data(), f.bytes.size()); break;
      case 11: lf.observed = f.value; break;
      case 12: lf.eventName = f.str(); break;
      default: break;
    }
  }
  if (ctx.failed()) return false;
  const bool ok = emitLog(src, b, rows, s.resource, s.scope, lf);
  return ctx.nextRecord() && ok;
}

// ---- spans

bool decodeEvent(ProtoSource& src, Bytes message, SpanBatch& b) {
  uint64_t time = 0;
  std::string_view name;
  WireReader r(src.ctx(), message, msg::kEvent);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: time = f.value; break;
      case 2: name = f.str(); break;
      case 3:
        if (!src.appendKeyValue(f.bytes, b.eventsAttributes.child())) return false;
        break;
      default: break;
    }
  }
  if (src.ctx().failed()) return false;
  emitEvent(src.ctx(), b, time, name);
  return true;
}

bool decodeLink(ProtoSource& src, Bytes message, SpanBatch& b, IdProblem& problem) {
  IdBytes traceId;
  IdBytes spanId;
  std::string_view traceState;
  WireReader r(src.ctx(), message, msg::kLink);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: traceId.setRaw(f.bytes.data(), f.bytes.size()); break;
      case 2: spanId.setRaw(f.bytes.data(), f.bytes.size()); break;
      case 3: traceState = f.str(); break;
      case 4:
        if (!src.appendKeyValue(f.bytes, b.linksAttributes.child())) return false;
        break;
      default: break;
    }
  }
  if (src.ctx().failed()) return false;
  emitLink(src.ctx(), b, traceId, spanId, traceState, problem);
  return true;
}

bool decodeSpan(ProtoSource& src, ProtoScratch& s, Bytes message, SpanBatch& b) {
  DecodeContext& ctx = src.ctx();
  const size_t rows = b.rows();
  SpanFields sf;
  Bytes status;
  WireReader r(ctx, message, msg::kSpan);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: sf.traceId.setRaw(f.bytes.data(), f.bytes.size()); break;
      case 2: sf.spanId.setRaw(f.bytes.data(), f.bytes.size()); break;
      case 3: sf.traceState = f.str(); break;
      case 4: sf.parentSpanId.setRaw(f.bytes.data(), f.bytes.size()); break;
      case 5: sf.name = f.str(); break;
      case 6: sf.kind = static_cast<int32_t>(f.value); break;
      case 7: sf.start = f.value; break;
      case 8: sf.end = f.value; break;
      case 9:
        if (!src.appendKeyValue(f.bytes, b.spanAttributes)) return false;
        break;
      case 11:
        if (!decodeEvent(src, f.bytes, b)) return false;
        break;
      case 13:
        if (!decodeLink(src, f.bytes, b, sf.linkProblem)) return false;
        break;
      case 15: status = f.bytes; break;
      default: break;
    }
  }
  if (ctx.failed()) return false;
  WireReader sr(ctx, status, msg::kStatus);
  while (sr.next(f)) {
    if (f.number == 2) {
      sf.statusMessage = f.str();
    } else if (f.number == 3) {
      sf.statusCode = static_cast<int32_t>(f.value);
    }
  }
  if (ctx.failed()) return false;
  const bool ok = emitSpan(ctx, b, rows, s.resource, s.scope, sf);
  return ctx.nextRecord() && ok;
}

// ---- metrics

bool decodeExemplar(ProtoSource& src, Bytes message, telemetry::ExemplarColumns& e,
                    IdProblem& problem) {
  ExemplarFields x;
  WireReader r(src.ctx(), message, msg::kExemplar);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 2: x.time = f.value; break;
      case 3: x.value = f.asDouble(); break;
      case 4: x.spanId.setRaw(f.bytes.data(), f.bytes.size()); break;
      case 5: x.traceId.setRaw(f.bytes.data(), f.bytes.size()); break;
      case 6: x.value = static_cast<double>(static_cast<int64_t>(f.value)); break;
      case 7:
        if (!src.appendKeyValue(f.bytes, e.filteredAttributes.child())) return false;
        break;
      default: break;
    }
  }
  if (src.ctx().failed()) return false;
  emitExemplar(src.ctx(), e, x, problem);
  return true;
}

double bitsToDouble(uint64_t v) {
  double d;
  std::memcpy(&d, &v, sizeof d);
  return d;
}

// Gauge and sum points (NumberDataPoint); `extra` appends the kind's own columns.
template <typename KindBatch, typename Extra>
bool decodeNumberPoint(ProtoSource& src, ProtoScratch& s, Bytes message, KindBatch& b,
                       const MetricBatch& m, Extra&& extra) {
  DecodeContext& ctx = src.ctx();
  const size_t rows = b.rows();
  PointFields p;
  double value = 0;
  WireReader r(ctx, message, msg::kNumberDataPoint);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 2: p.start = f.value; break;
      case 3: p.time = f.value; break;
      case 4: value = f.asDouble(); break;
      case 5:
        if (!decodeExemplar(src, f.bytes, b.exemplars, p.exemplarProblem)) return false;
        break;
      case 6: value = static_cast<double>(static_cast<int64_t>(f.value)); break;
      case 7:
        if (!src.appendKeyValue(f.bytes, b.common.attributes)) return false;
        break;
      case 8: p.flags = static_cast<uint32_t>(f.value); break;
      default: break;
    }
  }
  if (ctx.failed()) return false;
  if (beginPointRow(ctx, b, rows, s.resource, s.scope, s.metric, p)) {
    b.value.append(value);
    endExemplars(b.exemplars);
    extra(b);
    if (!finishPoint(ctx, m)) return false;
  }
  return ctx.nextRecord();
}

bool decodeHistogramPoint(ProtoSource& src, ProtoScratch& s, Bytes message, MetricBatch& m,
                          int32_t temporality) {
  DecodeContext& ctx = src.ctx();
  telemetry::HistogramBatch& b = m.histogram;
  const size_t rows = b.rows();
  PointFields p;
  uint64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  WireReader r(ctx, message, msg::kHistogramDataPoint);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 2: p.start = f.value; break;
      case 3: p.time = f.value; break;
      case 4: count = f.value; break;
      case 5: sum = f.asDouble(); break;
      case 6:
        if (!forEachPacked(ctx, f, WireType::kI64, "HistogramDataPoint.bucket_counts",
                           [&](uint64_t v) { b.bucketCounts.child().append(v); })) {
          return false;
        }
        break;
      case 7:
        if (!forEachPacked(ctx, f, WireType::kI64, "HistogramDataPoint.explicit_bounds",
                           [&](uint64_t v) { b.explicitBounds.child().append(bitsToDouble(v)); })) {
          return false;
        }
        break;
      case 8:
        if (!decodeExemplar(src, f.bytes, b.exemplars, p.exemplarProblem)) return false;
        break;
      case 9:
        if (!src.appendKeyValue(f.bytes, b.common.attributes)) return false;
        break;
      case 10: p.flags = static_cast<uint32_t>(f.value); break;
      case 11: min = f.asDouble(); break;
      case 12: max = f.asDouble(); break;
      default: break;
    }
  }
  if (ctx.failed()) return false;
  if (beginPointRow(ctx, b, rows, s.resource, s.scope, s.metric, p)) {
    b.count.append(count);
    b.sum.append(sum);
    b.bucketCounts.endRow();
    b.explicitBounds.endRow();
    endExemplars(b.exemplars);
    b.min.append(min);
    b.max.append(max);
    b.aggregationTemporality.append(temporality);
    if (!finishPoint(ctx, m)) return false;
  }
  return ctx.nextRecord();
}

bool decodeBuckets(DecodeContext& ctx, Bytes message, int32_t& offset,
                   telemetry::UInt64ListColumn& counts) {
  WireReader r(ctx, message, msg::kBuckets);
  Field f;
  while (r.next(f)) {
    if (f.number == 1) {
      offset = zigzag32(f.value);
    } else if (f.number == 2) {
      if (!forEachPacked(ctx, f, WireType::kVarint, "Buckets.bucket_counts",
                         [&](uint64_t v) { counts.child().append(v); })) {
        return false;
      }
    }
  }
  return !ctx.failed();
}

bool decodeExpHistogramPoint(ProtoSource& src, ProtoScratch& s, Bytes message, MetricBatch& m,
                             int32_t temporality) {
  DecodeContext& ctx = src.ctx();
  telemetry::ExpHistogramBatch& b = m.expHistogram;
  const size_t rows = b.rows();
  PointFields p;
  uint64_t count = 0;
  uint64_t zeroCount = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  int32_t scale = 0;
  Bytes positive;
  Bytes negative;
  WireReader r(ctx, message, msg::kExpHistogramDataPoint);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1:
        if (!src.appendKeyValue(f.bytes, b.common.attributes)) return false;
        break;
      case 2: p.start = f.value; break;
      case 3: p.time = f.value; break;
      case 4: count = f.value; break;
      case 5: sum = f.asDouble(); break;
      case 6: scale = zigzag32(f.value); break;
      case 7: zeroCount = f.value; break;
      case 8: positive = f.bytes; break;
      case 9: negative = f.bytes; break;
      case 10: p.flags = static_cast<uint32_t>(f.value); break;
      case 11:
        if (!decodeExemplar(src, f.bytes, b.exemplars, p.exemplarProblem)) return false;
        break;
      case 12: min = f.asDouble(); break;
      case 13: max = f.asDouble(); break;
      default: break;
    }
  }
  if (ctx.failed()) return false;
  int32_t positiveOffset = 0;
  int32_t negativeOffset = 0;
  if (!decodeBuckets(ctx, positive, positiveOffset, b.positiveBucketCounts) ||
      !decodeBuckets(ctx, negative, negativeOffset, b.negativeBucketCounts)) {
    return false;
  }
  if (beginPointRow(ctx, b, rows, s.resource, s.scope, s.metric, p)) {
    b.count.append(count);
    b.sum.append(sum);
    b.scale.append(scale);
    b.zeroCount.append(zeroCount);
    b.positiveOffset.append(positiveOffset);
    b.positiveBucketCounts.endRow();
    b.negativeOffset.append(negativeOffset);
    b.negativeBucketCounts.endRow();
    endExemplars(b.exemplars);
    b.min.append(min);
    b.max.append(max);
    b.aggregationTemporality.append(temporality);
    if (!finishPoint(ctx, m)) return false;
  }
  return ctx.nextRecord();
}

bool decodeSummaryPoint(ProtoSource& src, ProtoScratch& s, Bytes message, MetricBatch& m) {
  DecodeContext& ctx = src.ctx();
  telemetry::SummaryBatch& b = m.summary;
  const size_t rows = b.rows();
  PointFields p;
  uint64_t count = 0;
  double sum = 0;
  WireReader r(ctx, message, msg::kSummaryDataPoint);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 2: p.start = f.value; break;
      case 3: p.time = f.value; break;
      case 4: count = f.value; break;
      case 5: sum = f.asDouble(); break;
      case 6: {
        double q = 0;
        double v = 0;
        WireReader qr(ctx, f.bytes, msg::kValueAtQuantile);
        Field qf;
        while (qr.next(qf)) {
          if (qf.number == 1) {
            q = qf.asDouble();
          } else if (qf.number == 2) {
            v = qf.asDouble();
          }
        }
        if (ctx.failed()) return false;
        b.quantile.child().append(q);
        b.quantileValue.child().append(v);
        break;
      }
      case 7:
        if (!src.appendKeyValue(f.bytes, b.common.attributes)) return false;
        break;
      case 8: p.flags = static_cast<uint32_t>(f.value); break;
      default: break;
    }
  }
  if (ctx.failed()) return false;
  if (beginPointRow(ctx, b, rows, s.resource, s.scope, s.metric, p)) {
    b.count.append(count);
    b.sum.append(sum);
    b.quantile.endRow();
    b.quantileValue.endRow();
    if (!finishPoint(ctx, m)) return false;
  }
  return ctx.nextRecord();
}

// Reads the aggregation temporality and monotonicity of a Sum/Histogram/ExponentialHistogram
// (they may follow the data points), checking the framing of every field.
bool readAggregation(DecodeContext& ctx, Bytes data, const MessageInfo& info, int32_t& temporality,
                     bool& monotonic) {
  WireReader r(ctx, data, info);
  Field f;
  while (r.next(f)) {
    if (f.number == 2) {
      temporality = static_cast<int32_t>(f.value);
    } else if (f.number == 3 && &info == &msg::kSum) {
      monotonic = f.value != 0;
    }
  }
  return !ctx.failed();
}

bool decodeMetric(ProtoSource& src, ProtoScratch& s, Bytes message, MetricBatch& m) {
  DecodeContext& ctx = src.ctx();
  std::string_view name;
  std::string_view description;
  std::string_view unit;
  uint32_t kind = 0;
  Bytes data;
  WireReader r(ctx, message, msg::kMetric);
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1: name = f.str(); break;
      case 2: description = f.str(); break;
      case 3: unit = f.str(); break;
      case 5:
      case 7:
      case 9:
      case 10:
      case 11:
        kind = f.number;
        data = f.bytes;
        break;
      default: break;
    }
  }
  if (ctx.failed()) return false;
  s.metric.clear();
  ctx.appendString(s.metric.text, name);
  ctx.appendString(s.metric.text, description);
  ctx.appendString(s.metric.text, unit);
  int32_t temporality = 0;
  bool monotonic = false;
  switch (kind) {
    case 5:
      return forEachMessage(ctx, data, msg::kGauge, 1, [&](Bytes point) {
        return decodeNumberPoint(src, s, point, m.gauge, m, [](telemetry::GaugeBatch&) {});
      });
    case 7:
      if (!readAggregation(ctx, data, msg::kSum, temporality, monotonic)) return false;
      return forEachMessage(ctx, data, msg::kSum, 1, [&](Bytes point) {
        return decodeNumberPoint(src, s, point, m.sum, m, [&](telemetry::SumBatch& b) {
          b.aggregationTemporality.append(temporality);
          b.isMonotonic.append(monotonic ? 1 : 0);
        });
      });
    case 9:
      if (!readAggregation(ctx, data, msg::kHistogram, temporality, monotonic)) return false;
      return forEachMessage(ctx, data, msg::kHistogram, 1, [&](Bytes point) {
        return decodeHistogramPoint(src, s, point, m, temporality);
      });
    case 10:
      if (!readAggregation(ctx, data, msg::kExpHistogram, temporality, monotonic)) return false;
      return forEachMessage(ctx, data, msg::kExpHistogram, 1, [&](Bytes point) {
        return decodeExpHistogramPoint(src, s, point, m, temporality);
      });
    case 11:
      return forEachMessage(ctx, data, msg::kSummary, 1,
                            [&](Bytes point) { return decodeSummaryPoint(src, s, point, m); });
    default: return true;  // no data: nothing to store
  }
}

}  // namespace

bool decodeLogsProto(DecodeContext& ctx, ProtoScratch& s, Bytes body, LogBatch& out) {
  s.entries.clear();
  ProtoSource src(ctx, s.entries);
  return walkRequest(ctx, body, msg::kExportLogsRequest, [&](Bytes resourceLogs) {
    return walkResource(src, s, resourceLogs, msg::kResourceLogs, msg::kScopeLogs,
                        [&](Bytes record) { return decodeLogRecord(src, s, record, out); });
  });
}

bool decodeSpansProto(DecodeContext& ctx, ProtoScratch& s, Bytes body, SpanBatch& out) {
  s.entries.clear();
  ProtoSource src(ctx, s.entries);
  return walkRequest(ctx, body, msg::kExportTraceRequest, [&](Bytes resourceSpans) {
    return walkResource(src, s, resourceSpans, msg::kResourceSpans, msg::kScopeSpans,
                        [&](Bytes span) { return decodeSpan(src, s, span, out); });
  });
}

bool decodeMetricsProto(DecodeContext& ctx, ProtoScratch& s, Bytes body, MetricBatch& out) {
  s.entries.clear();
  ProtoSource src(ctx, s.entries);
  return walkRequest(ctx, body, msg::kExportMetricsRequest, [&](Bytes resourceMetrics) {
    return walkResource(src, s, resourceMetrics, msg::kResourceMetrics, msg::kScopeMetrics,
                        [&](Bytes metric) { return decodeMetric(src, s, metric, out); });
  });
}

}  // namespace stackhouse::otlp::detail
