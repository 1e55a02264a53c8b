#pragma once

#include <string_view>

namespace stackhouse::telemetry {

// Where a batch came from; the router sends it to the sinks listed for its source
// (otelConfig.routing.<source>).
enum class Source : unsigned char {
  kTraces,
  kMetrics,
  kK8sMetrics,
  kK8sEvents,
  kPrometheusScrape,
  kLogs
};

inline constexpr Source kAllSources[] = {Source::kTraces,           Source::kMetrics,
                                         Source::kK8sMetrics,       Source::kK8sEvents,
                                         Source::kPrometheusScrape, Source::kLogs};

// The three OTLP signals.
enum class Signal : unsigned char { kLogs, kTraces, kMetrics };

std::string_view sourceName(Source s);
std::string_view signalName(Signal s);

}  // namespace stackhouse::telemetry
