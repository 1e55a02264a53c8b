// Helpers for the redaction tests: one-row batches and running the default policy on text.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "processors/redaction/redactor.h"
#include "support/log_rows.h"

namespace stackhouse::redaction::testing {

using stackhouse::testing::Attrs;

inline Policy testPolicy() {
  Policy p = defaultPolicy();
  p.hmacKey = "test-key";
  return p;
}

inline void addRow(telemetry::MapColumn& m, const Attrs& attrs) {
  stackhouse::testing::appendAttrs(m, attrs);
}

inline Attrs rowOf(const telemetry::MapColumn& m, size_t row) {
  Attrs out;
  for (auto e = static_cast<size_t>(m.offset(row)); e < static_cast<size_t>(m.offset(row + 1));
       ++e) {
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
  stackhouse::testing::appendLogRow(b, {.body = body, .attributes = attrs, .resource = resource});
}

// The default policy applied to one text, as a log body.
inline std::string redactText(Redactor& r, std::string_view text) {
  telemetry::LogBatch b;
  addLog(b, text);
  r.process(b);
  return std::string(b.body.at(0));
}

}  // namespace stackhouse::redaction::testing
