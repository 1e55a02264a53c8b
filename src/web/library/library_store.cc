#include "web/library/library_store.h"

#include "common/sqlite_statement.h"

namespace stackhouse::web::library {

namespace {

using sqlite::Statement;

// Version 1: saved searches and dashboards in one table, told apart by kind; a small key-value
// table for the store's own flags.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> steps = {
      R"sql(
CREATE TABLE library_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  owner TEXT NOT NULL,
  shared INTEGER NOT NULL,
  name TEXT NOT NULL,
  document TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX library_items_by_kind_owner ON library_items(kind, owner);
CREATE TABLE library_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql"};
  return steps;
}

std::string_view kindName(Kind kind) {
  return kind == Kind::kDashboard ? "dashboard" : "saved_search";
}

constexpr const char* kColumns =
    "id, owner, shared, name, document, created_at_ms, updated_at_ms FROM library_items";

Item readItem(const Statement& s) {
  return {s.integer(0), s.text(1),    s.integer(2) != 0, s.text(3),
          s.text(4),    s.integer(5), s.integer(6)};
}

}  // namespace

Result<std::unique_ptr<LibraryStore>> LibraryStore::open(const std::string& path) {
  auto db = sqlite::openAppDatabase(path);
  if (!db) return db.status();
  std::unique_ptr<LibraryStore> store(new LibraryStore(db.value()));
  if (Status s = store->migrate(); !s.isOk()) {
    return unavailable("cannot create the saved-search and dashboard tables of " + path + ": " +
                       s.message());
  }
  return store;
}

LibraryStore::~LibraryStore() { sqlite3_close(db_); }

Status LibraryStore::migrate() {
  std::lock_guard lock(mutex_);
  return sqlite::migrate(db_, "library", migrations());
}

std::vector<Item> LibraryStore::list(Kind kind, std::string_view viewer, bool all) {
  std::lock_guard lock(mutex_);
  const std::string sql =
      std::string("SELECT ") + kColumns +
      (all ? " WHERE kind = ?1" : " WHERE kind = ?1 AND (owner = ?2 OR shared)") +
      " ORDER BY updated_at_ms DESC, id DESC";
  Statement s(db_, sql.c_str());
  s.bind(1, kindName(kind));
  if (!all) s.bind(2, viewer);
  std::vector<Item> out;
  while (s.step() == SQLITE_ROW) out.push_back(readItem(s));
  return out;
}

std::optional<Item> LibraryStore::get(Kind kind, int64_t id) {
  std::lock_guard lock(mutex_);
  const std::string sql = std::string("SELECT ") + kColumns + " WHERE kind = ?1 AND id = ?2";
  Statement s(db_, sql.c_str());
  s.bind(1, kindName(kind)).bind(2, id);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return readItem(s);
}

Result<int64_t> LibraryStore::add(Kind kind, const Item& item) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "INSERT INTO library_items (kind, owner, shared, name, document, created_at_ms, "
              "updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  s.bind(1, kindName(kind)).bind(2, item.owner).bind(3, int64_t{item.shared ? 1 : 0});
  s.bind(4, item.name).bind(5, item.document).bind(6, item.createdAtMs).bind(7, item.updatedAtMs);
  if (s.step() != SQLITE_DONE) return internalError(sqlite3_errmsg(db_));
  return sqlite3_last_insert_rowid(db_);
}

Result<bool> LibraryStore::update(Kind kind, const Item& item) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "UPDATE library_items SET shared = ?3, name = ?4, document = ?5, updated_at_ms = ?6 "
              "WHERE kind = ?1 AND id = ?2");
  s.bind(1, kindName(kind)).bind(2, item.id).bind(3, int64_t{item.shared ? 1 : 0});
  s.bind(4, item.name).bind(5, item.document).bind(6, item.updatedAtMs);
  if (s.step() != SQLITE_DONE) return internalError(sqlite3_errmsg(db_));
  return sqlite3_changes(db_) > 0;
}

bool LibraryStore::remove(Kind kind, int64_t id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM library_items WHERE kind = ?1 AND id = ?2");
  s.bind(1, kindName(kind)).bind(2, id);
  return s.step() == SQLITE_DONE && sqlite3_changes(db_) > 0;
}

std::optional<std::string> LibraryStore::meta(std::string_view key) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT value FROM library_meta WHERE key = ?1");
  s.bind(1, key);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return s.text(0);
}

Status LibraryStore::setMeta(std::string_view key, std::string_view value) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "INSERT INTO library_meta (key, value) VALUES (?1, ?2) "
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  s.bind(1, key).bind(2, value);
  if (s.step() != SQLITE_DONE) return internalError(sqlite3_errmsg(db_));
  return Status::ok();
}

}  // namespace stackhouse::web::library
