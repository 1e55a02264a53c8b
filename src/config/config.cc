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

std::string stringList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += quoted(items[i], std::string::npos);
  }
  out += ']';
  return out;
}

void describeRedaction(std::string& out, const RedactionProcessorConfig& r) {
  line(out, 2, "redaction:");
  line(out, 3, "enabled: " + boolText(r.enabled));
  line(out, 3, "action: " + std::string(redactionActionName(r.action)));
  if (r.rules.empty()) {
    line(out, 3, "rules: {}");
  } else {
    line(out, 3, "rules:");
    for (const auto& [name, rule] : r.rules) {
      std::string text = name + ": {enabled: " + boolText(rule.enabled);
      if (rule.action) text += ", action: " + std::string(redactionActionName(*rule.action));
      line(out, 4, text + "}");
    }
  }
  line(out, 3, "allowListMode: " + boolText(r.allowListMode));
  line(out, 3, "allowedKeys: " + stringList(r.allowedKeys));
  line(out, 3, "ignoredKeys: " + stringList(r.ignoredKeys));
  line(out, 3, "allowedValues: " + stringList(r.allowedValues));
  line(out, 3, "blockedKeys: " + stringList(r.blockedKeys));
  line(out, 3, "urlKeys: " + stringList(r.urlKeys));
  line(out, 3, "fileNameKeys: " + stringList(r.fileNameKeys));
  line(out, 3, "safeQueryKeys: " + stringList(r.safeQueryKeys));
  line(out, 3, "urls:");
  line(out, 4, "hashHosts: " + boolText(r.hashUrlHosts));
  // The key itself is a secret: --print-config shows only whether one is set.
  if (!r.hmacKey.empty()) line(out, 3, "hmacKey: \"<set>\"");
  if (!r.hmacKeyFile.empty())
    line(out, 3, "hmacKeyFile: " + quoted(r.hmacKeyFile, std::string::npos));
}

}  // namespace

std::string_view redactionActionName(RedactionAction action) {
  switch (action) {
    case RedactionAction::kMask: return "mask";
    case RedactionAction::kHash: return "hash";
    case RedactionAction::kRemove: return "remove";
  }
  return "mask";
}

const std::vector<std::string_view>& redactionRuleNames() {
  static const std::vector<std::string_view> names = {
      "blockedKeys", "bearerTokens",      "jwts",   "cloudKeys",   "privateKeys",
      "basicAuth",   "connectionStrings", "emails", "cardNumbers", "urlUserinfo",
      "urlQuery",    "fileNames"};
  return names;
}

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

std::vector<Sink> routedSinks(const Config& config, std::string_view source) {
  const RoutingConfig& r = config.otelConfig.routing;
  const std::vector<Sink>* listed = source == "traces"             ? &r.traces
                                    : source == "metrics"          ? &r.metrics
                                    : source == "k8sMetrics"       ? &r.k8sMetrics
                                    : source == "k8sEvents"        ? &r.k8sEvents
                                    : source == "prometheusScrape" ? &r.prometheusScrape
                                    : source == "logs"             ? &r.logs
                                                                   : nullptr;
  std::vector<Sink> out;
  if (listed == nullptr) return out;
  for (Sink sink : *listed) {
    if (sinkEnabled(config, sink)) out.push_back(sink);
  }
  return out;
}

std::string describeConfig(const Config& config) {
  const ClickstackConfig& clickstack = config.clickstack;
  const OtelConfig& otel = config.otelConfig;
  std::string out;
  line(out, 0, "clickstack:");
  line(out, 1, "enabled: " + boolText(clickstack.enabled));
  line(out, 1, "dataDir: " + quoted(clickstack.dataDir, std::string::npos));
  line(out, 1, "secretsDir: " + quoted(clickstack.secretsDir, std::string::npos));
  line(out, 1, "hyperdx:");
  const HyperdxConfig& hyperdx = clickstack.hyperdx;
  line(out, 2, "seedUser:");
  line(out, 3, "email: " + quoted(hyperdx.seedUser.email, std::string::npos));
  // The password itself is a secret: --print-config shows only whether one is set.
  if (!hyperdx.seedUser.password.empty()) line(out, 3, "password: \"<set>\"");
  line(out, 3, "existingSecret: " + quoted(hyperdx.seedUser.existingSecret, std::string::npos));
  line(out, 3, "secretKey: " + quoted(hyperdx.seedUser.secretKey, std::string::npos));
  line(out, 3, "teamName: " + quoted(hyperdx.seedUser.teamName, std::string::npos));
  line(out, 2, "ingress:");
  line(out, 3, "enabled: " + boolText(hyperdx.ingress.enabled));
  line(out, 3, "host: " + quoted(hyperdx.ingress.host, std::string::npos));
  line(out, 2, "exposure:");
  line(out, 3, "tailscale: {enabled: " + boolText(hyperdx.exposure.tailscale) + "}");
  line(out, 3, "cloudflareTunnel: {enabled: " + boolText(hyperdx.exposure.cloudflareTunnel) + "}");
  line(out, 2, "listen: " + quoted(clickstack.hyperdx.listen.toString()));
  line(out, 2, "query:");
  line(out, 3, "maxExecutionTime: " + formatDuration(clickstack.hyperdx.query.maxExecutionTime));
  line(out, 3, "maxMemoryUsage: " + formatByteSize(clickstack.hyperdx.query.maxMemoryUsage));
  line(out, 3, "maxConcurrent: " + std::to_string(clickstack.hyperdx.query.maxConcurrent));
  line(out, 0, "otelConfig:");
  line(out, 1, "receivers:");
  line(out, 2, "otlp:");
  line(out, 3, "grpc:");
  line(out, 4, "endpoint: " + quoted(otel.receivers.otlp.grpc.endpoint.toString()));
  line(out, 4, "maxRecvMsgSizeMiB: " + std::to_string(otel.receivers.otlp.grpc.maxRecvMsgSizeMiB));
  line(out, 4,
       "maxConcurrentStreams: " + std::to_string(otel.receivers.otlp.grpc.maxConcurrentStreams));
  line(out, 3, "http:");
  line(out, 4, "endpoint: " + quoted(otel.receivers.otlp.http.endpoint.toString()));
  line(out, 4,
       "maxRequestBodySize: " + formatByteSize(otel.receivers.otlp.http.maxRequestBodySize));
  const OtlpLimitsConfig& limits = otel.receivers.otlp.limits;
  line(out, 3, "limits:");
  line(out, 4, "maxResourcesPerRequest: " + std::to_string(limits.maxResourcesPerRequest));
  line(out, 4, "maxRecordsPerRequest: " + std::to_string(limits.maxRecordsPerRequest));
  line(out, 4, "maxAttributesPerRecord: " + std::to_string(limits.maxAttributesPerRecord));
  line(out, 4, "maxAttributeKeyLength: " + formatByteSize(limits.maxAttributeKeyLength));
  line(out, 4, "maxAttributeValueLength: " + formatByteSize(limits.maxAttributeValueLength));
  line(out, 4, "maxValueDepth: " + std::to_string(limits.maxValueDepth));
  line(out, 4, "maxFutureSkew: " + formatDuration(limits.maxFutureSkew));
  line(out, 3, "auth:");
  line(out, 4,
       "existingSecret: " + quoted(otel.receivers.otlp.auth.existingSecret, std::string::npos));
  line(out, 4, "secretKey: " + quoted(otel.receivers.otlp.auth.secretKey, std::string::npos));
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
  {
    const QueueConfig& q = otel.exporters.clickhouse.queue;
    line(out, 3,
         "queue: {maxSize: " + formatByteSize(q.maxSize) + ", fsync: " +
             (q.fsync == QueueConfig::Fsync::kAlways ? "always" : "never") + ", onFull: " +
             (q.onFull == QueueConfig::OnFull::kBackpressure ? "backpressure" : "dropOldest") +
             "}");
  }
  line(out, 2, "tinybird: {enabled: " + boolText(otel.exporters.tinybird.enabled) + "}");
  line(out, 2, "datadog: {enabled: " + boolText(otel.exporters.datadog.enabled) + "}");
  line(out, 2, "logfire: {enabled: " + boolText(otel.exporters.logfire.enabled) + "}");
  line(out, 1, "processors:");
  line(out, 2, "batch:");
  line(out, 3, "sendBatchSize: " + std::to_string(otel.processors.batch.sendBatchSize));
  line(out, 3, "timeout: " + formatDuration(otel.processors.batch.timeout));
  line(out, 3, "sendBatchMaxBytes: " + formatByteSize(otel.processors.batch.sendBatchMaxBytes));
  line(out, 2,
       "memoryLimiter: {limitMiB: " + std::to_string(otel.processors.memoryLimiter.limitMiB) +
           ", spikeLimitMiB: " + std::to_string(otel.processors.memoryLimiter.spikeLimitMiB) +
           ", engineLimitMiB: " + std::to_string(otel.processors.memoryLimiter.engineLimitMiB) +
           "}");
  describeRedaction(out, otel.processors.redaction);
  return out;
}

}  // namespace stackhouse::config
