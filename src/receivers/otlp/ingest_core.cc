#include "receivers/otlp/ingest_core.h"

#include <memory>
#include <utility>

#include "common/log.h"
#include "otlp/encode.h"
#include "pipeline/memory_limiter.h"
#include "telemetry/source.h"

namespace stackhouse::receivers {

OtlpIngestCore::SignalCounters OtlpIngestCore::countersFor(std::string_view receiver,
                                                           std::string_view signal) {
  auto requests = [&](std::string_view outcome) -> Counter& {
    return metrics().counter("stackhouse_receiver_requests_total", "OTLP requests by outcome.",
                             {{"receiver", std::string(receiver)},
                              {"signal", std::string(signal)},
                              {"outcome", std::string(outcome)}});
  };
  auto records = [&](std::string_view outcome) -> Counter& {
    return metrics().counter("stackhouse_receiver_records_total",
                             "Log records, spans and metric points by outcome.",
                             {{"receiver", std::string(receiver)},
                              {"signal", std::string(signal)},
                              {"outcome", std::string(outcome)}});
  };
  return {requests("accepted"), requests("invalid"), requests("refused"),
          requests("failed"),   records("accepted"), records("rejected")};
}

OtlpIngestCore::OtlpIngestCore(std::string_view receiver, std::string_view transport,
                               pipeline::Pipeline& pipeline, const otlp::DecodeLimits& limits)
    : pipeline_(pipeline),
      limits_(limits),
      logs_(countersFor(receiver, "logs")),
      traces_(countersFor(receiver, "traces")),
      metrics_(countersFor(receiver, "metrics")),
      invalidUtf8_(metrics().counter("stackhouse_receiver_invalid_utf8_total",
                                     "Ill-formed UTF-8 bytes replaced with U+FFFD.",
                                     {{"receiver", std::string(receiver)}})),
      memoryRefused_(pipeline::MemoryLimiter::refusedCounter(receiver)),
      unauthenticated_(
          metrics().counter("stackhouse_otlp_unauthenticated_total",
                            "OTLP requests refused for a missing or wrong ingestion key.",
                            {{"transport", std::string(transport)}})),
      limitCounters_(receiver) {}

OtlpIngestCore::SignalCounters& OtlpIngestCore::of(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kLogs: return logs_;
    case otlp::Signal::kTraces: return traces_;
    case otlp::Signal::kMetrics: return metrics_;
  }
  return logs_;
}

Result<pipeline::Admission> OtlpIngestCore::admit(otlp::Signal signal, uint64_t bytes) {
  Result<pipeline::Admission> admitted = pipeline_.admit(telemetry::otlpSource(signal), bytes);
  if (!admitted.isOk()) of(signal).refused.inc();
  return admitted;
}

void OtlpIngestCore::ingest(otlp::Signal signal, otlp::Encoding encoding,
                            std::span<const uint8_t> body, ExportAnswer answer,
                            pipeline::Admission admission) {
  switch (signal) {
    case otlp::Signal::kLogs:
      run(signal, pipeline_.logPool(), body, answer, admission,
          [encoding](auto in, auto&... out) { return otlp::decodeLogs(in, encoding, out...); });
      return;
    case otlp::Signal::kTraces:
      run(signal, pipeline_.spanPool(), body, answer, admission,
          [encoding](auto in, auto&... out) { return otlp::decodeSpans(in, encoding, out...); });
      return;
    case otlp::Signal::kMetrics:
      run(signal, pipeline_.metricPool(), body, answer, admission,
          [encoding](auto in, auto&... out) { return otlp::decodeMetrics(in, encoding, out...); });
      return;
  }
}

template <typename B, typename Decode>
void OtlpIngestCore::run(otlp::Signal signal, pipeline::BatchPool<B>& pool,
                         std::span<const uint8_t> body, ExportAnswer& answer,
                         pipeline::Admission& admission, Decode&& decode) {
  SignalCounters& c = of(signal);
  auto batch = pool.acquire();
  otlp::DecodeStats stats;
  const Status decoded = decode(body, *batch, stats, limits_);
  if (!decoded.isOk()) {
    c.invalid.inc();
    log::debug(
        "OTLP request refused",
        log::Fields().add("signal", telemetry::signalName(signal)).add("error", decoded.message()));
    answer({decoded, 0, {}});
    return;
  }
  if (stats.invalidUtf8 > 0) invalidUtf8_.inc(stats.invalidUtf8);
  limitCounters_.count(stats);
  countExpired(signal, stats.expired);
  c.recordsRejected.inc(stats.rejected);
  std::string message = otlp::partialSuccessMessage(stats, limits_);
  if (stats.accepted == 0) {
    c.accepted.inc();
    answer({Status::ok(), stats.rejected, std::move(message)});
    return;
  }

  // Answered once: by the pipeline's completion, or here when the pipeline did not take it.
  auto once = std::make_shared<ExportAnswer>(std::move(answer));
  const pipeline::RequestKey key = pipeline_.keyOf(static_cast<uint8_t>(signal), body);
  const Status submitted = pipeline_.submit(
      std::move(batch), key,
      [once, &c, accepted = stats.accepted, rejected = stats.rejected,
       message = std::move(message)](const Status& outcome) {
        if (outcome.isOk()) {
          c.accepted.inc();
          c.recordsAccepted.inc(accepted);
          (*once)({Status::ok(), rejected, message});
        } else if (outcome.code() == StatusCode::kInvalidArgument) {
          // A sink refused these rows for good (see Pipeline): retrying is futile.
          c.invalid.inc();
          (*once)({outcome, 0, {}});
        } else {
          // Made durable nowhere: the client retries.
          c.failed.inc();
          (*once)({Status(StatusCode::kUnavailable, outcome.message()), 0, {}});
        }
      },
      std::move(admission));
  if (!submitted.isOk()) {
    c.refused.inc();
    (*once)({Status(StatusCode::kUnavailable, submitted.message()), 0, {}});
  }
}

}  // namespace stackhouse::receivers
