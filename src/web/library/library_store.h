// Saved searches and dashboards in the UI's app database (<dataDir>/app.sqlite, beside the users
// of web/auth). This store opens its own connection to the file and owns its own tables, created
// and migrated by the schema version it records under "library" in `schema_versions`; it never
// touches the tables of web/auth.
//
// One connection behind a mutex: every call is a short indexed statement, safe from any thread.
// Documents (a saved search's columns, a dashboard's definition) are stored as the canonical JSON
// that library_json.h produced after validating them. Times are Unix milliseconds.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace stackhouse::web::library {

// The schema version this code writes; older files are migrated on open.
inline constexpr int kLibrarySchemaVersion = 1;

// A saved search or a dashboard: who owns it, whether the team sees it, and its document.
struct Item {
  int64_t id = 0;
  std::string owner;  // a user's e-mail; "" for what stackhouse created itself
  bool shared = false;
  std::string name;
  std::string document;  // canonical JSON (library_json.h)
  int64_t createdAtMs = 0;
  int64_t updatedAtMs = 0;
};

enum class Kind : unsigned char { kSavedSearch, kDashboard };

class LibraryStore {
 public:
  // Opens the database (creating it, mode 0600) and migrates this store's tables.
  static Result<std::unique_ptr<LibraryStore>> open(const std::string& path);
  ~LibraryStore();
  LibraryStore(const LibraryStore&) = delete;
  LibraryStore& operator=(const LibraryStore&) = delete;

  // The items `viewer` may see: their own and the shared ones, newest first. `all`: every item
  // (an admin's listing).
  std::vector<Item> list(Kind kind, std::string_view viewer, bool all);
  std::optional<Item> get(Kind kind, int64_t id);
  // Sets item.id on success.
  Result<int64_t> add(Kind kind, const Item& item);
  // Replaces name, shared and document; false when there is no such item.
  Result<bool> update(Kind kind, const Item& item);
  bool remove(Kind kind, int64_t id);

  // A flag of this store's own (e.g. that the health dashboard was created once).
  std::optional<std::string> meta(std::string_view key);
  Status setMeta(std::string_view key, std::string_view value);

 private:
  explicit LibraryStore(sqlite3* db) : db_(db) {}
  Status migrate();

  std::mutex mutex_;
  sqlite3* db_;  // guarded by mutex_
};

}  // namespace stackhouse::web::library
