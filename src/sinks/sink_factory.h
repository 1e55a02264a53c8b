// SinkFactory: how `stackhouse run` makes the sinks it routes to. Each sink folder provides one
// factory with its configuration section; registry.cc lists them, one line each, so that a new
// sink is its folder plus that line (its folder's CMakeLists.txt is found by the folder's
// presence).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/config.h"
#include "pipeline/sink.h"

namespace stackhouse::sinks {

// What a factory may use to build its sink. Borrowed for the create() call.
struct SinkContext {
  const config::Config& config;
  std::string_view name;  // the sink's (SinkFactory::name)
  // Makes the embedded store's sink; empty when the stack has no embedded store (the collector
  // role). Only the clickhouse sink uses it.
  std::function<std::unique_ptr<pipeline::Sink>()> embeddedSink;
};

struct SinkFactory {
  std::string_view name;  // its name in otelConfig.routing and otelConfig.exporters
  // Its section under otelConfig.exporters, read by the sink's own code (config/section.h).
  // Null for clickhouse, whose section is the config library's own: the embedded store, its
  // retention and the query API read it too.
  const config::ExporterKind* section;
  // Makes the sink; called at start-up for a sink that is enabled (config::sinkEnabled). An
  // error names the problem in one line.
  Result<std::unique_ptr<pipeline::Sink>> (*create)(const SinkContext& context);
};

// Every sink this build has. The vendor sinks' order is that of their names in the routing
// defaults (config::defaultConfig) and in messages.
std::span<const SinkFactory> sinkFactories();

// The sections of the sinks this build has, for config::parseConfig and loadConfig.
config::ExporterKinds exporterKinds();

// The factory of a vendor sink: its section `T` (named by `kind`) and `make`, which builds the
// sink from the section and clickstack.secretsDir (where its credential is read).
template <typename T,
          Result<std::unique_ptr<pipeline::Sink>> (*make)(const T&, const std::string& secretsDir)>
SinkFactory vendorFactory(const config::ExporterKind& kind) {
  return {kind.name, &kind,
          [](const SinkContext& context) -> Result<std::unique_ptr<pipeline::Sink>> {
            const T* section = context.config.otelConfig.exporters.vendors.get<T>(context.name);
            if (section == nullptr) {
              return invalidArgument("otelConfig.exporters." + std::string(context.name) +
                                     ": the configuration was read without this sink's section");
            }
            return make(*section, context.config.clickstack.secretsDir);
          }};
}

}  // namespace stackhouse::sinks
