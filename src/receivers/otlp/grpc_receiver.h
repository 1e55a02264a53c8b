// OtlpGrpcReceiver: OTLP/gRPC (the Export methods of opentelemetry.proto.collector.{logs,trace,
// metrics}.v1.{LogsService,TraceService,MetricsService}) into the pipeline.
//
// grpc++ serves the calls through a CallbackGenericService: it hands over each request message as
// raw bytes (inflated by grpc when the client used gzip message compression), which our own
// decoder reads straight into a pooled batch, as for OTLP/HTTP. No generated message classes are
// involved. Each call is answered when the pipeline reports its rows durable:
//   OK + Export*ServiceResponse (partial_success when records were rejected, or with only a
//       warning message when attributes were cut to the per-record limits);
//   INVALID_ARGUMENT for malformed data and past the per-request limits (resources, records),
//       and when the store refuses the request's rows for good (no RetryInfo);
//       RESOURCE_EXHAUSTED past the message size limit (grpc's own check, on the inflated size)
//       or when the decoded rows would be too large;
//   UNAVAILABLE when the pipeline is full or stopped, the memory limit is reached, or the store
//       failed (OTLP clients retry), with a google.rpc.RetryInfo (retryDelay) in the status
//       details (grpc-status-details-bin);
//   UNIMPLEMENTED for any other method.
//
// Decoding runs on the receiver's own threads (otlp-grpc-<i>), not on grpc's callback threads,
// which must not block; grpc's threads only queue the call for them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "otlp/decode.h"
#include "pipeline/memory_limiter.h"
#include "pipeline/pipeline.h"

namespace stackhouse::receivers {

struct OtlpGrpcOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port
  int threads = 2;    // decoding threads, otlp-grpc-<i>
  // Largest request message, after decompression (grpc's max receive message size; capped at
  // 2 GiB - 1, grpc's own maximum). Larger messages fail with RESOURCE_EXHAUSTED.
  uint64_t maxMessageBytes = 64ull << 20;
  // HTTP/2 streams (calls) one connection may have open at once (grpc's
  // GRPC_ARG_MAX_CONCURRENT_STREAMS); further calls wait for the client's flow control.
  uint32_t maxConcurrentStreams = 100;
  // The retry delay an UNAVAILABLE answer suggests in its RetryInfo.
  uint32_t retryDelayMillis = 1000;
  // Calls received and waiting for a decoding thread; further calls get UNAVAILABLE.
  size_t maxQueuedCalls = 256;
  otlp::DecodeLimits limits;
  // Not owned; null: no memory limit. Consulted when a request message has arrived.
  pipeline::MemoryLimiter* memoryLimiter = nullptr;
  // The ingestion key every request must carry (ingestion_key.h); empty: none required.
  std::string ingestionKey;
};

class OtlpGrpcReceiver {
 public:
  // Binds, starts grpc and the decoding threads, and logs the "listening" line. Fails (start-up)
  // when the address cannot be bound. The pipeline must outlive the receiver.
  static Result<std::unique_ptr<OtlpGrpcReceiver>> start(const OtlpGrpcOptions& options,
                                                         pipeline::Pipeline& pipeline);
  virtual ~OtlpGrpcReceiver() = default;

  // The bound port (the chosen one when options.port was 0).
  virtual uint16_t port() const = 0;
  // Stops taking calls; calls in flight are answered (those still waiting for the pipeline after
  // `grace` are cancelled), then the decoding threads are joined. Idempotent; the destructor
  // calls it.
  virtual void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0)) = 0;
};

}  // namespace stackhouse::receivers
