#include "pipeline/record_codec.h"

#include <cstdint>
#include <limits>

namespace stackhouse::pipeline {

namespace {

using telemetry::Buffer;
using telemetry::MapColumn;
using telemetry::StringColumn;

// Buffers smaller than this are copied into the encoder's storage: an iovec of their own would
// cost the write more than the copy.
constexpr size_t kCopyBelow = 256;

bool sameRow(const MapColumn& m, size_t a, size_t b) {
  const auto a0 = static_cast<size_t>(m.offset(a));
  const auto b0 = static_cast<size_t>(m.offset(b));
  const size_t n = static_cast<size_t>(m.offset(a + 1)) - a0;
  if (static_cast<size_t>(m.offset(b + 1)) - b0 != n) return false;
  for (size_t k = 0; k < n; ++k) {
    if (m.keys().at(a0 + k) != m.keys().at(b0 + k) ||
        m.values().at(a0 + k) != m.values().at(b0 + k)) {
      return false;
    }
  }
  return true;
}

// The runs of equal rows of a column into `lengths`, given up (false) once they are more than
// half its rows.
template <typename Same>
bool findRuns(size_t rows, Same&& same, std::vector<uint32_t>& lengths) {
  lengths.clear();
  if (rows < 2) return false;
  size_t i = 0;
  while (i < rows) {
    size_t j = i + 1;
    while (j < rows && same(i, j)) ++j;
    lengths.push_back(static_cast<uint32_t>(j - i));
    if (lengths.size() * 2 > rows) return false;
    i = j;
  }
  return true;
}

constexpr uint64_t kArrowMax = std::numeric_limits<int32_t>::max();

}  // namespace

void RecordEncoder::begin(const RequestKey& key, telemetry::Source source) {
  owned_.clear();
  ownedCut_ = 0;
  pieces_.clear();
  iov_.clear();
  source_ = source;
  putU64(key.hi);
  putU64(key.lo);
  putU64(0);  // the source word, once the columns are counted (finish)
}

size_t RecordEncoder::finish(uint32_t columns) {
  cut();
  const uint64_t word =
      (static_cast<uint64_t>(source_) | kRecordColumns) | (static_cast<uint64_t>(columns) << 32);
  std::memcpy(owned_.data() + 16, &word, sizeof word);
  size_t total = 0;
  iov_.reserve(pieces_.size());
  for (const Piece& p : pieces_) {
    const uint8_t* at = p.at != nullptr ? p.at : owned_.data() + p.offset;
    iov_.push_back({const_cast<uint8_t*>(at), p.length});
    total += p.length;
  }
  return total;
}

void RecordEncoder::cut() {
  if (owned_.size() > ownedCut_) {
    pieces_.push_back({nullptr, ownedCut_, owned_.size() - ownedCut_});
    ownedCut_ = owned_.size();
  }
}

void RecordEncoder::plain(const Buffer& b) {
  putU64(b.size());
  if (b.size() < kCopyBelow) {
    owned_.append(b.data(), b.size());
    return;
  }
  cut();
  pieces_.push_back({b.data(), 0, b.size()});
}

void RecordEncoder::putRuns() {
  putU64(lengths_.size());
  owned_.append(lengths_.data(), lengths_.size() * sizeof(uint32_t));
}

void RecordEncoder::add(const StringColumn& column) {
  const bool inRuns = findRuns(
      column.size(), [&](size_t a, size_t b) { return column.at(a) == column.at(b); }, lengths_);
  if (!inRuns) {
    addPlain(column);
    return;
  }
  putRuns();
  headStrings_.clear();
  size_t row = 0;
  for (uint32_t n : lengths_) {
    headStrings_.append(column.at(row));
    row += n;
  }
  copied(headStrings_);
}

void RecordEncoder::add(const MapColumn& column) {
  const bool inRuns = findRuns(
      column.size(), [&](size_t a, size_t b) { return sameRow(column, a, b); }, lengths_);
  if (!inRuns) {
    addPlain(column);
    return;
  }
  putRuns();
  headMaps_.clear();
  size_t row = 0;
  for (uint32_t n : lengths_) {
    const auto first = static_cast<size_t>(column.offset(row));
    const auto last = static_cast<size_t>(column.offset(row + 1));
    for (size_t e = first; e < last; ++e) headMaps_.add(column.keys().at(e), column.values().at(e));
    headMaps_.endRow();
    row += n;
  }
  copied(headMaps_);
}

bool RecordReader::buffer(Buffer& buffer) {
  uint64_t n = 0;
  if (!u64(n) || static_cast<uint64_t>(end_ - p_) < n) return false;
  buffer.clear();
  buffer.append(p_, n);
  p_ += n;
  return true;
}

bool RecordReader::lengths(uint64_t count) {
  if (count == 0 || count > static_cast<uint64_t>(end_ - p_) / sizeof(uint32_t)) return false;
  lengths_.resize(count);
  std::memcpy(lengths_.data(), p_, count * sizeof(uint32_t));
  p_ += count * sizeof(uint32_t);
  for (uint32_t n : lengths_) {
    if (n == 0) return false;
  }
  return true;
}

bool RecordReader::runs(uint64_t count, StringColumn& column) {
  if (!heads(count, headStrings_)) return false;
  // The runs expand to no more rows than the record holds, and to what an Arrow column can hold
  // (int32 offsets).
  uint64_t rows = 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < count; ++i) {
    rows += lengths_[i];
    bytes += static_cast<uint64_t>(lengths_[i]) * headStrings_.at(i).size();
  }
  if (rows > maxRows_ || bytes > kArrowMax) return false;
  column.reserveMore(rows, bytes);
  for (size_t i = 0; i < count; ++i) {
    const std::string_view v = headStrings_.at(i);
    for (uint32_t k = 0; k < lengths_[i]; ++k) column.append(v);
  }
  return true;
}

bool RecordReader::runs(uint64_t count, MapColumn& column) {
  if (!heads(count, headMaps_)) return false;
  uint64_t rows = 0;
  uint64_t entries = 0;
  uint64_t keyBytes = 0;
  uint64_t valueBytes = 0;
  for (size_t i = 0; i < count; ++i) {
    const auto first = static_cast<uint64_t>(headMaps_.offset(i));
    const auto last = static_cast<uint64_t>(headMaps_.offset(i + 1));
    const auto keys = static_cast<uint64_t>(headMaps_.keys().offset(last)) -
                      static_cast<uint64_t>(headMaps_.keys().offset(first));
    const auto values = static_cast<uint64_t>(headMaps_.values().offset(last)) -
                        static_cast<uint64_t>(headMaps_.values().offset(first));
    rows += lengths_[i];
    entries += lengths_[i] * (last - first);
    keyBytes += lengths_[i] * keys;
    valueBytes += lengths_[i] * values;
  }
  if (rows > maxRows_ || entries > kArrowMax || keyBytes > kArrowMax || valueBytes > kArrowMax) {
    return false;
  }
  column.reserveMore(rows, entries, keyBytes, valueBytes);
  for (size_t i = 0; i < count; ++i) {
    const auto first = static_cast<size_t>(headMaps_.offset(i));
    const auto last = static_cast<size_t>(headMaps_.offset(i + 1));
    for (uint32_t k = 0; k < lengths_[i]; ++k) {
      for (size_t e = first; e < last; ++e) {
        column.add(headMaps_.keys().at(e), headMaps_.values().at(e));
      }
      column.endRow();
    }
  }
  return true;
}

}  // namespace stackhouse::pipeline
