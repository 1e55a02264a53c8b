#include "web/api_handler.h"

#include <algorithm>

#include "common/ascii.h"
#include "common/json_writer.h"
#include "common/metrics.h"

namespace stackhouse::web {

namespace {

bool isLoopback(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127.");
}

// "example.com:8080" -> "example.com", "[::1]:80" -> "::1".
std::string_view hostPart(std::string_view authority) {
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

Counter& outcome(std::string_view endpoint, std::string_view value) {
  return metrics().counter("stackhouse_api_requests_total", "API requests by outcome.",
                           {{"endpoint", std::string(endpoint)}, {"outcome", std::string(value)}});
}

}  // namespace

http::Response apiError(int status, std::string_view name, std::string_view message) {
  std::string body;
  JsonWriter w(body);
  w.beginObject().key("error").beginObject();
  w.field("code", int64_t{0});
  w.field("name", name);
  w.field("message", message);
  w.endObject().endObject();
  return http::jsonResponse(status, std::move(body));
}

ApiHandler::ApiHandler(const ApiOptions& options) {
  const std::string host = asciiLower(options.listenHost);
  if (isLoopback(host)) {
    hosts_ = {"127.0.0.1", "localhost", "::1", host};
  } else if (host != "0.0.0.0" && host != "::") {
    hosts_ = {host};
  }
  // Behind an ingress the browser names the public host; with it known, a wildcard listener
  // answers only for it (and for loopback names, for an operator on the machine).
  if (!options.publicHost.empty()) {
    if (hosts_.empty()) hosts_ = {"127.0.0.1", "localhost", "::1"};
    hosts_.push_back(asciiLower(options.publicHost));
  }
}

void ApiHandler::add(std::string method, std::string path, Route route) {
  routes_[std::move(path)][std::move(method)] = std::move(route);
}

void ApiHandler::addPrefix(std::string method, std::string prefix, Route route) {
  prefixRoutes_[std::move(prefix)][std::move(method)] = std::move(route);
}

std::string ApiHandler::refusal(const http::Request& request) const {
  if (!hosts_.empty()) {
    const std::string host = asciiLower(hostPart(request.header("host")));
    if (std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end()) {
      return "the Host header does not name this server";
    }
  }
  if (const std::string_view origin = request.header("origin"); !origin.empty()) {
    std::string_view rest = origin;
    const auto scheme = rest.find("://");
    if (scheme == std::string_view::npos) return "the Origin header is not this server";
    rest.remove_prefix(scheme + 3);
    const std::string host = asciiLower(hostPart(rest));
    if (!hosts_.empty() ? std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end()
                        : host != asciiLower(hostPart(request.header("host")))) {
      return "cross-origin requests are refused";
    }
  }
  return {};
}

void ApiHandler::handle(http::Request&& request, http::Respond respond) {
  if (std::string why = refusal(request); !why.empty()) {
    outcome("any", "refused").inc();
    respond(apiError(403, "FORBIDDEN", why));
    return;
  }
  if (!request.path().starts_with("/api/") && request.path() != "/api") {
    if (!fallback_) {
      respond(apiError(404, "NOT_FOUND", "no such endpoint"));
    } else if (request.method != "GET") {
      auto r = apiError(405, "METHOD_NOT_ALLOWED", "use GET");
      r.headers.emplace_back("Allow", "GET");
      respond(std::move(r));
    } else {
      fallback_(std::move(request), std::move(respond));
    }
    return;
  }
  // The guard runs before the route lookup: without credentials every /api/ path, registered or
  // not, answers the same 401, so that which routes exist is not revealed.
  if (guard_) {
    if (auto refused = guard_(request)) {
      respond(std::move(*refused));
      return;
    }
  }
  auto path = routes_.find(std::string(request.path()));
  if (path == routes_.end()) {
    // The longest registered prefix of the path, if any.
    path = prefixRoutes_.end();
    for (auto p = prefixRoutes_.begin(); p != prefixRoutes_.end(); ++p) {
      if (request.path().starts_with(p->first) &&
          (path == prefixRoutes_.end() || p->first.size() > path->first.size())) {
        path = p;
      }
    }
    if (path == prefixRoutes_.end()) {
      respond(apiError(404, "NOT_FOUND", "no such endpoint"));
      return;
    }
  }
  const auto route = path->second.find(request.method);
  if (route == path->second.end()) {
    std::string allow;
    for (const auto& [method, r] : path->second) allow += (allow.empty() ? "" : ", ") + method;
    auto r = apiError(405, "METHOD_NOT_ALLOWED", "use " + allow);
    r.headers.emplace_back("Allow", allow);
    respond(std::move(r));
    return;
  }
  if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
    const std::string type = asciiLower(request.header("content-type"));
    if (type != "application/json" && !type.starts_with("application/json;")) {
      outcome("any", "refused").inc();
      respond(apiError(415, "UNSUPPORTED_MEDIA_TYPE",
                       "the body must be sent as Content-Type: application/json"));
      return;
    }
  }
  route->second(std::move(request), std::move(respond));
}

Route sqlRoute(query::QueryService& queries) {
  return [&queries](http::Request&& request, http::Respond respond) {
    auto parsed = query::parseSqlRequest(request.body);
    if (auto* reply = std::get_if<query::SqlApiReply>(&parsed)) {
      outcome("sql", "error").inc();
      respond(http::jsonResponse(reply->httpStatus, std::move(reply->json)));
      return;
    }
    auto gone = request.clientGoneFlag;
    queries.submit(std::move(std::get<query::SqlRequest>(parsed)),
                   gone ? query::QueryService::ClientGone([gone] { return gone->load(); })
                        : query::QueryService::ClientGone(),
                   [respond = std::move(respond)](query::SqlApiReply reply) {
                     outcome("sql", reply.httpStatus == 200   ? "ok"
                                    : reply.httpStatus == 429 ? "busy"
                                                              : "error")
                         .inc();
                     http::Response r = http::jsonResponse(reply.httpStatus, std::move(reply.json));
                     if (reply.httpStatus == 429) r.headers.emplace_back("Retry-After", "1");
                     respond(std::move(r));
                   });
  };
}

}  // namespace stackhouse::web
