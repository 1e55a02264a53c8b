#include "config/config.h"

#include "config/quote.h"

namespace stackhouse::config {
namespace {

void line(std::string& out, int depth, std::string_view text) {
  out.append(static_cast<size_t>(depth) * 2, ' ');
  out += text;
  out += '\n';
}

std::string sinkList(const std::vector<Sink>& sinks) {
  std::string out = "[";
  for (size_t i = 0; i < sinks.size(); ++i) {
    if (i > 0) out += ", ";
    out += sinkName(sinks[i]);
  }
  out += ']';
  return out;
}

std::string boolText(bool value) { return value ? "true" : "false"; }

}  // namespace

std::string_view sinkName(Sink sink) {
  switch (sink) {
    case Sink::kClickhouse: return "clickhouse";
    case Sink::kTinybird: return "tinybird";
    case Sink::kDatadog: return "datadog";
    case Sink::kLogfire: return "logfire";
  }
  return "unknown";
}

Config defaultConfig() { return Config{}; }

bool sinkEnabled(const Config& config, Sink sink) {
  const ExportersConfig& exporters = config.otelConfig.exporters;
  switch (sink) {
    case Sink::kClickhouse: return config.clickstack.enabled && exporters.clickhouse.enabled;
    case Sink::kTinybird: return exporters.tinybird.enabled;
    case Sink::kDatadog: return exporters.datadog.enabled;
    case Sink::kLogfire: return exporters.logfire.enabled;
  }
  return false;
}

std::string describeConfig(const Config& config) {
  const ClickstackConfig& clickstack = config.clickstack;
  const OtelConfig& otel = config.otelConfig;
  std::string out;
  line(out, 0, "clickstack:");
  line(out, 1, "enabled: " + boolText(clickstack.enabled));
  line(out, 1, "dataDir: " + quoted(clickstack.dataDir, std::string::npos));
  line(out, 1, "hyperdx:");
  line(out, 2, "listen: " + quoted(clickstack.hyperdx.listen.toString()));
  line(out, 0, "otelConfig:");
  line(out, 1, "receivers:");
  line(out, 2, "otlp:");
  line(out, 3, "grpc:");
  line(out, 4, "endpoint: " + quoted(otel.receivers.otlp.grpc.endpoint.toString()));
  line(out, 3, "http:");
  line(out, 4, "endpoint: " + quoted(otel.receivers.otlp.http.endpoint.toString()));
  line(out, 4,
       "maxRequestBodySize: " + formatByteSize(otel.receivers.otlp.http.maxRequestBodySize));
  line(out, 1, "admin:");
  line(out, 2, "endpoint: " + quoted(otel.admin.endpoint.toString()));
  line(out, 1, "routing:");
  line(out, 2, "traces: " + sinkList(otel.routing.traces));
  line(out, 2, "metrics: " + sinkList(otel.routing.metrics));
  line(out, 2, "k8sMetrics: " + sinkList(otel.routing.k8sMetrics));
  line(out, 2, "k8sEvents: " + sinkList(otel.routing.k8sEvents));
  line(out, 2, "prometheusScrape: " + sinkList(otel.routing.prometheusScrape));
  line(out, 2, "logs: " + sinkList(otel.routing.logs));
  line(out, 1, "exporters:");
  line(out, 2, "clickhouse:");
  line(out, 3, "enabled: " + boolText(otel.exporters.clickhouse.enabled));
  line(out, 3, "ttl: " + formatDuration(otel.exporters.clickhouse.ttl));
  line(out, 2, "tinybird: {enabled: " + boolText(otel.exporters.tinybird.enabled) + "}");
  line(out, 2, "datadog: {enabled: " + boolText(otel.exporters.datadog.enabled) + "}");
  line(out, 2, "logfire: {enabled: " + boolText(otel.exporters.logfire.enabled) + "}");
  line(out, 1, "processors:");
  line(out, 2, "batch:");
  line(out, 3, "sendBatchSize: " + std::to_string(otel.processors.batch.sendBatchSize));
  line(out, 3, "timeout: " + formatDuration(otel.processors.batch.timeout));
  line(out, 3, "sendBatchMaxBytes: " + formatByteSize(otel.processors.batch.sendBatchMaxBytes));
  line(out, 2, "memoryLimiter: {limitMiB: " + std::to_string(otel.processors.memoryLimiter.limitMiB) +
                   ", spikeLimitMiB: " + std::to_string(otel.processors.memoryLimiter.spikeLimitMiB) + "}");
  return out;
}

}  // namespace stackhouse::config
