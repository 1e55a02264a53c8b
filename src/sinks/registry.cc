#include "sinks/clickhouse/chdb_sink.h"
#include "sinks/sink_factory.h"

namespace stackhouse::sinks {

std::span<const SinkFactory> sinkFactories() {
  static const SinkFactory kFactories[] = {
      clickhouseFactory(),
  };
  return kFactories;
}

}  // namespace stackhouse::sinks
