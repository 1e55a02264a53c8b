// LogBatch: log records as the columns of the otel_logs table.
#pragma once

#include <string_view>

#include "telemetry/columns.h"

namespace stackhouse::telemetry {

struct LogBatch {
  static constexpr std::string_view kTable = "otel_logs";

  TimestampColumn timestamp;   // Timestamp: time_unix_nano, or observed_time_unix_nano when 0
  StringColumn traceId;        // TraceId: lowercase hex, empty when absent
  StringColumn spanId;         // SpanId
  UInt8Column traceFlags;      // TraceFlags: the low 8 bits of flags
  StringColumn severityText;   // SeverityText
  UInt8Column severityNumber;  // SeverityNumber
  StringColumn serviceName;    // ServiceName: resource attribute service.name
  StringColumn body;           // Body: AnyValue as text (maps and arrays as JSON)
  StringColumn resourceSchemaUrl;
  MapColumn resourceAttributes;
  StringColumn scopeSchemaUrl;
  StringColumn scopeName;
  StringColumn scopeVersion;
  MapColumn scopeAttributes;
  MapColumn logAttributes;
  StringColumn eventName;  // EventName

  // Calls f(columnName, column) for every column, in one fixed order (the insert's column list).
  template <typename F>
  void forEachColumn(F&& f) {
    f("Timestamp", timestamp);
    f("TraceId", traceId);
    f("SpanId", spanId);
    f("TraceFlags", traceFlags);
    f("SeverityText", severityText);
    f("SeverityNumber", severityNumber);
    f("ServiceName", serviceName);
    f("Body", body);
    f("ResourceSchemaUrl", resourceSchemaUrl);
    f("ResourceAttributes", resourceAttributes);
    f("ScopeSchemaUrl", scopeSchemaUrl);
    f("ScopeName", scopeName);
    f("ScopeVersion", scopeVersion);
    f("ScopeAttributes", scopeAttributes);
    f("LogAttributes", logAttributes);
    f("EventName", eventName);
  }
  template <typename F>
  void forEachColumn(F&& f) const {
    const_cast<LogBatch*>(this)->forEachColumn(
        [&](std::string_view name, auto& column) { f(name, std::as_const(column)); });
  }

  size_t rows() const { return timestamp.size(); }
};

}  // namespace stackhouse::telemetry
