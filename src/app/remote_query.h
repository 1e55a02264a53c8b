// The query API's executors on a remote ClickHouse, for `stackhouse run` with
// otelConfig.exporters.clickhouse.endpoint set: the same endpoint, database, user, password and
// TLS settings as the remote clickhouse sink (sinks/clickhouse/remote_factory.h), and the query
// bounds of clickstack.hyperdx.query.
#pragma once

#include "config/config.h"
#include "query/query_service.h"

namespace stackhouse::app {

// Start-up only: fails (naming the key) when the secret cannot be read. Contacts nothing.
Result<query::QueryService::RemoteExecutors> remoteQueryExecutors(const config::Config& config,
                                                                  const store::QueryBounds& bounds);

}  // namespace stackhouse::app
