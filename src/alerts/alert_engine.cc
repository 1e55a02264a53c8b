#include "alerts/alert_engine.h"

#include <algorithm>
#include <limits>

#include "alerts/notifier.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace stackhouse::alerts {

namespace {

int64_t systemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AlertEngine::AlertEngine(AlertStore& store, SeriesSource& searchSource, SeriesSource& chartSource,
                         Notifier* notifier, EngineOptions options)
    : store_(store),
      searchSource_(searchSource),
      chartSource_(chartSource),
      notifier_(notifier),
      options_(std::move(options)),
      windows_(metrics().counter("stackhouse_alert_windows_total", "Alert windows evaluated.",
                                 {{"outcome", "ok"}})),
      failures_(metrics().counter("stackhouse_alert_windows_total", "Alert windows evaluated.",
                                  {{"outcome", "failed"}})),
      fired_(metrics().counter("stackhouse_alert_messages_total",
                               "Alert messages queued (fire and resolve).")) {
  if (!options_.nowMs) options_.nowMs = systemNowMs;
}

AlertEngine::~AlertEngine() { stop(); }

void AlertEngine::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { loop(); });
}

void AlertEngine::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertEngine::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

int64_t AlertEngine::nextDueMs() {
  int64_t next = std::numeric_limits<int64_t>::max();
  for (const auto& a : store_.list()) {
    if (a.enabled)
      next = std::min(next, alerts::nextDueMs(a.runtime, a.def.windowMs, options_.delayMs));
  }
  return next;
}

size_t AlertEngine::evaluate(StoredAlert& alert, int64_t now) {
  int64_t skipped = 0;
  const auto ends = dueWindowEnds(alert.runtime, alert.def.windowMs, now, options_.delayMs,
                                  options_.maxWindowsPerPass, &skipped);
  if (skipped > 0) {
    HistoryEntry h = skipWindows(alert.runtime, alert.def.windowMs, skipped);
    auto ok = store_.recordEvaluation(alert.id, alert.version, alert.runtime, {h}, {}, now);
    if (!ok || !ok.value()) return 0;
  }
  const std::string link = options_.linkBase + "/alerts/" + std::to_string(alert.id);
  size_t done = 0;
  for (int64_t end : ends) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    auto values = sourceFor(alert.def).values(alert.def, end - alert.def.windowMs, end);
    const int64_t at = options_.nowMs();
    if (!values) {
      failures_.inc();
      HistoryEntry h = failWindow(alert.runtime, alert.def.windowMs, end, values.status().message(),
                                  at + options_.retryMs);
      (void)store_.recordEvaluation(alert.id, alert.version, alert.runtime, {h}, {}, at);
      log::warn("alert evaluation failed",
                log::Fields().add("alert_id", alert.id).add("error", values.status().message()));
      break;
    }
    const bool silenced = at < alert.silencedUntilMs;
    WindowOutcome outcome =
        applyWindow(alert.def, alert.runtime, end, values.value(), silenced, link);
    std::vector<PendingMessage> messages;
    for (const Message& m : outcome.messages) {
      auto body = renderMessage(alert.def, m);
      if (!body) {
        outcome.history.push_back({m.windowStartMs, m.windowEndMs, m.group, m.value,
                                   alert.runtime.state,
                                   "message not sent: " + body.status().message()});
        continue;
      }
      messages.push_back({m.event, m.group, std::move(body.value())});
    }
    auto recorded = store_.recordEvaluation(alert.id, alert.version, alert.runtime, outcome.history,
                                            messages, at);
    if (!recorded || !recorded.value()) break;  // changed or deleted meanwhile: next pass
    windows_.inc();
    ++done;
    if (!messages.empty()) {
      fired_.inc(messages.size());
      if (notifier_ != nullptr) notifier_->wake();
    }
  }
  return done;
}

size_t AlertEngine::runOnce() {
  size_t done = 0;
  const int64_t now = options_.nowMs();
  for (StoredAlert& alert : store_.list()) {
    if (!alert.enabled) continue;
    done += evaluate(alert, now);
  }
  return done;
}

void AlertEngine::loop() {
  setThreadName("alert-eval");
  for (;;) {
    runOnce();
    const int64_t next = nextDueMs();
    const int64_t waitMs = std::clamp<int64_t>(next - options_.nowMs(), 10, 60'000);
    std::unique_lock lock(mu_);
    if (stopping_) return;
    if (!woken_) {
      cv_.wait_for(lock, std::chrono::milliseconds(waitMs), [this] { return stopping_ || woken_; });
    }
    woken_ = false;
    if (stopping_) return;
  }
}

}  // namespace stackhouse::alerts
