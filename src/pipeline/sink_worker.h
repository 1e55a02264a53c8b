// SinkWorker: the thread ("sink-<name>") that feeds one sink from its queue.
//
// For each signal it reads the published records of the signal's log (SinkQueue) into a range and
// sends the range as one call when it holds maxRows rows or maxBytes bytes, or its first record
// has waited maxAge: inserts as large as the sink wants, whatever the number of requests in
// flight. Around that one call (Sink::write*), and decided from the failure's class alone
// (failureClassOf, sink.h):
//   retryable  the same range, same id, is sent again as Attempt::kRetry after an exponential
//              backoff with jitter (backoffInitial doubling up to backoffMax);
//   throttled  likewise, waiting at least throttleDelay, and at least the delay the sink was
//              told (Status::retryAfter: an HTTP Retry-After, gRPC RetryInfo), up to
//              maxRetryAfter;
//   permanent  the range is halved and each half sent on its own (Attempt::kIsolate, ids derived
//              from the range's), recursively, until the records the sink refuses are alone:
//              those are dropped (stackhouse_queue_dropped_records_total{reason="refused"},
//              their rows in stackhouse_queue_dropped_rows_total) and logged with the sink's
//              message; the rest is stored and the queue moves on.
// A signal waiting for its backoff never holds back another: the thread sends whichever signal
// is due, and sleeps until the earliest deadline or new records.
//
// Exactly once: before a range is first sent, its end goes to the log's cursor (beginRange); its
// id is the log's id and the range's start and end. Only once the sink has stored it is the
// position committed. After a kill, the range in flight is read again exactly and sent again
// under the same id as Attempt::kRetry (the sink stores what the first call did not).
//
// Timeout: each call gets a deadline, sendTimeout from its start (Sink::setCallDeadline), which
// the sink honours: its requests are bounded by what is left of it (sink.h). A call cannot be
// cancelled from outside safely (it owns the sink's buffers and connection until it returns), so
// this is a deadline passed in, not an interruption (how each kind of sink honours it: sink.h): a
// sink that ignored it would still hold its worker (the embedded store's insert is bounded by the
// engine instead). A call that fails past its deadline is a timeout: retryable (a permanent or
// throttled answer keeps its class), counted in stackhouse_sink_send_timeouts_total and logged like
// any failure, once per failing episode; the other signals are sent meanwhile, each lane waiting
// only for its own backoff.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/metrics.h"
#include "pipeline/sink.h"
#include "pipeline/sink_queue.h"

namespace stackhouse::pipeline {

struct SinkWorkerOptions {
  size_t maxRows = 50000;
  // A range's payload bytes. With onFull: dropOldest, at most an eighth of the queue's maxBytes:
  // the ranges the worker holds (one per signal) are never dropped, so a queue whose worker
  // held all of it could only refuse appends, which dropOldest must never do.
  uint64_t maxBytes = 256ull << 20;
  std::chrono::milliseconds maxAge{200};
  std::chrono::milliseconds backoffInitial{100};
  std::chrono::milliseconds backoffMax{10'000};
  std::chrono::milliseconds throttleDelay{1000};
  // A server's Retry-After is honoured up to this: a wrong or hostile value cannot park a sink.
  std::chrono::milliseconds maxRetryAfter{300'000};
  // The deadline of one call, from its start (the sink's `timeout` setting); 0: none.
  std::chrono::milliseconds sendTimeout{0};
};

class SinkWorker {
 public:
  SinkWorker(Sink& sink, SinkQueue& queue, const SinkWorkerOptions& options);
  ~SinkWorker();
  SinkWorker(const SinkWorker&) = delete;
  SinkWorker& operator=(const SinkWorker&) = delete;

  void start();
  // Sends what it holds or can read now, once (no retries), then stops the thread. What is not
  // sent stays in the queue for the next start. Idempotent.
  void stop();
  // New records were published (called by the pipeline's sync thread).
  void notify();
  // Bytes of records read into memory and not yet stored (for the memory limiter).
  uint64_t heldBytes() const { return heldBytes_.load(std::memory_order_relaxed); }

 private:
  using Clock = std::chrono::steady_clock;
  template <typename B>
  struct Lane {
    using Batch = B;
    SegmentLog* log = nullptr;
    std::vector<std::unique_ptr<B>> batches;  // the range, one batch per record
    std::vector<QueuePosition> ends;          // each record's end
    QueuePosition start;                      // the range's start
    size_t rows = 0;
    uint64_t bytes = 0;
    bool fixed = false;   // its end is in the cursor: no record may join it
    bool replay = false;  // the range a killed process left in flight
    int failures = 0;
    // A failing episode (first failure to next success), logged at its start, once a minute while
    // it lasts, and at its end, however many calls fail meanwhile.
    Clock::time_point failingSince{};
    Clock::time_point lastFailureLog{};
    uint64_t failedCalls = 0;          // in the episode (0: not failing)
    uint64_t failedCallsUnlogged = 0;  // since the last line
    Clock::time_point firstRead{};
    Clock::time_point notBefore{};
    Counter* sends[4] = {};       // by outcome: ok, retryable, throttled, permanent
    Counter* timeouts = nullptr;  // calls that failed past their deadline
    Counter* refused = nullptr;
    Counter* refusedRows = nullptr;
  };

  void run();
  // Reads what is published into the lane (unless fixed); true when it holds anything.
  template <typename B>
  bool fill(Lane<B>& lane);
  template <typename B>
  bool due(const Lane<B>& lane, Clock::time_point now, bool draining) const;
  template <typename B>
  void send(Lane<B>& lane, bool draining);
  // Sends records [0, parts.size()) of a range that failed permanently, halving; returns the
  // number of records refused (their rows added to `refusedRows`), or an error when a half failed
  // other than permanently (the range is then sent again later).
  template <typename B>
  Result<size_t> isolate(Lane<B>& lane, std::span<const B* const> parts, size_t first,
                         const std::string& id, const Status& failure, std::string& refusal,
                         size_t& refusedRows);
  template <typename B>
  void clear(Lane<B>& lane);
  // One call to the sink under its deadline; a failure past the deadline becomes a timeout.
  template <typename B>
  Status call(Lane<B>& lane, std::span<const B* const> parts, std::string_view id, Attempt attempt);
  std::chrono::milliseconds backoff(int failures, bool throttled,
                                    std::chrono::milliseconds retryAfter = {});

  Sink& sink_;
  SinkQueue& queue_;
  const SinkWorkerOptions options_;  // maxBytes within an eighth of a dropOldest queue's budget
  std::tuple<Lane<telemetry::LogBatch>, Lane<telemetry::SpanBatch>, Lane<telemetry::MetricBatch>>
      lanes_;  // worker thread only (after start)

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool notified_ = false;  // guarded by mu_
  bool started_ = false;
  std::thread thread_;
  std::atomic<uint64_t> heldBytes_{0};
  uint64_t jitterState_;

  Histogram& sendSeconds_;
  Histogram& sendRows_;
};

}  // namespace stackhouse::pipeline
