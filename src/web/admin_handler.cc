#include "web/admin_handler.h"

#include "common/metrics.h"

namespace stackhouse::web {

void AdminHandler::handle(http::Request&& request, http::Respond respond) {
  const std::string_view path = request.path();
  if (request.method != "GET" && request.method != "HEAD") {
    auto r = http::textResponse(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET");
    respond(std::move(r));
    return;
  }
  if (path == "/metrics") {
    http::Response r;
    r.contentType = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics().render();
    respond(std::move(r));
  } else if (path == "/healthz") {
    respond(http::textResponse(200, "ok\n"));
  } else if (path == "/readyz") {
    respond(ready_.load() ? http::textResponse(200, "ready\n")
                          : http::textResponse(503, "not ready\n"));
  } else {
    respond(http::textResponse(404, "not found: /metrics, /healthz, /readyz\n"));
  }
}

}  // namespace stackhouse::web
