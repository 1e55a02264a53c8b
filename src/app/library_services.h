// Saved searches, dashboards and alerts as the `run` process wires them: their stores in the app
// database, their API routes, the health dashboard created on first start, and the alert engine
// ("alert-eval") and notifier ("alert-notify") threads.
#pragma once

#include <memory>
#include <string>

#include "alerts/alert_engine.h"
#include "alerts/alert_store.h"
#include "alerts/chart_source.h"
#include "alerts/notifier.h"
#include "alerts/search_source.h"
#include "alerts/webhook_client.h"
#include "query/query_service.h"
#include "web/api_handler.h"
#include "web/auth/auth_service.h"
#include "web/library/library_store.h"

namespace stackhouse::app {

class LibraryServices {
 public:
  // Opens the stores (<dataDir>/app.sqlite), creates the health dashboard once, registers the
  // routes. `api`, `auth` and `queries` outlive the services. Start-up only.
  static Result<std::unique_ptr<LibraryServices>> create(const std::string& dataDir,
                                                         web::ApiHandler& api,
                                                         web::auth::AuthService& auth,
                                                         query::QueryService& queries);
  ~LibraryServices();

  // Starts evaluating alerts; `uiBase` ("http://127.0.0.1:8080") begins the links in messages.
  void start(const std::string& uiBase);
  // Stops the threads (a running evaluation or send ends first, bounded). Before the query
  // service stops. Idempotent.
  void stop();

 private:
  LibraryServices() = default;

  std::unique_ptr<web::library::LibraryStore> library_;
  std::unique_ptr<alerts::AlertStore> alertStore_;
  std::unique_ptr<alerts::QuerySearchSource> searchSource_;
  std::unique_ptr<alerts::MetricsQuerySource> chartSource_;
  std::unique_ptr<alerts::WebhookClient> client_;
  std::unique_ptr<alerts::Notifier> notifier_;
  std::unique_ptr<alerts::AlertEngine> engine_;
};

}  // namespace stackhouse::app
