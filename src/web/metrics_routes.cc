#include "web/metrics_routes.h"

#include <memory>

#include "common/metrics.h"
#include "query/metrics_api.h"
#include "web/search_routes.h"

namespace stackhouse::web {

namespace {

using Prepare = std::variant<query::SqlRequest, query::SqlApiReply> (*)(std::string_view, int64_t);
using Shape = query::SqlApiReply (*)(query::SqlApiReply);

Route oneStatement(query::QueryService& queries, NowNs now, const char* endpoint, Prepare prepare,
                   Shape shape) {
  return [&queries, now, endpoint, prepare, shape](http::Request&& request, http::Respond respond) {
    auto prepared = prepare(request.body, now());
    if (auto* e = std::get_if<query::SqlApiReply>(&prepared)) {
      respond(toResponse(endpoint, std::move(*e)));
      return;
    }
    queries.submit(std::move(std::get<query::SqlRequest>(prepared)), goneOf(request),
                   [endpoint, shape, respond = std::move(respond)](query::SqlApiReply reply) {
                     respond(toResponse(endpoint, shape(std::move(reply))));
                   });
  };
}

}  // namespace

Route metricNamesRoute(query::QueryService& queries, NowNs now) {
  return oneStatement(queries, std::move(now), "metrics_names", query::prepareMetricNames,
                      query::shapeMetricNamesReply);
}

Route metricAttributesRoute(query::QueryService& queries, NowNs now) {
  return oneStatement(queries, std::move(now), "metrics_attributes", query::prepareMetricAttributes,
                      query::shapeMetricAttributesReply);
}

Route metricQueryRoute(query::QueryService& queries, NowNs now) {
  return [&queries, now](http::Request&& request, http::Respond respond) {
    auto gone = goneOf(request);
    // Each statement is submitted from the callback of the one before (on a query thread),
    // after its slot is free again.
    query::RunStatement run = [&queries, gone](query::SqlRequest sql,
                                               std::function<void(query::SqlApiReply)> then) {
      queries.submit(std::move(sql), gone, std::move(then));
    };
    query::runMetricQuery(
        request.body, now(), run,
        [respond = std::move(respond)](query::SqlApiReply reply) {
          respond(toResponse("metrics_query", std::move(reply)));
        },
        queries.metricRollupMs());
  };
}

void addMetricRoutes(ApiHandler& api, query::QueryService& queries) {
  api.add("POST", "/api/v1/metrics/names", metricNamesRoute(queries));
  api.add("POST", "/api/v1/metrics/attributes", metricAttributesRoute(queries));
  api.add("POST", "/api/v1/metrics/query", metricQueryRoute(queries));
}

}  // namespace stackhouse::web
