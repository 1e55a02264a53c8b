// Columns with Apache Arrow's memory layout.
//
// A batch is a set of these columns. Each column appends into Buffers in exactly the layout that
// Arrow specifies (values; or int32 offsets plus bytes; or offsets plus a child column), so the
// embedded store reads them through the Arrow C Data Interface as they are (arrow_export.h).
// No column has nulls: the tables have no Nullable columns, absent values are empty/zero.
//
// All columns support truncate(rows), used to drop a record that a decoder rejects half-way.
// Not thread-safe: a batch is filled by one thread at a time.
#pragma once

#include <cstdint>
#include <string_view>

#include "telemetry/buffer.h"

namespace stackhouse::telemetry {

// The Arrow type a fixed-width column is exported as.
enum class FixedKind : unsigned char {
  kTimestampNs,  // int64 nanoseconds since the epoch, UTC -> DateTime64(9)
  kUInt8,
  kUInt32,
  kInt32,
  kUInt64,
  kFloat64,
  kBool,  // stored as one byte 0/1, exported as uint8; the insert converts it to Bool
};

template <typename T, FixedKind K>
class FixedColumn {
 public:
  using ValueType = T;
  static constexpr FixedKind kKind = K;

  void append(T v) { values_.appendValue(v); }
  size_t size() const { return values_.size() / sizeof(T); }
  T at(size_t i) const {
    T v;
    std::memcpy(&v, values_.data() + i * sizeof(T), sizeof(T));
    return v;
  }
  void truncate(size_t rows) { values_.truncate(rows * sizeof(T)); }
  void clear() { values_.clear(); }
  size_t byteSize() const { return values_.size(); }
  const Buffer& values() const { return values_; }
  // Appends all values of `other`.
  void appendColumn(const FixedColumn& other) {
    values_.append(other.values_.data(), other.values_.size());
  }
  // Calls v(buffer) for every buffer of the column, in a fixed order (batch_codec.h).
  template <typename V>
  void visitBuffers(V&& v) {
    v(values_);
  }
  // The buffers are a column of whole values (true after any sequence of appends).
  bool consistent() const { return values_.size() % sizeof(T) == 0; }

 private:
  Buffer values_;
};

using TimestampColumn = FixedColumn<int64_t, FixedKind::kTimestampNs>;
using UInt8Column = FixedColumn<uint8_t, FixedKind::kUInt8>;
using UInt32Column = FixedColumn<uint32_t, FixedKind::kUInt32>;
using Int32Column = FixedColumn<int32_t, FixedKind::kInt32>;
using UInt64Column = FixedColumn<uint64_t, FixedKind::kUInt64>;
using Float64Column = FixedColumn<double, FixedKind::kFloat64>;
using BoolColumn = FixedColumn<uint8_t, FixedKind::kBool>;

// An offsets buffer is well formed: whole int32s, at least one, starting at 0, never decreasing,
// ending at `childSize`.
bool offsetsConsistent(const Buffer& offsets, size_t childSize);

// Arrow utf8: int32 offsets (rows + 1 of them) and the bytes. A value can be appended whole with
// append(), or built in place: write into data() and then call commit().
class StringColumn {
 public:
  StringColumn() { offsets_.appendValue<int32_t>(0); }

  void append(std::string_view s) {
    data_.append(s.data(), s.size());
    commit();
  }
  // Ends the value whose bytes were written to data() since the last commit.
  void commit() { offsets_.appendValue<int32_t>(static_cast<int32_t>(data_.size())); }
  Buffer& data() { return data_; }
  const Buffer& data() const { return data_; }
  const Buffer& offsets() const { return offsets_; }

  size_t size() const { return offsets_.size() / sizeof(int32_t) - 1; }
  int32_t offset(size_t i) const {
    int32_t v;
    std::memcpy(&v, offsets_.data() + i * sizeof(int32_t), sizeof v);
    return v;
  }
  std::string_view at(size_t i) const {
    const int32_t b = offset(i);
    return {reinterpret_cast<const char*>(data_.data()) + b,
            static_cast<size_t>(offset(i + 1) - b)};
  }
  // Bytes written for the value being built (since the last commit).
  size_t pendingBytes() const { return data_.size() - static_cast<size_t>(offset(size())); }
  void truncate(size_t rows) {
    data_.truncate(static_cast<size_t>(offset(rows)));
    offsets_.truncate((rows + 1) * sizeof(int32_t));
  }
  void clear() { truncate(0); }
  size_t byteSize() const { return data_.size() + offsets_.size(); }
  // Room for `rows` more values of `bytes` bytes in all, allocated at once.
  void reserveMore(size_t rows, size_t bytes) {
    offsets_.reserve(offsets_.size() + rows * sizeof(int32_t));
    data_.reserve(data_.size() + bytes);
  }
  void appendColumn(const StringColumn& other);
  template <typename V>
  void visitBuffers(V&& v) {
    v(offsets_);
    v(data_);
  }
  bool consistent() const;

 private:
  Buffer offsets_;
  Buffer data_;
};

// Arrow map<utf8, utf8> for Map(LowCardinality(String), String): int32 offsets into the entries,
// and the entries as two string columns. Add the entries of a row, then endRow().
class MapColumn {
 public:
  MapColumn() { offsets_.appendValue<int32_t>(0); }

  void add(std::string_view key, std::string_view value) {
    keys_.append(key);
    values_.append(value);
  }
  // For values built in place: append the key, write the value into values().data(), commit it.
  StringColumn& keys() { return keys_; }
  StringColumn& values() { return values_; }
  const StringColumn& keys() const { return keys_; }
  const StringColumn& values() const { return values_; }
  void endRow() { offsets_.appendValue<int32_t>(static_cast<int32_t>(keys_.size())); }
  // Entries added to the current row so far.
  size_t pendingEntries() const { return keys_.size() - static_cast<size_t>(offset(size())); }

  size_t size() const { return offsets_.size() / sizeof(int32_t) - 1; }
  int32_t offset(size_t i) const {
    int32_t v;
    std::memcpy(&v, offsets_.data() + i * sizeof(int32_t), sizeof v);
    return v;
  }
  const Buffer& offsets() const { return offsets_; }
  void truncate(size_t rows) {
    const auto entries = static_cast<size_t>(offset(rows));
    keys_.truncate(entries);
    values_.truncate(entries);
    offsets_.truncate((rows + 1) * sizeof(int32_t));
  }
  void clear() { truncate(0); }
  size_t byteSize() const { return offsets_.size() + keys_.byteSize() + values_.byteSize(); }
  // Room for `rows` more rows of `entries` entries in all, allocated at once.
  void reserveMore(size_t rows, size_t entries, size_t keyBytes, size_t valueBytes) {
    offsets_.reserve(offsets_.size() + rows * sizeof(int32_t));
    keys_.reserveMore(entries, keyBytes);
    values_.reserveMore(entries, valueBytes);
  }
  void appendColumn(const MapColumn& other);
  template <typename V>
  void visitBuffers(V&& v) {
    v(offsets_);
    keys_.visitBuffers(v);
    values_.visitBuffers(v);
  }
  bool consistent() const;

 private:
  Buffer offsets_;
  StringColumn keys_;
  StringColumn values_;
};

// Arrow list<Child> for Array(T) and the columns of Nested structures: int32 offsets into the
// child column. Append a row's elements to child(), then endRow().
template <typename Child>
class ListColumn {
 public:
  ListColumn() { offsets_.appendValue<int32_t>(0); }

  Child& child() { return child_; }
  const Child& child() const { return child_; }
  void endRow() { offsets_.appendValue<int32_t>(static_cast<int32_t>(child_.size())); }

  size_t size() const { return offsets_.size() / sizeof(int32_t) - 1; }
  int32_t offset(size_t i) const {
    int32_t v;
    std::memcpy(&v, offsets_.data() + i * sizeof(int32_t), sizeof v);
    return v;
  }
  const Buffer& offsets() const { return offsets_; }
  void truncate(size_t rows) {
    child_.truncate(static_cast<size_t>(offset(rows)));
    offsets_.truncate((rows + 1) * sizeof(int32_t));
  }
  void clear() { truncate(0); }
  size_t byteSize() const { return offsets_.size() + child_.byteSize(); }
  void appendColumn(const ListColumn& other) {
    const int32_t base = static_cast<int32_t>(child_.size());
    const size_t n = other.size();
    for (size_t i = 1; i <= n; ++i) offsets_.appendValue<int32_t>(base + other.offset(i));
    child_.appendColumn(other.child_);
  }
  template <typename V>
  void visitBuffers(V&& v) {
    v(offsets_);
    child_.visitBuffers(v);
  }
  bool consistent() const {
    return child_.consistent() && offsetsConsistent(offsets_, child_.size());
  }

 private:
  Buffer offsets_;
  Child child_;
};

using TimestampListColumn = ListColumn<TimestampColumn>;
using UInt64ListColumn = ListColumn<UInt64Column>;
using Float64ListColumn = ListColumn<Float64Column>;
using StringListColumn = ListColumn<StringColumn>;
using MapListColumn = ListColumn<MapColumn>;

}  // namespace stackhouse::telemetry
