// Alerts, their runtime, their history of evaluations and their messages' deliveries, in the UI's
// app database (<dataDir>/app.sqlite): this store's own connection and tables, migrated by the
// schema version it records under "alerts" in `schema_versions`.
//
// A window's evaluation is written in one transaction — the new runtime (with the end of the
// window), its history rows and the messages it produced — and only if the alert's definition is
// still the one evaluated (its version), so a window is applied once: never lost, never doubled,
// even across a crash. Messages are then sent by the notifier from the deliveries table (at least
// once: a crash during a send can repeat that one send).
//
// History is kept per alert up to kMaxHistoryRows, deliveries up to kMaxDeliveryRows (oldest
// deleted first). Thread-safe: one connection behind a mutex.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "alerts/evaluator.h"
#include "common/status.h"

namespace stackhouse::alerts {

inline constexpr int64_t kMaxHistoryRows = 2000;
inline constexpr int64_t kMaxDeliveryRows = 500;

struct StoredAlert {
  int64_t id = 0;
  std::string owner;
  AlertDefinition def;
  bool enabled = true;
  int64_t silencedUntilMs = 0;
  int64_t version = 1;  // bumped by every change of definition or enabled
  Runtime runtime;
  int64_t createdAtMs = 0;
  int64_t updatedAtMs = 0;
};

struct StoredHistory {
  HistoryEntry entry;
  int64_t evaluatedAtMs = 0;
};

struct PendingMessage {
  Event event = Event::kFire;
  std::string group;
  std::string body;  // the rendered request body
};

enum class DeliveryStatus : unsigned char { kPending, kDelivered, kFailed };
std::string_view deliveryStatusName(DeliveryStatus s);

struct Delivery {
  int64_t id = 0;
  int64_t alertId = 0;
  Event event = Event::kFire;
  std::string group;
  std::string body;
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;
  int64_t nextAttemptMs = 0;
  int64_t createdAtMs = 0;
};

struct Attempt {
  int64_t deliveryId = 0;
  int attempt = 0;
  int64_t atMs = 0;
  std::string outcome;  // "delivered", "retry", "failed"
  int httpStatus = 0;   // 0: no answer
  std::string message;  // what went wrong, never the URL
  int64_t durationMs = 0;
};

class AlertStore {
 public:
  static Result<std::unique_ptr<AlertStore>> open(const std::string& path);
  ~AlertStore();
  AlertStore(const AlertStore&) = delete;
  AlertStore& operator=(const AlertStore&) = delete;

  Result<int64_t> add(const StoredAlert& alert);
  std::optional<StoredAlert> get(int64_t id);
  std::vector<StoredAlert> list();
  // Replaces definition, enabled and runtime, bumps the version; false: no such alert.
  Result<bool> replace(const StoredAlert& alert);
  Result<bool> setSilence(int64_t id, int64_t untilMs);
  bool remove(int64_t id);

  // One evaluated window (see above). False when the alert changed or went meanwhile: nothing is
  // written. The deliveries are due at once.
  Result<bool> recordEvaluation(int64_t id, int64_t version, const Runtime& runtime,
                                const std::vector<HistoryEntry>& history,
                                const std::vector<PendingMessage>& messages, int64_t nowMs);
  // Newest first.
  std::vector<StoredHistory> history(int64_t id, int64_t limit);

  std::vector<Delivery> dueDeliveries(int64_t nowMs, int64_t limit);
  // The earliest next attempt of a pending delivery; INT64_MAX when none.
  int64_t nextDeliveryMs();
  // Records an attempt and the delivery's new status (and, while pending, its next attempt).
  Status recordAttempt(const Delivery& delivery, const Attempt& attempt, DeliveryStatus status,
                       int64_t nextAttemptMs);
  std::vector<Delivery> deliveries(int64_t alertId, int64_t limit);  // newest first
  std::vector<Attempt> attempts(int64_t alertId, int64_t limit);     // newest first

 private:
  explicit AlertStore(sqlite3* db) : db_(db) {}
  std::vector<StoredAlert> select(const char* where, int64_t id);

  std::mutex mutex_;
  sqlite3* db_;  // guarded by mutex_
};

}  // namespace stackhouse::alerts
