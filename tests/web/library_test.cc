// Saved searches, dashboards and the alerts' routes behind an ApiHandler, on a real SQLite file
// shared with the users' tables; callers named by a test header instead of a session.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <future>

#include "alerts/alert_engine.h"
#include "alerts/alert_store.h"
#include "support/temp_dir.h"
#include "web/api_handler.h"
#include "web/auth/auth_store.h"
#include "web/library/alert_routes.h"
#include "web/library/library_json.h"
#include "web/library/library_routes.h"
#include "web/library/library_store.h"

namespace stackhouse::web::library {
namespace {

class FakeSource final : public alerts::SeriesSource {
 public:
  Result<std::vector<alerts::GroupValue>> values(const alerts::AlertDefinition&, int64_t,
                                                 int64_t) override {
    return std::vector<alerts::GroupValue>{};
  }
  Status check(const alerts::AlertDefinition& def) override {
    if (def.query == "(") return invalidArgument("query: unexpected end of query at column 2");
    return Status::ok();
  }
};

class LibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = dir_.path() + "/app.sqlite";
    auth_ = std::move(auth::AuthStore::open(path).value());  // the users' tables, first
    auto opened = LibraryStore::open(path);
    ASSERT_TRUE(opened.isOk()) << opened.status().message();
    store_ = std::move(opened.value());
    alertStore_ = std::move(alerts::AlertStore::open(path).value());
    alerts::EngineOptions o;
    o.nowMs = [this] { return now_; };
    engine_ = std::make_unique<alerts::AlertEngine>(*alertStore_, source_, source_, nullptr, o);
    api_ = std::make_unique<ApiHandler>(ApiOptions{});
    Identify identify = [](const http::Request& r) -> std::optional<Caller> {
      const std::string_view who = r.header("x-test-user");
      if (who.empty()) return std::nullopt;
      return Caller{std::string(who), who == "admin@example.com"};
    };
    addLibraryRoutes(*api_, *store_, identify, [this] { return now_; });
    addAlertRoutes(*api_, *alertStore_, *engine_, identify);
  }

  struct Answer {
    int status;
    std::string body;
    simdjson::dom::element json;
    std::shared_ptr<simdjson::dom::parser> parser;  // json's document lives as long as the answer
  };
  Answer call(std::string method, std::string path, std::string body = "",
              std::string user = "ann@example.com") {
    http::Request r;
    r.method = std::move(method);
    r.target = std::move(path);
    r.body = std::move(body);
    r.headers = {{"host", "127.0.0.1:8080"}, {"content-type", "application/json"}};
    if (!user.empty()) r.headers.emplace_back("x-test-user", user);
    std::promise<http::Response> promise;
    api_->handle(std::move(r),
                 [&promise](http::Response response) { promise.set_value(std::move(response)); });
    http::Response response = promise.get_future().get();
    Answer a{response.status, response.body, {}, std::make_shared<simdjson::dom::parser>()};
    EXPECT_EQ(a.parser->parse(a.body).get(a.json), simdjson::SUCCESS) << a.body;
    return a;
  }
  static std::string message(const Answer& a) {
    std::string_view m;
    return a.json["error"]["message"].get_string().get(m) == simdjson::SUCCESS ? std::string(m)
                                                                               : "";
  }

  testing::TempDir dir_;
  int64_t now_ = 1796547600000;
  std::unique_ptr<auth::AuthStore> auth_;
  std::unique_ptr<LibraryStore> store_;
  std::unique_ptr<alerts::AlertStore> alertStore_;
  FakeSource source_;
  std::unique_ptr<alerts::AlertEngine> engine_;
  std::unique_ptr<ApiHandler> api_;
};

TEST_F(LibraryTest, TablesSitBesideTheUsersWithTheirSchemaVersions) {
  ASSERT_TRUE(auth_->addUser({"ann@example.com", "member", "x", false, 1}).isOk());
  // Reopening migrates nothing twice and keeps what is there.
  ASSERT_EQ(call("POST", "/api/v1/searches", R"({"name": "errors", "source": "logs"})").status,
            201);
  store_.reset();
  store_ = std::move(LibraryStore::open(dir_.path() + "/app.sqlite").value());
  sqlite3* db = nullptr;
  sqlite3_open((dir_.path() + "/app.sqlite").c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT component, version FROM schema_versions ORDER BY component", -1,
                     &s, nullptr);
  std::vector<std::string> rows;
  while (sqlite3_step(s) == SQLITE_ROW) {
    rows.push_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))) + "=" +
                   std::to_string(sqlite3_column_int(s, 1)));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_EQ(rows, (std::vector<std::string>{"alerts=1", "library=1"}));
  EXPECT_EQ(auth_->userCount(), 1);
  EXPECT_EQ(store_->list(Kind::kSavedSearch, "ann@example.com", false).size(), 1u);
}

TEST_F(LibraryTest, SavedSearchesAreOwnedOrShared) {
  auto created = call("POST", "/api/v1/searches",
                      R"({"name": "slow checkouts", "source": "traces", "query": "duration:>500",
                          "columns": ["Timestamp", "SpanName"], "timeRange": {"from": "1h ago", "to": "now"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  const int64_t id = created.json["id"].get_int64().value();
  EXPECT_EQ(std::string(created.json["mode"].get_string().value()), "search");
  EXPECT_EQ(std::string(created.json["owner"].get_string().value()), "ann@example.com");
  const std::string path = "/api/v1/searches/" + std::to_string(id);
  // Another member neither sees nor changes a search that is not shared.
  EXPECT_EQ(call("GET", path, "", "bob@example.com").status, 404);
  EXPECT_EQ(
      call("GET", "/api/v1/searches", "", "bob@example.com").json["searches"].get_array().size(),
      0u);
  // Shared: Bob sees it and may edit it, not delete it nor unshare it.
  auto shared = call(
      "PUT", path,
      R"({"name": "slow checkouts", "shared": true, "source": "traces", "query": "duration:>900"})");
  ASSERT_EQ(shared.status, 200) << shared.body;
  EXPECT_EQ(call("GET", path, "", "bob@example.com").status, 200);
  EXPECT_EQ(
      call("PUT", path, R"({"name": "renamed", "source": "traces"})", "bob@example.com").status,
      200);
  EXPECT_EQ(
      call("PUT", path, R"({"name": "x", "shared": false, "source": "traces"})", "bob@example.com")
          .status,
      403);
  EXPECT_EQ(call("DELETE", path, "", "bob@example.com").status, 403);
  EXPECT_EQ(call("DELETE", path, "", "admin@example.com").status, 200);
  EXPECT_EQ(call("GET", path).status, 404);
  // Without a caller: 401.
  EXPECT_EQ(call("GET", "/api/v1/searches", "", "").status, 401);
}

TEST_F(LibraryTest, BadBodiesNameTheField) {
  struct Case {
    std::string path, body, start;
  };
  const std::vector<Case> cases = {
      {"/api/v1/searches", R"({"source": "logs"})", "name: required"},
      {"/api/v1/searches", R"({"name": "a", "source": "metrics"})", "source: must be one of"},
      {"/api/v1/searches", R"({"name": "a", "source": "logs", "mode": "regex"})",
       "mode: must be one of"},
      {"/api/v1/searches", R"({"name": "a", "source": "logs", "columns": [1]})", "columns[0]:"},
      {"/api/v1/searches", R"({"name": "a", "source": "logs", "timeRange": {"from": "1h ago"}})",
       "timeRange.to: required"},
      {"/api/v1/searches", R"({"name": "a", "source": "logs", "colour": "red"})",
       "colour: unknown field"},
      {"/api/v1/searches", "[1]", "the body must be a JSON object"},
      {"/api/v1/searches", "{", "the body is not valid JSON"},
      {"/api/v1/dashboards",
       R"({"name": "d", "tiles": [{"id": "a", "kind": "chart", "x": 0, "y": 0, "w": 4, "h": 3}]})",
       "tiles[0].kind: must be one of"},
      {"/api/v1/dashboards",
       R"({"name": "d", "tiles": [{"id": "a", "kind": "markdown", "x": 0, "y": 0, "w": 13, "h": 3, "markdown": {"text": ""}}]})",
       "tiles[0].w: must be an integer from 1 to 12"},
      {"/api/v1/dashboards",
       R"({"name": "d", "tiles": [{"id": "a", "kind": "markdown", "x": 10, "y": 0, "w": 4, "h": 3, "markdown": {"text": ""}}]})",
       "tiles[0].w: the tile ends past"},
      {"/api/v1/dashboards",
       R"({"name": "d", "tiles": [{"id": "a", "kind": "markdown", "x": 0, "y": 0, "w": 4, "h": 3}]})",
       "tiles[0].markdown: required"},
      {"/api/v1/dashboards",
       R"({"name": "d", "tiles": [{"id": "a", "kind": "metric", "x": 0, "y": 0, "w": 4, "h": 3, "metric": {"metric": "m", "display": "pie"}}]})",
       "tiles[0].metric.display: must be one of"},
      {"/api/v1/dashboards",
       R"({"name": "d", "tiles": [{"id": "a", "kind": "metric", "x": 0, "y": 0, "w": 4, "h": 3, "metric": {"metric": "m", "groupBy": ["a", "b", "c", "d"]}}]})",
       "tiles[0].metric.groupBy: at most 3"},
      {"/api/v1/dashboards",
       R"({"name": "d", "tiles": [{"id": "a", "kind": "search", "x": 0, "y": 0, "w": 4, "h": 3, "search": {"source": "logs"}}, {"id": "a", "kind": "search", "x": 4, "y": 0, "w": 4, "h": 3, "search": {"source": "logs"}}]})",
       "tiles[1].id:"},
      {"/api/v1/dashboards/import", R"({"format": "grafana", "version": 1, "dashboard": {}})",
       "format: must be"},
      {"/api/v1/dashboards/import",
       R"({"format": "stackhouse.dashboard", "version": 2, "dashboard": {"name": "x"}})",
       "version: 2 is not a version"},
      {"/api/v1/dashboards/import",
       R"({"format": "stackhouse.dashboard", "version": 1, "dashboard": {"name": "x", "tiles": [{"id": "a"}]}})",
       "dashboard.tiles[0].kind: required"},
  };
  for (const auto& c : cases) {
    auto a = call("POST", c.path, c.body);
    EXPECT_EQ(a.status, 400) << c.body;
    EXPECT_EQ(message(a).rfind(c.start, 0), 0u) << c.body << " → " << message(a);
  }
}

TEST_F(LibraryTest, DashboardsRoundTripThroughExportAndImport) {
  const std::string body = R"({"name": "checkout", "shared": true, "filter": "service:checkout",
    "timeRange": {"from": "6h ago", "to": "now"}, "tiles": [
      {"id": "t1", "kind": "count", "title": "Errors", "x": 0, "y": 0, "w": 6, "h": 4,
       "count": {"source": "logs", "query": "level:error"}},
      {"id": "t2", "kind": "metric", "title": "p99", "x": 6, "y": 0, "w": 6, "h": 4,
       "metric": {"metric": "http.server.duration", "aggregation": "p99", "groupBy": ["service.name"], "step": 60, "display": "bar"}},
      {"id": "t3", "kind": "markdown", "x": 0, "y": 4, "w": 12, "h": 2, "markdown": {"text": "# Runbook\n<script>alert(1)</script>"}},
      {"id": "t4", "kind": "search", "x": 0, "y": 6, "w": 12, "h": 6, "search": {"source": "traces", "query": "status:error", "columns": ["SpanName"]}}]})";
  auto created = call("POST", "/api/v1/dashboards", body);
  ASSERT_EQ(created.status, 201) << created.body;
  const int64_t id = created.json["id"].get_int64().value();
  auto exported = call("GET", "/api/v1/dashboards/" + std::to_string(id) + "/export");
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(std::string(exported.json["format"].get_string().value()), "stackhouse.dashboard");
  EXPECT_EQ(exported.json["version"].get_int64().value(), 1);
  EXPECT_EQ(exported.body.find("owner"), std::string::npos) << "an export carries no owner";
  auto imported = call("POST", "/api/v1/dashboards/import", exported.body, "bob@example.com");
  ASSERT_EQ(imported.status, 201) << imported.body;
  EXPECT_NE(imported.json["id"].get_int64().value(), id);
  EXPECT_EQ(std::string(imported.json["owner"].get_string().value()), "bob@example.com");
  EXPECT_FALSE(imported.json["shared"].get_bool().value());
  // Same content: tiles, filter, range.
  auto again = call("GET", "/api/v1/dashboards/" + std::to_string(id) + "/export");
  auto reexported = call(
      "GET",
      "/api/v1/dashboards/" + std::to_string(imported.json["id"].get_int64().value()) + "/export",
      "", "bob@example.com");
  EXPECT_EQ(again.body, reexported.body);
  EXPECT_NE(again.body.find(R"("text":"# Runbook\n<script>alert(1)</script>")"), std::string::npos)
      << "markdown is kept as text; the UI renders it without HTML";
}

TEST_F(LibraryTest, HealthDashboardCreatedOnceAndStaysDeleted) {
  auto id = ensureHealthDashboard(*store_, now_);
  ASSERT_TRUE(id.isOk()) << id.status().message();
  ASSERT_GT(id.value(), 0);
  EXPECT_EQ(ensureHealthDashboard(*store_, now_).value(), 0);
  auto item = store_->get(Kind::kDashboard, id.value());
  ASSERT_TRUE(item);
  EXPECT_TRUE(item->shared);
  EXPECT_EQ(item->owner, "");
  for (const char* metric :
       {"stackhouse_receiver_records_total", "stackhouse_memory_limiter_refused_total",
        "stackhouse_queue_bytes", "stackhouse_sink_send_seconds"}) {
    EXPECT_NE(item->document.find(metric), std::string::npos) << metric;
  }
  // Every user sees it; a member cannot delete it, an admin can, and it is not recreated.
  EXPECT_EQ(call("GET", "/api/v1/dashboards/" + std::to_string(id.value())).status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/dashboards/" + std::to_string(id.value())).status, 403);
  EXPECT_EQ(
      call("DELETE", "/api/v1/dashboards/" + std::to_string(id.value()), "", "admin@example.com")
          .status,
      200);
  EXPECT_EQ(ensureHealthDashboard(*store_, now_).value(), 0);
}

TEST_F(LibraryTest, AlertRoutes) {
  const std::string body = R"({"name": "errors", "kind": "search", "source": "logs",
    "query": "level:error", "groupBy": "service", "window": "5m",
    "threshold": {"op": "between", "value": 1, "value2": 10}, "consecutiveWindows": 2,
    "channel": {"type": "slack", "url": "https://hooks.slack.example/services/T0/B0/SECRET"}})";
  auto created = call("POST", "/api/v1/alerts", body);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body.find("SECRET"), std::string::npos) << "a webhook URL is a credential";
  const std::string path =
      "/api/v1/alerts/" + std::to_string(created.json["id"].get_int64().value());
  auto got = call("GET", path);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(std::string(got.json["state"].get_string().value()), "INSUFFICIENT_DATA");
  EXPECT_EQ(std::string(got.json["channel"]["url"].get_string().value()),
            "https://hooks.slack.example/…");
  EXPECT_EQ(got.json["history"].get_array().size(), 0u);
  EXPECT_EQ(got.json["lastWindowEnd"].get_int64().value(), 1796547600000 - 10 * 60'000)
      << "the window before the last complete one";
  // A query that does not parse, a bad window: 400 naming the field.
  std::string badQuery = body;
  badQuery.replace(badQuery.find("level:error"), 11, "(");
  EXPECT_EQ(message(call("POST", "/api/v1/alerts", badQuery)).rfind("query:", 0), 0u);
  std::string badWindow = body;
  badWindow.replace(badWindow.find("\"5m\""), 4, "\"5x\"");
  EXPECT_EQ(message(call("POST", "/api/v1/alerts", badWindow)).rfind("window:", 0), 0u);
  // Silence, disable, update without the URL (kept), delete.
  auto silenced = call("POST", path + "/silence", R"({"until": "2026-12-06T10:00:00Z"})");
  ASSERT_EQ(silenced.status, 200) << silenced.body;
  EXPECT_TRUE(silenced.json["silenced"].get_bool().value());
  EXPECT_EQ(call("POST", path + "/silence", R"({"until": "tomorrow"})").status, 400);
  auto disabled = call("POST", path + "/enabled", R"({"enabled": false})");
  EXPECT_EQ(std::string(disabled.json["state"].get_string().value()), "DISABLED");
  std::string noUrl = body;
  const std::string url = R"(, "url": "https://hooks.slack.example/services/T0/B0/SECRET")";
  noUrl.replace(noUrl.find(url), url.size(), "");
  auto updated = call("PUT", path, noUrl);
  ASSERT_EQ(updated.status, 200) << noUrl << " → " << updated.body;
  EXPECT_EQ(alertStore_->list().front().def.channel.url,
            "https://hooks.slack.example/services/T0/B0/SECRET");
  EXPECT_EQ(call("GET", "/api/v1/alerts").json["alerts"].get_array().size(), 1u);
  EXPECT_EQ(call("DELETE", path).status, 200);
  EXPECT_EQ(call("GET", path).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/alerts/abc").status, 404);
}

}  // namespace
}  // namespace stackhouse::web::library
