// Evaluates alerts when their windows are due, on its own thread ("alert-eval"), and hands the
// messages to the notifier.
//
// The values come from a SeriesSource: for search alerts the query service's read connections
// (alerts/search_source.h: bounded in time, memory and answer size like every user query, never
// the ingest path), for chart alerts the metrics query. Each window's outcome is persisted with
// the window's end (alert_store.h), so windows missed while stackhouse was down are caught up on
// the next start, once each. A failed query leaves its window to be retried `retryMs` later.
//
// start()/stop() from the main thread (stop is idempotent, and waits for a running query's
// bounded end); wake() from any thread after an alert changed; runOnce() is one pass for tests,
// with an injected clock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alerts/alert_store.h"
#include "alerts/evaluator.h"
#include "common/metrics.h"

namespace stackhouse::alerts {

// The values of one alert over one window. Implementations bound their own time and memory.
class SeriesSource {
 public:
  virtual ~SeriesSource() = default;
  // Called on the evaluation thread only; blocks until answered (bounded). For a search alert one
  // value per group (alert.h); for a chart alert one per series, none when there is no data.
  virtual Result<std::vector<GroupValue>> values(const AlertDefinition& def, int64_t fromMs,
                                                 int64_t toMs) = 0;
  // Whether the definition can be evaluated (its query parses, its group-by is a field):
  // checked when an alert is saved, so that a bad query is a 400, not a failing alert.
  virtual Status check(const AlertDefinition& def) = 0;
};

class Notifier;

struct EngineOptions {
  std::function<int64_t()> nowMs;  // Unix ms; default the system clock
  int64_t delayMs = 5000;          // a window is evaluated this long after it ends
  int64_t retryMs = 30'000;        // after a failed query
  size_t maxWindowsPerPass = 60;   // per alert and pass: a long catch-up yields to the others
  std::string linkBase;            // "http://127.0.0.1:8080": links in messages
};

class AlertEngine {
 public:
  // `store`, the sources and `notifier` (may be null: messages stay pending) outlive the engine.
  AlertEngine(AlertStore& store, SeriesSource& searchSource, SeriesSource& chartSource,
              Notifier* notifier, EngineOptions options);
  ~AlertEngine();
  AlertEngine(const AlertEngine&) = delete;
  AlertEngine& operator=(const AlertEngine&) = delete;

  // Before start(): the link base is known once the API listens.
  void setLinkBase(std::string base) { options_.linkBase = std::move(base); }
  void start();
  void stop();
  void wake();
  // Evaluates every window due now; returns how many windows were evaluated.
  size_t runOnce();
  // When the next window of any enabled alert is due (INT64_MAX without alerts).
  int64_t nextDueMs();

  SeriesSource& sourceFor(const AlertDefinition& def) {
    return def.kind == AlertKind::kSearch ? searchSource_ : chartSource_;
  }
  int64_t nowMs() const { return options_.nowMs(); }
  const EngineOptions& options() const { return options_; }

 private:
  size_t evaluate(StoredAlert& alert, int64_t now);
  void loop();

  AlertStore& store_;
  SeriesSource& searchSource_;
  SeriesSource& chartSource_;
  Notifier* notifier_;
  EngineOptions options_;
  Counter& windows_;
  Counter& failures_;
  Counter& fired_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;
};

}  // namespace stackhouse::alerts
