// Sink: where the pipeline delivers batches.
#pragma once

#include <span>
#include <string_view>

#include "common/status.h"
#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::pipeline {

// A sink takes a group of batches of one signal and makes them durable as one unit.
//
// Called on the pipeline's insert thread only, one call at a time. The batches are borrowed for
// the call. Returns OK only once the rows are durable (committed, or in the sink's on-disk
// queue): the pipeline acknowledges the requests behind them after that. `batchId` is stable for
// the group: calling again with the same id (a retry) must not store the rows twice.
// Errors: kUnavailable/kResourceExhausted are retryable, others permanent.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status writeLogs(std::span<const telemetry::LogBatch* const> batches,
                           std::string_view batchId) = 0;
  virtual Status writeSpans(std::span<const telemetry::SpanBatch* const> batches,
                            std::string_view batchId) = 0;
  virtual Status writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                              std::string_view batchId) = 0;
};

}  // namespace stackhouse::pipeline
