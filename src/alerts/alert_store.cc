#include "alerts/alert_store.h"

#include "common/sqlite_statement.h"

namespace stackhouse::alerts {

namespace {

using sqlite::Statement;

const std::vector<std::string>& migrations() {
  static const std::vector<std::string> steps = {R"sql(
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner TEXT NOT NULL,
  definition TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  silenced_until_ms INTEGER NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  groups TEXT NOT NULL,
  last_window_end_ms INTEGER NOT NULL,
  retry_at_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE alert_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL,
  window_start_ms INTEGER NOT NULL,
  window_end_ms INTEGER NOT NULL,
  group_key TEXT NOT NULL,
  value REAL,
  state TEXT NOT NULL,
  error TEXT NOT NULL,
  evaluated_at_ms INTEGER NOT NULL
);
CREATE INDEX alert_history_by_alert ON alert_history(alert_id, id);
CREATE TABLE alert_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL,
  event TEXT NOT NULL,
  group_key TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX alert_deliveries_by_alert ON alert_deliveries(alert_id, id);
CREATE INDEX alert_deliveries_pending ON alert_deliveries(status, next_attempt_ms);
CREATE TABLE alert_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id INTEGER NOT NULL,
  alert_id INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  message TEXT NOT NULL,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX alert_attempts_by_alert ON alert_attempts(alert_id, id);
)sql"};
  return steps;
}

constexpr const char* kAlertColumns =
    "SELECT id, owner, definition, enabled, silenced_until_ms, version, state, groups, "
    "last_window_end_ms, retry_at_ms, last_error, created_at_ms, updated_at_ms FROM alerts ";

DeliveryStatus parseDeliveryStatus(std::string_view s) {
  return s == "delivered" ? DeliveryStatus::kDelivered
         : s == "failed"  ? DeliveryStatus::kFailed
                          : DeliveryStatus::kPending;
}

Delivery readDelivery(const Statement& s) {
  Delivery d;
  d.id = s.integer(0);
  d.alertId = s.integer(1);
  d.event = s.text(2) == "resolve" ? Event::kResolve : Event::kFire;
  d.group = s.text(3);
  d.body = s.text(4);
  d.status = parseDeliveryStatus(s.text(5));
  d.attempts = static_cast<int>(s.integer(6));
  d.nextAttemptMs = s.integer(7);
  d.createdAtMs = s.integer(8);
  return d;
}

constexpr const char* kDeliveryColumns =
    "SELECT id, alert_id, event, group_key, body, status, attempts, next_attempt_ms, "
    "created_at_ms FROM alert_deliveries ";

// Keeps the newest `keep` rows of `table` for one alert.
void prune(sqlite3* db, const char* table, int64_t alertId, int64_t keep) {
  const std::string sql = std::string("DELETE FROM ") + table +
                          " WHERE alert_id = ?1 AND id <= (SELECT id FROM " + table +
                          " WHERE alert_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)";
  Statement s(db, sql.c_str());
  s.bind(1, alertId).bind(2, keep).step();
}

}  // namespace

std::string_view deliveryStatusName(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kPending: return "pending";
    case DeliveryStatus::kDelivered: return "delivered";
    case DeliveryStatus::kFailed: return "failed";
  }
  return "pending";
}

Result<std::unique_ptr<AlertStore>> AlertStore::open(const std::string& path) {
  auto db = sqlite::openAppDatabase(path);
  if (!db) return db.status();
  std::unique_ptr<AlertStore> store(new AlertStore(db.value()));
  if (Status s = sqlite::migrate(db.value(), "alerts", migrations()); !s.isOk()) {
    return unavailable("cannot create the alert tables of " + path + ": " + s.message());
  }
  return store;
}

AlertStore::~AlertStore() { sqlite3_close(db_); }

Result<int64_t> AlertStore::add(const StoredAlert& a) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "INSERT INTO alerts (owner, definition, enabled, silenced_until_ms, version, state, "
              "groups, last_window_end_ms, retry_at_ms, last_error, created_at_ms, updated_at_ms) "
              "VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  s.bind(1, a.owner).bind(2, definitionJson(a.def, false)).bind(3, int64_t{a.enabled ? 1 : 0});
  s.bind(4, a.silencedUntilMs).bind(5, stateName(a.runtime.state));
  s.bind(6, runtimeGroupsJson(a.runtime)).bind(7, a.runtime.lastWindowEndMs);
  s.bind(8, a.runtime.retryAtMs).bind(9, a.runtime.lastError).bind(10, a.createdAtMs);
  s.bind(11, a.updatedAtMs);
  if (s.step() != SQLITE_DONE) return internalError(sqlite3_errmsg(db_));
  return sqlite3_last_insert_rowid(db_);
}

std::vector<StoredAlert> AlertStore::select(const char* where, int64_t id) {
  const std::string sql = std::string(kAlertColumns) + where;
  Statement s(db_, sql.c_str());
  if (id != 0) s.bind(1, id);
  std::vector<StoredAlert> out;
  while (s.step() == SQLITE_ROW) {
    StoredAlert a;
    a.id = s.integer(0);
    a.owner = s.text(1);
    auto def = parseAlertDefinition(s.text(2));
    if (!def) continue;  // written by us, validated: cannot happen but never crash on it
    a.def = std::move(def.value());
    a.enabled = s.integer(3) != 0;
    a.silencedUntilMs = s.integer(4);
    a.version = s.integer(5);
    a.runtime.state = parseState(s.text(6)).value_or(AlertState::kInsufficientData);
    readRuntimeGroups(s.text(7), a.runtime);
    a.runtime.lastWindowEndMs = s.integer(8);
    a.runtime.retryAtMs = s.integer(9);
    a.runtime.lastError = s.text(10);
    a.createdAtMs = s.integer(11);
    a.updatedAtMs = s.integer(12);
    out.push_back(std::move(a));
  }
  return out;
}

std::optional<StoredAlert> AlertStore::get(int64_t id) {
  std::lock_guard lock(mutex_);
  auto all = select("WHERE id = ?1", id);
  if (all.empty()) return std::nullopt;
  return std::move(all.front());
}

std::vector<StoredAlert> AlertStore::list() {
  std::lock_guard lock(mutex_);
  return select("ORDER BY id", 0);
}

Result<bool> AlertStore::replace(const StoredAlert& a) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "UPDATE alerts SET definition = ?2, enabled = ?3, version = version + 1, state = ?4, "
              "groups = ?5, last_window_end_ms = ?6, retry_at_ms = ?7, last_error = ?8, "
              "updated_at_ms = ?9 WHERE id = ?1");
  s.bind(1, a.id).bind(2, definitionJson(a.def, false)).bind(3, int64_t{a.enabled ? 1 : 0});
  s.bind(4, stateName(a.runtime.state)).bind(5, runtimeGroupsJson(a.runtime));
  s.bind(6, a.runtime.lastWindowEndMs).bind(7, a.runtime.retryAtMs).bind(8, a.runtime.lastError);
  s.bind(9, a.updatedAtMs);
  if (s.step() != SQLITE_DONE) return internalError(sqlite3_errmsg(db_));
  return sqlite3_changes(db_) > 0;
}

Result<bool> AlertStore::setSilence(int64_t id, int64_t untilMs) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "UPDATE alerts SET silenced_until_ms = ?2 WHERE id = ?1");
  s.bind(1, id).bind(2, untilMs);
  if (s.step() != SQLITE_DONE) return internalError(sqlite3_errmsg(db_));
  return sqlite3_changes(db_) > 0;
}

bool AlertStore::remove(int64_t id) {
  std::lock_guard lock(mutex_);
  bool removed = false;
  if (!sqlite::exec(db_, "BEGIN IMMEDIATE").isOk()) return false;
  for (const char* sql :
       {"DELETE FROM alert_attempts WHERE alert_id = ?1",
        "DELETE FROM alert_deliveries WHERE alert_id = ?1",
        "DELETE FROM alert_history WHERE alert_id = ?1", "DELETE FROM alerts WHERE id = ?1"}) {
    Statement s(db_, sql);
    s.bind(1, id).step();
    removed = sqlite3_changes(db_) > 0;
  }
  (void)sqlite::exec(db_, "COMMIT");
  return removed;
}

Result<bool> AlertStore::recordEvaluation(int64_t id, int64_t version, const Runtime& runtime,
                                          const std::vector<HistoryEntry>& history,
                                          const std::vector<PendingMessage>& messages,
                                          int64_t nowMs) {
  std::lock_guard lock(mutex_);
  STACKHOUSE_RETURN_IF_ERROR(sqlite::exec(db_, "BEGIN IMMEDIATE"));
  auto fail = [this](std::string message) -> Result<bool> {
    (void)sqlite::exec(db_, "ROLLBACK");
    return internalError(std::move(message));
  };
  {
    Statement s(db_,
                "UPDATE alerts SET state = ?3, groups = ?4, last_window_end_ms = ?5, "
                "retry_at_ms = ?6, last_error = ?7 WHERE id = ?1 AND version = ?2");
    s.bind(1, id).bind(2, version).bind(3, stateName(runtime.state));
    s.bind(4, runtimeGroupsJson(runtime)).bind(5, runtime.lastWindowEndMs);
    s.bind(6, runtime.retryAtMs).bind(7, runtime.lastError);
    if (s.step() != SQLITE_DONE) return fail(sqlite3_errmsg(db_));
    if (sqlite3_changes(db_) == 0) {
      (void)sqlite::exec(db_, "ROLLBACK");
      return false;
    }
  }
  for (const auto& h : history) {
    Statement s(db_,
                "INSERT INTO alert_history (alert_id, window_start_ms, window_end_ms, group_key, "
                "value, state, error, evaluated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    s.bind(1, id).bind(2, h.windowStartMs).bind(3, h.windowEndMs).bind(4, h.group);
    if (h.value) {
      s.bind(5, *h.value);
    } else {
      s.bindNull(5);
    }
    s.bind(6, stateName(h.state)).bind(7, h.error).bind(8, nowMs);
    if (s.step() != SQLITE_DONE) return fail(sqlite3_errmsg(db_));
  }
  for (const auto& m : messages) {
    Statement s(db_,
                "INSERT INTO alert_deliveries (alert_id, event, group_key, body, status, attempts, "
                "next_attempt_ms, created_at_ms) VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5)");
    s.bind(1, id).bind(2, eventName(m.event)).bind(3, m.group).bind(4, m.body).bind(5, nowMs);
    if (s.step() != SQLITE_DONE) return fail(sqlite3_errmsg(db_));
  }
  if (!history.empty()) prune(db_, "alert_history", id, kMaxHistoryRows);
  STACKHOUSE_RETURN_IF_ERROR(sqlite::exec(db_, "COMMIT"));
  return true;
}

std::vector<StoredHistory> AlertStore::history(int64_t id, int64_t limit) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT window_start_ms, window_end_ms, group_key, value, state, error, "
              "evaluated_at_ms FROM alert_history WHERE alert_id = ?1 ORDER BY id DESC LIMIT ?2");
  s.bind(1, id).bind(2, limit);
  std::vector<StoredHistory> out;
  while (s.step() == SQLITE_ROW) {
    StoredHistory h;
    h.entry.windowStartMs = s.integer(0);
    h.entry.windowEndMs = s.integer(1);
    h.entry.group = s.text(2);
    if (!s.isNull(3)) h.entry.value = s.real(3);
    h.entry.state = parseState(s.text(4)).value_or(AlertState::kOk);
    h.entry.error = s.text(5);
    h.evaluatedAtMs = s.integer(6);
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<Delivery> AlertStore::dueDeliveries(int64_t nowMs, int64_t limit) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string(kDeliveryColumns) +
                          "WHERE status = 'pending' AND next_attempt_ms <= ?1 "
                          "ORDER BY next_attempt_ms, id LIMIT ?2";
  Statement s(db_, sql.c_str());
  s.bind(1, nowMs).bind(2, limit);
  std::vector<Delivery> out;
  while (s.step() == SQLITE_ROW) out.push_back(readDelivery(s));
  return out;
}

int64_t AlertStore::nextDeliveryMs() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT min(next_attempt_ms) FROM alert_deliveries WHERE status = 'pending'");
  if (s.step() != SQLITE_ROW || s.isNull(0)) return std::numeric_limits<int64_t>::max();
  return s.integer(0);
}

Status AlertStore::recordAttempt(const Delivery& d, const Attempt& a, DeliveryStatus status,
                                 int64_t nextAttemptMs) {
  std::lock_guard lock(mutex_);
  STACKHOUSE_RETURN_IF_ERROR(sqlite::exec(db_, "BEGIN IMMEDIATE"));
  Statement u(db_,
              "UPDATE alert_deliveries SET status = ?2, attempts = ?3, next_attempt_ms = ?4 "
              "WHERE id = ?1");
  u.bind(1, d.id).bind(2, deliveryStatusName(status)).bind(3, int64_t{a.attempt});
  u.bind(4, nextAttemptMs);
  Statement i(db_,
              "INSERT INTO alert_attempts (delivery_id, alert_id, attempt, at_ms, outcome, "
              "http_status, message, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  i.bind(1, d.id).bind(2, d.alertId).bind(3, int64_t{a.attempt}).bind(4, a.atMs);
  i.bind(5, a.outcome).bind(6, int64_t{a.httpStatus}).bind(7, a.message).bind(8, a.durationMs);
  if (u.step() != SQLITE_DONE || i.step() != SQLITE_DONE) {
    std::string why = sqlite3_errmsg(db_);
    (void)sqlite::exec(db_, "ROLLBACK");
    return internalError(why);
  }
  prune(db_, "alert_attempts", d.alertId, kMaxDeliveryRows * 4);
  {
    // Old finished deliveries go; pending ones stay whatever their age.
    Statement p(db_,
                "DELETE FROM alert_deliveries WHERE alert_id = ?1 AND status != 'pending' AND "
                "id <= (SELECT id FROM alert_deliveries WHERE alert_id = ?1 ORDER BY id DESC "
                "LIMIT 1 OFFSET ?2)");
    p.bind(1, d.alertId).bind(2, kMaxDeliveryRows).step();
  }
  return sqlite::exec(db_, "COMMIT");
}

std::vector<Delivery> AlertStore::deliveries(int64_t alertId, int64_t limit) {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string(kDeliveryColumns) + "WHERE alert_id = ?1 ORDER BY id DESC LIMIT ?2";
  Statement s(db_, sql.c_str());
  s.bind(1, alertId).bind(2, limit);
  std::vector<Delivery> out;
  while (s.step() == SQLITE_ROW) out.push_back(readDelivery(s));
  return out;
}

std::vector<Attempt> AlertStore::attempts(int64_t alertId, int64_t limit) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT delivery_id, attempt, at_ms, outcome, http_status, message, duration_ms "
              "FROM alert_attempts WHERE alert_id = ?1 ORDER BY id DESC LIMIT ?2");
  s.bind(1, alertId).bind(2, limit);
  std::vector<Attempt> out;
  while (s.step() == SQLITE_ROW) {
    out.push_back({s.integer(0), static_cast<int>(s.integer(1)), s.integer(2), s.text(3),
                   static_cast<int>(s.integer(4)), s.text(5), s.integer(6)});
  }
  return out;
}

}  // namespace stackhouse::alerts
