#include "alerts/notifier.h"

#include <algorithm>
#include <random>

#include "common/log.h"
#include "common/thread_name.h"

namespace stackhouse::alerts {

namespace {

Counter& outcomeCounter(std::string_view outcome) {
  return metrics().counter("stackhouse_alert_deliveries_total",
                           "Attempts to deliver alert messages, by outcome.",
                           {{"outcome", std::string(outcome)}});
}

int64_t systemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Notifier::Notifier(AlertStore& store, WebhookClient& client, NotifierOptions options)
    : store_(store),
      client_(client),
      options_(std::move(options)),
      delivered_(outcomeCounter("delivered")),
      retried_(outcomeCounter("retry")),
      failed_(outcomeCounter("failed")) {
  if (!options_.nowMs) options_.nowMs = systemNowMs;
}

Notifier::~Notifier() { stop(); }

void Notifier::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { loop(); });
}

void Notifier::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

int64_t Notifier::backoffMs(int attempt) const {
  // attempt 1 failed: initial; then doubling, capped; jitter of up to a fifth either way.
  int64_t ms = options_.initialBackoff.count();
  for (int i = 1; i < attempt && ms < options_.maxBackoff.count(); ++i) ms *= 2;
  ms = std::min<int64_t>(ms, options_.maxBackoff.count());
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<int64_t> jitter(-ms / 5, ms / 5);
  return std::max<int64_t>(1, ms + jitter(rng));
}

size_t Notifier::runOnce() {
  const auto due = store_.dueDeliveries(options_.nowMs(), 50);
  for (const Delivery& d : due) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return 0;
    }
    auto alert = store_.get(d.alertId);
    if (!alert) continue;  // deleted meanwhile, with its deliveries
    Attempt a;
    a.deliveryId = d.id;
    a.attempt = d.attempts + 1;
    a.atMs = options_.nowMs();
    const PostResult r = client_.post(alert->def.channel.url, d.body, options_.timeout);
    a.httpStatus = r.httpStatus;
    a.durationMs = r.durationMs;
    DeliveryStatus status = DeliveryStatus::kPending;
    int64_t next = 0;
    const bool ok = r.httpStatus >= 200 && r.httpStatus < 300;
    const bool retryable =
        r.httpStatus == 0 || r.httpStatus == 408 || r.httpStatus == 429 || r.httpStatus >= 500;
    if (ok) {
      status = DeliveryStatus::kDelivered;
      a.outcome = "delivered";
      delivered_.inc();
    } else if (retryable && a.attempt < options_.maxAttempts) {
      next = options_.nowMs() + backoffMs(a.attempt);
      a.outcome = "retry";
      a.message = r.httpStatus == 0 ? r.error : "HTTP " + std::to_string(r.httpStatus);
      retried_.inc();
    } else {
      status = DeliveryStatus::kFailed;
      a.outcome = "failed";
      a.message = (r.httpStatus == 0 ? r.error : "HTTP " + std::to_string(r.httpStatus)) +
                  (retryable ? " (after " + std::to_string(a.attempt) + " attempts)" : "");
      failed_.inc();
    }
    if (!ok) {
      // Never the URL: it is the webhook's credential.
      log::warn("alert message not delivered", log::Fields()
                                                   .add("alert_id", d.alertId)
                                                   .add("attempt", int64_t{a.attempt})
                                                   .add("outcome", a.outcome)
                                                   .add("status", int64_t{r.httpStatus}));
    }
    if (Status s = store_.recordAttempt(d, a, status, next); !s.isOk()) {
      log::error("cannot record an alert delivery", log::Fields().add("error", s.message()));
    }
  }
  return due.size();
}

void Notifier::loop() {
  setThreadName("alert-notify");
  for (;;) {
    const size_t sent = runOnce();
    const int64_t next = store_.nextDeliveryMs();
    const int64_t now = options_.nowMs();
    // Without progress (a store error) it must not spin: at least 50 ms between passes.
    const int64_t waitMs = std::clamp<int64_t>(next - now, sent == 0 ? 50 : 0, 60'000);
    std::unique_lock lock(mu_);
    if (stopping_) return;
    if (waitMs > 0 && !woken_) {
      cv_.wait_for(lock, std::chrono::milliseconds(waitMs), [this] { return stopping_ || woken_; });
    }
    woken_ = false;
    if (stopping_) return;
  }
}

}  // namespace stackhouse::alerts
