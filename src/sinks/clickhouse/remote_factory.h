// The remote ClickHouse sink made from its configuration section, so that wiring it is one line:
//
//   if (config.otelConfig.exporters.clickhouse.remote()) {
//     auto sink = sinks::clickhouse::createRemoteClickhouseSink(config, &metrics);
//     if (!sink) return fail(sink.status());  // names the key and the problem
//   }
#pragma once

#include <memory>

#include "common/metrics.h"
#include "common/status.h"
#include "config/config.h"
#include "sinks/clickhouse/clickhouse_http_sink.h"
#include "sinks/sink_factory.h"

namespace stackhouse::sinks::clickhouse {

// The options otelConfig.exporters.clickhouse gives, the password read from
// <clickstack.secretsDir>/<existingSecret>/<secretKey> (none when existingSecret is empty).
// Start-up only: fails (kInvalidArgument, naming the key) when the secret or the CA file cannot
// be read, or when the section has no remote endpoint.
Result<HttpSinkOptions> remoteSinkOptions(const config::Config& config);

// remoteSinkOptions, then ClickhouseHttpSink::create. Contacts nothing.
Result<std::unique_ptr<ClickhouseHttpSink>> createRemoteClickhouseSink(const config::Config& config,
                                                                       MetricsRegistry* metrics);

// The clickhouse sink's entry in the registry (sinks/registry.cc): a remote ClickHouse when
// otelConfig.exporters.clickhouse.endpoint is set, else the embedded store's sink
// (SinkContext::embeddedSink).
SinkFactory clickhouseFactory();

}  // namespace stackhouse::sinks::clickhouse
