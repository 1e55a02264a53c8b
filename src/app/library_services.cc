#include "app/library_services.h"

#include "common/log.h"
#include "web/library/alert_routes.h"
#include "web/library/library_routes.h"

namespace stackhouse::app {

namespace {

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
  // The metrics query (POST /api/v1/metrics/query) is not part of this build yet: chart alerts are
  // accepted and stored, and each evaluation says why it has no value until it is wired here.
  s->chartSource_ =
      std::make_unique<alerts::MetricsQuerySource>([](const std::string&) -> Result<std::string> {
        return unavailable("the metrics query is not available in this build");
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
