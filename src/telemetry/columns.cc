#include "telemetry/columns.h"

namespace stackhouse::telemetry {

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
