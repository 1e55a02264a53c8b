// The routes of saved searches and dashboards (README, "API"):
//   GET    /api/v1/searches                  {searches: [...]}: the caller's and the shared ones
//   POST   /api/v1/searches                  create → 201 {id, ...}
//   GET    /api/v1/searches/<id>             one
//   PUT    /api/v1/searches/<id>             replace (name, shared, source, query, ...)
//   DELETE /api/v1/searches/<id>
//   GET    /api/v1/dashboards                {dashboards: [{id, name, owner, shared, ...}]}
//   POST   /api/v1/dashboards                create → 201 {id, ...}
//   GET|PUT|DELETE /api/v1/dashboards/<id>
//   GET    /api/v1/dashboards/<id>/export    the versioned export document
//   POST   /api/v1/dashboards/import         an export document → 201, a new dashboard
//
// Who may do what: everyone sees their own items and the shared ones; the owner, an admin, or
// (for a shared item) any user may change it; only the owner or an admin deletes it. Items of
// another user that are not shared answer 404, as if they did not exist.
//
// Routes answer on the API's IO thread: each is one short SQLite statement or two.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "web/api_handler.h"
#include "web/library/library_store.h"

namespace stackhouse::web::library {

// Who makes a request: the authentication guard has let it through already.
struct Caller {
  std::string email;  // "" for an owner-less key (the CLI's)
  bool admin = false;
};
using Identify = std::function<std::optional<Caller>(const http::Request& request)>;
using NowMs = std::function<int64_t()>;

// Registers the routes above. `store` outlives `api`.
void addLibraryRoutes(ApiHandler& api, LibraryStore& store, Identify identify, NowMs now);

// Creates the dashboard of stackhouse's own health once per database (a flag in the store), owned
// by no one and shared. Returns its id, or 0 when it had been created before (even if deleted
// since: a deleted dashboard stays deleted).
Result<int64_t> ensureHealthDashboard(LibraryStore& store, int64_t nowMs);

// The health dashboard's definition (a dashboard request body), from the metric names that
// stackhouse's own /metrics serves (common/metrics.h registrations).
std::string healthDashboardJson();

}  // namespace stackhouse::web::library
