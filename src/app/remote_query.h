// The query API's executors on a remote ClickHouse, for `stackhouse run` with
// otelConfig.exporters.clickhouse.endpoint set: the same endpoint, database, user, password and
// TLS settings as the remote clickhouse sink (sinks/clickhouse/remote_factory.h), and the query
// bounds of clickstack.hyperdx.query.
#pragma once

#include "config/config.h"
#include "query/query_service.h"

namespace stackhouse::app {

// The bounds of every user query (clickstack.hyperdx.query): time and memory.
store::QueryBounds queryBoundsOf(const config::Config& config);

// Start-up only: fails (naming the key) when the secret cannot be read. Contacts nothing.
Result<query::QueryService::RemoteExecutors> remoteQueryExecutors(const config::Config& config,
                                                                  const store::QueryBounds& bounds);

// `stackhouse sql` and `audit` with no stack answering and a remote ClickHouse configured: the
// query parsed and checked on `parser` (the data directory's embedded engine, read-only), and run
// on the remote, in its database, as the query API runs it.
query::SqlApiReply runOnRemote(const config::Config& config, store::ChdbStore& parser,
                               const std::string& sql);

}  // namespace stackhouse::app
