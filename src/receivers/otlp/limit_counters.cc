#include "receivers/otlp/limit_counters.h"

#include <string>

namespace stackhouse::receivers {

namespace {

Counter& truncated(std::string_view receiver, std::string_view part) {
  return metrics().counter("stackhouse_receiver_attributes_truncated_total",
                           "Attribute keys or values cut to their length limit.",
                           {{"receiver", std::string(receiver)}, {"part", std::string(part)}});
}

}  // namespace

LimitCounters::LimitCounters(std::string_view receiver)
    : dropped_(metrics().counter("stackhouse_receiver_attributes_dropped_total",
                                 "Attributes dropped past the per-record attribute limit.",
                                 {{"receiver", std::string(receiver)}})),
      keysCut_(truncated(receiver, "key")),
      valuesCut_(truncated(receiver, "value")) {}

void countExpired(otlp::Signal signal, uint64_t records) {
  if (records == 0) return;
  auto counter = [](std::string_view name) -> Counter& {
    return metrics().counter("stackhouse_receiver_records_expired_on_arrival_total",
                             "Records already older than the retention when they arrived; "
                             "dropped before the insert, not counted as rejected.",
                             {{"signal", std::string(name)}});
  };
  static Counter& logs = counter(telemetry::signalName(otlp::Signal::kLogs));
  static Counter& traces = counter(telemetry::signalName(otlp::Signal::kTraces));
  static Counter& metricPoints = counter(telemetry::signalName(otlp::Signal::kMetrics));
  switch (signal) {
    case otlp::Signal::kLogs: logs.inc(records); break;
    case otlp::Signal::kTraces: traces.inc(records); break;
    case otlp::Signal::kMetrics: metricPoints.inc(records); break;
  }
}

}  // namespace stackhouse::receivers
