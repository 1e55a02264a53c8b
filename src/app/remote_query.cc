#include "app/remote_query.h"

#include <chrono>

#include "query/user_query.h"
#include "sinks/clickhouse/remote_factory.h"
#include "store/clickhouse_http_executor.h"

namespace stackhouse::app {

store::QueryBounds queryBoundsOf(const config::Config& config) {
  const config::QueryConfig& q = config.clickstack.hyperdx.query;
  store::QueryBounds bounds;
  bounds.maxExecutionSeconds = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(q.maxExecutionTime).count());
  bounds.maxMemoryBytes = q.maxMemoryUsage;
  return bounds;
}

Result<query::QueryService::RemoteExecutors> remoteQueryExecutors(
    const config::Config& config, const store::QueryBounds& bounds) {
  auto sink = sinks::clickhouse::remoteSinkOptions(config);
  if (!sink) return sink.status();
  store::ClickhouseHttpOptions options;
  options.endpoint = sink->endpoint;
  options.database = sink->database;
  options.username = sink->username;
  options.password = sink->password;
  options.caFile = sink->caFile;
  options.verifyPeer = sink->verifyPeer;
  options.bounds = bounds;
  return query::QueryService::RemoteExecutors(
      [options](bool control) -> Result<std::unique_ptr<store::SqlExecutor>> {
        store::ClickhouseHttpOptions o = options;
        o.control = control;
        auto executor = store::ClickhouseHttpExecutor::create(std::move(o));
        if (!executor) {
          return Status(executor.status().code(),
                        "otelConfig.exporters.clickhouse: " + executor.status().message());
        }
        return std::unique_ptr<store::SqlExecutor>(std::move(executor.value()));
      });
}

query::SqlApiReply runOnRemote(const config::Config& config, store::ChdbStore& parser,
                               const std::string& sql) {
  auto executors = remoteQueryExecutors(config, queryBoundsOf(config));
  if (!executors) return query::errorReply(400, 0, "BAD_CONFIG", executors.status().message());
  auto executor = executors.value()(false);
  if (!executor) return query::errorReply(503, 0, "UNAVAILABLE", executor.status().message());
  query::UserQueryOptions options;
  options.database = config.otelConfig.exporters.clickhouse.database;
  // Parsed and checked on the store's own read connection, as query::runSql does.
  return parser.withReader([&](store::ChdbConnection& connection) {
    return query::runUserQuery(connection, *executor.value(), sql, {}, options);
  });
}

}  // namespace stackhouse::app
