// Sink: where the pipeline delivers batches.
#pragma once

#include <algorithm>
#include <chrono>
#include <span>
#include <string_view>

#include "common/status.h"
#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::pipeline {

// Whether an earlier call for the same group may have stored some or all of its rows: kFirst
// for a group's first call; kRetry after a call that failed (it may have stored part of the
// group first) and for the replay of a group that a killed process left unfinished; kIsolate for
// part of a group that failed permanently (see Pipeline), whose rows an earlier call for the
// larger group, under another id, may have stored in part (a sink that writes a group as several
// inserts, one per table, can fail in a later one): the sink must compare with what it holds.
enum class Attempt : unsigned char { kFirst, kRetry, kIsolate };

// What a sink's failure means for the group it was given (see Sink).
enum class FailureClass : unsigned char { kRetryable, kThrottled, kPermanent };

// The one reading of a sink's Status code; the pipeline decides nothing else from a failure.
inline FailureClass failureClassOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument: return FailureClass::kPermanent;
    case StatusCode::kResourceExhausted: return FailureClass::kThrottled;
    default: return FailureClass::kRetryable;
  }
}

// A sink takes a group of batches of one signal and makes them durable as one unit.
//
// Called on the sink's worker thread only (SinkWorker, "sink-<name>"), one call at a time. The
// batches are borrowed for the call; a group is one range of the sink's queue, the records of
// many requests (already acknowledged to their clients). Returns OK only once the rows are
// stored: the worker then commits its queue position. `batchId` is stable for the group, across
// restarts too (use it as the deduplication token): a kRetry call must store exactly the rows
// that earlier calls did not, never a row twice and never fewer.
//
// Errors: the sink, which knows its engine, classifies every failure once, by the code of the
// Status it returns (see failureClassOf):
//   kInvalidArgument   permanent: the rows themselves cannot be stored (retrying them will never
//                      succeed). The worker then finds the records that cause it, stores the
//                      others as kIsolate calls, and drops those (counted and logged).
//   kResourceExhausted throttled: the sink is overloaded; the group is tried again later.
//   anything else      retryable: the sink could not take the group now.
//
// Time: each call has a deadline, the worker's send timeout (SinkWorkerOptions::sendTimeout, the
// sink's `timeout` setting), as the OpenTelemetry Collector's exporter helper gives each send. A
// call cannot be abandoned from outside (it owns the sink's buffers and connection until it
// returns), so the sink honours the deadline itself, in one of two ways:
//   - a sink whose service deduplicates a retried request (the remote ClickHouse: the batch id is
//     the insert's deduplication token) bounds every request of the call by timeLeft();
//   - a sink whose service cannot (a vendor's intake API) starts no request once the deadline has
//     passed (pastDeadline(); sinks/common/chunked_send.h checks it before each request) and
//     gives a started one its own full timeout: cutting a request
//     short would turn a slow answer into a lost one, and its retry into rows stored twice.
// Either way the call then returns kUnavailable without sending more. The worker reads a failure
// that ends past the deadline as a timeout: retryable.
class Sink {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~Sink() = default;

  // The deadline of the next call; set by the worker right before each write* call, on the
  // worker thread. Clock::time_point::max(): none.
  void setCallDeadline(Clock::time_point deadline) { callDeadline_ = deadline; }
  // Whether the current call's deadline has passed; on the worker thread.
  bool pastDeadline() const {
    return callDeadline_ != Clock::time_point::max() && Clock::now() >= callDeadline_;
  }

  virtual Status writeLogs(std::span<const telemetry::LogBatch* const> batches,
                           std::string_view batchId, Attempt attempt) = 0;
  virtual Status writeSpans(std::span<const telemetry::SpanBatch* const> batches,
                            std::string_view batchId, Attempt attempt) = 0;
  virtual Status writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                              std::string_view batchId, Attempt attempt) = 0;

 protected:
  // What is left of the call's deadline, at most `own` (the request's own timeout); zero once the
  // deadline has passed. For the sink's requests, on the worker thread.
  std::chrono::milliseconds timeLeft(std::chrono::milliseconds own) const {
    if (callDeadline_ == Clock::time_point::max()) return own;
    // Rounded up: a request given all of it ends at the deadline, not a fraction before.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(callDeadline_ - Clock::now());
    return std::clamp(left, std::chrono::milliseconds(0), own);
  }

 private:
  Clock::time_point callDeadline_ = Clock::time_point::max();  // worker thread only
};

}  // namespace stackhouse::pipeline
