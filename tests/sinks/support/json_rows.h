// Checks that a JSON object (simdjson DOM) holds exactly one row of a batch, column by column,
// keyed by the ClickHouse column names (Nested columns grouped as objects: Events.Timestamp is
// "Events": {"Timestamp": ...}). Timestamps are compared as DateTime64(9) UTC text made with
// gmtime_r, independently of the sinks' own formatter.
#pragma once

#include <simdjson.h>

#include <cmath>
#include <ctime>
#include <string>
#include <string_view>

#include "telemetry/columns.h"

namespace stackhouse::sinks::testing {

inline std::string dateTime64Text(int64_t nanos) {
  time_t seconds = static_cast<time_t>(nanos / 1'000'000'000);
  int64_t frac = nanos % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --seconds;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%09lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

// "" when `value` is the JSON form of element `i` of the column, else what differs.
inline std::string jsonDiff(simdjson::dom::element value, const telemetry::StringColumn& c,
                            size_t i) {
  std::string_view s;
  if (value.get(s) != simdjson::SUCCESS) return "not a string";
  return s == c.at(i) ? "" : "string differs";
}

inline std::string jsonDiff(simdjson::dom::element value, const telemetry::MapColumn& c, size_t i) {
  simdjson::dom::object o;
  if (value.get(o) != simdjson::SUCCESS) return "not an object";
  auto e = static_cast<size_t>(c.offset(i));
  for (auto field : o) {
    if (e >= static_cast<size_t>(c.offset(i + 1))) return "extra map entry";
    std::string_view v;
    if (field.value.get(v) != simdjson::SUCCESS) return "map value not a string";
    if (field.key != c.keys().at(e) || v != c.values().at(e)) return "map entry differs";
    ++e;
  }
  return e == static_cast<size_t>(c.offset(i + 1)) ? "" : "missing map entries";
}

template <typename T, telemetry::FixedKind K>
std::string jsonDiff(simdjson::dom::element value, const telemetry::FixedColumn<T, K>& c,
                     size_t i) {
  using telemetry::FixedKind;
  const T v = c.at(i);
  if constexpr (K == FixedKind::kTimestampNs) {
    std::string_view s;
    if (value.get(s) != simdjson::SUCCESS) return "timestamp not a string";
    return s == dateTime64Text(v) ? "" : "timestamp " + std::string(s) + " != " + dateTime64Text(v);
  } else if constexpr (K == FixedKind::kBool) {
    bool b;
    if (value.get(b) != simdjson::SUCCESS) return "not a boolean";
    return b == (v != 0) ? "" : "boolean differs";
  } else if constexpr (K == FixedKind::kFloat64) {
    std::string_view s;
    if (value.get(s) == simdjson::SUCCESS) {
      if (std::isnan(v)) return s == "nan" ? "" : "nan spelled " + std::string(s);
      if (std::isinf(v)) return s == (v > 0 ? "inf" : "-inf") ? "" : "inf spelled wrong";
      return "a finite double as a string";
    }
    double d;
    if (value.get(d) != simdjson::SUCCESS) return "not a number";
    return d == v ? "" : "double differs";
  } else if constexpr (std::is_signed_v<T>) {
    int64_t n;
    if (value.get(n) != simdjson::SUCCESS) return "not an integer";
    return n == v ? "" : "integer differs";
  } else {
    uint64_t n;
    if (value.get(n) != simdjson::SUCCESS) return "not an unsigned integer";
    return n == v ? "" : "unsigned integer differs";
  }
}

template <typename Child>
std::string jsonDiff(simdjson::dom::element value, const telemetry::ListColumn<Child>& c,
                     size_t i) {
  simdjson::dom::array a;
  if (value.get(a) != simdjson::SUCCESS) return "not an array";
  auto e = static_cast<size_t>(c.offset(i));
  for (auto item : a) {
    if (e >= static_cast<size_t>(c.offset(i + 1))) return "extra array element";
    if (auto d = jsonDiff(item, c.child(), e); !d.empty())
      return "[" + std::to_string(e) + "] " + d;
    ++e;
  }
  return e == static_cast<size_t>(c.offset(i + 1)) ? "" : "missing array elements";
}

// "" when `row` is exactly row `i` of `batch`: every column present with its value, no other key.
template <typename Batch>
std::string rowDiff(simdjson::dom::object row, const Batch& batch, size_t i) {
  std::string diff;
  size_t expectedTopKeys = 0;
  std::string_view lastGroup;
  batch.forEachColumn([&](std::string_view name, const auto& column) {
    if (!diff.empty()) return;
    const size_t dot = name.find('.');
    simdjson::dom::element value;
    if (dot == std::string_view::npos) {
      ++expectedTopKeys;
      if (row[name].get(value) != simdjson::SUCCESS) {
        diff = std::string(name) + " is missing";
        return;
      }
    } else {
      const std::string_view group = name.substr(0, dot);
      if (group != lastGroup) ++expectedTopKeys;
      lastGroup = group;
      simdjson::dom::object nested;
      if (row[group].get(nested) != simdjson::SUCCESS ||
          nested[name.substr(dot + 1)].get(value) != simdjson::SUCCESS) {
        diff = std::string(name) + " is missing";
        return;
      }
    }
    if (auto d = jsonDiff(value, column, i); !d.empty()) diff = std::string(name) + ": " + d;
  });
  if (diff.empty() && row.size() != expectedTopKeys) {
    diff = "the row has " + std::to_string(row.size()) + " keys, expected " +
           std::to_string(expectedTopKeys);
  }
  return diff;
}

}  // namespace stackhouse::sinks::testing
