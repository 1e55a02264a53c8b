// SinkFactory: how `stackhouse run` makes the sinks it routes to. Each sink folder provides one
// factory; registry.cc lists them, one line each, so that a new sink is its folder plus that line.
#pragma once

#include <chrono>
#include <memory>
#include <span>

#include "common/status.h"
#include "config/config.h"
#include "pipeline/sink.h"

namespace stackhouse::store {
class ChdbStore;
}

namespace stackhouse::sinks {

// What a factory may use to build its sink. Borrowed for the create() call; the objects outlive
// the sink.
struct SinkContext {
  const config::Config& config;
  store::ChdbStore* embeddedStore = nullptr;  // null when the stack has no embedded store
};

struct SinkFactory {
  config::Sink kind;  // its name in otelConfig.routing and otelConfig.exporters
  // Its queue block, otelConfig.exporters.<sink>.queue.
  const config::QueueConfig& (*queue)(const config::Config& config);
  // Its `timeout` (otelConfig.exporters.<sink>.timeout): the deadline of one send
  // (pipeline::SinkWorkerOptions::sendTimeout).
  std::chrono::nanoseconds (*timeout)(const config::Config& config);
  // Makes the sink; called at start-up for a sink that is enabled (config::sinkEnabled). An
  // error names the problem in one line.
  Result<std::unique_ptr<pipeline::Sink>> (*create)(const SinkContext& context);
};

// Every sink this build has.
std::span<const SinkFactory> sinkFactories();

}  // namespace stackhouse::sinks
