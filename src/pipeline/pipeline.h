// Pipeline: takes decoded requests from the receivers, routes them to the sinks their source is
// routed to, and acknowledges each once its rows are durable in the queue of every such sink.
//
//   receiver --submit--> stage (redaction) --> router --> append to each routed sink's queue
//                                                           |  (SinkQueue, on disk)
//        completion <-- ledger <-- one fdatasync per round <-+
//                                                           |
//                                  sink worker (a thread per sink) reads the queue, sends large
//                                  ranges, retries, commits its position (SinkWorker)
//
// A request is appended to its sinks' queues on the submitting thread (appends are serialised
// by one lock, so every queue holds records in the order requests were accepted). The sync
// thread ("queue-sync") takes every request appended since its last round, syncs each queue
// written to (one fdatasync per segment covers them all: group commit; none with fsync: never),
// records their keys in the request ledger, makes their records readable to the workers and
// calls their completions with OK. What a sink later refuses for good is dropped there, counted
// and logged (sink_worker.h): the client was already answered.
//
// A request whose source is routed to no enabled sink is answered OK and counted
// (stackhouse_router_unrouted_records_total{source}); open() warns of such sources.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "pipeline/batch_pool.h"
#include "pipeline/record_codec.h"
#include "pipeline/request_ledger.h"
#include "pipeline/signal_traits.h"
#include "pipeline/sink.h"
#include "pipeline/sink_queue.h"
#include "pipeline/sink_worker.h"
#include "pipeline/stage.h"
#include "telemetry/source.h"

namespace stackhouse::pipeline {

// Called exactly once, on the sync thread (or on the submitting thread when the request needs
// no append), with OK once the request's rows are durable in every routed queue.
using Completion = std::function<void(const Status&)>;

inline constexpr size_t kSourceCount = 6;

// One sink the pipeline feeds.
struct PipelineSink {
  Sink* sink = nullptr;    // not owned; outlives the pipeline
  SinkQueueOptions queue;  // queue.sink is the sink's name; queue.dir empty: <queueDir>/<name>
  SinkWorkerOptions worker;
  std::vector<telemetry::Source> sources;  // the sources routed to it (listed and enabled)
};

struct PipelineOptions {
  // For the one-sink constructor: its worker's batching (maxRows, maxBytes, maxAge) and its
  // first retry backoff.
  size_t sendBatchSize = 50000;
  uint64_t sendBatchMaxBytes = 256ull << 20;
  std::chrono::milliseconds timeout{200};
  std::chrono::milliseconds retryBackoff{100};
  // <dataDir>/queue. Empty: a private temporary directory, removed with the pipeline (tests:
  // nothing survives a restart).
  std::string queueDir;
  RequestLedger* ledger = nullptr;  // not owned; null: no deduplication of retries
  Stage* stage = nullptr;           // not owned; null: batches are queued as decoded
};

class Pipeline;

// Room held in the queues a request is routed to, from its header until submit() appends it (or
// the request is dropped): requests admitted together cannot promise more room than a queue has,
// so under overload a full queue refuses them from their header, before their bodies are read
// and decoded. One admitted is refused after decoding only when its records outgrow the room its
// header reserved. The same room is held in every routed queue that reserves (kBackpressure), so
// the source's route says where. Move-only; gives the room back when destroyed.
class Admission {
 public:
  Admission() = default;
  Admission(Admission&& other) noexcept { *this = std::move(other); }
  Admission& operator=(Admission&& other) noexcept;
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;
  ~Admission() { reset(); }

  // The bytes held in `queue`, one of the request's route (0 when none).
  uint64_t heldIn(const SinkQueue* queue) const { return queue->reserves() ? room_ : 0; }
  // The request's size as its header announced it.
  uint64_t announced() const { return announced_; }
  void reset();

 private:
  friend class Pipeline;
  const std::vector<SinkQueue*>* route_ = nullptr;  // the pipeline's; null: holds nothing
  uint64_t room_ = 0;
  uint64_t announced_ = 0;
};

class Pipeline {
 public:
  Pipeline(const PipelineOptions& options, std::vector<PipelineSink> sinks);
  // One sink, named "clickhouse", that every source is routed to, with the default queue.
  Pipeline(const PipelineOptions& options, Sink& sink);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Opens every sink's queue (cutting damaged tails) and records the keys of the requests they
  // hold in the ledger, so that retries of requests acknowledged (or appended) before a kill are
  // answered without storing their rows twice. Idempotent. Start-up only.
  Status open();
  // open() (throwing std::runtime_error if it fails: start-up only), then starts the sync thread
  // and one worker per sink. Call before any receiver submits.
  void start();
  // Answers every request appended, then stops the workers (each sends what it holds once;
  // the rest stays queued for the next start). Idempotent; submit() afterwards fails with
  // kUnavailable.
  void stop();

  // Hands one decoded request over. Thread-safe. On OK, `done` will be called exactly once; on an
  // error it is not called and the batch is dropped:
  //   kUnavailable  stopped, or a routed queue with onFull: backpressure is full (retry later).
  // `key` (from keyOf; empty for none) identifies the request's content: a request whose key is
  // already recorded is answered OK at once without being queued again, and one whose key is
  // being appended waits for that one's outcome.
  // `admission` (from admit(), for the same source) is the room the request's header reserved:
  // the request may use it, and it is given back when submit() returns.
  template <typename B>
  Status submit(PooledBatch<B> batch, telemetry::Source source, const RequestKey& key,
                Completion done, Admission admission = {});
  // The same, with the source of the OTLP signal (logs, traces, metrics).
  template <typename B>
  Status submit(PooledBatch<B> batch, const RequestKey& key, Completion done,
                Admission admission = {}) {
    return submit(std::move(batch), SignalTraits<B>::kSource, key, std::move(done),
                  std::move(admission));
  }

  // Reserves room for a request of `bytes` (as its header announces it) for `source` in every
  // routed queue with onFull: backpressure, or refuses it there and then: kUnavailable (retry
  // later) when one has no room beside what it holds and what other admitted requests reserved.
  // The room reserved is what such a request's records took in a queue per announced byte, learnt
  // from the source's requests so far (queue records repeat each row's resource, and a gzip body
  // inflates: the announced size alone under-reserves). Receivers ask before reading or decoding
  // a request, so that a full queue costs a refused request its header, not its decoding and
  // redaction, and hand the Admission to submit(), which still decides. Thread-safe; after open().
  Result<Admission> admit(telemetry::Source source, uint64_t bytes);
  // The room admit() reserves now for a request of `announced` bytes.
  uint64_t reservationFor(telemetry::Source source, uint64_t announced) const;

  // The key of a request body for submit(); empty when there is no ledger.
  RequestKey keyOf(uint8_t signal, std::span<const uint8_t> body) const {
    return options_.ledger != nullptr ? options_.ledger->keyOf(signal, body) : RequestKey{};
  }

  // Reusable batches for receivers to decode into.
  BatchPool<telemetry::LogBatch>& logPool() { return logPool_; }
  BatchPool<telemetry::SpanBatch>& spanPool() { return spanPool_; }
  BatchPool<telemetry::MetricBatch>& metricPool() { return metricPool_; }
  template <typename B>
  BatchPool<B>& pool();

  // Bytes the workers hold in memory (read from their queues, not yet stored).
  uint64_t pendingBytes() const;
  // True when every submitted request is answered and every sink has stored (or dropped)
  // everything its queue holds.
  bool idle() const;

 private:
  struct Appended {
    size_t sink;
    telemetry::Signal signal;
    QueuePosition end;
  };
  struct Pending {
    Completion done;
    RequestKey key;
    std::vector<Appended> appended;
    bool counted = true;  // in unanswered_ (false: the record of a request refused part-way)
  };
  struct Bound {
    PipelineSink config;
    std::unique_ptr<SinkQueue> queue;
    std::unique_ptr<SinkWorker> worker;
  };

  void runSync();
  void finishRound(std::vector<Pending>& round);
  Status queueFull(const Bound& sink) const;

  PipelineOptions options_;
  std::vector<Bound> sinks_;
  std::array<std::vector<size_t>, kSourceCount> routes_;  // source -> indices into sinks_
  // source -> the queues of its route (once open)
  std::array<std::vector<SinkQueue*>, kSourceCount> routeQueues_;
  BatchPool<telemetry::LogBatch> logPool_;
  BatchPool<telemetry::SpanBatch> spanPool_;
  BatchPool<telemetry::MetricBatch> metricPool_;

  mutable std::mutex mu_;  // the append lock
  std::condition_variable cv_;
  std::vector<Pending> pending_;  // guarded by mu_: appended, not yet answered, in append order
  // Requests being appended or synced, by key: retries of them that arrive meanwhile wait here.
  std::unordered_map<RequestKey, std::vector<Completion>, RequestKeyHash>
      inFlight_;           // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  bool started_ = false;   // guarded by mu_
  bool opened_ = false;
  size_t unanswered_ = 0;     // guarded by mu_: appended, completion not yet called
  std::string temporaryDir_;  // made when options_.queueDir is empty; removed by the destructor
  std::thread syncThread_;

  Counter& retriedRequests_;
  Counter& syncFailures_;
  Counter* unrouted_[kSourceCount];
  Histogram& roundRequests_;
  // Per source: queue bytes per announced byte of the requests submitted with an Admission,
  // x 1024 (a moving average; 0 until the first). admit() reserves by it.
  std::array<std::atomic<uint32_t>, kSourceCount> queuedPerAnnounced_{};
  void learnQueuedBytes(telemetry::Source source, uint64_t queued, uint64_t announced);
};

template <typename B>
Status Pipeline::submit(PooledBatch<B> batch, telemetry::Source source, const RequestKey& key,
                        Completion done, Admission admission) {
  if (options_.ledger != nullptr && options_.ledger->isCommitted(key)) {
    // A retry of a request already queued: its earlier answer was lost.
    retriedRequests_.inc();
    done(Status::ok());
    return Status::ok();
  }
  const std::vector<size_t>& route = routes_[static_cast<size_t>(source)];
  const size_t rows = batch->rows();
  if (route.empty() || rows == 0) {
    unrouted_[static_cast<size_t>(source)]->inc(route.empty() ? rows : 0);
    done(Status::ok());
    return Status::ok();
  }
  // On the caller's thread, outside the lock: stages (redaction) are CPU work per request.
  if (options_.stage != nullptr) options_.stage->process(*batch);
  // One encoder per thread, reused: its storage keeps its size from request to request.
  thread_local RecordEncoder encoder;
  const size_t payloadBytes = encoder.encode(*batch, key, source);
  const std::span<const iovec> iov = encoder.iov();
  if (admission.announced() > 0) learnQueuedBytes(source, payloadBytes, admission.announced());
  constexpr telemetry::Signal signal = SignalTraits<B>::kSignal;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !started_) return unavailable("the pipeline is not running");
    if (!key.empty()) {
      auto [it, inserted] = inFlight_.try_emplace(key);
      if (!inserted) {
        // The same request is being queued: answer both with its outcome.
        retriedRequests_.inc();
        it->second.push_back(std::move(done));
        return Status::ok();
      }
    }
    // Refused by a full queue before any queue is written: no sink gets it twice on the retry.
    for (size_t i : route) {
      SinkQueue* queue = sinks_[i].queue.get();
      if (!queue->fits(payloadBytes + 16, admission.heldIn(queue))) {
        if (!key.empty()) inFlight_.erase(key);
        return queueFull(sinks_[i]);
      }
    }
    Pending p{std::move(done), key, {}, true};
    p.appended.reserve(route.size());
    for (size_t i : route) {
      auto end = sinks_[i].queue->append(signal, iov, payloadBytes, static_cast<uint32_t>(rows));
      if (!end) {
        if (!key.empty()) inFlight_.erase(key);
        // Queues appended to before this one keep the record (their sinks store it; a retry
        // of the request reaches them again): only an I/O failure gets here.
        for (const Appended& a : p.appended) {
          pending_.push_back({[](const Status&) {}, RequestKey{}, {a}, false});
        }
        cv_.notify_one();
        return end.status();
      }
      p.appended.push_back({i, signal, *end});
    }
    wake = pending_.empty();
    pending_.push_back(std::move(p));
    ++unanswered_;
  }
  if (wake) cv_.notify_one();
  return Status::ok();
  // `batch` goes out of scope here: it returns to its pool, its rows are on disk.
}

template <>
inline BatchPool<telemetry::LogBatch>& Pipeline::pool<telemetry::LogBatch>() {
  return logPool_;
}
template <>
inline BatchPool<telemetry::SpanBatch>& Pipeline::pool<telemetry::SpanBatch>() {
  return spanPool_;
}
template <>
inline BatchPool<telemetry::MetricBatch>& Pipeline::pool<telemetry::MetricBatch>() {
  return metricPool_;
}

}  // namespace stackhouse::pipeline
