#include "app/library_services.h"

#include <future>
#include <memory>

#include "common/log.h"
#include "query/metrics_api.h"
#include "web/library/alert_routes.h"
#include "web/library/library_routes.h"

namespace stackhouse::app {

namespace {

// Chart alerts read their series through the same metrics query as POST /api/v1/metrics/query,
// on the query service's bounded read connections. Each statement waits for its answer at most
// `timeout`; a late answer after that writes into the shared promise's live memory.
Result<std::string> runMetricsQuery(query::QueryService& queries, const std::string& request,
                                    std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<query::SqlApiReply>>();
  auto answer = promise->get_future();
  const int64_t nowNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  query::RunStatement run = [&queries](query::SqlRequest sql,
                                       std::function<void(query::SqlApiReply)> then) {
    queries.submit(std::move(sql), {}, std::move(then));
  };
  query::runMetricQuery(
      request, nowNs, run,
      [promise](query::SqlApiReply reply) { promise->set_value(std::move(reply)); },
      queries.metricRollupMs());
  if (answer.wait_for(timeout) != std::future_status::ready) {
    return unavailable("the metrics query did not answer within " +
                       std::to_string(timeout.count() / 1000) + " s");
  }
  query::SqlApiReply reply = answer.get();
  if (reply.httpStatus != 200) {
    return unavailable("the metrics query failed (HTTP " + std::to_string(reply.httpStatus) +
                       "): " + reply.json.substr(0, 300));
  }
  return std::move(reply.json);
}

int64_t systemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<LibraryServices>> LibraryServices::create(const std::string& dataDir,
                                                                 web::ApiHandler& api,
                                                                 web::auth::AuthService& auth,
                                                                 query::QueryService& queries) {
  std::unique_ptr<LibraryServices> s(new LibraryServices());
  const std::string path = dataDir + "/app.sqlite";
  auto library = web::library::LibraryStore::open(path);
  if (!library) return library.status();
  s->library_ = std::move(library.value());
  auto alertStore = alerts::AlertStore::open(path);
  if (!alertStore) return alertStore.status();
  s->alertStore_ = std::move(alertStore.value());
  auto health = web::library::ensureHealthDashboard(*s->library_, systemNowMs());
  if (!health) return health.status();

  s->searchSource_ = std::make_unique<alerts::QuerySearchSource>(queries);
  s->chartSource_ = std::make_unique<alerts::MetricsQuerySource>(
      [&queries](const std::string& request) -> Result<std::string> {
        return runMetricsQuery(queries, request, std::chrono::seconds(60));
      });
  s->client_ = alerts::makeCurlWebhookClient();
  s->notifier_ =
      std::make_unique<alerts::Notifier>(*s->alertStore_, *s->client_, alerts::NotifierOptions{});

  web::library::Identify identify =
      [&auth](const http::Request& request) -> std::optional<web::library::Caller> {
    auto id = auth.authenticate(request);
    if (!id) return std::nullopt;
    return web::library::Caller{id->email, id->role == web::auth::kRoleAdmin};
  };
  web::library::addLibraryRoutes(api, *s->library_, identify, systemNowMs);
  // The engine exists before the API serves, for the alert routes; it starts in start().
  s->engine_ =
      std::make_unique<alerts::AlertEngine>(*s->alertStore_, *s->searchSource_, *s->chartSource_,
                                            s->notifier_.get(), alerts::EngineOptions{});
  web::library::addAlertRoutes(api, *s->alertStore_, *s->engine_, identify);
  return s;
}

LibraryServices::~LibraryServices() { stop(); }

void LibraryServices::start(const std::string& uiBase) {
  engine_->setLinkBase(uiBase);
  notifier_->start();
  engine_->start();
}

void LibraryServices::stop() {
  if (engine_) engine_->stop();
  if (notifier_) notifier_->stop();
}

}  // namespace stackhouse::app
