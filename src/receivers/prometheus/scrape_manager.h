// The scrape receiver: scrapes every target on its own interval and hands the points to a
// ScrapeOutput as metric batches (source prometheusScrape), the scrapes of up to
// flushInterval gathered into one batch.
//
// Scheduling is Prometheus's: each target's scrapes sit at a fixed offset within its interval
// (scrapeOffset: a hash of the target), so targets are spread over the interval and keep their
// phase across restarts. One thread ("prom-scrape") drives every transfer through a libcurl multi
// handle: at most maxConcurrent scrapes are in flight; a target whose previous scrape is still
// running when its next slot comes skips that slot (counted), as a Prometheus scrape loop does;
// a slow or dead target only ever holds its own transfer, which its timeout bounds, so it never
// delays another target. Parsing and mapping run on the same thread, bounded by each target's
// body size limit.
//
// Per-target state (health, last scrape, duration, error, samples) is kept for the API
// (targetsJson) and exported on the admin /metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "pipeline/batch_pool.h"
#include "receivers/prometheus/scrape_target.h"
#include "telemetry/metric_batch.h"

namespace stackhouse::receivers::prometheus {

// Where scraped batches go. Called on the scrape thread, and once more from stop() after that
// thread has ended.
class ScrapeOutput {
 public:
  virtual ~ScrapeOutput() = default;
  // An empty batch to map one scrape into.
  virtual pipeline::PooledBatch<telemetry::MetricBatch> acquire() = 0;
  // Takes the batch over. An error (the pipeline is full or stopped) drops it; the manager
  // counts it.
  virtual Status submit(pipeline::PooledBatch<telemetry::MetricBatch> batch) = 0;
};

struct ScrapeManagerOptions {
  uint32_t maxConcurrent = 64;
  // Scrapes are gathered into one batch, handed over once it is this old or this large: the
  // store's cost per insert is mostly fixed, so 200 targets' scrapes spread over an interval
  // would otherwise make many tiny inserts.
  std::chrono::milliseconds flushInterval{1000};
  size_t flushRows = 50000;
};

class ScrapeManager {
 public:
  // `output` must outlive the manager.
  ScrapeManager(std::vector<ScrapeTarget> targets, const ScrapeManagerOptions& options,
                ScrapeOutput& output);
  ~ScrapeManager();
  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  // Starts the scrape thread. Call once; an error when libcurl cannot be set up.
  Status start();
  // Cancels transfers in flight and joins the thread. Idempotent; safe without start().
  void stop();

  // The targets and their state, shaped as Prometheus's GET /api/v1/targets answer:
  // {"status":"success","data":{"activeTargets":[{"scrapePool","scrapeUrl","labels",
  // "health","lastError","lastScrape","lastScrapeDuration","lastSamplesScraped",
  // "scrapeInterval","scrapeTimeout"}]}}. Thread-safe.
  std::string targetsJson() const;

  size_t targetCount() const { return slots_.size(); }
  // Scrapes finished so far (ok or failed), for tests.
  uint64_t scrapesDone() const { return scrapesDone_.load(std::memory_order_relaxed); }

 private:
  struct Slot;
  void run();
  void begin(Slot& slot, int64_t nowMono);
  void finish(Slot& slot, int curlCode);
  // Hands the gathered batch over (when it has rows).
  void flush();
  int64_t firstDue(const Slot& slot, int64_t nowMono) const;

  ScrapeManagerOptions options_;
  ScrapeOutput& output_;
  std::vector<std::unique_ptr<Slot>> slots_;
  void* multi_ = nullptr;  // CURLM*
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::atomic<uint64_t> scrapesDone_{0};
  pipeline::PooledBatch<telemetry::MetricBatch> pending_;  // scrape thread only
  int64_t pendingSince_ = 0;                               // monotonic ns of its first scrape
  mutable std::mutex stateMu_;                             // guards every Slot's State

  Counter& skipped_;
  Counter& dropped_;
};

}  // namespace stackhouse::receivers::prometheus
