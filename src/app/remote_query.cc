#include "app/remote_query.h"

#include "sinks/clickhouse/remote_factory.h"
#include "store/clickhouse_http_executor.h"

namespace stackhouse::app {

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

}  // namespace stackhouse::app
