// RowSlice: a run of rows of one batch, and the slices that cover a range of rows counted across
// a group of batches. What the sinks that cut a group into requests encode from.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

namespace stackhouse::telemetry {

// Rows [begin, end) of one batch. For a MetricBatch the rows are counted across its five point
// batches in the order gauge, sum, histogram, exponential histogram, summary (rows()).
template <typename Batch>
struct RowSlice {
  const Batch* batch = nullptr;
  size_t begin = 0;
  size_t end = 0;
};

template <typename Batch>
size_t totalRows(std::span<const Batch* const> batches) {
  size_t n = 0;
  for (const Batch* b : batches) n += b->rows();
  return n;
}

// The slices of rows [from, to), counted across `batches` in order. Empty batches give none.
template <typename Batch>
std::vector<RowSlice<Batch>> sliceRows(std::span<const Batch* const> batches, size_t from,
                                       size_t to) {
  std::vector<RowSlice<Batch>> slices;
  size_t base = 0;
  for (const Batch* b : batches) {
    const size_t rows = b->rows();
    const size_t begin = std::max(from, base);
    const size_t end = std::min(to, base + rows);
    if (begin < end) slices.push_back({b, begin - base, end - base});
    base += rows;
    if (base >= to) break;
  }
  return slices;
}

}  // namespace stackhouse::telemetry
