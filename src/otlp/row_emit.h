// The mapping from decoded OTLP fields to batch rows (the ClickHouse exporter's), shared by the
// protobuf and JSON decoders. The walkers append repeated parts of a record (attributes, events,
// links, exemplars, buckets) as they meet them; these functions check the record and append the
// rest of its row, or roll the record back when it is rejected. Internal to stackhouse_otlp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/decode_context.h"
#include "otlp/value_renderer.h"
#include "telemetry/batch_ops.h"
#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::otlp::detail {

inline constexpr size_t kTraceIdBytes = 16;
inline constexpr size_t kSpanIdBytes = 8;

// The first id of a record that cannot be stored; the record is then rejected.
struct IdProblem {
  const char* field = nullptr;
  size_t size = 0;
  size_t want = 0;
  bool malformed = false;

  // Notes `id` when it is neither absent (length 0) nor `want` bytes long.
  void check(const char* name, const IdBytes& id, size_t wantBytes) {
    if (field != nullptr) return;
    if (!id.malformed && (id.size == 0 || id.size == wantBytes)) return;
    field = name;
    size = id.size;
    want = wantBytes;
    malformed = id.malformed;
  }
  explicit operator bool() const { return field != nullptr; }

  std::string reason() const {
    if (malformed) return std::string(field) + " is not a hex string";
    return std::string(field) + " has " + std::to_string(size) + " bytes, expected " +
           std::to_string(want);
  }
};

// The first time of a record that cannot be stored (DecodeLimits::checkTimes).
struct TimeProblem {
  enum Kind : unsigned char { kNone, kMissing, kPastColumns, kAhead, kOrder };
  Kind kind = kNone;
  const char* field = nullptr;
  const char* relation = nullptr;  // kOrder: "is before start_time_unix_nano", ...
  uint64_t columnMax = 0;          // kPastColumns: the latest time the field's columns hold

  // Notes `t` when it is later than `max` (kMaxDateTimeNanos for a row's main time, which also
  // goes into DateTime columns; kMaxDateTime64Nanos for the others) or than ctx.latest().
  void checkTime(const DecodeContext& ctx, const char* name, uint64_t t, uint64_t max) {
    if (kind != kNone) return;
    if (t > max) {
      kind = kPastColumns;
      field = name;
      columnMax = max;
    } else if (t > ctx.latest()) {
      kind = kAhead;
      field = name;
    }
  }
  void missing(const char* name) {
    if (kind != kNone) return;
    kind = kMissing;
    field = name;
  }
  void order(const char* name, const char* what) {
    if (kind != kNone) return;
    kind = kOrder;
    field = name;
    relation = what;
  }
  explicit operator bool() const { return kind != kNone; }

  std::string reason(const DecodeContext& ctx) const {
    const std::string f(field);
    switch (kind) {
      case kMissing: return f + " is 0: the record has no time";
      case kPastColumns:
        return f + (columnMax == kMaxDateTimeNanos
                        ? " is after 2106-02-07T06:28:15Z, the last time the table's DateTime "
                          "columns hold"
                        : " is after 2262-04-11T23:47:16Z, the last time a DateTime64(9) "
                          "column holds");
      case kAhead:
        return f + " is more than " + std::to_string(ctx.skew() / 1'000'000'000) +
               " s ahead of the receive time (limit " + DecodeLimitKeys::kMaxFutureSkew + ")";
      case kOrder: return f + " " + relation;
      case kNone: break;
    }
    return f;
  }
};

inline void rejectTime(DecodeContext& ctx, std::string_view what, const TimeProblem& p) {
  if (ctx.stats().firstRejection.empty()) {
    ctx.reject(what, p.reason(ctx));
  } else {
    ctx.reject(what, {});
  }
}

inline void rejectRecord(DecodeContext& ctx, std::string_view what, const IdProblem& p) {
  if (ctx.stats().firstRejection.empty()) {
    ctx.reject(what, p.reason());
  } else {
    ctx.reject(what, {});
  }
}

// Lowercase hex, or empty when the id is absent or all zero (traceutil's IDToHexOrEmptyString).
inline void appendId(StringColumn& column, const IdBytes& id) {
  if (id.size != 0 && !id.isZero()) appendHex(column.data(), id.bytes, id.size);
  column.commit();
}

// Exemplar ids: the exporter hex-encodes pdata's fixed-size arrays, so an absent id is zeros.
inline void appendExemplarId(StringColumn& column, const IdBytes& id, size_t width) {
  if (id.size == 0) {
    uint8_t* p = column.data().extend(width * 2);
    std::memset(p, '0', width * 2);
  } else {
    appendHex(column.data(), id.bytes, id.size);
  }
  column.commit();
}

inline std::string_view spanKindName(int64_t kind) {
  switch (kind) {
    case 0: return "Unspecified";
    case 1: return "Internal";
    case 2: return "Server";
    case 3: return "Client";
    case 4: return "Producer";
    case 5: return "Consumer";
    default: return "";
  }
}

inline std::string_view statusCodeName(int64_t code) {
  switch (code) {
    case 0: return "Unset";
    case 1: return "Ok";
    case 2: return "Error";
    default: return "";
  }
}

// SeverityNumber is an enum of 0..24; anything outside a byte is stored as 0 (unspecified).
inline uint8_t severityByte(int64_t n) {
  return n >= 0 && n <= 255 ? static_cast<uint8_t>(n) : uint8_t{0};
}

template <typename Ref>
struct LogFields {
  uint64_t time = 0;
  uint64_t observed = 0;
  int64_t severityNumber = 0;
  std::string_view severityText;
  std::string_view eventName;
  Ref body{};
  bool hasBody = false;
  uint32_t flags = 0;
  IdBytes traceId;
  IdBytes spanId;
};

// Completes the log row whose attributes are pending in b.logAttributes. Returns false only when
// the call fails; a rejected record returns true after rolling back to `rows`.
template <typename Src>
bool emitLog(Src& src, telemetry::LogBatch& b, size_t rows, const ResourceRow& res,
             const ScopeRow& scope, const LogFields<typename Src::Ref>& f) {
  DecodeContext& ctx = src.ctx();
  IdProblem problem;
  problem.check("trace_id", f.traceId, kTraceIdBytes);
  problem.check("span_id", f.spanId, kSpanIdBytes);
  if (problem) {
    telemetry::truncateBatch(b, rows);
    rejectRecord(ctx, "log record", problem);
    return true;
  }
  // Timestamp: the record's time, else its observed time (OTLP: the time it was first seen),
  // else, when times are checked, the receive time: the receiver is then its first observer.
  // The observed time itself has no column and is not checked otherwise.
  uint64_t time = f.time != 0 ? f.time : f.observed;
  if (ctx.checkTimes()) {
    if (time == 0) time = ctx.now();
    TimeProblem tp;
    tp.checkTime(ctx, f.time != 0 ? "time_unix_nano" : "observed_time_unix_nano", time,
                 kMaxDateTimeNanos);
    if (tp) {
      telemetry::truncateBatch(b, rows);
      rejectTime(ctx, "log record", tp);
      return true;
    }
    if (time < ctx.earliest()) {
      telemetry::truncateBatch(b, rows);
      ctx.expire();
      return true;
    }
  }
  b.timestamp.append(static_cast<int64_t>(time));
  appendId(b.traceId, f.traceId);
  appendId(b.spanId, f.spanId);
  b.traceFlags.append(static_cast<uint8_t>(f.flags & 0xff));
  ctx.appendString(b.severityText, f.severityText);
  b.severityNumber.append(severityByte(f.severityNumber));
  b.serviceName.append(res.serviceName());
  if (f.hasBody && !ValueRenderer<Src>(src).asString(f.body, b.body.data())) return false;
  b.body.commit();
  b.resourceSchemaUrl.append(res.schemaUrl());
  b.resourceAttributes.appendColumn(res.attributes);
  b.scopeSchemaUrl.append(scope.schemaUrl());
  b.scopeName.append(scope.name());
  b.scopeVersion.append(scope.version());
  b.scopeAttributes.appendColumn(scope.attributes);
  ctx.endAttributes(b.logAttributes);
  ctx.appendString(b.eventName, f.eventName);
  ctx.accept();
  return ctx.checkBytes(telemetry::batchBytes(b));
}

struct SpanFields {
  IdBytes traceId;
  IdBytes spanId;
  IdBytes parentSpanId;
  std::string_view traceState;
  std::string_view name;
  std::string_view statusMessage;
  int64_t kind = 0;
  int64_t statusCode = 0;
  uint64_t start = 0;
  uint64_t end = 0;
  IdProblem linkProblem;  // the first bad id among the span's links
};

// Completes the span row whose attributes, events and links are pending.
inline bool emitSpan(DecodeContext& ctx, telemetry::SpanBatch& b, size_t rows,
                     const ResourceRow& res, const ScopeRow& scope, const SpanFields& f) {
  const uint64_t lastEvent = ctx.takeNestedTime();
  IdProblem problem;
  problem.check("trace_id", f.traceId, kTraceIdBytes);
  problem.check("span_id", f.spanId, kSpanIdBytes);
  problem.check("parent_span_id", f.parentSpanId, kSpanIdBytes);
  if (!problem) problem = f.linkProblem;
  if (problem) {
    telemetry::truncateBatch(b, rows);
    rejectRecord(ctx, "span", problem);
    return true;
  }
  if (ctx.checkTimes()) {
    // A span needs its start (its row's time) and an end no earlier; Duration is then end -
    // start, within both columns' range.
    TimeProblem tp;
    if (f.start == 0) tp.missing("start_time_unix_nano");
    tp.checkTime(ctx, "start_time_unix_nano", f.start, kMaxDateTimeNanos);
    tp.checkTime(ctx, "end_time_unix_nano", f.end, kMaxDateTime64Nanos);
    if (f.end < f.start) tp.order("end_time_unix_nano", "is before start_time_unix_nano");
    tp.checkTime(ctx, "events.time_unix_nano", lastEvent, kMaxDateTime64Nanos);
    if (tp) {
      telemetry::truncateBatch(b, rows);
      rejectTime(ctx, "span", tp);
      return true;
    }
    if (f.start < ctx.earliest()) {
      telemetry::truncateBatch(b, rows);
      ctx.expire();
      return true;
    }
  }
  b.timestamp.append(static_cast<int64_t>(f.start));
  appendId(b.traceId, f.traceId);
  appendId(b.spanId, f.spanId);
  appendId(b.parentSpanId, f.parentSpanId);
  ctx.appendString(b.traceState, f.traceState);
  ctx.appendString(b.spanName, f.name);
  b.spanKind.append(spanKindName(f.kind));
  b.serviceName.append(res.serviceName());
  b.resourceAttributes.appendColumn(res.attributes);
  b.scopeName.append(scope.name());
  b.scopeVersion.append(scope.version());
  ctx.endAttributes(b.spanAttributes);
  b.duration.append(f.end > f.start ? f.end - f.start : 0);
  b.statusCode.append(statusCodeName(f.statusCode));
  ctx.appendString(b.statusMessage, f.statusMessage);
  b.eventsTimestamp.endRow();
  b.eventsName.endRow();
  b.eventsAttributes.endRow();
  b.linksTraceId.endRow();
  b.linksSpanId.endRow();
  b.linksTraceState.endRow();
  b.linksAttributes.endRow();
  ctx.accept();
  return ctx.checkBytes(telemetry::batchBytes(b));
}

// Appends one event whose attributes are pending in b.eventsAttributes.child().
inline void emitEvent(DecodeContext& ctx, telemetry::SpanBatch& b, uint64_t time,
                      std::string_view name) {
  ctx.noteNestedTime(time);
  b.eventsTimestamp.child().append(static_cast<int64_t>(time));
  ctx.appendString(b.eventsName.child(), name);
  ctx.endAttributes(b.eventsAttributes.child());
}

// Appends one link whose attributes are pending in b.linksAttributes.child(); a bad id is noted
// in `problem` (the span is rejected later, which also drops the link).
inline void emitLink(DecodeContext& ctx, telemetry::SpanBatch& b, const IdBytes& traceId,
                     const IdBytes& spanId, std::string_view traceState, IdProblem& problem) {
  problem.check("links.trace_id", traceId, kTraceIdBytes);
  problem.check("links.span_id", spanId, kSpanIdBytes);
  if (traceId.size <= kTraceIdBytes) {
    appendId(b.linksTraceId.child(), traceId);
  } else {
    b.linksTraceId.child().commit();
  }
  if (spanId.size <= kSpanIdBytes) {
    appendId(b.linksSpanId.child(), spanId);
  } else {
    b.linksSpanId.child().commit();
  }
  ctx.appendString(b.linksTraceState.child(), traceState);
  ctx.endAttributes(b.linksAttributes.child());
}

struct PointFields {
  uint64_t start = 0;
  uint64_t time = 0;
  uint32_t flags = 0;
  IdProblem exemplarProblem;
};

struct ExemplarFields {
  uint64_t time = 0;
  double value = 0;
  IdBytes traceId;
  IdBytes spanId;
};

// Appends one exemplar whose filtered attributes are pending in e.filteredAttributes.child().
inline void emitExemplar(DecodeContext& ctx, telemetry::ExemplarColumns& e, const ExemplarFields& f,
                         IdProblem& problem) {
  problem.check("exemplars.trace_id", f.traceId, kTraceIdBytes);
  problem.check("exemplars.span_id", f.spanId, kSpanIdBytes);
  ctx.endAttributes(e.filteredAttributes.child());
  ctx.noteNestedTime(f.time);
  e.timeUnix.child().append(static_cast<int64_t>(f.time));
  e.value.child().append(f.value);
  if (f.spanId.size <= kSpanIdBytes) {
    appendExemplarId(e.spanId.child(), f.spanId, kSpanIdBytes);
  } else {
    e.spanId.child().commit();
  }
  if (f.traceId.size <= kTraceIdBytes) {
    appendExemplarId(e.traceId.child(), f.traceId, kTraceIdBytes);
  } else {
    e.traceId.child().commit();
  }
}

inline void endExemplars(telemetry::ExemplarColumns& e) {
  e.filteredAttributes.endRow();
  e.timeUnix.endRow();
  e.value.endRow();
  e.spanId.endRow();
  e.traceId.endRow();
}

// Checks a data point and appends the columns every metric table has; the point's attributes
// are pending in c.attributes. Returns false when the point was rejected (already rolled back
// and counted); the caller then skips its kind-specific columns.
template <typename KindBatch>
bool beginPointRow(DecodeContext& ctx, KindBatch& b, size_t rows, const ResourceRow& res,
                   const ScopeRow& scope, const MetricRow& metric, const PointFields& p) {
  const uint64_t lastExemplar = ctx.takeNestedTime();
  if (p.exemplarProblem) {
    telemetry::truncateBatch(b, rows);
    rejectRecord(ctx, "data point", p.exemplarProblem);
    return false;
  }
  if (ctx.checkTimes()) {
    // A point needs its time (its row's); a start time is optional (0: unknown) but never later.
    TimeProblem tp;
    if (p.time == 0) tp.missing("time_unix_nano");
    tp.checkTime(ctx, "time_unix_nano", p.time, kMaxDateTimeNanos);
    if (p.start > p.time) tp.order("start_time_unix_nano", "is after time_unix_nano");
    tp.checkTime(ctx, "exemplars.time_unix_nano", lastExemplar, kMaxDateTime64Nanos);
    if (tp) {
      telemetry::truncateBatch(b, rows);
      rejectTime(ctx, "data point", tp);
      return false;
    }
    if (p.time < ctx.earliest()) {
      telemetry::truncateBatch(b, rows);
      ctx.expire();
      return false;
    }
  }
  telemetry::MetricPointCommon& c = b.common;
  c.resourceAttributes.appendColumn(res.attributes);
  c.resourceSchemaUrl.append(res.schemaUrl());
  c.scopeName.append(scope.name());
  c.scopeVersion.append(scope.version());
  c.scopeAttributes.appendColumn(scope.attributes);
  c.scopeDroppedAttrCount.append(scope.droppedAttributesCount);
  c.scopeSchemaUrl.append(scope.schemaUrl());
  c.serviceName.append(res.serviceName());
  c.metricName.append(metric.name());
  c.metricDescription.append(metric.description());
  c.metricUnit.append(metric.unit());
  ctx.endAttributes(c.attributes);
  c.startTimeUnix.append(static_cast<int64_t>(p.start));
  c.timeUnix.append(static_cast<int64_t>(p.time));
  c.flags.append(p.flags);
  return true;
}

inline size_t metricBatchBytes(const telemetry::MetricBatch& m) {
  size_t n = 0;
  m.forEachKind([&n](const auto& kind) { n += telemetry::batchBytes(kind); });
  return n;
}

// Counts an accepted data point and checks the batch's growth.
inline bool finishPoint(DecodeContext& ctx, const telemetry::MetricBatch& m) {
  ctx.accept();
  return ctx.checkBytes(metricBatchBytes(m));
}

}  // namespace stackhouse::otlp::detail
