#include "pipeline/pipeline.h"

#include <random>
#include <type_traits>
#include <variant>

#include "common/clock.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace stackhouse::pipeline {

namespace {

std::string randomHex(size_t bytes) {
  std::random_device rd;
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned v = rd() & 0xff;
    out += kHex[v >> 4];
    out += kHex[v & 0xf];
  }
  return out;
}

// The signal a batch type carries, as named in logs and batch ids.
constexpr std::string_view signalOf(const telemetry::LogBatch*) { return "logs"; }
constexpr std::string_view signalOf(const telemetry::SpanBatch*) { return "traces"; }
constexpr std::string_view signalOf(const telemetry::MetricBatch*) { return "metrics"; }

}  // namespace

Pipeline::Pipeline(const PipelineOptions& options, Sink& sink)
    : options_(options),
      sink_(sink),
      bootId_(randomHex(8)),
      pendingBytesGauge_(
          metrics().gauge("stackhouse_pipeline_pending_bytes",
                          "Bytes of decoded requests waiting for, or in, an insert.")),
      pendingRowsGauge_(metrics().gauge("stackhouse_pipeline_pending_rows",
                                        "Rows waiting for their insert (queue depth).")),
      batchRows_(metrics().histogram("stackhouse_pipeline_batch_rows", "Rows per insert.",
                                     {100, 1000, 5000, 10000, 25000, 50000, 100000, 250000})),
      insertSeconds_(metrics().histogram(
          "stackhouse_pipeline_insert_seconds", "Time to make one group of batches durable.",
          {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
      insertFailures_(metrics().counter("stackhouse_pipeline_insert_failures_total",
                                        "Inserts that failed (each try counts).")),
      retriedRequests_(metrics().counter(
          "stackhouse_pipeline_retried_requests_total",
          "Requests recognised as retries of committed or in-flight ones; not stored again.")),
      journalFailures_(metrics().counter("stackhouse_pipeline_journal_failures_total",
                                         "Groups inserted without their insert-journal record.")),
      isolatedInserts_(metrics().counter(
          "stackhouse_pipeline_isolation_inserts_total",
          "Inserts of part of a group, made to find the requests a permanent failure comes from.")),
      refusedRequests_(metrics().counter(
          "stackhouse_pipeline_refused_requests_total",
          "Requests whose rows the sink refused permanently; answered as invalid.")) {}

Pipeline::~Pipeline() { stop(); }

void Pipeline::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  recoverJournal();
  started_ = true;
  thread_ = std::thread([this] {
    setThreadName("insert");
    run();
  });
}

void Pipeline::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t Pipeline::pendingBytes() const {
  std::lock_guard lock(mu_);
  return pendingBytes_;
}

template <typename B>
Status Pipeline::enqueue(Queue<B>& q, PooledBatch<B> batch, const RequestKey& key,
                         Completion done) {
  if (options_.ledger != nullptr && options_.ledger->isCommitted(key)) {
    // A retry of a request already stored: its earlier answer was lost.
    retriedRequests_.inc();
    done(Status::ok());
    return Status::ok();
  }
  // On the caller's thread, outside the lock: stages (redaction) are CPU work per request.
  if (options_.stage != nullptr) options_.stage->process(*batch);
  const size_t rows = batch->rows();  // every batch type, MetricBatch included, counts its rows
  const size_t bytes = detail::bytesOfAny(*batch);
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !started_) return unavailable("the pipeline is not running");
    if (pendingBytes_ + bytes > options_.maxPendingBytes && pendingBytes_ > 0) {
      return unavailable("the insert queue is full (" + std::to_string(pendingBytes_) +
                         " bytes pending); retry later");
    }
    if (!key.empty()) {
      auto [it, inserted] = inFlight_.try_emplace(key);
      if (!inserted) {
        // The same request is already waiting for its insert: answer both with its outcome.
        retriedRequests_.inc();
        it->second.push_back(std::move(done));
        return Status::ok();
      }
    }
    // A first request sets a new deadline; a full group is due now. Otherwise the insert thread
    // is already waiting for this group's deadline.
    wake = q.items.empty();
    const auto now = std::chrono::steady_clock::now();
    if (q.items.empty()) q.oldest = now;
    q.newest = now;
    q.items.push_back({std::move(batch), std::move(done), rows, bytes, key});
    q.rows += rows;
    q.bytes += bytes;
    pendingBytes_ += bytes;
    pendingBytesGauge_.set(static_cast<int64_t>(pendingBytes_));
    pendingRowsGauge_.add(static_cast<int64_t>(rows));
    wake = wake || q.rows >= options_.sendBatchSize || q.bytes >= options_.sendBatchMaxBytes;
  }
  if (wake) cv_.notify_one();
  return Status::ok();
}

Status Pipeline::submit(PooledBatch<telemetry::LogBatch> batch, const RequestKey& key,
                        Completion done) {
  return enqueue(logs_, std::move(batch), key, std::move(done));
}
Status Pipeline::submit(PooledBatch<telemetry::SpanBatch> batch, const RequestKey& key,
                        Completion done) {
  return enqueue(spans_, std::move(batch), key, std::move(done));
}
Status Pipeline::submit(PooledBatch<telemetry::MetricBatch> batch, const RequestKey& key,
                        Completion done) {
  return enqueue(metrics_, std::move(batch), key, std::move(done));
}

template <typename B>
bool Pipeline::ready(const Queue<B>& q, std::chrono::steady_clock::time_point now) const {
  if (q.items.empty()) return false;
  return stopping_ || q.rows >= options_.sendBatchSize || q.bytes >= options_.sendBatchMaxBytes ||
         now - q.oldest >= options_.timeout || now - q.newest >= options_.linger;
}

std::string Pipeline::nextBatchId(std::string_view signal) {
  return bootId_ + "-" + std::string(signal) + "-" + std::to_string(++batchSeq_);
}

template <typename B>
void Pipeline::flush(Queue<B>& q) {
  constexpr std::string_view signal = signalOf(static_cast<const B*>(nullptr));
  // Take the whole group out under the lock; insert without it.
  std::deque<typename Queue<B>::Item> items;
  size_t rows, bytes;
  {
    std::lock_guard lock(mu_);
    items.swap(q.items);
    rows = q.rows;
    bytes = q.bytes;
    q.rows = q.bytes = 0;
  }
  std::vector<const B*> parts;
  parts.reserve(items.size());
  for (const auto& item : items) parts.push_back(item.batch.get());
  const std::string batchId = nextBatchId(signal);
  std::vector<RequestKey> keys;
  keys.reserve(items.size());
  for (const auto& item : items) keys.push_back(item.key);
  // The group goes to the journal first: if the process dies before its outcome is in the
  // ledger, the next start replays it with the same token (see insert_journal.h).
  bool journaled = false;
  if (options_.journal != nullptr && options_.ledger != nullptr) {
    const Status s = options_.journal->write(batchId, keys, std::span<const B* const>(parts));
    journaled = s.isOk();
    if (!journaled) {
      journalFailures_.inc();
      log::error(
          "insert journal not written; if the process dies during this insert, retries of "
          "its requests may be stored twice",
          log::Fields().add("error", s.message()));
    }
  }
  const Status status = insertWithRetries(std::span<const B* const>(parts), batchId, rows);
  batchRows_.observe(static_cast<double>(rows));
  // One outcome per request: the group's, unless it failed permanently, in which case the
  // requests that cause it are found and the rest committed on their own.
  std::vector<Status> outcomes(items.size(), status);
  if (!status.isOk() && failureClassOf(status) == FailureClass::kPermanent && items.size() > 1) {
    isolate(std::span<const B* const>(parts), std::span<Status>(outcomes), batchId + "-i", status);
    size_t refused = 0;
    for (const Status& o : outcomes) refused += o.isOk() ? 0 : 1;
    log::warn(
        "a permanent insert failure was traced to some of its group's requests; the others "
        "were committed",
        log::Fields()
            .add("signal", signal)
            .add("requests", static_cast<uint64_t>(items.size()))
            .add("failed", static_cast<uint64_t>(refused)));
  }
  if (options_.ledger != nullptr) {
    std::vector<RequestKey> committed;
    committed.reserve(keys.size());
    for (size_t i = 0; i < items.size(); ++i) {
      if (outcomes[i].isOk()) committed.push_back(keys[i]);
    }
    // Before answering: once a client has its answer, a retry must find the key.
    if (!committed.empty()) {
      if (const Status s = options_.ledger->recordCommitted(committed); !s.isOk()) {
        log::error("request ledger not updated; retries of this group may be stored twice",
                   log::Fields().add("error", s.message()));
      }
    }
  }
  // The outcome is known (and recorded when it is a commit): nothing left to replay. A failed
  // insert stored nothing, and its clients are told to retry.
  if (journaled) {
    if (const Status s = options_.journal->clear(); !s.isOk()) {
      log::error("insert journal not cleared", log::Fields().add("error", s.message()));
    }
  }
  // What the client sees: a permanent failure is its data's (do not retry it); any other, the
  // store's (its data was valid, the store could not take it now: retry).
  for (Status& outcome : outcomes) {
    if (outcome.isOk()) continue;
    if (failureClassOf(outcome) == FailureClass::kPermanent) {
      refusedRequests_.inc();
      outcome = invalidArgument("the store refused the rows: " + outcome.message());
    } else {
      outcome = unavailable("the store could not commit the rows: " + outcome.message());
    }
  }
  std::vector<std::pair<Completion, size_t>> waiters;  // with the index of their request
  {
    std::lock_guard lock(mu_);
    pendingBytes_ -= bytes;
    pendingBytesGauge_.set(static_cast<int64_t>(pendingBytes_));
    for (size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      if (item.key.empty()) continue;
      if (auto it = inFlight_.find(item.key); it != inFlight_.end()) {
        for (auto& w : it->second) waiters.emplace_back(std::move(w), i);
        inFlight_.erase(it);
      }
    }
  }
  for (size_t i = 0; i < items.size(); ++i) items[i].done(outcomes[i]);
  for (auto& [w, i] : waiters) w(outcomes[i]);
  pendingRowsGauge_.add(-static_cast<int64_t>(rows));
  // `items` goes out of scope here: the batches return to their pools.
}

template <typename B>
Status Pipeline::insertWithRetries(std::span<const B* const> parts, std::string_view batchId,
                                   size_t rows, Attempt first) {
  constexpr std::string_view signal = signalOf(static_cast<const B*>(nullptr));
  Status status;
  auto backoff = options_.retryBackoff;
  for (int attempt = 1; attempt <= options_.insertAttempts; ++attempt) {
    const int64_t start = monoNanos();
    // After a failure, a retry; an isolation insert stays one (it compares in any case).
    const Attempt now = attempt == 1 || first == Attempt::kIsolate ? first : Attempt::kRetry;
    status = write(parts, batchId, now);
    insertSeconds_.observe(static_cast<double>(monoNanos() - start) / 1e9);
    if (status.isOk()) break;
    insertFailures_.inc();
    log::warn("insert failed", log::Fields()
                                   .add("signal", signal)
                                   .add("rows", static_cast<uint64_t>(rows))
                                   .add("attempt", attempt)
                                   .add("error", status.toString()));
    // Permanent: the same rows fail the same way however often they are tried.
    if (failureClassOf(status) == FailureClass::kPermanent || attempt == options_.insertAttempts) {
      break;
    }
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
  return status;
}

template <typename B>
void Pipeline::isolate(std::span<const B* const> parts, std::span<Status> outcomes,
                       const std::string& idPrefix, const Status& failure) {
  if (parts.size() == 1) {
    outcomes[0] = failure;
    return;
  }
  // Each half gets an id of its own, derived from the group's ("<id>-i" then a/b per level, so
  // one character a halving: well within a token's length), so that a replay halves the same
  // way under the same ids. Halves go in as kIsolate: the sink compares them with what it
  // holds, so rows that the group's failed call (or a killed process's isolation) stored are
  // not stored twice.
  const size_t half = parts.size() / 2;
  for (int side = 0; side < 2; ++side) {
    const auto sub = side == 0 ? parts.first(half) : parts.subspan(half);
    const auto subOutcomes = side == 0 ? outcomes.first(half) : outcomes.subspan(half);
    const std::string subId = idPrefix + (side == 0 ? "a" : "b");
    size_t rows = 0;
    for (const B* b : sub) rows += b->rows();
    isolatedInserts_.inc();
    const Status s = insertWithRetries(sub, subId, rows, Attempt::kIsolate);
    if (!s.isOk() && failureClassOf(s) == FailureClass::kPermanent && sub.size() > 1) {
      isolate(sub, subOutcomes, subId, s);
    } else {
      for (Status& o : subOutcomes) o = s;
    }
  }
}

void Pipeline::recoverJournal() {
  if (options_.journal == nullptr || options_.ledger == nullptr) return;
  auto recovered = options_.journal->recover();
  if (!recovered.isOk()) {
    log::error("insert journal unreadable; its group is not replayed",
               log::Fields().add("error", recovered.status().message()));
  } else if (recovered->has_value()) {
    InsertJournal::Group& group = **recovered;
    size_t rows = 0;
    size_t isolated = 0;  // requests of a permanently failing group left out after isolation
    std::string_view signal;
    Status status = std::visit(
        [&](const auto& batches) {
          using B = typename std::decay_t<decltype(batches)>::value_type::element_type;
          signal = signalOf(static_cast<const B*>(nullptr));
          std::vector<const B*> parts;
          for (const auto& b : batches) {
            parts.push_back(b.get());
            rows += b->rows();
          }
          Status s = insertWithRetries(std::span<const B* const>(parts), group.token, rows,
                                       Attempt::kRetry);
          if (s.isOk() || failureClassOf(s) != FailureClass::kPermanent || parts.size() < 2 ||
              group.keys.size() != parts.size()) {
            return s;
          }
          // The same halving as the first process's, under the same ids; halves it committed
          // before it died are found as stored (kIsolate compares), not stored twice. The requests
          // of the halves that commit are recorded; the culprits' clients retry and are refused
          // then.
          std::vector<Status> outcomes(parts.size(), s);
          isolate(std::span<const B* const>(parts), std::span<Status>(outcomes), group.token + "-i",
                  s);
          std::vector<RequestKey> committed;
          for (size_t i = 0; i < parts.size(); ++i) {
            if (outcomes[i].isOk()) committed.push_back(group.keys[i]);
          }
          if (!committed.empty()) {
            if (const Status r = options_.ledger->recordCommitted(committed); !r.isOk()) return r;
          }
          isolated = parts.size() - committed.size();
          return s;
        },
        group.batches);
    if (status.isOk()) status = options_.ledger->recordCommitted(group.keys);
    if (isolated > 0 && failureClassOf(status) == FailureClass::kPermanent) {
      log::warn(
          "replayed the insert a previous process left unfinished; the store refuses some of "
          "its requests' rows for good, the others are stored",
          log::Fields()
              .add("signal", signal)
              .add("requests", static_cast<uint64_t>(group.keys.size()))
              .add("failed", static_cast<uint64_t>(isolated))
              .add("error", status.message()));
    } else if (status.isOk()) {
      // Whether the first insert had committed, in whole or in part, the sink finds out from
      // the rows themselves (Attempt::kRetry): either way they are stored once.
      log::info("replayed the insert a previous process left unfinished",
                log::Fields()
                    .add("signal", signal)
                    .add("rows", static_cast<uint64_t>(rows))
                    .add("requests", static_cast<uint64_t>(group.keys.size())));
    } else {
      log::error(
          "could not replay the insert a previous process left unfinished; retries of its "
          "requests may be stored twice",
          log::Fields().add("signal", signal).add("error", status.message()));
    }
  }
  if (const Status s = options_.journal->clear(); !s.isOk()) {
    log::error("insert journal not cleared", log::Fields().add("error", s.message()));
  }
}

void Pipeline::run() {
  std::unique_lock lock(mu_);
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    const bool anyReady = ready(logs_, now) || ready(spans_, now) || ready(metrics_, now);
    if (!anyReady) {
      if (stopping_) break;
      // Sleep until the earliest deadline of a non-empty queue, or a notification.
      auto deadline = now + std::chrono::hours(1);
      auto due = [&](const auto& q) {
        if (!q.items.empty()) {
          deadline = std::min({deadline, q.oldest + options_.timeout, q.newest + options_.linger});
        }
      };
      due(logs_);
      due(spans_);
      due(metrics_);
      cv_.wait_until(lock, deadline);
      continue;
    }
    const bool logsReady = ready(logs_, now);
    const bool spansReady = ready(spans_, now);
    const bool metricsReady = ready(metrics_, now);
    lock.unlock();
    if (logsReady) flush(logs_);
    if (spansReady) flush(spans_);
    if (metricsReady) flush(metrics_);
    lock.lock();
  }
}

}  // namespace stackhouse::pipeline
