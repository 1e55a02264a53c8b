#include "web/trace_routes.h"

#include <memory>
#include <mutex>

#include "common/metrics.h"
#include "query/trace_api.h"
#include "web/search_routes.h"

namespace stackhouse::web {

namespace {

// Runs `first`, then (if it succeeded) `second`, and hands both answers to `done`. The second
// statement is submitted from the first one's worker: it waits for a slot like any query.
void runTwo(query::QueryService& queries, query::SqlRequest first, query::SqlRequest second,
            query::QueryService::ClientGone gone,
            std::function<void(query::SqlApiReply, query::SqlApiReply)> done) {
  queries.submit(std::move(first), gone,
                 [&queries, second = std::move(second), gone,
                  done = std::move(done)](query::SqlApiReply a) mutable {
                   if (a.httpStatus != 200) {
                     done(std::move(a), query::SqlApiReply{});
                     return;
                   }
                   auto held = std::make_shared<query::SqlApiReply>(std::move(a));
                   queries.submit(std::move(second), gone,
                                  [held, done = std::move(done)](query::SqlApiReply b) {
                                    done(std::move(*held), std::move(b));
                                  });
                 });
}

// Runs both statements at once, on two workers, and hands both answers to `done` (on the worker
// that finishes last). Either may be answered 429 when the slots are taken: then so is the
// request.
void runBoth(query::QueryService& queries, query::SqlRequest first, query::SqlRequest second,
             query::QueryService::ClientGone gone,
             std::function<void(query::SqlApiReply, query::SqlApiReply)> done) {
  struct Join {
    std::mutex mu;
    int left = 2;
    query::SqlApiReply a, b;
    std::function<void(query::SqlApiReply, query::SqlApiReply)> done;
  };
  auto join = std::make_shared<Join>();
  join->done = std::move(done);
  auto finish = [join](bool isFirst, query::SqlApiReply reply) {
    bool last = false;
    {
      std::lock_guard lock(join->mu);
      (isFirst ? join->a : join->b) = std::move(reply);
      last = --join->left == 0;
    }
    if (last) join->done(std::move(join->a), std::move(join->b));
  };
  queries.submit(std::move(first), gone,
                 [finish](query::SqlApiReply r) { finish(true, std::move(r)); });
  queries.submit(std::move(second), gone,
                 [finish](query::SqlApiReply r) { finish(false, std::move(r)); });
}

}  // namespace

Route traceRoute(query::QueryService& queries) {
  return [&queries](http::Request&& request, http::Respond respond) {
    std::string_view id = request.path();
    id.remove_prefix(std::min(id.size(), kTracePathPrefix.size()));
    auto prepared = query::prepareTrace(id);
    if (auto* e = std::get_if<query::SqlApiReply>(&prepared)) {
      respond(toResponse("trace", std::move(*e)));
      return;
    }
    auto p = std::make_shared<query::PreparedTrace>(std::move(std::get<0>(prepared)));
    runBoth(queries, p->spans, p->logs, goneOf(request),
            [p, respond = std::move(respond)](query::SqlApiReply spans, query::SqlApiReply logs) {
              respond(toResponse("trace",
                                 query::shapeTraceReply(*p, std::move(spans), std::move(logs))));
            });
  };
}

Route servicesRoute(query::QueryService& queries, NowNs now) {
  return [&queries, now](http::Request&& request, http::Respond respond) {
    auto prepared = query::prepareServices(request.body, now());
    if (auto* e = std::get_if<query::SqlApiReply>(&prepared)) {
      respond(toResponse("services", std::move(*e)));
      return;
    }
    auto p = std::make_shared<query::PreparedServices>(std::move(std::get<0>(prepared)));
    query::SqlRequest sql = p->sql;
    queries.submit(
        std::move(sql), goneOf(request),
        [p, respond = std::move(respond)](query::SqlApiReply reply) {
          respond(toResponse("services", query::shapeServicesReply(*p, std::move(reply))));
        });
  };
}

Route operationsRoute(query::QueryService& queries, NowNs now) {
  return [&queries, now](http::Request&& request, http::Respond respond) {
    auto prepared = query::prepareOperations(request.body, now());
    if (auto* e = std::get_if<query::SqlApiReply>(&prepared)) {
      respond(toResponse("service_operations", std::move(*e)));
      return;
    }
    auto p = std::make_shared<query::PreparedOperations>(std::move(std::get<0>(prepared)));
    runTwo(queries, p->operations, p->slowest, goneOf(request),
           [p, respond = std::move(respond)](query::SqlApiReply ops, query::SqlApiReply slow) {
             respond(toResponse("service_operations",
                                query::shapeOperationsReply(*p, std::move(ops), std::move(slow))));
           });
  };
}

void addTraceRoutes(ApiHandler& api, query::QueryService& queries) {
  api.addPrefix("GET", std::string(kTracePathPrefix), traceRoute(queries));
  api.add("POST", "/api/v1/services", servicesRoute(queries));
  api.add("POST", "/api/v1/services/operations", operationsRoute(queries));
}

}  // namespace stackhouse::web
