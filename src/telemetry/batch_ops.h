// Operations over any batch type (LogBatch, SpanBatch, the metric point batches), expressed
// through their forEachColumn.
#pragma once

#include <cstddef>

namespace stackhouse::telemetry {

// Drops rows past `rows` in every column (a decoder's roll-back of a rejected record).
template <typename B>
void truncateBatch(B& batch, size_t rows) {
  batch.forEachColumn([rows](auto, auto& column) { column.truncate(rows); });
}

template <typename B>
void clearBatch(B& batch) {
  truncateBatch(batch, 0);
}

// Bytes held in the batch's columns (their used size, not their capacity).
template <typename B>
size_t batchBytes(const B& batch) {
  size_t n = 0;
  batch.forEachColumn([&n](auto, const auto& column) { n += column.byteSize(); });
  return n;
}

}  // namespace stackhouse::telemetry
