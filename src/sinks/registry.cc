#include "sinks/clickhouse/chdb_sink.h"
#include "sinks/datadog/datadog_sink.h"
#include "sinks/logfire/logfire_sink.h"
#include "sinks/tinybird/tinybird_sink.h"
#include "sinks/sink_factory.h"

namespace stackhouse::sinks {

std::span<const SinkFactory> sinkFactories() {
  static const SinkFactory kFactories[] = {
      clickhouseFactory(),
      tinybird::tinybirdFactory(),
      datadog::datadogFactory(),
      logfire::logfireFactory(),
  };
  return kFactories;
}

}  // namespace stackhouse::sinks
