// One table row as a JSON object (a line of NDJSON) keyed by the ClickHouse table's column names:
// what Tinybird's Events API receives. Nested columns (`Events.Timestamp`, `Links.SpanId`,
// `Exemplars.Value`, `ValueAtQuantiles.Quantile`) become objects (`"Events": {"Timestamp":
// [...]}`) so that a data source's jsonpaths read them as `$.Events.Timestamp`.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "telemetry/columns.h"

namespace stackhouse::sinks::tinybird {

// "2026-12-06 09:01:02.123456789": DateTime64(9) text in UTC, as ClickHouse parses it.
void appendDateTime64(std::string& out, int64_t unixNanos);

namespace detail {
void appendValue(std::string& out, const telemetry::StringColumn& c, size_t i);
void appendValue(std::string& out, const telemetry::MapColumn& c, size_t i);
template <typename T, telemetry::FixedKind K>
void appendValue(std::string& out, const telemetry::FixedColumn<T, K>& c, size_t i);
template <typename Child>
void appendValue(std::string& out, const telemetry::ListColumn<Child>& c, size_t i) {
  out += '[';
  for (auto e = static_cast<size_t>(c.offset(i)); e < static_cast<size_t>(c.offset(i + 1)); ++e) {
    if (e != static_cast<size_t>(c.offset(i))) out += ',';
    appendValue(out, c.child(), e);
  }
  out += ']';
}
void appendFixed(std::string& out, telemetry::FixedKind kind, uint64_t bits);
template <typename T, telemetry::FixedKind K>
void appendValue(std::string& out, const telemetry::FixedColumn<T, K>& c, size_t i) {
  const T v = c.at(i);
  uint64_t bits = 0;
  static_assert(sizeof(T) <= sizeof bits);
  std::memcpy(&bits, &v, sizeof v);
  appendFixed(out, K, bits);
}
void appendKey(std::string& out, std::string_view key);
}  // namespace detail

// Appends row `row` of `batch` (any batch with forEachColumn) as one JSON object and a newline.
template <typename Batch>
void appendRowJson(const Batch& batch, size_t row, std::string& out) {
  out += '{';
  bool first = true;
  std::string_view openGroup;  // the Nested prefix whose object is open
  batch.forEachColumn([&](std::string_view name, const auto& column) {
    const size_t dot = name.find('.');
    const std::string_view group = dot == std::string_view::npos ? "" : name.substr(0, dot);
    if (group != openGroup) {
      if (!openGroup.empty()) out += '}';
      if (!group.empty()) {
        if (!first) out += ',';
        detail::appendKey(out, group);
        out += '{';
        first = true;
      }
      openGroup = group;
    }
    if (!first) out += ',';
    first = false;
    detail::appendKey(out, group.empty() ? name : name.substr(dot + 1));
    detail::appendValue(out, column, row);
  });
  if (!openGroup.empty()) out += '}';
  out += "}\n";
}

}  // namespace stackhouse::sinks::tinybird
