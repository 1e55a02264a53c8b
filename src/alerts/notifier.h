// Sends alert messages: the pending deliveries of the alert store, each POSTed to its alert's
// channel, retried with exponential backoff and jitter, every attempt's outcome recorded.
//
// Outcomes: 2xx delivered; no answer, 408, 429 and 5xx retried (1 s, 2 s, 4 s, ... up to
// maxBackoff) until maxAttempts; any other status fails at once (the URL or the body is wrong and
// retrying will not help). A message is sent at least once: a crash during a send repeats it.
//
// One thread, "alert-notify", started by start() and joined by stop() (idempotent); runOnce() is
// the same work for tests, on the caller's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "alerts/alert_store.h"
#include "alerts/webhook_client.h"
#include "common/metrics.h"

namespace stackhouse::alerts {

struct NotifierOptions {
  std::function<int64_t()> nowMs;  // Unix ms; default the system clock
  int maxAttempts = 6;
  std::chrono::milliseconds initialBackoff{1000};
  std::chrono::milliseconds maxBackoff{5 * 60 * 1000};
  std::chrono::milliseconds timeout{10'000};  // per attempt
};

class Notifier {
 public:
  // `store` and `client` outlive the notifier.
  Notifier(AlertStore& store, WebhookClient& client, NotifierOptions options);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void start();
  // Sends nothing more; an attempt in progress finishes (at most `timeout`). Idempotent.
  void stop();
  // New deliveries were recorded: look now. Any thread.
  void wake();
  // Makes one attempt of every delivery due now; returns how many.
  size_t runOnce();

 private:
  void loop();
  int64_t backoffMs(int attempt) const;

  AlertStore& store_;
  WebhookClient& client_;
  NotifierOptions options_;
  Counter& delivered_;
  Counter& retried_;
  Counter& failed_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;
};

}  // namespace stackhouse::alerts
