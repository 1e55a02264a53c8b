#include "sinks/clickhouse/remote_factory.h"

#include "config/secret.h"

namespace stackhouse::sinks::clickhouse {

Result<HttpSinkOptions> remoteSinkOptions(const config::Config& config) {
  const config::ClickhouseExporterConfig& c = config.otelConfig.exporters.clickhouse;
  if (!c.remote()) {
    return invalidArgument(
        "otelConfig.exporters.clickhouse.endpoint: not set (the embedded store)");
  }
  HttpSinkOptions o;
  o.endpoint = c.endpoint;
  o.database = c.database;
  o.username = c.username;
  o.cluster = c.clusterName;
  o.createSchema = c.createSchema;
  o.ttlSeconds =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(c.ttl).count());
  switch (c.compression) {
    case config::HttpCompression::kNone: o.compression = http::Compression::kNone; break;
    case config::HttpCompression::kGzip: o.compression = http::Compression::kGzip; break;
    case config::HttpCompression::kZstd: o.compression = http::Compression::kZstd; break;
  }
  o.caFile = c.tlsCaFile;
  o.verifyPeer = !c.tlsInsecureSkipVerify;
  o.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(c.timeout);
  if (!c.existingSecret.empty()) {
    auto password = config::readSecret(config.clickstack.secretsDir, c.existingSecret, c.secretKey,
                                       "otelConfig.exporters.clickhouse.existingSecret");
    if (!password) return password.status();
    o.password = std::move(password.value());
  }
  return o;
}

Result<std::unique_ptr<ClickhouseHttpSink>> createRemoteClickhouseSink(const config::Config& config,
                                                                       MetricsRegistry* metrics) {
  auto options = remoteSinkOptions(config);
  if (!options) return options.status();
  auto sink = ClickhouseHttpSink::create(std::move(options.value()), metrics);
  if (!sink) {
    return invalidArgument("otelConfig.exporters.clickhouse.tls.caFile: " +
                           sink.status().message());
  }
  return sink;
}

SinkFactory clickhouseFactory() {
  return {config::kClickhouseSink, nullptr,
          [](const SinkContext& context) -> Result<std::unique_ptr<pipeline::Sink>> {
            if (context.config.otelConfig.exporters.clickhouse.remote()) {
              auto remote = createRemoteClickhouseSink(context.config, &metrics());
              if (!remote) return remote.status();
              return std::unique_ptr<pipeline::Sink>(std::move(remote.value()));
            }
            if (!context.embeddedSink) {
              return invalidArgument(
                  "otelConfig.exporters.clickhouse: no embedded store to write to "
                  "(clickstack.enabled is false)");
            }
            return context.embeddedSink();
          }};
}

}  // namespace stackhouse::sinks::clickhouse
