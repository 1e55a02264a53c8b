#include "web/api_handler.h"

#include "common/metrics.h"
#include "query/sql_api.h"

namespace stackhouse::web {

void ApiHandler::handle(http::Request&& request, http::Respond respond) {
  static Counter& ok =
      metrics().counter("stackhouse_api_requests_total", "API requests by outcome.",
                        {{"endpoint", "sql"}, {"outcome", "ok"}});
  static Counter& failed =
      metrics().counter("stackhouse_api_requests_total", "API requests by outcome.",
                        {{"endpoint", "sql"}, {"outcome", "error"}});
  if (request.path() != "/api/v1/sql") {
    respond(http::jsonResponse(
        404, R"({"error":{"code":0,"name":"NOT_FOUND","message":"no such endpoint"}})"));
    return;
  }
  if (request.method != "POST") {
    auto r = http::jsonResponse(
        405, R"({"error":{"code":0,"name":"METHOD_NOT_ALLOWED","message":"use POST"}})");
    r.headers.emplace_back("Allow", "POST");
    respond(std::move(r));
    return;
  }
  auto reply = query::runSqlRequest(store_, request.body);
  (reply.httpStatus == 200 ? ok : failed).inc();
  respond(http::jsonResponse(reply.httpStatus, std::move(reply.json)));
}

}  // namespace stackhouse::web
