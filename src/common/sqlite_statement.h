// Small pieces for the stores that keep app metadata in SQLite (web/library, alerts): a prepared
// statement finalized on scope exit, and per-component schema versions so that each store creates
// and migrates its own tables in a shared file without touching the others'.
//
// Header-only: its users link SQLite themselves (PkgConfig::SQLITE3).
#pragma once

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace stackhouse::sqlite {

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Statement& bind(int i, std::string_view v) {
    // An empty view may have no data pointer, which SQLite would bind as NULL, not as ''.
    sqlite3_bind_text(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Statement& bindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return stmt_ == nullptr ? SQLITE_ERROR : sqlite3_step(stmt_); }
  std::string text(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p == nullptr ? std::string()
                        : std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
  }
  int64_t integer(int i) const { return sqlite3_column_int64(stmt_, i); }
  double real(int i) const { return sqlite3_column_double(stmt_, i); }
  bool isNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

inline Status exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    return internalError(message);
  }
  return Status::ok();
}

// Brings `component`'s tables to version steps.size(): steps[i] takes version i to i + 1. Each
// step runs in one transaction with the version it reaches, so a crash leaves either version.
// A file written by a newer stackhouse (a higher version) is refused.
inline Status migrate(sqlite3* db, std::string_view component,
                      const std::vector<std::string>& steps) {
  STACKHOUSE_RETURN_IF_ERROR(
      exec(db,
           "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version "
           "INTEGER NOT NULL)"));
  int64_t version = 0;
  {
    Statement s(db, "SELECT version FROM schema_versions WHERE component = ?1");
    s.bind(1, component);
    if (s.step() == SQLITE_ROW) version = s.integer(0);
  }
  if (version > static_cast<int64_t>(steps.size())) {
    return invalidArgument("the tables of " + std::string(component) + " are at version " +
                           std::to_string(version) + ", newer than this stackhouse knows (" +
                           std::to_string(steps.size()) + ")");
  }
  for (auto v = static_cast<size_t>(version); v < steps.size(); ++v) {
    STACKHOUSE_RETURN_IF_ERROR(exec(db, "BEGIN IMMEDIATE"));
    Status s = exec(db, steps[v]);
    if (s.isOk()) {
      Statement set(db,
                    "INSERT INTO schema_versions (component, version) VALUES (?1, ?2) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version");
      set.bind(1, component).bind(2, static_cast<int64_t>(v + 1));
      if (set.step() != SQLITE_DONE) s = internalError(sqlite3_errmsg(db));
    }
    if (!s.isOk()) {
      (void)exec(db, "ROLLBACK");
      return s;
    }
    STACKHOUSE_RETURN_IF_ERROR(exec(db, "COMMIT"));
  }
  return Status::ok();
}

// Opens (creating) an SQLite file for one of the app stores: WAL, a busy timeout, mode 0600.
inline Result<sqlite3*> openAppDatabase(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return unavailable("cannot open " + path + ": " + why);
  }
  sqlite3_busy_timeout(db, 5000);
  if (Status s = exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"); !s.isOk()) {
    sqlite3_close(db);
    return unavailable("cannot open " + path + ": " + s.message());
  }
  ::chmod(path.c_str(), 0600);
  return db;
}

}  // namespace stackhouse::sqlite
