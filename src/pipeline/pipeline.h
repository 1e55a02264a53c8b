// Pipeline: groups decoded requests into large inserts and acknowledges each request once the
// insert holding its rows is durable.
//
// Receivers submit one decoded request at a time (a batch plus a completion). The pipeline's
// insert thread ("insert") takes everything pending for a signal as one group, hands the group to
// the sink, and then calls every request's completion with the outcome. A group is taken when
//   - it reaches sendBatchSize rows or sendBatchMaxBytes bytes, or
//   - its oldest request has waited `timeout`, or
//   - no request has arrived for `linger` (the senders are waiting for answers: waiting longer
//     would only delay them, since with acknowledgement after commit nothing more comes until
//     this group is answered).
// Under load, requests keep arriving while an insert runs, so groups grow towards
// sendBatchSize; a few waiting senders are answered after one short insert instead of a timeout.
//
// A group whose insert fails permanently (the sink says the rows cannot be stored, see sink.h)
// is halved and each half inserted on its own, recursively, so that only the requests whose rows
// cause the failure get it (as kInvalidArgument: the client must not retry them); the others
// commit. A retryable failure is tried again with backoff and then fails the whole group as
// kUnavailable: nothing in its data was wrong.
//
// Memory is bounded: submit() refuses work (kUnavailable) when the bytes already pending pass
// maxPendingBytes, which the receiver turns into a retryable answer for the client.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "pipeline/batch_pool.h"
#include "pipeline/insert_journal.h"
#include "pipeline/request_ledger.h"
#include "pipeline/sink.h"
#include "pipeline/stage.h"

namespace stackhouse::pipeline {

// Called exactly once, on the insert thread, with OK when the request's rows are durable.
using Completion = std::function<void(const Status&)>;

struct PipelineOptions {
  size_t sendBatchSize = 50000;                 // rows that trigger an insert
  uint64_t sendBatchMaxBytes = 256ull << 20;    // bytes that trigger an insert
  std::chrono::milliseconds timeout{200};       // longest wait of a request before its insert
  std::chrono::milliseconds linger{5};          // a quiet period this long ends a group
  uint64_t maxPendingBytes = 1ull << 30;        // beyond this, submit() refuses
  int insertAttempts = 3;                       // tries of one group before its requests fail
  std::chrono::milliseconds retryBackoff{100};  // first backoff between tries, doubled each time
  RequestLedger* ledger = nullptr;              // not owned; null: no deduplication of retries
  InsertJournal* journal = nullptr;  // not owned; null: no journal (see insert_journal.h)
  Stage* stage = nullptr;            // not owned; null: batches are queued as decoded
};

class Pipeline {
 public:
  Pipeline(const PipelineOptions& options, Sink& sink);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Hands the group a killed predecessor left in the journal to the sink as a retry (which
  // stores what its first insert did not commit) and records its keys in the ledger, then starts
  // the insert thread. Call before any receiver submits.
  void start();
  // Flushes everything pending (completions are called), then stops the thread. Idempotent;
  // submit() after stop() fails with kUnavailable.
  void stop();

  // Hands one decoded request over. Thread-safe. On OK, `done` will be called exactly once;
  // on an error (full, stopped) it is not called and the batch is dropped.
  // `key` (from keyOf; empty for none) identifies the request's content: a request whose key is
  // already committed is answered OK at once (done is called before submit returns) without
  // storing its rows again, and one whose key is in a group not yet committed waits for that
  // group's outcome instead of being stored twice.
  Status submit(PooledBatch<telemetry::LogBatch> batch, const RequestKey& key, Completion done);
  Status submit(PooledBatch<telemetry::SpanBatch> batch, const RequestKey& key, Completion done);
  Status submit(PooledBatch<telemetry::MetricBatch> batch, const RequestKey& key, Completion done);

  // The key of a request body for submit(); empty when there is no ledger.
  RequestKey keyOf(uint8_t signal, std::span<const uint8_t> body) const {
    return options_.ledger != nullptr ? options_.ledger->keyOf(signal, body) : RequestKey{};
  }

  // Reusable batches for receivers to decode into.
  BatchPool<telemetry::LogBatch>& logPool() { return logPool_; }
  BatchPool<telemetry::SpanBatch>& spanPool() { return spanPool_; }
  BatchPool<telemetry::MetricBatch>& metricPool() { return metricPool_; }

  uint64_t pendingBytes() const;

 private:
  template <typename B>
  struct Queue {
    struct Item {
      PooledBatch<B> batch;
      Completion done;
      size_t rows;
      size_t bytes;
      RequestKey key;
    };
    std::deque<Item> items;
    size_t rows = 0;
    size_t bytes = 0;
    std::chrono::steady_clock::time_point oldest;
    std::chrono::steady_clock::time_point newest;
  };

  template <typename B>
  Status enqueue(Queue<B>& q, PooledBatch<B> batch, const RequestKey& key, Completion done);
  template <typename B>
  bool ready(const Queue<B>& q, std::chrono::steady_clock::time_point now) const;
  template <typename B>
  void flush(Queue<B>& q);
  // Hands a group to the sink, trying again on retryable errors (same batchId every time, as
  // Attempt::kRetry). `first` is kRetry for a replay.
  template <typename B>
  Status insertWithRetries(std::span<const B* const> parts, std::string_view batchId, size_t rows,
                           Attempt first = Attempt::kFirst);
  // After the group `parts` failed permanently with `failure`: inserts each half on its own,
  // under `idPrefix` + "a" or "b", halving again the halves that fail permanently,
  // until the requests that cause the failure are alone. Fills `outcomes` (one per part) with
  // OK for the committed parts and the sink's error for the others. Each half is a kIsolate
  // call (see sink.h), also in a replay.
  template <typename B>
  void isolate(std::span<const B* const> parts, std::span<Status> outcomes,
               const std::string& idPrefix, const Status& failure);
  Status write(std::span<const telemetry::LogBatch* const> parts, std::string_view batchId,
               Attempt attempt) {
    return sink_.writeLogs(parts, batchId, attempt);
  }
  Status write(std::span<const telemetry::SpanBatch* const> parts, std::string_view batchId,
               Attempt attempt) {
    return sink_.writeSpans(parts, batchId, attempt);
  }
  Status write(std::span<const telemetry::MetricBatch* const> parts, std::string_view batchId,
               Attempt attempt) {
    return sink_.writeMetrics(parts, batchId, attempt);
  }
  void recoverJournal();
  void run();
  std::string nextBatchId(std::string_view signal);

  PipelineOptions options_;
  Sink& sink_;
  BatchPool<telemetry::LogBatch> logPool_;
  BatchPool<telemetry::SpanBatch> spanPool_;
  BatchPool<telemetry::MetricBatch> metricPool_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Queue<telemetry::LogBatch> logs_;        // guarded by mu_
  Queue<telemetry::SpanBatch> spans_;      // guarded by mu_
  Queue<telemetry::MetricBatch> metrics_;  // guarded by mu_
  uint64_t pendingBytes_ = 0;              // guarded by mu_; includes groups being inserted
  // Requests not yet answered, by key: retries of them that arrive meanwhile wait here.
  std::unordered_map<RequestKey, std::vector<Completion>, RequestKeyHash>
      inFlight_;           // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  bool started_ = false;
  std::thread thread_;

  std::string bootId_;     // distinguishes this process's batch ids from earlier runs'
  uint64_t batchSeq_ = 0;  // insert thread only

  Gauge& pendingBytesGauge_;
  Gauge& pendingRowsGauge_;
  Histogram& batchRows_;
  Histogram& insertSeconds_;
  Counter& insertFailures_;
  Counter& retriedRequests_;
  Counter& journalFailures_;
  Counter& isolatedInserts_;
  Counter& refusedRequests_;
};

}  // namespace stackhouse::pipeline
