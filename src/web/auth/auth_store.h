// The UI's app metadata in SQLite (<dataDir>/app.sqlite): users, sessions and API keys; saved
// searches and dashboards join them later. Secrets are never stored: passwords as argon2id hashes,
// session tokens and API keys as digests (secrets.h).
//
// One connection behind a mutex: every call is a short indexed statement, safe from any thread.
// Times are Unix milliseconds from the caller's clock.
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

namespace stackhouse::web::auth {

inline constexpr std::string_view kRoleAdmin = "admin";
inline constexpr std::string_view kRoleMember = "member";

struct User {
  std::string email;  // lower-case
  std::string role;   // kRoleAdmin or kRoleMember
  std::string passwordHash;
  bool mustChangePassword = false;
  int64_t createdAtMs = 0;
};

struct Session {
  std::string tokenDigest;
  std::string email;
  std::string csrfToken;  // not a credential alone: it is useless without the cookie
  int64_t createdAtMs = 0;
  int64_t lastSeenAtMs = 0;
};

struct ApiKey {
  int64_t id = 0;
  std::string name;
  std::string owner;  // a user's e-mail; empty for the key `stackhouse run` writes for the CLI
  std::string role;   // the role of an owner-less key
  std::string keyDigest;
  int64_t createdAtMs = 0;
};

class AuthStore {
 public:
  // Opens (creating) the database and its tables. The file is made mode 0600.
  static Result<std::unique_ptr<AuthStore>> open(const std::string& path);
  ~AuthStore();
  AuthStore(const AuthStore&) = delete;
  AuthStore& operator=(const AuthStore&) = delete;

  int64_t userCount();
  std::optional<User> user(std::string_view email);
  std::vector<User> users();
  // Fails with invalidArgument when the e-mail address is taken.
  Status addUser(const User& user);
  Status setPassword(std::string_view email, std::string_view hash, bool mustChange);
  // Deletes the user with its sessions and API keys; false when there was none.
  bool deleteUser(std::string_view email);

  Status addSession(const Session& session);
  std::optional<Session> session(std::string_view tokenDigest);
  void touchSession(std::string_view tokenDigest, int64_t nowMs);
  void deleteSession(std::string_view tokenDigest);
  // The user's sessions but `keepDigest` (empty: all); returns how many.
  int64_t deleteSessions(std::string_view email, std::string_view keepDigest = {});
  // Sessions idle since before `idleBeforeMs` or created before `createdBeforeMs`.
  void deleteExpiredSessions(int64_t idleBeforeMs, int64_t createdBeforeMs);

  Result<int64_t> addApiKey(const ApiKey& key);
  std::optional<ApiKey> apiKey(std::string_view keyDigest);
  // One owner's keys, or every key when `owner` is empty.
  std::vector<ApiKey> apiKeys(std::optional<std::string_view> owner);
  bool deleteApiKey(int64_t id);
  void deleteOwnerlessApiKeys(std::string_view name);

 private:
  explicit AuthStore(sqlite3* db) : db_(db) {}
  Status exec(const char* sql);

  std::mutex mutex_;
  sqlite3* db_;  // guarded by mutex_
};

}  // namespace stackhouse::web::auth
