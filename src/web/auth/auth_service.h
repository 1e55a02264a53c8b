// Users, login, sessions and API keys for the API port: the Guard every /api/ route passes and the
// routes under /api/v1/auth, /api/v1/users, /api/v1/sessions and /api/v1/apikeys (README, "API").
//
// A request is authenticated by an API key (`Authorization: Bearer <key>`) or by the session
// cookie. A state-changing call made with the cookie must also carry the session's CSRF token in
// X-CSRF-Token. A session whose user must change the password reaches only the password change,
// logout and "me" until it is changed.
//
// Called on IO threads; the store is thread-safe. The routes that hash a password (~0.1 s and
// 64 MiB each: login, password change, invite) run one at a time on the service's own thread,
// "api-auth", so that the API's IO thread never waits for them; past kMaxQueuedHashes waiting
// requests the answer is 503 + Retry-After.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/status.h"
#include "web/api_handler.h"
#include "web/auth/auth_store.h"
#include "web/auth/login_throttle.h"

namespace stackhouse::web::auth {

// A session ends after this long without a request, and this long after login whatever happens.
inline constexpr std::chrono::hours kSessionIdleTimeout{12};
inline constexpr std::chrono::hours kSessionAbsoluteTimeout{7 * 24};
inline constexpr size_t kMinPasswordLength = 12;
inline constexpr size_t kMaxQueuedHashes = 64;

struct AuthOptions {
  // Secure cookies with the __Host- prefix: the UI is served beyond loopback (an ingress, or a
  // listen address that is not loopback).
  bool secureCookies = false;
  std::chrono::milliseconds idleTimeout = kSessionIdleTimeout;
  std::chrono::milliseconds absoluteTimeout = kSessionAbsoluteTimeout;
  LoginThrottleOptions throttle;
  std::function<int64_t()> nowMs;  // Unix milliseconds; default: the system clock
};

// Who made a request.
struct Identity {
  std::string email;  // empty for the CLI's key
  std::string role;
  bool viaSession = false;
  bool mustChangePassword = false;
  std::string sessionDigest;  // with viaSession
  std::string csrfToken;      // with viaSession
};

class AuthService {
 public:
  // `store` outlives the service. initCrypto() must have succeeded.
  AuthService(AuthStore& store, AuthOptions options);
  // Answers the requests still queued for the hashing thread, then stops it.
  ~AuthService();
  AuthService(const AuthService&) = delete;
  AuthService& operator=(const AuthService&) = delete;

  // Creates the first admin when there are no users. `password` empty: one is generated and
  // returned so that the caller prints it once. Either way it must be changed at first login.
  // Returns the generated password, or "" when none was generated.
  Result<std::string> seedAdmin(std::string_view email, std::string_view password);

  // A fresh owner-less admin API key named "cli" (any earlier one revoked), for the local CLI.
  Result<std::string> issueCliKey();

  // The request's identity, or none (no credentials, unknown or expired ones).
  std::optional<Identity> authenticate(const http::Request& request);

  // The Guard for ApiHandler::setGuard.
  Guard guard();
  // Registers every route this service answers.
  void addRoutes(ApiHandler& api);

  std::string cookieName() const;

 private:
  int64_t now() const { return options_.nowMs(); }
  http::Response login(const http::Request& request);
  http::Response logout(const http::Request& request);
  http::Response changePassword(const http::Request& request);
  http::Response me(const http::Request& request);
  http::Response inviteUser(const http::Request& request);
  http::Response listUsers(const http::Request& request);
  http::Response deleteUser(const http::Request& request);
  http::Response revokeSessions(const http::Request& request);
  http::Response createApiKey(const http::Request& request);
  http::Response listApiKeys(const http::Request& request);
  http::Response revokeApiKey(const http::Request& request);
  std::string sessionCookie(std::string_view token, bool clear) const;
  // Queues work for the hashing thread; false when the queue is full.
  bool postHashWork(std::function<void()> work);
  void hashLoop();

  AuthStore& store_;
  AuthOptions options_;
  LoginThrottle throttle_;
  std::string dummyHash_;  // verified against for unknown users, so timing does not tell

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::thread hasher_;
};

}  // namespace stackhouse::web::auth
