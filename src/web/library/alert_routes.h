// The routes of alerts (README, "API"):
//   GET    /api/v1/alerts                 {alerts: [...]}: every alert of the team, with its state
//   POST   /api/v1/alerts                 create (alerts/alert.h has the body) → 201 {id, ...}
//   GET    /api/v1/alerts/<id>            the alert, its state per group, its history of
//                                         evaluations and its messages with every attempt
//   PUT    /api/v1/alerts/<id>            replace the definition (without channel.url: the URL
//                                         is kept); the alert starts afresh from the last window
//   DELETE /api/v1/alerts/<id>
//   POST   /api/v1/alerts/<id>/silence    {until: RFC 3339 | epoch ms | null}: no messages until
//   POST   /api/v1/alerts/<id>/enabled    {enabled: bool}: a disabled alert is not evaluated
//
// Webhook URLs are credentials: answers show only their scheme and host. Routes answer on the
// API's IO thread with short SQLite statements; evaluation happens on the engine's thread.
#pragma once

#include "alerts/alert_engine.h"
#include "alerts/alert_store.h"
#include "web/api_handler.h"
#include "web/library/library_routes.h"

namespace stackhouse::web::library {

// `store` and `engine` outlive `api`.
void addAlertRoutes(ApiHandler& api, alerts::AlertStore& store, alerts::AlertEngine& engine,
                    Identify identify);

}  // namespace stackhouse::web::library
