#include "web/auth/auth_store.h"

#include <sys/stat.h>

#include <functional>

#include "common/sqlite_statement.h"

namespace stackhouse::web::auth {

namespace {

using sqlite::Statement;

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS users (
  email TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  must_change_password INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  token_digest TEXT PRIMARY KEY,
  email TEXT NOT NULL REFERENCES users(email) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  last_seen_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_email ON sessions(email);
CREATE TABLE IF NOT EXISTS api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  owner TEXT NOT NULL,
  role TEXT NOT NULL,
  key_digest TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL
);
)sql";

User readUser(const Statement& s) {
  return {s.text(0), s.text(1), s.text(2), s.integer(3) != 0, s.integer(4)};
}

ApiKey readKey(const Statement& s) {
  return {s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4), s.integer(5)};
}

}  // namespace

Result<std::unique_ptr<AuthStore>> AuthStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return unavailable("cannot open " + path + ": " + why);
  }
  std::unique_ptr<AuthStore> store(new AuthStore(db));
  sqlite3_busy_timeout(db, 5000);
  if (Status s = store->exec(kSchema); !s.isOk()) {
    return unavailable("cannot create the tables of " + path + ": " + s.message());
  }
  // Password hashes and digests are not secrets an attacker can use, but nobody else needs them.
  ::chmod(path.c_str(), 0600);
  return store;
}

AuthStore::~AuthStore() { sqlite3_close(db_); }

Status AuthStore::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    return internalError(message);
  }
  return Status::ok();
}

int64_t AuthStore::userCount() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT count(*) FROM users");
  return s.step() == SQLITE_ROW ? s.integer(0) : 0;
}

std::optional<User> AuthStore::user(std::string_view email) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT email, role, password_hash, must_change_password, created_at_ms FROM users "
              "WHERE email = ?1");
  s.bind(1, email);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return readUser(s);
}

std::vector<User> AuthStore::users() {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT email, role, password_hash, must_change_password, created_at_ms FROM users "
              "ORDER BY email");
  std::vector<User> out;
  while (s.step() == SQLITE_ROW) out.push_back(readUser(s));
  return out;
}

Status AuthStore::addUser(const User& user) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "INSERT INTO users (email, role, password_hash, must_change_password, created_at_ms) "
              "VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind(1, user.email).bind(2, user.role).bind(3, user.passwordHash);
  s.bind(4, int64_t{user.mustChangePassword ? 1 : 0}).bind(5, user.createdAtMs);
  const int rc = s.step();
  if (rc == SQLITE_CONSTRAINT) return invalidArgument("a user with this e-mail address exists");
  if (rc != SQLITE_DONE) return internalError(sqlite3_errmsg(db_));
  return Status::ok();
}

Status AuthStore::setPassword(std::string_view email, std::string_view hash, bool mustChange) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "UPDATE users SET password_hash = ?2, must_change_password = ?3 WHERE email = ?1");
  s.bind(1, email).bind(2, hash).bind(3, int64_t{mustChange ? 1 : 0});
  if (s.step() != SQLITE_DONE) return internalError(sqlite3_errmsg(db_));
  return Status::ok();
}

bool AuthStore::deleteUser(std::string_view email) {
  std::lock_guard lock(mutex_);
  {
    Statement keys(db_, "DELETE FROM api_keys WHERE owner = ?1");
    keys.bind(1, email).step();
    Statement sessions(db_, "DELETE FROM sessions WHERE email = ?1");
    sessions.bind(1, email).step();
  }
  Statement s(db_, "DELETE FROM users WHERE email = ?1");
  s.bind(1, email);
  return s.step() == SQLITE_DONE && sqlite3_changes(db_) > 0;
}

Status AuthStore::addSession(const Session& session) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "INSERT INTO sessions (token_digest, email, csrf_token, created_at_ms, "
              "last_seen_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind(1, session.tokenDigest).bind(2, session.email).bind(3, session.csrfToken);
  s.bind(4, session.createdAtMs).bind(5, session.lastSeenAtMs);
  if (s.step() != SQLITE_DONE) return internalError(sqlite3_errmsg(db_));
  return Status::ok();
}

std::optional<Session> AuthStore::session(std::string_view tokenDigest) {
  std::lock_guard lock(mutex_);
  Statement s(
      db_,
      "SELECT token_digest, email, csrf_token, created_at_ms, last_seen_at_ms FROM sessions "
      "WHERE token_digest = ?1");
  s.bind(1, tokenDigest);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return Session{s.text(0), s.text(1), s.text(2), s.integer(3), s.integer(4)};
}

void AuthStore::touchSession(std::string_view tokenDigest, int64_t nowMs) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "UPDATE sessions SET last_seen_at_ms = ?2 WHERE token_digest = ?1");
  s.bind(1, tokenDigest).bind(2, nowMs).step();
}

void AuthStore::deleteSession(std::string_view tokenDigest) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM sessions WHERE token_digest = ?1");
  s.bind(1, tokenDigest).step();
}

int64_t AuthStore::deleteSessions(std::string_view email, std::string_view keepDigest) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM sessions WHERE email = ?1 AND token_digest != ?2");
  s.bind(1, email).bind(2, keepDigest);
  return s.step() == SQLITE_DONE ? sqlite3_changes(db_) : 0;
}

void AuthStore::deleteExpiredSessions(int64_t idleBeforeMs, int64_t createdBeforeMs) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM sessions WHERE last_seen_at_ms < ?1 OR created_at_ms < ?2");
  s.bind(1, idleBeforeMs).bind(2, createdBeforeMs).step();
}

Result<int64_t> AuthStore::addApiKey(const ApiKey& key) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "INSERT INTO api_keys (name, owner, role, key_digest, created_at_ms) "
              "VALUES (?1, ?2, ?3, ?4, ?5)");
  s.bind(1, key.name).bind(2, key.owner).bind(3, key.role).bind(4, key.keyDigest);
  s.bind(5, key.createdAtMs);
  if (s.step() != SQLITE_DONE) return internalError(sqlite3_errmsg(db_));
  return sqlite3_last_insert_rowid(db_);
}

std::optional<ApiKey> AuthStore::apiKey(std::string_view keyDigest) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT id, name, owner, role, key_digest, created_at_ms FROM api_keys "
              "WHERE key_digest = ?1");
  s.bind(1, keyDigest);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return readKey(s);
}

std::vector<ApiKey> AuthStore::apiKeys(std::optional<std::string_view> owner) {
  std::lock_guard lock(mutex_);
  Statement s(db_, owner ? "SELECT id, name, owner, role, key_digest, created_at_ms FROM api_keys "
                           "WHERE owner = ?1 ORDER BY id"
                         : "SELECT id, name, owner, role, key_digest, created_at_ms FROM api_keys "
                           "ORDER BY id");
  if (owner) s.bind(1, *owner);
  std::vector<ApiKey> out;
  while (s.step() == SQLITE_ROW) out.push_back(readKey(s));
  return out;
}

bool AuthStore::deleteApiKey(int64_t id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM api_keys WHERE id = ?1");
  s.bind(1, id);
  return s.step() == SQLITE_DONE && sqlite3_changes(db_) > 0;
}

void AuthStore::deleteOwnerlessApiKeys(std::string_view name) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM api_keys WHERE owner = '' AND name = ?1");
  s.bind(1, name).step();
}

}  // namespace stackhouse::web::auth
