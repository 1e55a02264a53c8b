// The API port (clickstack.hyperdx.listen): the routes under /api/ (the SQL API, and what the UI
// adds), each registered by the component that serves it.
//
// Before any route runs, a request must look like one a script or our own UI sends, never one a
// web page the operator happens to visit could make the browser send:
//   - Host names this server (the listen host, or a loopback name when it listens on loopback;
//     any when it listens beyond loopback): a DNS-rebinding page has a foreign Host;
//   - Origin, when present, names this server too: a cross-site form or fetch has a foreign one;
//   - POST bodies are application/json: a cross-site "simple" request can only send text/plain,
//     form or multipart bodies without a preflight.
// Then the Guard (when set: authentication) may refuse it, before the path is looked up: an
// unregistered /api/ path answers 401 like a registered one, not 404 or 405. Then the route
// answers.
//
// Paths outside /api/ go to the fallback route (the embedded UI) after the same Host and Origin
// checks, GET only and without the Guard: the login page must load before anyone is logged in,
// and it holds nothing but the built UI.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "http/server.h"
#include "query/query_service.h"

namespace stackhouse::web {

struct ApiOptions {
  std::string listenHost = "127.0.0.1";  // clickstack.hyperdx.listen's host
  std::string publicHost;                // clickstack.hyperdx.ingress.host: also accepted as Host
};

// Answers one request; called on an IO thread, may answer later from any thread.
using Route = std::function<void(http::Request&& request, http::Respond respond)>;
// Decides whether a request may reach its route: a Response refuses it (401, 403, ...).
// Called on an IO thread after the browser checks; must not block.
using Guard = std::function<std::optional<http::Response>(const http::Request& request)>;

class ApiHandler {
 public:
  explicit ApiHandler(const ApiOptions& options);
  // Registration happens before the server starts; not thread-safe with handle().
  void add(std::string method, std::string path, Route route);
  // A route for every path that starts with `prefix` (ending in '/', e.g. "/api/v1/alerts/"), for
  // resources named in the path; an exact path registered with add() wins, then the longest
  // prefix. The route reads the rest of the path itself.
  void addPrefix(std::string method, std::string prefix, Route route);
  void setGuard(Guard guard) { guard_ = std::move(guard); }
  // The route for GET of any path outside /api/ (the UI); unset: 404.
  void setFallback(Route route) { fallback_ = std::move(route); }
  // Called on an IO thread.
  void handle(http::Request&& request, http::Respond respond);

 private:
  // The refusal of a request a browser may have been tricked into sending, or empty.
  std::string refusal(const http::Request& request) const;

  std::vector<std::string> hosts_;  // accepted Host names, lower-case; empty: any
  std::map<std::string, std::map<std::string, Route>> routes_;  // path -> method -> route
  // prefix -> method -> route
  std::map<std::string, std::map<std::string, Route>> prefixRoutes_;
  Guard guard_;
  Route fallback_;
};

// The JSON error body every API route answers with: {"error": {"code", "name", "message"}}.
http::Response apiError(int status, std::string_view name, std::string_view message);

// POST /api/v1/sql on the query service.
Route sqlRoute(query::QueryService& queries);

}  // namespace stackhouse::web
