// SignalTraits<B>: what the pipeline needs to know of one batch type, so that queueing, sending
// and retrying are written once for every signal instead of once per signal.
//
// B is telemetry::LogBatch, SpanBatch or MetricBatch (the five metric point tables travel
// together: one OTLP request can hold every kind).
#pragma once

#include <span>
#include <string_view>

#include "pipeline/sink.h"
#include "pipeline/stage.h"
#include "telemetry/source.h"

namespace stackhouse::pipeline {

template <typename B>
struct SignalTraits;

template <>
struct SignalTraits<telemetry::LogBatch> {
  static constexpr telemetry::Signal kSignal = telemetry::Signal::kLogs;
  static constexpr telemetry::Source kSource = telemetry::otlpSource(kSignal);  // of OTLP requests
  static constexpr std::string_view kName = "logs";
  static Status write(Sink& sink, std::span<const telemetry::LogBatch* const> batches,
                      std::string_view id, Attempt attempt) {
    return sink.writeLogs(batches, id, attempt);
  }
};

template <>
struct SignalTraits<telemetry::SpanBatch> {
  static constexpr telemetry::Signal kSignal = telemetry::Signal::kTraces;
  static constexpr telemetry::Source kSource = telemetry::otlpSource(kSignal);
  static constexpr std::string_view kName = "traces";
  static Status write(Sink& sink, std::span<const telemetry::SpanBatch* const> batches,
                      std::string_view id, Attempt attempt) {
    return sink.writeSpans(batches, id, attempt);
  }
};

template <>
struct SignalTraits<telemetry::MetricBatch> {
  static constexpr telemetry::Signal kSignal = telemetry::Signal::kMetrics;
  static constexpr telemetry::Source kSource = telemetry::otlpSource(kSignal);
  static constexpr std::string_view kName = "metrics";
  static Status write(Sink& sink, std::span<const telemetry::MetricBatch* const> batches,
                      std::string_view id, Attempt attempt) {
    return sink.writeMetrics(batches, id, attempt);
  }
};

// Calls f(tag) for each batch type, tag being a null `const B*` (for generic set-up code).
template <typename F>
void forEachSignal(F&& f) {
  f(static_cast<const telemetry::LogBatch*>(nullptr));
  f(static_cast<const telemetry::SpanBatch*>(nullptr));
  f(static_cast<const telemetry::MetricBatch*>(nullptr));
}

inline constexpr size_t kSignalCount = 3;
inline constexpr size_t signalIndex(telemetry::Signal s) { return static_cast<size_t>(s); }

}  // namespace stackhouse::pipeline
