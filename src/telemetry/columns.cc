#include "telemetry/columns.h"

namespace stackhouse::telemetry {

bool offsetsConsistent(const Buffer& offsets, size_t childSize) {
  if (offsets.size() < sizeof(int32_t) || offsets.size() % sizeof(int32_t) != 0) return false;
  const size_t n = offsets.size() / sizeof(int32_t);
  int32_t previous = 0;
  for (size_t i = 0; i < n; ++i) {
    int32_t v;
    std::memcpy(&v, offsets.data() + i * sizeof(int32_t), sizeof v);
    if ((i == 0 && v != 0) || v < previous) return false;
    previous = v;
  }
  return static_cast<size_t>(previous) == childSize;
}

bool StringColumn::consistent() const { return offsetsConsistent(offsets_, data_.size()); }

bool MapColumn::consistent() const {
  return keys_.consistent() && values_.consistent() && keys_.size() == values_.size() &&
         offsetsConsistent(offsets_, keys_.size());
}

void StringColumn::appendColumn(const StringColumn& other) {
  const int32_t base = static_cast<int32_t>(data_.size());
  const size_t n = other.size();
  int32_t* out = reinterpret_cast<int32_t*>(offsets_.extend(n * sizeof(int32_t)));
  for (size_t i = 1; i <= n; ++i) out[i - 1] = base + other.offset(i);
  data_.append(other.data_.data(), other.data_.size());
}

void MapColumn::appendColumn(const MapColumn& other) {
  const int32_t base = static_cast<int32_t>(keys_.size());
  const size_t n = other.size();
  int32_t* out = reinterpret_cast<int32_t*>(offsets_.extend(n * sizeof(int32_t)));
  for (size_t i = 1; i <= n; ++i) out[i - 1] = base + other.offset(i);
  keys_.appendColumn(other.keys_);
  values_.appendColumn(other.values_);
}

}  // namespace stackhouse::telemetry
