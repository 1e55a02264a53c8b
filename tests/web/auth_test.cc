// Users, sessions, API keys, throttling and the ingestion key, without a server: requests are
// handed to an ApiHandler directly, time comes from a fake clock, and the SQLite file is read back.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <future>
#include <optional>

#include "receivers/otlp/ingestion_key.h"
#include "support/temp_dir.h"
#include "web/api_handler.h"
#include "web/auth/auth_service.h"
#include "web/auth/auth_store.h"
#include "web/auth/login_throttle.h"
#include "web/auth/secrets.h"

namespace stackhouse::web::auth {
namespace {

constexpr int64_t kSecond = 1000;

TEST(Secrets, PasswordHashesAreArgon2id) {
  ASSERT_TRUE(initCrypto());
  auto hash = hashPassword("correct horse battery");
  ASSERT_TRUE(hash.isOk());
  EXPECT_EQ(hash.value().rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << hash.value();
  EXPECT_TRUE(verifyPassword(hash.value(), "correct horse battery"));
  EXPECT_FALSE(verifyPassword(hash.value(), "correct horse batterY"));
  EXPECT_FALSE(verifyPassword("", "x"));
  EXPECT_NE(hashPassword("correct horse battery").value(), hash.value()) << "salted";
}

TEST(Secrets, TokensAreLongRandomAndDigested) {
  ASSERT_TRUE(initCrypto());
  const std::string a = randomToken(), b = randomToken();
  EXPECT_EQ(a.size(), 43u);  // 256 bits
  EXPECT_NE(a, b);
  EXPECT_EQ(randomToken(16).size(), 22u);  // the minimum the design allows: 128 bits
  EXPECT_EQ(tokenDigest(a).size(), 64u);
  EXPECT_EQ(tokenDigest(a), tokenDigest(a));
  EXPECT_NE(tokenDigest(a), tokenDigest(b));
  EXPECT_EQ(randomPassword().size(), 20u);
  EXPECT_TRUE(constantTimeEqual("abc", "abc"));
  EXPECT_FALSE(constantTimeEqual("abc", "abd"));
  EXPECT_FALSE(constantTimeEqual("abc", "ab"));
}

struct FakeClock {
  int64_t now = 1'700'000'000'000;
  std::function<int64_t()> fn() {
    return [this] { return now; };
  }
};

TEST(LoginThrottle, SlowsAPairExponentiallyAndForgets) {
  FakeClock clock;
  LoginThrottleOptions o;
  o.nowMs = clock.fn();
  LoginThrottle t(o);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.retryAfterSeconds("a@x", "10.0.0.1"), 0) << i;
    t.recordFailure("a@x", "10.0.0.1");
  }
  EXPECT_EQ(t.retryAfterSeconds("a@x", "10.0.0.1"), 1);
  clock.now += kSecond;
  EXPECT_EQ(t.retryAfterSeconds("a@x", "10.0.0.1"), 0);
  t.recordFailure("a@x", "10.0.0.1");
  EXPECT_EQ(t.retryAfterSeconds("a@x", "10.0.0.1"), 2);
  t.recordFailure("a@x", "10.0.0.1");
  EXPECT_EQ(t.retryAfterSeconds("a@x", "10.0.0.1"), 4);
  // The same account from another address, and another account from the same one, are free.
  EXPECT_EQ(t.retryAfterSeconds("a@x", "10.0.0.2"), 0);
  EXPECT_EQ(t.retryAfterSeconds("b@x", "10.0.0.1"), 0);
  for (int i = 0; i < 30; ++i) t.recordFailure("a@x", "10.0.0.1");
  EXPECT_EQ(t.retryAfterSeconds("a@x", "10.0.0.1"), 15 * 60) << "capped";
  clock.now += 61 * 60 * kSecond;
  EXPECT_EQ(t.retryAfterSeconds("a@x", "10.0.0.1"), 0) << "forgotten after an hour";
}

TEST(LoginThrottle, AnAddressGuessingManyAccountsIsSlowedToo) {
  FakeClock clock;
  LoginThrottleOptions o;
  o.nowMs = clock.fn();
  LoginThrottle t(o);
  for (int i = 0; i < 30; ++i) t.recordFailure("user" + std::to_string(i) + "@x", "10.0.0.9");
  EXPECT_EQ(t.retryAfterSeconds("fresh@x", "10.0.0.9"), 1);
  EXPECT_EQ(t.retryAfterSeconds("fresh@x", "10.0.0.8"), 0);
}

TEST(LoginThrottle, SuccessClearsThePairAndTablesAreBounded) {
  FakeClock clock;
  LoginThrottleOptions o;
  o.nowMs = clock.fn();
  o.maxEntries = 4;
  LoginThrottle t(o);
  for (int i = 0; i < 5; ++i) t.recordFailure("a@x", "10.0.0.1");
  EXPECT_GT(t.retryAfterSeconds("a@x", "10.0.0.1"), 0);
  t.recordSuccess("a@x", "10.0.0.1");
  EXPECT_EQ(t.retryAfterSeconds("a@x", "10.0.0.1"), 0);
  for (int i = 0; i < 100; ++i) {
    clock.now += 1;
    t.recordFailure("a@x", "10.1.0." + std::to_string(i));
  }
  SUCCEED() << "no unbounded growth (checked by maxEntries eviction)";
}

TEST(IngestionKey, BearerOrBareInConstantTime) {
  using receivers::ingestionKeyAccepted;
  EXPECT_TRUE(ingestionKeyAccepted("", ""));
  EXPECT_TRUE(ingestionKeyAccepted("", "anything"));
  EXPECT_TRUE(ingestionKeyAccepted("k3y-123", "Bearer k3y-123"));
  EXPECT_TRUE(ingestionKeyAccepted("k3y-123", "bearer k3y-123"));
  EXPECT_TRUE(ingestionKeyAccepted("k3y-123", "k3y-123"));
  EXPECT_FALSE(ingestionKeyAccepted("k3y-123", ""));
  EXPECT_FALSE(ingestionKeyAccepted("k3y-123", "Bearer k3y-12"));
  EXPECT_FALSE(ingestionKeyAccepted("k3y-123", "Bearer k3y-1234"));
  EXPECT_FALSE(ingestionKeyAccepted("k3y-123", "Basic k3y-123"));
}

// An AuthService behind an ApiHandler, with one protected route.
class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(initCrypto());
    auto opened = AuthStore::open(dir_.path() + "/app.sqlite");
    ASSERT_TRUE(opened.isOk()) << opened.status().message();
    store_ = std::move(opened.value());
    AuthOptions o;
    o.nowMs = clock_.fn();
    service_ = std::make_unique<AuthService>(*store_, o);
    api_ = std::make_unique<ApiHandler>(ApiOptions{});
    api_->setGuard(service_->guard());
    service_->addRoutes(*api_);
    api_->add("POST", "/api/v1/sql", [](http::Request&&, http::Respond respond) {
      respond(http::jsonResponse(200, "{\"ok\":true}"));
    });
    auto seeded = service_->seedAdmin("Admin@Example.com", "seed password 1");
    ASSERT_TRUE(seeded.isOk());
    EXPECT_EQ(seeded.value(), "") << "a configured password is not generated";
  }

  http::Response call(std::string method, std::string path, std::string body,
                      http::Headers headers = {}) {
    http::Request r;
    r.method = std::move(method);
    r.target = std::move(path);
    r.body = std::move(body);
    r.remoteAddress = "127.0.0.1";
    r.headers = {{"host", "127.0.0.1:8080"}, {"content-type", "application/json"}};
    for (auto& h : headers) r.headers.push_back(std::move(h));
    // Routes that hash a password answer later, from the service's hashing thread.
    auto promise = std::make_shared<std::promise<http::Response>>();
    auto answer = promise->get_future();
    api_->handle(std::move(r),
                 [promise](http::Response response) { promise->set_value(std::move(response)); });
    EXPECT_EQ(answer.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    return answer.get();
  }

  static std::string header(const http::Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return {};
  }

  struct Login {
    int status;
    std::string cookie;  // name=value
    std::string csrf;
  };
  Login login(std::string_view email, std::string_view password) {
    auto r = call("POST", "/api/v1/auth/login",
                  "{\"email\":\"" + std::string(email) + "\",\"password\":\"" +
                      std::string(password) + "\"}");
    Login l{r.status, {}, {}};
    const std::string setCookie = header(r, "Set-Cookie");
    l.cookie = setCookie.substr(0, setCookie.find(';'));
    const auto at = r.body.find("\"csrfToken\":\"");
    if (at != std::string::npos) l.csrf = r.body.substr(at + 13, 43);
    return l;
  }

  std::vector<std::string> column(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open((dir_.path() + "/app.sqlite").c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
    std::vector<std::string> out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<AuthStore> store_;
  std::unique_ptr<AuthService> service_;
  std::unique_ptr<ApiHandler> api_;
};

TEST_F(AuthServiceTest, NoCredentialsNoEntry) {
  EXPECT_EQ(call("POST", "/api/v1/sql", "{}").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/auth/me", "").status, 401);
  EXPECT_EQ(call("POST", "/api/v1/sql", "{}", {{"authorization", "Bearer nope"}}).status, 401);
  EXPECT_EQ(call("POST", "/api/v1/sql", "{}", {{"cookie", "stackhouse_session=nope"}}).status, 401);
}

TEST_F(AuthServiceTest, UnknownPathsAndMethodsAnswer401BeforeTheyAre404Or405) {
  // Without credentials nothing tells a registered route from an unregistered one.
  EXPECT_EQ(call("GET", "/api/v1/no-such-route", "").status, 401);
  EXPECT_EQ(call("POST", "/api/v1/no-such-route", "{}").status, 401);
  EXPECT_EQ(call("GET", "/api/", "").status, 401);
  EXPECT_EQ(call("DELETE", "/api/v1/sql", "").status, 401) << "a wrong method too";
  EXPECT_EQ(call("GET", "/api/v1/sql", "").status, 401);
  // With a key the same requests are told apart.
  auto key = service_->issueCliKey();
  ASSERT_TRUE(key.isOk());
  const http::Headers bearer = {{"authorization", "Bearer " + key.value()}};
  EXPECT_EQ(call("GET", "/api/v1/no-such-route", "", bearer).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/sql", "", bearer).status, 405);
  EXPECT_EQ(call("POST", "/api/v1/sql", "{}", bearer).status, 200);
  // Login stays open, and only login.
  EXPECT_EQ(call("GET", "/api/v1/auth/login", "").status, 405);
  EXPECT_EQ(call("GET", "/api/v1/auth/login/x", "").status, 401);
}

TEST_F(AuthServiceTest, SessionFlowCsrfAndForcedChange) {
  EXPECT_EQ(login("admin@example.com", "wrong password").status, 401);
  Login l = login("ADMIN@example.com", "seed password 1");
  ASSERT_EQ(l.status, 200);
  ASSERT_EQ(l.csrf.size(), 43u);
  const http::Headers withCsrf = {{"cookie", l.cookie}, {"x-csrf-token", l.csrf}};
  auto r = call("POST", "/api/v1/sql", "{}", withCsrf);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("PASSWORD_CHANGE_REQUIRED"), std::string::npos);
  EXPECT_EQ(call("POST", "/api/v1/auth/password",
                 R"({"currentPassword":"seed password 1","newPassword":"new password 12"})",
                 {{"cookie", l.cookie}})
                .status,
            403)
      << "no CSRF token";
  EXPECT_EQ(
      call("POST", "/api/v1/auth/password",
           R"({"currentPassword":"seed password 1","newPassword":"new password 12"})", withCsrf)
          .status,
      200);
  EXPECT_EQ(call("POST", "/api/v1/sql", "{}", withCsrf).status, 200);
  EXPECT_EQ(call("POST", "/api/v1/sql", "{}", {{"cookie", l.cookie}}).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/sql", "{}", {{"cookie", l.cookie}, {"x-csrf-token", "x"}}).status,
            403);
}

TEST_F(AuthServiceTest, TokensAndPasswordsAreStoredHashed) {
  Login l = login("admin@example.com", "seed password 1");
  ASSERT_EQ(l.status, 200);
  const std::string token = l.cookie.substr(l.cookie.find('=') + 1);
  ASSERT_EQ(token.size(), 43u);
  const auto digests = column("SELECT token_digest FROM sessions");
  ASSERT_EQ(digests.size(), 1u);
  EXPECT_EQ(digests[0], tokenDigest(token));
  EXPECT_EQ(digests[0].find(token), std::string::npos);
  const auto hashes = column("SELECT password_hash FROM users");
  ASSERT_EQ(hashes.size(), 1u);
  EXPECT_EQ(hashes[0].rfind("$argon2id$", 0), 0u);
  auto key = service_->issueCliKey();
  ASSERT_TRUE(key.isOk());
  EXPECT_EQ(column("SELECT key_digest FROM api_keys"),
            std::vector<std::string>{tokenDigest(key.value())});
  EXPECT_EQ(call("POST", "/api/v1/sql", "{}", {{"authorization", "Bearer " + key.value()}}).status,
            200)
      << "an API key needs no CSRF token and no password change";
  ASSERT_TRUE(service_->issueCliKey().isOk());
  EXPECT_EQ(call("POST", "/api/v1/sql", "{}", {{"authorization", "Bearer " + key.value()}}).status,
            401)
      << "a new CLI key revokes the old one";
}

TEST_F(AuthServiceTest, IdleAndAbsoluteTimeouts) {
  Login l = login("admin@example.com", "seed password 1");
  const http::Headers c = {{"cookie", l.cookie}};
  EXPECT_EQ(call("GET", "/api/v1/auth/me", "", c).status, 200);
  clock_.now +=
      std::chrono::duration_cast<std::chrono::milliseconds>(kSessionIdleTimeout).count() + kSecond;
  EXPECT_EQ(call("GET", "/api/v1/auth/me", "", c).status, 401) << "idle";

  l = login("admin@example.com", "seed password 1");
  const http::Headers c2 = {{"cookie", l.cookie}};
  // Active every 6 hours: never idle, but out after 7 days.
  for (int i = 0; i < 27; ++i) {
    clock_.now += 6 * 3600 * kSecond;
    ASSERT_EQ(call("GET", "/api/v1/auth/me", "", c2).status, 200) << i;
  }
  clock_.now += 6 * 3600 * kSecond + kSecond;
  EXPECT_EQ(call("GET", "/api/v1/auth/me", "", c2).status, 401) << "absolute";
}

TEST_F(AuthServiceTest, ThrottledLoginAnswers429WithRetryAfter) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(login("admin@example.com", "wrong password").status, 401);
  auto r = call("POST", "/api/v1/auth/login",
                R"({"email":"admin@example.com","password":"seed password 1"})");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(header(r, "Retry-After"), "1");
  clock_.now += kSecond;
  EXPECT_EQ(login("admin@example.com", "seed password 1").status, 200);
}

TEST_F(AuthServiceTest, SeedOnlyIntoAnEmptyStoreAndGeneratedWhenUnset) {
  auto again = service_->seedAdmin("other@example.com", "");
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(again.value(), "") << "users exist: nothing seeded";
  EXPECT_EQ(store_->userCount(), 1);

  testing::TempDir other;
  auto store = AuthStore::open(other.path() + "/app.sqlite");
  ASSERT_TRUE(store.isOk());
  AuthService fresh(*store.value(), AuthOptions{});
  auto generated = fresh.seedAdmin("admin@yourcompany.com", "");
  ASSERT_TRUE(generated.isOk());
  EXPECT_EQ(generated.value().size(), 20u);
  auto user = store.value()->user("admin@yourcompany.com");
  ASSERT_TRUE(user.has_value());
  EXPECT_TRUE(user->mustChangePassword);
  EXPECT_TRUE(verifyPassword(user->passwordHash, generated.value()));
}

}  // namespace
}  // namespace stackhouse::web::auth

namespace stackhouse::web {
namespace {

int statusFor(ApiHandler& api, std::string host) {
  http::Request r;
  r.method = "GET";
  r.target = "/api/v1/ping";
  r.headers = {{"host", std::move(host)}};
  int status = 0;
  api.handle(std::move(r), [&status](http::Response response) { status = response.status; });
  return status;
}

TEST(ApiHandlerHosts, TheIngressHostIsAcceptedAndOnlyIt) {
  ApiOptions o;
  o.listenHost = "0.0.0.0";
  o.publicHost = "Observe.Example.com";
  ApiHandler api(o);
  api.add("GET", "/api/v1/ping",
          [](http::Request&&, http::Respond respond) { respond(http::jsonResponse(200, "{}")); });
  EXPECT_EQ(statusFor(api, "observe.example.com"), 200);
  EXPECT_EQ(statusFor(api, "observe.example.com:443"), 200);
  EXPECT_EQ(statusFor(api, "127.0.0.1:8080"), 200);
  EXPECT_EQ(statusFor(api, "rebind.evil.example"), 403);

  ApiHandler wildcard(ApiOptions{"0.0.0.0", ""});
  wildcard.add("GET", "/api/v1/ping", [](http::Request&&, http::Respond respond) {
    respond(http::jsonResponse(200, "{}"));
  });
  EXPECT_EQ(statusFor(wildcard, "anything.example"), 200) << "no ingress host: any Host, as before";
}

}  // namespace
}  // namespace stackhouse::web
