// A batch as a flat sequence of its buffers, for writing a batch to a file and reading it back
// (the pipeline's queue records, pipeline/record_codec.h). The order is forEachColumn's, each column's buffers in
// visitBuffers order, and for a MetricBatch the five kinds in forEachKind order; the reader fills
// a batch of the same type in the same order, then checks that the result is well formed before
// anything reads it as Arrow data.
#pragma once

#include <cstddef>

#include "telemetry/columns.h"
#include "telemetry/metric_batch.h"

namespace stackhouse::telemetry {

// Calls v(Buffer&) for every buffer of `batch`.
template <typename B, typename V>
void visitBatchBuffers(B& batch, V&& v) {
  batch.forEachColumn([&v](auto, auto& column) { column.visitBuffers(v); });
}

template <typename V>
void visitBatchBuffers(MetricBatch& batch, V&& v) {
  batch.forEachKind([&v](auto& kind) { visitBatchBuffers(kind, v); });
}

// Calls v(const Buffer&) for every buffer of `batch`.
template <typename B, typename V>
void visitBatchBuffers(const B& batch, V&& v) {
  visitBatchBuffers(const_cast<B&>(batch), [&v](const Buffer& buffer) { v(buffer); });
}

// Every column is well formed and has the batch's row count.
template <typename B>
bool batchConsistent(const B& batch) {
  bool ok = true;
  size_t rows = 0;
  bool first = true;
  batch.forEachColumn([&](auto, const auto& column) {
    if (!ok) return;
    if (!column.consistent()) {
      ok = false;
      return;
    }
    if (first) rows = column.size();
    ok = column.size() == rows;
    first = false;
  });
  return ok;
}

inline bool batchConsistent(const MetricBatch& batch) {
  bool ok = true;
  batch.forEachKind([&ok](const auto& kind) { ok = ok && batchConsistent(kind); });
  return ok;
}

}  // namespace stackhouse::telemetry
