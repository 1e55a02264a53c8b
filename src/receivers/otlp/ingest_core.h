// OtlpIngestCore: what the OTLP/HTTP and OTLP/gRPC receivers share once a request's bytes are in
// hand — decoding into a pooled batch, counting, submitting to the pipeline, and deciding the
// request's outcome. The transports only frame it: HTTP and gRPC each turn an ExportResult into
// their own answer through the one Status table (common/status.h: httpStatusCode,
// grpcStatusCode).
//
// Outcomes (ExportResult::status):
//   ok                  accepted; `rejected` records refused within it (OTLP partial success)
//                       and `message` the partial-success text, both possibly empty;
//   kInvalidArgument    the data is malformed, or the sink refused it for good: never retried;
//   kResourceExhausted  past a per-request limit (the message names its configuration key);
//   kUnavailable        the client is to retry: a sink's queue is full (backpressure), the
//                       queue could not be synced, or the pipeline has stopped.
//
// Counters, per receiver and signal:
//   stackhouse_receiver_requests_total{receiver,signal,outcome=accepted|invalid|refused|failed}
//     (refused: the pipeline did not take the request; failed: it took it and could not make it
//     durable)
//   stackhouse_receiver_records_total{receiver,signal,outcome=accepted|rejected}
//   stackhouse_receiver_invalid_utf8_total{receiver}
//   stackhouse_otlp_unauthenticated_total{transport}
// plus LimitCounters' and countExpired's (limit_counters.h).
//
// Thread-safety: every method may be called from any thread; `answer` is called exactly once,
// on the calling thread (refused at once, or nothing to store) or on the pipeline's sync thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "common/status.h"
#include "otlp/decode.h"
#include "pipeline/pipeline.h"
#include "receivers/otlp/limit_counters.h"

namespace stackhouse::receivers {

struct ExportResult {
  Status status;
  uint64_t rejected = 0;
  std::string message;
};
using ExportAnswer = std::function<void(ExportResult)>;

class OtlpIngestCore {
 public:
  // `receiver`: "otlp-http" or "otlp-grpc" (the counters' label); `transport`: "http" or "grpc".
  OtlpIngestCore(std::string_view receiver, std::string_view transport,
                 pipeline::Pipeline& pipeline, const otlp::DecodeLimits& limits);

  // Decodes `body` (read only during the call), submits its records and answers. `admission`
  // (from admit()) is handed to the pipeline with the records.
  void ingest(otlp::Signal signal, otlp::Encoding encoding, std::span<const uint8_t> body,
              ExportAnswer answer, pipeline::Admission admission = {});

  // Reserves room for a request of about `bytes` in the queues it is routed to
  // (Pipeline::admit): kUnavailable, counted as refused, when a routed queue that pushes back has
  // none. Transports ask once, as early as they can (HTTP from the request's header, gRPC once
  // the message has arrived), so that a refusal costs no decoding, and hand the Admission to
  // ingest() (submit() decides in the end).
  Result<pipeline::Admission> admit(otlp::Signal signal, uint64_t bytes);

  // Requests the transport answers itself before decoding: refused for the data or its framing
  // (unsupported media type, body past its limit, bad compression, no message), or refused to
  // be retried (the memory limit, a busy receiver).
  void countInvalid(otlp::Signal signal) { of(signal).invalid.inc(); }
  void countRefused(otlp::Signal signal) { of(signal).refused.inc(); }
  void countUnauthenticated() { unauthenticated_.inc(); }
  // The memory limiter's refusal counter for this receiver (MemoryLimiter::admit).
  Counter& memoryRefused() { return memoryRefused_; }

 private:
  struct SignalCounters {
    Counter& accepted;
    Counter& invalid;
    Counter& refused;
    Counter& failed;
    Counter& recordsAccepted;
    Counter& recordsRejected;
  };
  static SignalCounters countersFor(std::string_view receiver, std::string_view signal);
  SignalCounters& of(otlp::Signal signal);

  template <typename B, typename Decode>
  void run(otlp::Signal signal, pipeline::BatchPool<B>& pool, std::span<const uint8_t> body,
           ExportAnswer& answer, pipeline::Admission& admission, Decode&& decode);

  pipeline::Pipeline& pipeline_;
  otlp::DecodeLimits limits_;
  SignalCounters logs_;
  SignalCounters traces_;
  SignalCounters metrics_;
  Counter& invalidUtf8_;
  Counter& memoryRefused_;
  Counter& unauthenticated_;
  LimitCounters limitCounters_;
};

}  // namespace stackhouse::receivers
