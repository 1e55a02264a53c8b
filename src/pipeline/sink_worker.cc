#include "pipeline/sink_worker.h"

#include <algorithm>
#include <random>

#include "common/log.h"
#include "common/thread_name.h"
#include "pipeline/batch_pool.h"
#include "pipeline/record_codec.h"

namespace stackhouse::pipeline {

namespace {

enum Outcome { kOk = 0, kRetryable = 1, kThrottled = 2, kPermanent = 3 };

Outcome outcomeOf(const Status& s) {
  if (s.isOk()) return kOk;
  switch (failureClassOf(s)) {
    case FailureClass::kPermanent: return kPermanent;
    case FailureClass::kThrottled: return kThrottled;
    case FailureClass::kRetryable: break;
  }
  return kRetryable;
}

void appendHex(std::string& out, uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  out += buf;
}

// The range's id: stable across restarts, unique across queues (the log's id).
std::string rangeId(const SegmentLog& log, QueuePosition start, QueuePosition end) {
  std::string id = log.id();
  for (QueuePosition p : {start, end}) {
    id += '-';
    appendHex(id, p.segment);
    id += '.';
    appendHex(id, p.offset);
  }
  return id;
}

}  // namespace

namespace {

SinkWorkerOptions boundedBy(const SinkQueueOptions& queue, SinkWorkerOptions options) {
  if (queue.onFull == OnFull::kDropOldest) {
    options.maxBytes = std::min(options.maxBytes, std::max<uint64_t>(queue.maxBytes / 8, 1));
  }
  return options;
}

}  // namespace

SinkWorker::SinkWorker(Sink& sink, SinkQueue& queue, const SinkWorkerOptions& options)
    : sink_(sink),
      queue_(queue),
      options_(boundedBy(queue.options(), options)),
      jitterState_(std::random_device{}()),
      sendSeconds_(metrics().histogram("stackhouse_sink_send_seconds",
                                       "Time of one call to a sink (one range of its queue).",
                                       {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
                                       {{"sink", queue.options().sink}})),
      sendRows_(metrics().histogram("stackhouse_sink_send_rows", "Rows per call to a sink.",
                                    {100, 1000, 5000, 10000, 25000, 50000, 100000, 250000},
                                    {{"sink", queue.options().sink}})) {
  std::apply(
      [&](auto&... lane) {
        (
            [&](auto& l) {
              using B = typename std::remove_reference_t<decltype(l)>::Batch;
              l.log = &queue_.log(SignalTraits<B>::kSignal);
              l.start = l.log->committed();
              const std::string sinkName = queue.options().sink;
              const std::string signal(SignalTraits<B>::kName);
              static constexpr const char* kOutcomes[] = {"ok", "retryable", "throttled",
                                                          "permanent"};
              for (int i = 0; i < 4; ++i) {
                l.sends[i] = &metrics().counter(
                    "stackhouse_sink_sends_total", "Calls to a sink, by outcome.",
                    {{"sink", sinkName}, {"signal", signal}, {"outcome", kOutcomes[i]}});
              }
              l.timeouts = &metrics().counter(
                  "stackhouse_sink_send_timeouts_total",
                  "Calls to a sink that failed past their deadline (the sink's timeout).",
                  {{"sink", sinkName}, {"signal", signal}});
              const DroppedCounters refused = droppedCounters(sinkName, signal, "refused");
              l.refused = refused.records;
              l.refusedRows = refused.rows;
            }(lane),
            ...);
      },
      lanes_);
}

SinkWorker::~SinkWorker() { stop(); }

void SinkWorker::start() {
  if (started_) return;
  started_ = true;
  std::string name = "sink-" + queue_.options().sink;
  thread_ = std::thread([this, name] {
    setThreadName(name);
    run();
  });
}

void SinkWorker::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SinkWorker::notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_one();
}

std::chrono::milliseconds SinkWorker::backoff(int failures, bool throttled,
                                              std::chrono::milliseconds retryAfter) {
  auto base = options_.backoffInitial;
  for (int i = 1; i < failures && base < options_.backoffMax; ++i) base *= 2;
  base = std::min(base, options_.backoffMax);
  // Full jitter over the upper half: workers that failed together do not retry together.
  jitterState_ = jitterState_ * 6364136223846793005ull + 1442695040888963407ull;
  const auto half = base.count() / 2;
  auto wait = std::chrono::milliseconds(
      half + static_cast<int64_t>((jitterState_ >> 33) % static_cast<uint64_t>(half + 1)));
  if (throttled) wait = std::max(wait, options_.throttleDelay);
  return std::max(wait, std::min(retryAfter, options_.maxRetryAfter));
}

template <typename B>
bool SinkWorker::fill(Lane<B>& lane) {
  if (lane.fixed) return true;
  std::vector<QueueRecord> records;
  const QueuePosition from = lane.ends.empty() ? lane.start : lane.ends.back();
  const bool replay = lane.ends.empty() && lane.log->inFlightEnd() > lane.log->committed() &&
                      lane.start == lane.log->committed();
  const QueuePosition stopAt = replay ? lane.log->inFlightEnd() : QueuePosition{};
  const size_t rowsLeft = options_.maxRows > lane.rows ? options_.maxRows - lane.rows : 1;
  const uint64_t bytesLeft = options_.maxBytes > lane.bytes ? options_.maxBytes - lane.bytes : 1;
  if (const Status s = lane.log->read(from, rowsLeft, bytesLeft, stopAt, records); !s.isOk()) {
    log::error("queue: cannot read", log::Fields()
                                         .add("sink", queue_.options().sink)
                                         .add("signal", SignalTraits<B>::kName)
                                         .add("error", s.message()));
    lane.notBefore = Clock::now() + backoff(++lane.failures, false);
    return !lane.batches.empty();
  }
  if (records.empty()) return !lane.batches.empty();
  if (lane.batches.empty()) lane.firstRead = Clock::now();
  for (QueueRecord& r : records) {
    auto batch = std::make_unique<B>();
    if (const Status s = decodeRecord(r.payload, r.rows, *batch); !s.isOk()) {
      // Its checksum matched, so this is not damage on disk: a record of another version.
      log::error("queue: a record cannot be read back; it is dropped",
                 log::Fields()
                     .add("sink", queue_.options().sink)
                     .add("signal", SignalTraits<B>::kName)
                     .add("error", s.message()));
      lane.refused->inc();
      lane.refusedRows->inc(r.rows);
      batch.reset();
    }
    // What the batch holds in memory: a record written in runs is smaller than its batch.
    const size_t held = batch ? detail::bytesOfAny(*batch) : r.payload.size();
    lane.rows += r.rows;
    lane.bytes += held;
    heldBytes_.fetch_add(held, std::memory_order_relaxed);
    lane.batches.push_back(std::move(batch));
    lane.ends.push_back(r.end);
  }
  if (replay) {
    lane.fixed = true;
    lane.replay = true;
  }
  return true;
}

template <typename B>
bool SinkWorker::due(const Lane<B>& lane, Clock::time_point now, bool draining) const {
  if (lane.batches.empty()) return false;
  return draining || lane.fixed || lane.rows >= options_.maxRows ||
         lane.bytes >= options_.maxBytes || now - lane.firstRead >= options_.maxAge;
}

template <typename B>
void SinkWorker::clear(Lane<B>& lane) {
  heldBytes_.fetch_sub(lane.bytes, std::memory_order_relaxed);
  lane.start = lane.ends.back();
  lane.batches.clear();
  lane.ends.clear();
  lane.rows = 0;
  lane.bytes = 0;
  lane.fixed = false;
  lane.replay = false;
  lane.failures = 0;
  lane.notBefore = {};
}

template <typename B>
Status SinkWorker::call(Lane<B>& lane, std::span<const B* const> parts, std::string_view id,
                        Attempt attempt) {
  const auto started = Clock::now();
  const bool bounded = options_.sendTimeout.count() > 0;
  sink_.setCallDeadline(bounded ? started + options_.sendTimeout : Clock::time_point::max());
  Status status = SignalTraits<B>::write(sink_, parts, id, attempt);
  const auto took = Clock::now() - started;
  sendSeconds_.observe(std::chrono::duration<double>(took).count());
  sink_.setCallDeadline(Clock::time_point::max());
  if (status.isOk() || !bounded || took < options_.sendTimeout) return status;
  // Past the deadline: unless the sink was answered for good (permanent) or told when to come
  // back (throttled), the call timed out, whatever the sink made of it (a transport timeout, a
  // request the deadline cut short), and is tried again.
  if (failureClassOf(status) != FailureClass::kRetryable) return status;
  lane.timeouts->inc();
  return unavailable("the call did not finish within the send timeout (" +
                     std::to_string(options_.sendTimeout.count()) + " ms): " + status.message());
}

template <typename B>
Result<size_t> SinkWorker::isolate(Lane<B>& lane, std::span<const B* const> parts, size_t first,
                                   const std::string& id, const Status& failure,
                                   std::string& refusal, size_t& refusedRows) {
  if (parts.size() == 1) {
    if (refusal.empty()) refusal = failure.message();
    refusedRows += parts[0]->rows();
    return size_t{1};
  }
  size_t refused = 0;
  const size_t half = parts.size() / 2;
  for (int side = 0; side < 2; ++side) {
    const auto sub = side == 0 ? parts.first(half) : parts.subspan(half);
    const std::string subId = id + (side == 0 ? "a" : "b");
    const Status s = call(lane, sub, subId, Attempt::kIsolate);
    const Outcome outcome = outcomeOf(s);
    lane.sends[outcome]->inc();
    if (outcome == kOk) continue;
    if (outcome != kPermanent) return s;
    auto r = isolate(lane, sub, first + (side == 0 ? 0 : half), subId, s, refusal, refusedRows);
    if (!r) return r.status();
    refused += *r;
  }
  return refused;
}

template <typename B>
void SinkWorker::send(Lane<B>& lane, bool draining) {
  const QueuePosition end = lane.ends.back();
  const std::string id = rangeId(*lane.log, lane.start, end);
  if (!lane.fixed) {
    // The range is fixed from here on: a kill leaves its end in the cursor, and the next start
    // sends exactly it again, under the same id.
    if (const Status s = lane.log->beginRange(end); !s.isOk()) {
      log::error("queue: cannot write the cursor",
                 log::Fields().add("sink", queue_.options().sink).add("error", s.message()));
      lane.notBefore = Clock::now() + backoff(++lane.failures, false);
      return;
    }
    lane.fixed = true;
  }
  std::vector<const B*> parts;
  parts.reserve(lane.batches.size());
  for (const auto& b : lane.batches) {
    if (b != nullptr && b->rows() > 0) parts.push_back(b.get());
  }
  Status status;
  if (!parts.empty()) {
    const Attempt attempt = lane.replay || lane.failures > 0 ? Attempt::kRetry : Attempt::kFirst;
    status = call(lane, std::span<const B* const>(parts), id, attempt);
    sendRows_.observe(static_cast<double>(lane.rows));
  }
  Outcome outcome = outcomeOf(status);
  lane.sends[outcome]->inc();
  size_t refused = 0;
  if (outcome == kPermanent) {
    std::string refusal;
    size_t refusedRows = 0;
    auto r =
        isolate(lane, std::span<const B* const>(parts), 0, id + "-i", status, refusal, refusedRows);
    if (r.isOk()) {
      refused = *r;
      lane.refused->inc(refused);
      lane.refusedRows->inc(refusedRows);
      log::warn("the sink refused records for good; they are dropped, the rest is stored",
                log::Fields()
                    .add("sink", queue_.options().sink)
                    .add("signal", SignalTraits<B>::kName)
                    .add("records", static_cast<uint64_t>(refused))
                    .add("range_records", static_cast<uint64_t>(parts.size()))
                    .add("error", refusal));
      outcome = kOk;
    } else {
      status = r.status();
      outcome = outcomeOf(status);
    }
  }
  if (outcome != kOk) {
    ++lane.failures;
    const auto wait = backoff(lane.failures, outcome == kThrottled, status.retryAfter());
    const auto now = Clock::now();
    lane.notBefore = now + wait;
    if (lane.failedCalls++ == 0) lane.failingSince = now;
    ++lane.failedCallsUnlogged;
    // The first failure of an episode, then at most a line a minute (an outage retried every few
    // seconds for an hour is a few dozen lines, not thousands).
    if (lane.failedCalls == 1 || now - lane.lastFailureLog >= std::chrono::minutes(1)) {
      lane.lastFailureLog = now;
      log::warn("sink call failed; the range is sent again",
                log::Fields()
                    .add("sink", queue_.options().sink)
                    .add("signal", SignalTraits<B>::kName)
                    .add("rows", static_cast<uint64_t>(lane.rows))
                    .add("attempt", lane.failures)
                    .add("failed_calls", lane.failedCallsUnlogged)
                    .add("failing_for_ms",
                         static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  now - lane.failingSince)
                                                  .count()))
                    .add("retry_in_ms", static_cast<int64_t>(wait.count()))
                    .add("draining", draining)
                    .add("error", status.toString()));
      lane.failedCallsUnlogged = 0;
    }
    return;
  }
  auto freed = lane.log->commit(end);
  if (!freed) {
    // Stored but not recorded: sent again (same id), the sink finds it stored.
    log::error(
        "queue: cannot commit the cursor",
        log::Fields().add("sink", queue_.options().sink).add("error", freed.status().message()));
    lane.notBefore = Clock::now() + backoff(++lane.failures, false);
    return;
  }
  queue_.refreshGauge();
  if (lane.failedCalls > 0) {
    log::info("sink call succeeded again",
              log::Fields()
                  .add("sink", queue_.options().sink)
                  .add("signal", SignalTraits<B>::kName)
                  .add("failed_calls", lane.failedCalls)
                  .add("failed_for_ms",
                       static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                Clock::now() - lane.failingSince)
                                                .count())));
    lane.failedCalls = 0;
    lane.failedCallsUnlogged = 0;
  }
  clear(lane);
}

void SinkWorker::run() {
  while (true) {
    bool draining;
    {
      std::lock_guard lock(mu_);
      draining = stopping_;
      notified_ = false;
    }
    const auto now = Clock::now();
    auto next = now + std::chrono::hours(1);
    bool sent = false;
    std::apply(
        [&](auto&... lane) {
          (
              [&](auto& l) {
                if (!draining && now < l.notBefore) {
                  next = std::min(next, l.notBefore);
                  return;
                }
                if (!fill(l)) return;
                if (due(l, now, draining)) {
                  send(l, draining);
                  sent = true;
                } else if (!l.batches.empty()) {
                  next = std::min(next, l.firstRead + options_.maxAge);
                }
              }(lane),
              ...);
        },
        lanes_);
    if (draining) break;
    if (sent) continue;
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, next, [this] { return notified_ || stopping_; });
  }
}

}  // namespace stackhouse::pipeline
