#include "sinks/clickhouse/remote_factory.h"
#include "sinks/datadog/datadog_sink.h"
#include "sinks/logfire/logfire_sink.h"
#include "sinks/sink_factory.h"
#include "sinks/tinybird/tinybird_sink.h"

namespace stackhouse::sinks {

std::span<const SinkFactory> sinkFactories() {
  static const SinkFactory kFactories[] = {
      clickhouse::clickhouseFactory(),
      tinybird::tinybirdFactory(),
      datadog::datadogFactory(),
      logfire::logfireFactory(),
  };
  return kFactories;
}

config::ExporterKinds exporterKinds() {
  static const std::vector<const config::ExporterKind*> kinds = [] {
    std::vector<const config::ExporterKind*> out;
    for (const SinkFactory& factory : sinkFactories()) {
      if (factory.section != nullptr) out.push_back(factory.section);
    }
    return out;
  }();
  return kinds;
}

}  // namespace stackhouse::sinks
