// Encodes batches in ClickHouse's Native format, the columnar format of its HTTP interface,
// straight from the batches' Arrow-layout columns: each column's values are already contiguous, so
// a fixed-width column is one copy, a string column a length prefix per value.
//
// A block is: the column count and the row count (unsigned LEB128), then for each column its
// name and its type (length-prefixed strings) and its data:
//   fixed-width    the values, little-endian (DateTime64(9): Int64 nanoseconds; Bool: one byte);
//   String         per value, its length (LEB128) and its bytes;
//   Array(T)       the rows' end offsets as UInt64, then the elements as a column of T;
//   Map(K, V)      as Array(Tuple(K, V)): end offsets, then all keys, then all values.
// Types are declared as the batch holds them (String, Map(String, String)); the server converts
// them to the table's (LowCardinality(String), Map(LowCardinality(String), String)) as it reads
// (input_format_native_allow_types_conversion, on by default), so the block carries no
// dictionary of its own.
//
// Column names and order come from the batch's forEachColumn: the same list the embedded store
// inserts through Arrow, so the two sinks write the same columns of the same tables.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "telemetry/columns.h"

namespace stackhouse::sinks::clickhouse {

// Appends `value` as unsigned LEB128 (ClickHouse's VarUInt).
void appendVarUInt(std::string& out, uint64_t value);
// Appends a length-prefixed string.
void appendString(std::string& out, std::string_view s);

namespace native {

template <typename T>
struct IsList : std::false_type {};
template <typename C>
struct IsList<telemetry::ListColumn<C>> : std::true_type {};

template <typename T, telemetry::FixedKind K>
std::string typeOf(const telemetry::FixedColumn<T, K>*) {
  switch (K) {
    case telemetry::FixedKind::kTimestampNs: return "DateTime64(9)";
    case telemetry::FixedKind::kUInt8: return "UInt8";
    case telemetry::FixedKind::kUInt32: return "UInt32";
    case telemetry::FixedKind::kInt32: return "Int32";
    case telemetry::FixedKind::kUInt64: return "UInt64";
    case telemetry::FixedKind::kFloat64: return "Float64";
    case telemetry::FixedKind::kBool: return "Bool";
  }
  return "";
}
inline std::string typeOf(const telemetry::StringColumn*) { return "String"; }
inline std::string typeOf(const telemetry::MapColumn*) { return "Map(String, String)"; }
template <typename C>
std::string typeOf(const telemetry::ListColumn<C>*) {
  return "Array(" + typeOf(static_cast<const C*>(nullptr)) + ")";
}

// Rows [begin, end) of a column.
template <typename T, telemetry::FixedKind K>
void appendData(std::string& out, const telemetry::FixedColumn<T, K>& c, size_t begin, size_t end) {
  static_assert(sizeof(T) == 1 || std::endian::native == std::endian::little);
  out.append(reinterpret_cast<const char*>(c.values().data()) + begin * sizeof(T),
             (end - begin) * sizeof(T));
}
void appendData(std::string& out, const telemetry::StringColumn& c, size_t begin, size_t end);
void appendData(std::string& out, const telemetry::MapColumn& c, size_t begin, size_t end);
template <typename C>
void appendData(std::string& out, const telemetry::ListColumn<C>& c, size_t begin, size_t end) {
  const int64_t base = c.offset(begin);
  for (size_t i = begin + 1; i <= end; ++i) {
    const uint64_t offset = static_cast<uint64_t>(c.offset(i) - base);
    out.append(reinterpret_cast<const char*>(&offset), sizeof offset);
  }
  appendData(out, c.child(), static_cast<size_t>(c.offset(begin)),
             static_cast<size_t>(c.offset(end)));
}

}  // namespace native

// Appends one Native block holding every row of `batch` (a LogBatch, SpanBatch or metric point
// batch). Nothing for a batch without rows.
template <typename B>
void appendNativeBlock(std::string& out, const B& batch) {
  const size_t rows = batch.rows();
  if (rows == 0) return;
  size_t columns = 0;
  batch.forEachColumn([&](std::string_view, const auto&) { ++columns; });
  appendVarUInt(out, columns);
  appendVarUInt(out, rows);
  batch.forEachColumn([&](std::string_view name, const auto& column) {
    using Column = std::decay_t<decltype(column)>;
    appendString(out, name);
    appendString(out, native::typeOf(static_cast<const Column*>(nullptr)));
    native::appendData(out, column, 0, rows);
  });
}

// The columns of B as an INSERT's column list: `Timestamp`, `TraceId`, ... (quoted: Events.Name).
template <typename B>
std::string nativeColumnList() {
  std::string out;
  B empty;
  empty.forEachColumn([&](std::string_view name, const auto&) {
    if (!out.empty()) out += ", ";
    out.append("`").append(name).append("`");
  });
  return out;
}

// The columns of B with the types a Native block declares them as: the structure of an
// input() table function, and the types rows are compared in (`Timestamp` DateTime64(9), ...).
template <typename B>
std::string nativeStructure() {
  std::string out;
  B empty;
  empty.forEachColumn([&](std::string_view name, const auto& column) {
    using Column = std::decay_t<decltype(column)>;
    if (!out.empty()) out += ", ";
    out.append("`").append(name).append("` ").append(
        native::typeOf(static_cast<const Column*>(nullptr)));
  });
  return out;
}

}  // namespace stackhouse::sinks::clickhouse
