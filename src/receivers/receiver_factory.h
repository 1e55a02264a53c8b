// ReceiverFactory: how the ingest stack makes the receivers that own a top-level section of the
// file (prometheusScrape, and the Kubernetes receivers to come). Each such receiver is a folder
// with its section (config/section.h) and one factory; registry.cc lists them, one line each, so
// that a new receiver is its folder plus that line (its folder's CMakeLists.txt is found by the
// folder's presence). The OTLP receivers are the stack's own: their keys under
// otelConfig.receivers.otlp are the config library's, and app/ingest_stack.cc starts them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/config.h"
#include "pipeline/memory_limiter.h"
#include "pipeline/pipeline.h"

namespace stackhouse::receivers {

// A running receiver, made by its factory whether its section enables it or not (a disabled one
// starts nothing and reports an empty state).
class Receiver {
 public:
  virtual ~Receiver() = default;
  // Starts receiving; called once, after the pipeline started, on the main thread. An error
  // names the problem in one line and stops start-up.
  virtual Status start() = 0;
  // Stops receiving: called before the pipeline stops. Idempotent.
  virtual void stop() = 0;
  // Its state as JSON, the answer of ReceiverFactory::statePath. Thread-safe.
  virtual std::string stateJson() const = 0;
};

// What a factory may use to build its receiver. Borrowed for the create() call; the pipeline and
// the memory limiter outlive the receiver.
struct ReceiverContext {
  const config::Config& config;
  const config::Section& section;  // its own section (ReceiverFactory::section), as parsed
  pipeline::Pipeline& pipeline;
  pipeline::MemoryLimiter& memoryLimiter;
  uint16_t adminPort;  // the admin listener's (/metrics), for a receiver that reads it
};

struct ReceiverFactory {
  std::string_view name;  // its section's top-level key
  const config::ReceiverKind* section;
  // GET route of its state where a role serves the API (e.g. /api/v1/scrape/targets).
  std::string_view statePath;
  // Makes the receiver at start-up, before the pipeline runs; receives nothing yet. An error
  // names the problem in one line.
  Result<std::unique_ptr<Receiver>> (*create)(const ReceiverContext& context);
};

// Every receiver this build has that owns a section.
std::span<const ReceiverFactory> receiverFactories();

// Their sections, for config::parseConfig and loadConfig (config::SectionKinds::receivers).
config::ReceiverKinds receiverKinds();

// The sections a stackhouse binary knows: every sink's (sinks::exporterKinds()) is passed in,
// as the sink registry is not this library's to link.
inline config::SectionKinds sectionKinds(config::ExporterKinds exporters) {
  return {exporters, receiverKinds()};
}

}  // namespace stackhouse::receivers
