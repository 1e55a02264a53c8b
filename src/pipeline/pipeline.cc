#include "pipeline/pipeline.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "common/log.h"
#include "common/thread_name.h"

namespace stackhouse::pipeline {

namespace {

using telemetry::kAllSources;

PipelineSink singleSink(const PipelineOptions& options, Sink& sink) {
  PipelineSink s;
  s.sink = &sink;
  s.queue.sink = "clickhouse";
  s.worker.maxRows = options.sendBatchSize;
  s.worker.maxBytes = options.sendBatchMaxBytes;
  s.worker.maxAge = options.timeout;
  s.worker.backoffInitial = options.retryBackoff;
  s.sources.assign(std::begin(kAllSources), std::end(kAllSources));
  return s;
}

}  // namespace

Pipeline::Pipeline(const PipelineOptions& options, Sink& sink)
    : Pipeline(options, std::vector<PipelineSink>{singleSink(options, sink)}) {}

Pipeline::Pipeline(const PipelineOptions& options, std::vector<PipelineSink> sinks)
    : options_(options),
      retriedRequests_(metrics().counter(
          "stackhouse_pipeline_retried_requests_total",
          "Requests recognised as retries of queued or in-flight ones; not queued again.")),
      syncFailures_(metrics().counter(
          "stackhouse_queue_sync_failures_total",
          "Rounds whose fdatasync failed; their requests were answered as unavailable.")),
      roundRequests_(metrics().histogram("stackhouse_queue_sync_round_requests",
                                         "Requests acknowledged by one queue sync (group commit).",
                                         {1, 2, 4, 8, 16, 32, 64, 128, 256})) {
  for (telemetry::Source source : kAllSources) {
    unrouted_[static_cast<size_t>(source)] = &metrics().counter(
        "stackhouse_router_unrouted_records_total",
        "Records of a source routed to no enabled sink (otelConfig.routing), dropped.",
        {{"source", std::string(telemetry::sourceName(source))}});
  }
  for (PipelineSink& s : sinks) {
    if (s.queue.dir.empty() && !options_.queueDir.empty()) {
      s.queue.dir = options_.queueDir + "/" + s.queue.sink;
    }
    const size_t index = sinks_.size();
    for (telemetry::Source source : s.sources)
      routes_[static_cast<size_t>(source)].push_back(index);
    sinks_.push_back({std::move(s), nullptr, nullptr});
  }
}

Pipeline::~Pipeline() {
  stop();
  sinks_.clear();
  if (!temporaryDir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temporaryDir_, ignored);
  }
}

bool Pipeline::idle() const {
  {
    std::lock_guard lock(mu_);
    if (unanswered_ > 0) return false;
  }
  for (const Bound& b : sinks_) {
    if (!b.queue) continue;
    for (telemetry::Signal s :
         {telemetry::Signal::kLogs, telemetry::Signal::kTraces, telemetry::Signal::kMetrics}) {
      const SegmentLog& log = b.queue->log(s);
      if (log.committed() < log.published()) return false;
    }
  }
  return true;
}

Status Pipeline::open() {
  if (opened_) return Status::ok();
  if (options_.queueDir.empty()) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "stackhouse-queue-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return unavailable("cannot create a temporary queue directory: " +
                         std::string(std::strerror(errno)));
    }
    temporaryDir_ = options_.queueDir = tmpl;
    for (Bound& b : sinks_) {
      if (b.config.queue.dir.empty())
        b.config.queue.dir = temporaryDir_ + "/" + b.config.queue.sink;
    }
  }
  if (::mkdir(options_.queueDir.c_str(), 0700) != 0 && errno != EEXIST) {
    return unavailable("cannot create " + options_.queueDir + ": " + std::strerror(errno));
  }
  std::vector<RequestKey> recovered;
  for (Bound& b : sinks_) {
    auto queue = SinkQueue::open(b.config.queue, &recovered);
    if (!queue) return queue.status();
    b.queue = std::move(queue.value());
    b.worker = std::make_unique<SinkWorker>(*b.config.sink, *b.queue, b.config.worker);
  }
  for (size_t source = 0; source < kSourceCount; ++source) {
    for (size_t i : routes_[source]) routeQueues_[source].push_back(sinks_[i].queue.get());
  }
  // Requests in a queue were appended, and perhaps answered: a retry must find their keys.
  std::erase_if(recovered, [](const RequestKey& k) { return k.empty(); });
  if (options_.ledger != nullptr && !recovered.empty()) {
    STACKHOUSE_RETURN_IF_ERROR(options_.ledger->recordCommitted(recovered));
  }
  for (telemetry::Source source : kAllSources) {
    if (routes_[static_cast<size_t>(source)].empty()) {
      log::warn(
          "a source is routed to no enabled sink: its data is dropped (counted in "
          "stackhouse_router_unrouted_records_total)",
          log::Fields()
              .add("source", telemetry::sourceName(source))
              .add("key", "otelConfig.routing." + std::string(telemetry::sourceName(source))));
    }
  }
  opened_ = true;
  return Status::ok();
}

void Pipeline::start() {
  if (const Status s = open(); !s.isOk()) throw std::runtime_error(s.message());
  {
    std::lock_guard lock(mu_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  for (Bound& b : sinks_) b.worker->start();
  syncThread_ = std::thread([this] {
    setThreadName("queue-sync");
    runSync();
  });
}

void Pipeline::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (syncThread_.joinable()) syncThread_.join();
  for (Bound& b : sinks_) {
    if (b.worker) b.worker->stop();
  }
}

Status Pipeline::queueFull(const Bound& sink) const {
  return unavailable("the " + sink.config.queue.sink + " queue is full (" +
                     std::to_string(sink.config.queue.maxBytes) + " bytes); retry later");
}

Admission& Admission::operator=(Admission&& other) noexcept {
  if (this != &other) {
    reset();
    route_ = std::exchange(other.route_, nullptr);
    room_ = std::exchange(other.room_, 0);
    announced_ = std::exchange(other.announced_, 0);
  }
  return *this;
}

void Admission::reset() {
  if (route_ == nullptr) return;
  for (SinkQueue* queue : *route_) queue->release(room_);
  route_ = nullptr;
}

void Pipeline::learnQueuedBytes(telemetry::Source source, uint64_t queued, uint64_t announced) {
  constexpr uint64_t kMost = 64 * 1024;  // 64 queue bytes per announced byte: a gzip bomb's worth
  const auto ratio = static_cast<int64_t>(std::min(kMost, queued * 1024 / announced));
  std::atomic<uint32_t>& average = queuedPerAnnounced_[static_cast<size_t>(source)];
  const auto old = static_cast<int64_t>(average.load(std::memory_order_relaxed));
  // A moving average over about the last eight requests; concurrent updates may lose one.
  const int64_t next = old == 0 ? ratio : old + (ratio - old) / 8;
  average.store(static_cast<uint32_t>(std::max<int64_t>(next, 1)), std::memory_order_relaxed);
}

uint64_t Pipeline::reservationFor(telemetry::Source source, uint64_t announced) const {
  const uint64_t perAnnounced =
      queuedPerAnnounced_[static_cast<size_t>(source)].load(std::memory_order_relaxed);
  return perAnnounced == 0 ? announced : announced * perAnnounced / 1024;
}

Result<Admission> Pipeline::admit(telemetry::Source source, uint64_t bytes) {
  const std::vector<SinkQueue*>& route = routeQueues_[static_cast<size_t>(source)];
  const uint64_t room = reservationFor(source, bytes);
  for (size_t n = 0; n < route.size(); ++n) {
    if (route[n]->reserve(room)) continue;
    for (size_t k = 0; k < n; ++k) route[k]->release(room);
    return queueFull(sinks_[routes_[static_cast<size_t>(source)][n]]);
  }
  Admission admission;
  admission.route_ = &route;
  admission.room_ = room;
  admission.announced_ = bytes;
  return admission;
}

uint64_t Pipeline::pendingBytes() const {
  uint64_t n = 0;
  for (const Bound& b : sinks_) {
    if (b.worker) n += b.worker->heldBytes();
  }
  return n;
}

void Pipeline::runSync() {
  std::vector<Pending> round;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) break;  // stopping, everything answered
      round.swap(pending_);
    }
    finishRound(round);
    round.clear();
  }
}

void Pipeline::finishRound(std::vector<Pending>& round) {
  // One sync per queue written to in this round covers every request in it.
  std::vector<bool> written(sinks_.size(), false);
  for (const Pending& p : round) {
    for (const Appended& a : p.appended) written[a.sink] = true;
  }
  Status synced;
  for (size_t i = 0; i < sinks_.size(); ++i) {
    if (!written[i]) continue;
    if (Status s = sinks_[i].queue->sync(); !s.isOk() && synced.isOk()) synced = std::move(s);
  }
  if (!synced.isOk()) {
    syncFailures_.inc();
    log::error("queue: cannot sync; the requests of this round are answered as unavailable",
               log::Fields().add("error", synced.message()));
  }
  Status outcome = synced.isOk()
                       ? Status::ok()
                       : unavailable("the queue could not be synced: " + synced.message());
  if (synced.isOk() && options_.ledger != nullptr) {
    std::vector<RequestKey> keys;
    keys.reserve(round.size());
    for (const Pending& p : round) {
      if (!p.key.empty()) keys.push_back(p.key);
    }
    // Before answering: once a client has its answer, a retry must find the key.
    if (!keys.empty()) {
      if (const Status s = options_.ledger->recordCommitted(keys); !s.isOk()) {
        log::error("request ledger not updated; retries of these requests may be stored twice",
                   log::Fields().add("error", s.message()));
      }
    }
  }
  // Make the records readable: per log, the end of its last record in the round (appends and
  // the pending list share one lock, so the round is a prefix of every log).
  std::vector<std::pair<SegmentLog*, QueuePosition>> ends;
  for (const Pending& p : round) {
    for (const Appended& a : p.appended) {
      SegmentLog* log = &sinks_[a.sink].queue->log(a.signal);
      auto it =
          std::find_if(ends.begin(), ends.end(), [&](const auto& e) { return e.first == log; });
      if (it == ends.end()) {
        ends.emplace_back(log, a.end);
      } else {
        it->second = a.end;
      }
    }
  }
  for (const auto& [log, end] : ends) log->publish(end);
  for (size_t i = 0; i < sinks_.size(); ++i) {
    if (written[i]) sinks_[i].worker->notify();
  }
  roundRequests_.observe(static_cast<double>(round.size()));
  std::vector<Completion> waiters;
  {
    std::lock_guard lock(mu_);
    for (const Pending& p : round) {
      if (p.key.empty()) continue;
      if (auto it = inFlight_.find(p.key); it != inFlight_.end()) {
        for (auto& w : it->second) waiters.push_back(std::move(w));
        inFlight_.erase(it);
      }
    }
  }
  for (Pending& p : round) p.done(outcome);
  for (auto& w : waiters) w(outcome);
  {
    std::lock_guard lock(mu_);
    for (const Pending& p : round) {
      if (p.counted) --unanswered_;
    }
  }
}

}  // namespace stackhouse::pipeline
