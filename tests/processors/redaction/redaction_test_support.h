// Helpers for the redaction tests: one-row batches and running the default policy on text.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "processors/redaction/redactor.h"

namespace stackhouse::redaction::testing {

using Attrs = std::vector<std::pair<std::string, std::string>>;

inline Policy testPolicy() {
  Policy p = defaultPolicy();
  p.hmacKey = "test-key";
  return p;
}

inline void addRow(telemetry::MapColumn& m, const Attrs& attrs) {
  for (const auto& [k, v] : attrs) m.add(k, v);
  m.endRow();
}

inline Attrs rowOf(const telemetry::MapColumn& m, size_t row) {
  Attrs out;
  for (auto e = static_cast<size_t>(m.offset(row)); e < static_cast<size_t>(m.offset(row + 1)); ++e) {
    out.emplace_back(std::string(m.keys().at(e)), std::string(m.values().at(e)));
  }
  return out;
}

inline std::string valueOf(const Attrs& attrs, std::string_view key) {
  for (const auto& [k, v] : attrs) {
    if (k == key) return v;
  }
  return "<absent>";
}

inline void addLog(telemetry::LogBatch& b, std::string_view body, const Attrs& attrs = {},
                   const Attrs& resource = {}) {
  b.timestamp.append(1);
  b.traceId.append("");
  b.spanId.append("");
  b.traceFlags.append(0);
  b.severityText.append("INFO");
  b.severityNumber.append(9);
  b.serviceName.append("svc");
  b.body.append(body);
  b.resourceSchemaUrl.append("");
  addRow(b.resourceAttributes, resource);
  b.scopeSchemaUrl.append("");
  b.scopeName.append("");
  b.scopeVersion.append("");
  addRow(b.scopeAttributes, {});
  addRow(b.logAttributes, attrs);
  b.eventName.append("");
}

// The default policy applied to one text, as a log body.
inline std::string redactText(Redactor& r, std::string_view text) {
  telemetry::LogBatch b;
  addLog(b, text);
  r.process(b);
  return std::string(b.body.at(0));
}

}  // namespace stackhouse::redaction::testing
