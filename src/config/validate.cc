#include "config/validate.h"

namespace stackhouse::config {

Validation validateConfigFile(const std::string& path, const SectionKinds& kinds) {
  Validation v;
  try {
    const Config config = loadConfig(path, kinds);
    // What start-up refuses after the file has parsed: nothing to send to.
    if (!anySinkEnabled(config)) {
      v.text = path + ": nothing to send to: " + nothingToSendTo(config, config.clickstack.enabled);
      return v;
    }
    v.valid = true;
    v.text = summarizeConfig(config, path);
  } catch (const ConfigError& e) {
    v.text = e.what();
  }
  return v;
}

std::string summarizeConfig(const Config& config, std::string_view path) {
  const OtelConfig& otel = config.otelConfig;
  std::string out(path);
  out += ": valid; OTLP/gRPC " + otel.receivers.otlp.grpc.endpoint.toString() + ", OTLP/HTTP " +
         otel.receivers.otlp.http.endpoint.toString();
  if (config.clickstack.enabled) out += ", API " + config.clickstack.hyperdx.listen.toString();
  out += ", admin " + otel.admin.endpoint.toString() + "; ";
  std::string sinks;
  for (std::string_view sink : sinkNames(config)) {
    if (!sinkEnabled(config, sink)) continue;
    sinks += sinks.empty() ? "sinks " : ", ";
    sinks += sink;
    if (sink == kClickhouseSink)
      sinks += " (ttl " + formatDuration(otel.exporters.clickhouse.ttl) + ")";
  }
  out += sinks.empty() ? "no sink enabled" : sinks;
  out += otel.processors.redaction.enabled ? "; redaction on" : "; redaction OFF";
  return out;
}

}  // namespace stackhouse::config
