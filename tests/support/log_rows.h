// Tests that build LogBatches by hand: one row appended to every column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/log_batch.h"

namespace stackhouse::testing {

using Attrs = std::vector<std::pair<std::string, std::string>>;

// One log record; what is not set is empty (or 0), as a decoder stores an absent field.
struct LogRow {
  int64_t timestamp = 1;
  std::string_view body;
  std::string_view service = "svc";
  std::string_view traceId;
  std::string_view spanId;
  uint8_t traceFlags = 0;
  std::string_view scopeName;
  std::string_view scopeVersion;
  Attrs attributes;
  Attrs resource;
};

inline void appendAttrs(telemetry::MapColumn& m, const Attrs& attrs) {
  for (const auto& [k, v] : attrs) m.add(k, v);
  m.endRow();
}

inline void appendLogRow(telemetry::LogBatch& b, const LogRow& row) {
  b.timestamp.append(row.timestamp);
  b.traceId.append(row.traceId);
  b.spanId.append(row.spanId);
  b.traceFlags.append(row.traceFlags);
  b.severityText.append("INFO");
  b.severityNumber.append(9);
  b.serviceName.append(row.service);
  b.body.append(row.body);
  b.resourceSchemaUrl.append("");
  appendAttrs(b.resourceAttributes, row.resource);
  b.scopeSchemaUrl.append("");
  b.scopeName.append(row.scopeName);
  b.scopeVersion.append(row.scopeVersion);
  appendAttrs(b.scopeAttributes, {});
  appendAttrs(b.logAttributes, row.attributes);
  b.eventName.append("");
}

}  // namespace stackhouse::testing
