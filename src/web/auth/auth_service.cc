#include "web/auth/auth_service.h"

#include <simdjson.h>

#include "common/ascii.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/thread_name.h"
#include "web/auth/secrets.h"

namespace stackhouse::web::auth {

namespace {

constexpr std::string_view kLoginPath = "/api/v1/auth/login";
constexpr std::string_view kLogoutPath = "/api/v1/auth/logout";
constexpr std::string_view kPasswordPath = "/api/v1/auth/password";
constexpr std::string_view kMePath = "/api/v1/auth/me";
constexpr std::string_view kCliKeyName = "cli";
// Checked only every so often, not on every request: each check is a write.
constexpr int64_t kTouchEveryMs = 60'000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of cookie `name` in a Cookie header, or "".
std::string_view cookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view part = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return part.substr(eq + 1);
  }
  return {};
}

size_t codePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool isStateChange(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

Counter& loginOutcome(std::string_view value) {
  return metrics().counter("stackhouse_auth_logins_total", "UI logins by outcome.",
                           {{"outcome", std::string(value)}});
}

Counter& refused(std::string_view reason) {
  return metrics().counter("stackhouse_auth_refused_total",
                           "API requests refused by authentication, by reason.",
                           {{"reason", std::string(reason)}});
}

// A JSON request body: an object, its string fields read on demand.
class Body {
 public:
  explicit Body(const std::string& text) {
    ok_ = parser_.parse(text).get_object().get(object_) == simdjson::SUCCESS;
  }
  bool ok() const { return ok_; }
  std::optional<std::string> string(std::string_view key) const {
    std::string_view v;
    if (!ok_ || object_[key].get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
    return std::string(v);
  }
  std::optional<int64_t> integer(std::string_view key) const {
    int64_t v = 0;
    if (!ok_ || object_[key].get_int64().get(v) != simdjson::SUCCESS) return std::nullopt;
    return v;
  }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::object object_;
  bool ok_ = false;
};

http::Response badRequest(std::string_view message) {
  return apiError(400, "BAD_REQUEST", message);
}

http::Response forbidden(std::string_view message) { return apiError(403, "FORBIDDEN", message); }

void writeUser(JsonWriter& w, const User& user) {
  w.beginObject();
  w.field("email", std::string_view(user.email));
  w.field("role", std::string_view(user.role));
  w.field("mustChangePassword", user.mustChangePassword);
  w.endObject();
}

}  // namespace

AuthService::AuthService(AuthStore& store, AuthOptions options)
    : store_(store), options_(std::move(options)), throttle_([this] {
        LoginThrottleOptions t = options_.throttle;
        if (!t.nowMs) t.nowMs = options_.nowMs;
        return t;
      }()) {
  if (!options_.nowMs) {
    options_.nowMs = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  auto dummy = hashPassword(randomToken(16));
  if (dummy.isOk()) dummyHash_ = std::move(dummy.value());
  hasher_ = std::thread([this] { hashLoop(); });
}

AuthService::~AuthService() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  hasher_.join();
}

bool AuthService::postHashWork(std::function<void()> work) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= kMaxQueuedHashes) return false;
    queue_.push_back(std::move(work));
  }
  wake_.notify_one();
  return true;
}

void AuthService::hashLoop() {
  setThreadName("api-auth");
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // Drain what is queued even when stopping: every request gets its answer.
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

std::string AuthService::cookieName() const {
  // __Host-: the browser accepts the cookie only when Secure, Path=/ and without Domain, so no
  // other host (a sibling subdomain) can plant or shadow it.
  return options_.secureCookies ? "__Host-stackhouse_session" : "stackhouse_session";
}

std::string AuthService::sessionCookie(std::string_view token, bool clear) const {
  std::string c = cookieName() + "=" + std::string(token) + "; Path=/; HttpOnly; SameSite=Strict";
  if (options_.secureCookies) c += "; Secure";
  c +=
      "; Max-Age=" +
      std::to_string(
          clear
              ? 0
              : std::chrono::duration_cast<std::chrono::seconds>(options_.absoluteTimeout).count());
  return c;
}

Result<std::string> AuthService::seedAdmin(std::string_view email, std::string_view password) {
  if (store_.userCount() > 0) return std::string();
  std::string generated;
  if (password.empty()) {
    generated = randomPassword();
    password = generated;
  }
  auto hash = hashPassword(password);
  if (!hash) return hash.status();
  User user{asciiLower(email), std::string(kRoleAdmin), std::move(hash.value()), true, now()};
  if (Status s = store_.addUser(user); !s.isOk()) return s;
  log::info("seed user created", log::Fields().add("email", user.email).add("role", user.role));
  return generated;
}

Result<std::string> AuthService::issueCliKey() {
  store_.deleteOwnerlessApiKeys(kCliKeyName);
  std::string key = "shk_" + randomToken(32);
  ApiKey record{0, std::string(kCliKeyName), "", std::string(kRoleAdmin), tokenDigest(key), now()};
  auto id = store_.addApiKey(record);
  if (!id) return id.status();
  return key;
}

std::optional<Identity> AuthService::authenticate(const http::Request& request) {
  if (const std::string_view authorization = request.header("authorization");
      !authorization.empty()) {
    // A script's credentials; a wrong one is refused, never retried as a cookie.
    if (authorization.size() < 7 || asciiLower(authorization.substr(0, 7)) != "bearer ") {
      return std::nullopt;
    }
    auto key = store_.apiKey(tokenDigest(trim(authorization.substr(7))));
    if (!key) return std::nullopt;
    Identity id{key->owner, key->role, false, false, {}, {}};
    if (!key->owner.empty()) {
      auto owner = store_.user(key->owner);
      if (!owner) return std::nullopt;
      id.role = owner->role;  // a demoted owner's keys are demoted too
    }
    return id;
  }
  const std::string_view token = cookieValue(request.header("cookie"), cookieName());
  if (token.empty()) return std::nullopt;
  const std::string digest = tokenDigest(token);
  auto session = store_.session(digest);
  if (!session) return std::nullopt;
  const int64_t t = now();
  if (t - session->lastSeenAtMs > options_.idleTimeout.count() ||
      t - session->createdAtMs > options_.absoluteTimeout.count()) {
    store_.deleteSession(digest);
    return std::nullopt;
  }
  auto user = store_.user(session->email);
  if (!user) return std::nullopt;
  if (t - session->lastSeenAtMs > kTouchEveryMs) store_.touchSession(digest, t);
  return Identity{user->email, user->role,        true, user->mustChangePassword,
                  digest,      session->csrfToken};
}

Guard AuthService::guard() {
  return [this](const http::Request& request) -> std::optional<http::Response> {
    const std::string_view path = request.path();
    if (path == kLoginPath) return std::nullopt;
    auto id = authenticate(request);
    if (!id) {
      refused("unauthenticated").inc();
      auto r =
          apiError(401, "UNAUTHENTICATED",
                   "sign in (POST /api/v1/auth/login) or send Authorization: Bearer <API key>");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    if (id->viaSession && isStateChange(request.method) &&
        !constantTimeEqual(request.header("x-csrf-token"), id->csrfToken)) {
      refused("csrf").inc();
      return forbidden(
          "a call made with the session cookie must carry the session's csrfToken in the "
          "X-CSRF-Token header");
    }
    if (id->viaSession && id->mustChangePassword && path != kPasswordPath && path != kLogoutPath &&
        path != kMePath) {
      refused("password_change_required").inc();
      return apiError(403, "PASSWORD_CHANGE_REQUIRED",
                      "the password must be changed first: POST /api/v1/auth/password");
    }
    return std::nullopt;
  };
}

http::Response AuthService::login(const http::Request& request) {
  Body body(request.body);
  auto email = body.string("email");
  auto password = body.string("password");
  if (!email || !password)
    return badRequest("the body must be {\"email\": ..., \"password\": ...}");
  const std::string account = asciiLower(*email);
  const std::string& address = request.remoteAddress;
  if (const int64_t wait = throttle_.retryAfterSeconds(account, address); wait > 0) {
    loginOutcome("throttled").inc();
    auto r = apiError(429, "TOO_MANY_REQUESTS",
                      "too many failed logins; try again in " + std::to_string(wait) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return r;
  }
  auto user = store_.user(account);
  // An unknown user costs the same hash work as a wrong password.
  const bool ok = verifyPassword(user ? user->passwordHash : dummyHash_, *password) && user;
  if (!ok) {
    throttle_.recordFailure(account, address);
    loginOutcome("refused").inc();
    return apiError(401, "UNAUTHENTICATED", "wrong e-mail address or password");
  }
  throttle_.recordSuccess(account, address);
  // A new token at every login; the session the browser came with (if any) ends.
  if (const std::string_view old = cookieValue(request.header("cookie"), cookieName());
      !old.empty()) {
    store_.deleteSession(tokenDigest(old));
  }
  const std::string token = randomToken(32);
  Session session{tokenDigest(token), user->email, randomToken(32), now(), now()};
  if (Status s = store_.addSession(session); !s.isOk()) {
    return apiError(500, "INTERNAL", "cannot store the session");
  }
  store_.deleteExpiredSessions(now() - options_.idleTimeout.count(),
                               now() - options_.absoluteTimeout.count());
  loginOutcome("ok").inc();
  std::string out;
  JsonWriter w(out);
  w.beginObject().key("user");
  writeUser(w, *user);
  w.field("csrfToken", std::string_view(session.csrfToken)).endObject();
  auto r = http::jsonResponse(200, std::move(out));
  r.headers.emplace_back("Set-Cookie", sessionCookie(token, false));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

http::Response AuthService::logout(const http::Request& request) {
  auto id = authenticate(request);
  if (id && id->viaSession) store_.deleteSession(id->sessionDigest);
  auto r = http::jsonResponse(200, "{}");
  r.headers.emplace_back("Set-Cookie", sessionCookie("", true));
  return r;
}

http::Response AuthService::changePassword(const http::Request& request) {
  auto id = authenticate(request);
  if (!id || id->email.empty()) return forbidden("only a signed-in user has a password");
  Body body(request.body);
  auto current = body.string("currentPassword");
  auto next = body.string("newPassword");
  if (!current || !next) {
    return badRequest("the body must be {\"currentPassword\": ..., \"newPassword\": ...}");
  }
  if (codePoints(*next) < kMinPasswordLength) {
    return badRequest("the new password must have at least " + std::to_string(kMinPasswordLength) +
                      " characters");
  }
  if (*next == *current) return badRequest("the new password must differ from the current one");
  auto user = store_.user(id->email);
  if (!user) return apiError(401, "UNAUTHENTICATED", "the user no longer exists");
  const std::string& address = request.remoteAddress;
  if (const int64_t wait = throttle_.retryAfterSeconds(user->email, address); wait > 0) {
    auto r = apiError(429, "TOO_MANY_REQUESTS",
                      "too many wrong passwords; try again in " + std::to_string(wait) + " s");
    r.headers.emplace_back("Retry-After", std::to_string(wait));
    return r;
  }
  if (!verifyPassword(user->passwordHash, *current)) {
    throttle_.recordFailure(user->email, address);
    return forbidden("the current password is wrong");
  }
  auto hash = hashPassword(*next);
  if (!hash) return apiError(503, "UNAVAILABLE", hash.status().message());
  if (Status s = store_.setPassword(user->email, hash.value(), false); !s.isOk()) {
    return apiError(500, "INTERNAL", "cannot store the password");
  }
  // Whoever else knew the old password is signed out everywhere.
  store_.deleteSessions(user->email, id->viaSession ? id->sessionDigest : std::string());
  log::info("password changed", log::Fields().add("email", user->email));
  user->mustChangePassword = false;
  std::string out;
  JsonWriter w(out);
  w.beginObject().key("user");
  writeUser(w, *user);
  w.endObject();
  return http::jsonResponse(200, std::move(out));
}

http::Response AuthService::me(const http::Request& request) {
  auto id = authenticate(request);
  if (!id) return apiError(401, "UNAUTHENTICATED", "not signed in");
  std::string out;
  JsonWriter w(out);
  w.beginObject().key("user");
  w.beginObject();
  if (id->email.empty()) {
    w.key("email").null();
  } else {
    w.field("email", std::string_view(id->email));
  }
  w.field("role", std::string_view(id->role));
  w.field("mustChangePassword", id->mustChangePassword);
  w.endObject();
  if (id->viaSession) {
    w.field("csrfToken", std::string_view(id->csrfToken));
  } else {
    w.key("csrfToken").null();
  }
  w.endObject();
  auto r = http::jsonResponse(200, std::move(out));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

http::Response AuthService::inviteUser(const http::Request& request) {
  auto id = authenticate(request);
  if (!id || id->role != kRoleAdmin) return forbidden("only an admin can invite users");
  Body body(request.body);
  auto email = body.string("email");
  const std::string role = body.string("role").value_or(std::string(kRoleMember));
  if (!email || email->find('@') == std::string::npos) {
    return badRequest("the body must be {\"email\": \"someone@example.com\", \"role\"?: ...}");
  }
  if (role != kRoleAdmin && role != kRoleMember) return badRequest("role is admin or member");
  const std::string password = randomPassword();
  auto hash = hashPassword(password);
  if (!hash) return apiError(503, "UNAVAILABLE", hash.status().message());
  User user{asciiLower(*email), role, std::move(hash.value()), true, now()};
  if (Status s = store_.addUser(user); !s.isOk()) return apiError(409, "CONFLICT", s.message());
  log::info("user invited", log::Fields().add("email", user.email).add("role", role));
  std::string out;
  JsonWriter w(out);
  w.beginObject().key("user");
  writeUser(w, user);
  // Shown once, to be handed over; it must be changed at first login.
  w.field("temporaryPassword", std::string_view(password)).endObject();
  auto r = http::jsonResponse(201, std::move(out));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

http::Response AuthService::listUsers(const http::Request& request) {
  auto id = authenticate(request);
  if (!id || id->role != kRoleAdmin) return forbidden("only an admin can list users");
  std::string out;
  JsonWriter w(out);
  w.beginObject().key("users").beginArray();
  for (const User& u : store_.users()) {
    w.beginObject();
    w.field("email", std::string_view(u.email));
    w.field("role", std::string_view(u.role));
    w.field("mustChangePassword", u.mustChangePassword);
    w.field("createdAt", u.createdAtMs);
    w.endObject();
  }
  w.endArray().endObject();
  return http::jsonResponse(200, std::move(out));
}

http::Response AuthService::deleteUser(const http::Request& request) {
  auto id = authenticate(request);
  if (!id || id->role != kRoleAdmin) return forbidden("only an admin can delete users");
  Body body(request.body);
  auto email = body.string("email");
  if (!email) return badRequest("the body must be {\"email\": ...}");
  const std::string account = asciiLower(*email);
  if (account == id->email) return badRequest("an admin cannot delete their own account");
  if (!store_.deleteUser(account)) return apiError(404, "NOT_FOUND", "no such user");
  log::info("user deleted", log::Fields().add("email", account));
  return http::jsonResponse(200, "{}");
}

http::Response AuthService::revokeSessions(const http::Request& request) {
  auto id = authenticate(request);
  if (!id) return apiError(401, "UNAUTHENTICATED", "not signed in");
  Body body(request.body);
  const std::string account = asciiLower(body.string("email").value_or(id->email));
  if (account != id->email && id->role != kRoleAdmin) {
    return forbidden("only an admin can revoke another user's sessions");
  }
  const int64_t n = store_.deleteSessions(account);
  std::string out;
  JsonWriter w(out);
  w.beginObject().field("revoked", n).endObject();
  return http::jsonResponse(200, std::move(out));
}

http::Response AuthService::createApiKey(const http::Request& request) {
  auto id = authenticate(request);
  if (!id || id->email.empty()) return forbidden("API keys are created by a signed-in user");
  Body body(request.body);
  const std::string name = body.string("name").value_or("");
  if (name.empty() || name.size() > 200) return badRequest("the body must be {\"name\": ...}");
  const std::string key = "shk_" + randomToken(32);
  auto keyId = store_.addApiKey({0, name, id->email, id->role, tokenDigest(key), now()});
  if (!keyId) return apiError(500, "INTERNAL", "cannot store the key");
  std::string out;
  JsonWriter w(out);
  // The key is shown this once; only its digest is kept.
  w.beginObject().field("id", keyId.value()).field("name", std::string_view(name));
  w.field("key", std::string_view(key)).endObject();
  auto r = http::jsonResponse(201, std::move(out));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

http::Response AuthService::listApiKeys(const http::Request& request) {
  auto id = authenticate(request);
  if (!id) return apiError(401, "UNAUTHENTICATED", "not signed in");
  std::string out;
  JsonWriter w(out);
  w.beginObject().key("apiKeys").beginArray();
  const bool all = id->role == kRoleAdmin;
  for (const ApiKey& k :
       store_.apiKeys(all ? std::nullopt : std::optional<std::string_view>(id->email))) {
    w.beginObject().field("id", k.id).field("name", std::string_view(k.name));
    w.field("owner", std::string_view(k.owner)).field("createdAt", k.createdAtMs).endObject();
  }
  w.endArray().endObject();
  return http::jsonResponse(200, std::move(out));
}

http::Response AuthService::revokeApiKey(const http::Request& request) {
  auto id = authenticate(request);
  if (!id) return apiError(401, "UNAUTHENTICATED", "not signed in");
  Body body(request.body);
  auto keyId = body.integer("id");
  if (!keyId) return badRequest("the body must be {\"id\": <key id>}");
  const bool admin = id->role == kRoleAdmin;
  bool mine = false;
  for (const ApiKey& k : store_.apiKeys(id->email)) mine = mine || k.id == *keyId;
  if (!admin && !mine) return apiError(404, "NOT_FOUND", "no such key");
  if (!store_.deleteApiKey(*keyId)) return apiError(404, "NOT_FOUND", "no such key");
  return http::jsonResponse(200, "{}");
}

void AuthService::addRoutes(ApiHandler& api) {
  auto route = [this](http::Response (AuthService::*method)(const http::Request&)) -> Route {
    return [this, method](http::Request&& request, http::Respond respond) {
      respond((this->*method)(request));
    };
  };
  // Routes that hash a password answer from the hashing thread.
  auto hashing = [this](http::Response (AuthService::*method)(const http::Request&)) -> Route {
    return [this, method](http::Request&& request, http::Respond respond) {
      auto shared = std::make_shared<std::pair<http::Request, http::Respond>>(std::move(request),
                                                                              std::move(respond));
      if (!postHashWork(
              [this, method, shared] { shared->second((this->*method)(shared->first)); })) {
        auto r = apiError(503, "UNAVAILABLE", "too many logins at once; retry shortly");
        r.headers.emplace_back("Retry-After", "1");
        shared->second(std::move(r));
      }
    };
  };
  api.add("POST", std::string(kLoginPath), hashing(&AuthService::login));
  api.add("POST", std::string(kLogoutPath), route(&AuthService::logout));
  api.add("POST", std::string(kPasswordPath), hashing(&AuthService::changePassword));
  api.add("GET", std::string(kMePath), route(&AuthService::me));
  api.add("POST", "/api/v1/users", hashing(&AuthService::inviteUser));
  api.add("GET", "/api/v1/users", route(&AuthService::listUsers));
  api.add("POST", "/api/v1/users/delete", route(&AuthService::deleteUser));
  api.add("POST", "/api/v1/sessions/revoke", route(&AuthService::revokeSessions));
  api.add("POST", "/api/v1/apikeys", route(&AuthService::createApiKey));
  api.add("GET", "/api/v1/apikeys", route(&AuthService::listApiKeys));
  api.add("POST", "/api/v1/apikeys/revoke", route(&AuthService::revokeApiKey));
}

}  // namespace stackhouse::web::auth
