// SinkQueue: one sink's durable queue, <dataDir>/queue/<sink>/, one SegmentLog per signal
// (logs/, traces/, metrics/), within one byte budget.
//
// Why a log per signal: the sink's worker sends each signal on its own (its own range, its own
// retry and backoff), so a signal that the sink cannot take now never holds back the others, and
// a permanent failure is isolated among records of one table.
//
// When a record would take the queue past maxBytes (for fits(): what it holds, plus the room
// reserved for requests admitted from their headers and not yet appended: reserve()):
//   kBackpressure  the append is refused (kUnavailable: receivers answer 503 + Retry-After or
//                  UNAVAILABLE + RetryInfo), nothing is dropped; a reservation past it too, so
//                  under overload requests are refused from their headers, before their bodies
//                  are read and decoded, not after;
//   kDropOldest    whole segments are dropped, oldest first (never records the worker has read),
//                  until the record fits; every dropped record is counted
//                  (stackhouse_queue_dropped_records_total{reason="full"}, and their rows in
//                  stackhouse_queue_dropped_rows_total{reason="full"}), and one line is logged
//                  when dropping starts and one when it ends (once the queue is under half its
//                  budget again). Segments are at most maxBytes / 16 (not below 1 MiB), so each
//                  drop removes a sliver of the oldest records.
//
// Thread-safety: append() is called with the pipeline's append lock held (appends are
// serialised); reserve() and release() from any thread; sync() from the pipeline's sync thread;
// the logs' reader side from the sink's worker.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "common/status.h"
#include "pipeline/segment_log.h"
#include "pipeline/signal_traits.h"

namespace stackhouse::pipeline {

enum class OnFull : unsigned char { kBackpressure, kDropOldest };

struct SinkQueueOptions {
  std::string sink;  // the sink's name, in metrics and logs
  std::string dir;   // <dataDir>/queue/<sink>
  uint64_t maxBytes = 2ull << 30;
  bool fsync = true;  // fsync: always (false: never)
  OnFull onFull = OnFull::kBackpressure;
  uint64_t segmentBytes = 64ull << 20;  // at most maxBytes / 16 (not below 1 MiB) is used
};

// The counters of records dropped from a sink's queue, and of their rows, for one signal and
// reason ("full": onFull dropOldest, by the queue; "refused": refused for good, by the worker).
struct DroppedCounters {
  Counter* records;
  Counter* rows;
};
DroppedCounters droppedCounters(const std::string& sink, std::string_view signal,
                                std::string_view reason);

class SinkQueue {
 public:
  // Opens (or creates) the directory and its logs, cutting damaged tails (counted in
  // stackhouse_queue_torn_bytes_total and logged). `recovered` receives the keys of the records
  // not yet stored.
  static Result<std::unique_ptr<SinkQueue>> open(const SinkQueueOptions& options,
                                                 std::vector<RequestKey>* recovered);

  // The number of records and rows a read-only look at <dir> finds not yet stored.
  static Result<SegmentLog::Summary> peek(const std::string& dir);

  // Whether a record of `bytes` fits now beside what the queue holds and every reservation but
  // the caller's own (`reservedByCaller`); always true with kDropOldest, which makes room. A
  // refusal is counted as one at the append (the request was read and decoded). The pipeline asks
  // this of every routed queue before appending to any: it decides, under the append lock.
  bool fits(uint64_t bytes, uint64_t reservedByCaller = 0);
  // Whether this queue holds reservations: only kBackpressure queues refuse, so only they reserve.
  bool reserves() const { return options_.onFull == OnFull::kBackpressure; }
  // Holds `bytes` of room for a request the receivers have not read yet (Pipeline::admit) until
  // release(bytes): requests admitted together cannot promise more room than there is, so a full
  // queue refuses them from their header rather than after their decoding. False, counted as a
  // refused append, when the room is taken. Both hold nothing (and reserve never refuses) unless
  // reserves().
  bool reserve(uint64_t bytes);
  void release(uint64_t bytes);
  uint64_t reservedBytes() const { return reserved_.load(std::memory_order_relaxed); }
  // Appends one record to `signal`'s log (see the class comment for a full queue). Reservations
  // are fits()'s business: a kBackpressure queue refuses here only past what it holds.
  Result<QueuePosition> append(telemetry::Signal signal, std::span<const iovec> payload,
                               size_t payloadBytes, uint32_t rows);
  // fdatasync of what was appended since the last sync (none with fsync: never, which only
  // closes the descriptors of sealed segments).
  Status sync();

  SegmentLog& log(telemetry::Signal signal) { return *logs_[signalIndex(signal)]; }
  const SinkQueueOptions& options() const { return options_; }
  uint64_t bytes() const;
  // Sets stackhouse_queue_bytes{sink} (after appends, and after the worker commits).
  void refreshGauge();

 private:
  explicit SinkQueue(const SinkQueueOptions& options);
  // Drops the oldest droppable segment of any log; false when there is none.
  bool dropOldest();

  SinkQueueOptions options_;
  std::array<std::unique_ptr<SegmentLog>, kSignalCount> logs_;
  bool dropping_ = false;        // append lock: in a dropping episode
  uint64_t episodeRecords_ = 0;  // append lock
  Counter* droppedRecords_[kSignalCount];
  Counter* droppedRows_[kSignalCount];
  Counter& refused_;
  Counter& refusedDecoded_;  // of them, refused at the append (after decoding)
  Gauge& bytesGauge_;
  std::atomic<uint64_t> reserved_{0};  // held by reserve() for requests not yet appended
};

}  // namespace stackhouse::pipeline
