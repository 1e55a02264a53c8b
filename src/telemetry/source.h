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

// The source of a signal's data received over OTLP.
constexpr Source otlpSource(Signal s) {
  switch (s) {
    case Signal::kLogs: return Source::kLogs;
    case Signal::kTraces: return Source::kTraces;
    case Signal::kMetrics: return Source::kMetrics;
  }
  return Source::kLogs;
}

std::string_view sourceName(Source s);
std::string_view signalName(Signal s);

}  // namespace stackhouse::telemetry
