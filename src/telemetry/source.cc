#include "telemetry/source.h"

namespace stackhouse::telemetry {

std::string_view sourceName(Source s) {
  switch (s) {
    case Source::kTraces: return "traces";
    case Source::kMetrics: return "metrics";
    case Source::kK8sMetrics: return "k8sMetrics";
    case Source::kK8sEvents: return "k8sEvents";
    case Source::kPrometheusScrape: return "prometheusScrape";
    case Source::kLogs: return "logs";
  }
  return "unknown";
}

std::string_view signalName(Signal s) {
  switch (s) {
    case Signal::kLogs: return "logs";
    case Signal::kTraces: return "traces";
    case Signal::kMetrics: return "metrics";
  }
  return "unknown";
}

}  // namespace stackhouse::telemetry
