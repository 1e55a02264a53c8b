#include "config/config.h"

#include "config/quote.h"

namespace stackhouse::config {
namespace {

void line(std::string& out, int depth, std::string_view text) {
  out.append(static_cast<size_t>(depth) * 2, ' ');
  out += text;
  out += '\n';
}

std::string sinkList(const std::vector<std::string>& sinks) {
  std::string out = "[";
  for (size_t i = 0; i < sinks.size(); ++i) {
    if (i > 0) out += ", ";
    out += sinks[i];
  }
  out += ']';
  return out;
}

std::string boolText(bool value) { return value ? "true" : "false"; }

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
  SectionWriter keys(out, 3);
  keys.strings("allowedKeys", r.allowedKeys);
  keys.strings("ignoredKeys", r.ignoredKeys);
  keys.strings("allowedValues", r.allowedValues);
  keys.strings("blockedKeys", r.blockedKeys);
  keys.strings("urlKeys", r.urlKeys);
  keys.strings("fileNameKeys", r.fileNameKeys);
  keys.strings("safeQueryKeys", r.safeQueryKeys);
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

Config defaultConfig(const SectionKinds& kinds) {
  Config config;
  config.otelConfig.exporters.vendors = ExporterSections::defaults(kinds.exporters);
  config.receivers = ReceiverSections::defaults(kinds.receivers);
  // The deployment docs' defaults: traces, metrics and the Kubernetes sources to every sink (the
  // vendors first, as their values file lists them), logs and scrapes to clickhouse alone.
  std::vector<std::string> every;
  for (const ExporterKind* kind : kinds.exporters) every.emplace_back(kind->name);
  every.emplace_back(kClickhouseSink);
  RoutingConfig& r = config.otelConfig.routing;
  r.traces = r.metrics = r.k8sMetrics = r.k8sEvents = every;
  return config;
}

std::vector<std::string_view> sinkNames(const Config& config) {
  std::vector<std::string_view> names{kClickhouseSink};
  for (const auto& e : config.otelConfig.exporters.vendors.entries()) names.push_back(e.name);
  return names;
}

bool sinkEnabled(const Config& config, std::string_view sink) {
  const ExportersConfig& exporters = config.otelConfig.exporters;
  // The embedded store exists only with clickstack.enabled; a remote ClickHouse needs no stack.
  if (sink == kClickhouseSink) {
    return exporters.clickhouse.enabled &&
           (config.clickstack.enabled || exporters.clickhouse.remote());
  }
  const ExporterSection* section = exporters.vendors.find(sink);
  return section != nullptr && section->enabled;
}

bool anySinkEnabled(const Config& config) {
  for (std::string_view sink : sinkNames(config)) {
    if (sinkEnabled(config, sink)) return true;
  }
  return false;
}

std::string nothingToSendTo(const Config& config, bool embeddedStore) {
  std::vector<std::string_view> vendors = sinkNames(config);
  vendors.erase(vendors.begin());  // clickhouse, named on its own
  if (embeddedStore) {
    std::string out = "otelConfig.exporters.clickhouse is disabled";
    if (!vendors.empty()) {
      out += vendors.size() == 1 ? " and so is " : " and so are ";
      out += joinNames(vendors, " and ");
    }
    return out;
  }
  std::string out =
      "the collector role (clickstack.enabled: false, or `stackhouse collector`) has no "
      "embedded store; set otelConfig.exporters.clickhouse.endpoint (a remote ClickHouse, with "
      "exporters.clickhouse.enabled)";
  if (!vendors.empty()) out += " or enable otelConfig.exporters." + joinNames(vendors, " or ");
  return out;
}

const QueueConfig& sinkQueue(const Config& config, std::string_view sink) {
  const ExportersConfig& exporters = config.otelConfig.exporters;
  const ExporterSection* section = exporters.vendors.find(sink);
  return section != nullptr ? section->queue : exporters.clickhouse.queue;
}

std::chrono::nanoseconds sinkTimeout(const Config& config, std::string_view sink) {
  const ExportersConfig& exporters = config.otelConfig.exporters;
  const ExporterSection* section = exporters.vendors.find(sink);
  return section != nullptr ? section->timeout : exporters.clickhouse.timeout;
}

std::string_view httpCompressionName(HttpCompression compression) {
  switch (compression) {
    case HttpCompression::kNone: return "none";
    case HttpCompression::kGzip: return "gzip";
    case HttpCompression::kZstd: return "zstd";
  }
  return "none";
}

namespace {

void describeClickhouseRemote(std::string& out, const ClickhouseExporterConfig& c) {
  line(out, 3, "endpoint: " + quoted(c.endpoint, std::string::npos));
  line(out, 3, "database: " + quoted(c.database, std::string::npos));
  line(out, 3, "username: " + quoted(c.username, std::string::npos));
  line(out, 3, "existingSecret: " + quoted(c.existingSecret, std::string::npos));
  line(out, 3, "secretKey: " + quoted(c.secretKey, std::string::npos));
  line(out, 3, "clusterName: " + quoted(c.clusterName, std::string::npos));
  line(out, 3, "createSchema: " + boolText(c.createSchema));
  line(out, 3,
       "tls: {caFile: " + quoted(c.tlsCaFile, std::string::npos) +
           ", insecureSkipVerify: " + boolText(c.tlsInsecureSkipVerify) + "}");
  line(out, 3, "compression: " + std::string(httpCompressionName(c.compression)));
  line(out, 3, "timeout: " + formatDuration(c.timeout));
}

}  // namespace

std::vector<std::string> routedSinks(const Config& config, std::string_view source) {
  const RoutingConfig& r = config.otelConfig.routing;
  const std::vector<std::string>* listed = source == "traces"             ? &r.traces
                                           : source == "metrics"          ? &r.metrics
                                           : source == "k8sMetrics"       ? &r.k8sMetrics
                                           : source == "k8sEvents"        ? &r.k8sEvents
                                           : source == "prometheusScrape" ? &r.prometheusScrape
                                           : source == "logs"             ? &r.logs
                                                                          : nullptr;
  std::vector<std::string> out;
  if (listed == nullptr) return out;
  for (const std::string& sink : *listed) {
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
  line(out, 1, "clickhouse:");
  line(out, 2,
       "persistence: {dataSize: " + formatByteSize(clickstack.persistence.dataSize) +
           ", logSize: " + formatByteSize(clickstack.persistence.logSize) + "}");
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
  line(out, 2, "tls:");
  line(out, 3, "certFile: " + quoted(clickstack.hyperdx.tls.certFile, std::string::npos));
  line(out, 3, "keyFile: " + quoted(clickstack.hyperdx.tls.keyFile, std::string::npos));
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
  describeClickhouseRemote(out, otel.exporters.clickhouse);
  line(out, 3, "enabled: " + boolText(otel.exporters.clickhouse.enabled));
  line(out, 3, "ttl: " + formatDuration(otel.exporters.clickhouse.ttl));
  SectionWriter(out, 3).queue(otel.exporters.clickhouse.queue);
  for (const auto& [name, section] : otel.exporters.vendors.entries()) {
    SectionWriter writer = SectionWriter(out, 2).nested(name);
    section->describe(writer);
  }
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
  for (const auto& [name, section] : config.receivers.entries()) {
    SectionWriter writer = SectionWriter(out, 0).nested(name);
    section->describe(writer);
  }
  return out;
}

}  // namespace stackhouse::config
