// SpanBatch: spans as the columns of the otel_traces table, events and links included
// (the Nested columns Events.* and Links.* are parallel arrays).
#pragma once

#include <string_view>

#include "telemetry/columns.h"

namespace stackhouse::telemetry {

struct SpanBatch {
  static constexpr std::string_view kTable = "otel_traces";

  TimestampColumn timestamp;  // Timestamp: start_time_unix_nano
  StringColumn traceId;       // lowercase hex
  StringColumn spanId;
  StringColumn parentSpanId;
  StringColumn traceState;
  StringColumn spanName;
  StringColumn spanKind;  // "Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"
  StringColumn serviceName;
  MapColumn resourceAttributes;
  StringColumn scopeName;
  StringColumn scopeVersion;
  MapColumn spanAttributes;
  UInt64Column duration;    // Duration: end - start, in nanoseconds (0 if end < start)
  StringColumn statusCode;  // "Unset", "Ok", "Error"
  StringColumn statusMessage;
  TimestampListColumn eventsTimestamp;
  StringListColumn eventsName;
  MapListColumn eventsAttributes;
  StringListColumn linksTraceId;
  StringListColumn linksSpanId;
  StringListColumn linksTraceState;
  MapListColumn linksAttributes;

  template <typename F>
  void forEachColumn(F&& f) {
    f("Timestamp", timestamp);
    f("TraceId", traceId);
    f("SpanId", spanId);
    f("ParentSpanId", parentSpanId);
    f("TraceState", traceState);
    f("SpanName", spanName);
    f("SpanKind", spanKind);
    f("ServiceName", serviceName);
    f("ResourceAttributes", resourceAttributes);
    f("ScopeName", scopeName);
    f("ScopeVersion", scopeVersion);
    f("SpanAttributes", spanAttributes);
    f("Duration", duration);
    f("StatusCode", statusCode);
    f("StatusMessage", statusMessage);
    f("Events.Timestamp", eventsTimestamp);
    f("Events.Name", eventsName);
    f("Events.Attributes", eventsAttributes);
    f("Links.TraceId", linksTraceId);
    f("Links.SpanId", linksSpanId);
    f("Links.TraceState", linksTraceState);
    f("Links.Attributes", linksAttributes);
  }
  template <typename F>
  void forEachColumn(F&& f) const {
    const_cast<SpanBatch*>(this)->forEachColumn(
        [&](std::string_view name, auto& column) { f(name, std::as_const(column)); });
  }

  size_t rows() const { return timestamp.size(); }
};

}  // namespace stackhouse::telemetry
