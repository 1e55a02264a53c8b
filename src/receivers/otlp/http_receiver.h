// OtlpHttpReceiver: OTLP/HTTP (POST /v1/logs, /v1/traces, /v1/metrics) into the pipeline.
//
// Bodies are application/x-protobuf or application/json, identity or gzip. Each request is
// decoded on the IO thread that read it, straight into a pooled batch, and submitted to the
// pipeline; the answer is written when the pipeline reports its rows durable (synced to the queue
// of every sink they are routed to):
//   200 + Export*ServiceResponse (partial success when records were rejected, or with only a
//       warning message when attributes were cut to the per-record limits), in the request's
//       encoding;
//   400 + google.rpc.Status for malformed data and past the per-request limits (resources,
//       records: the message names the limit's configuration key); 413 past the body limit (checked
//       on the decompressed size as it inflates); 415 for other media types or encodings;
//   503 + Retry-After when a sink's queue is full (onFull: backpressure), the memory limit is
//       reached (decided from the header, before the body is read, when the server uses admit()),
//       or the queue could not be synced (the client retries);
//   404 for other paths, 405 for other methods.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/metrics.h"
#include "http/server.h"
#include "otlp/decode.h"
#include "pipeline/memory_limiter.h"
#include "pipeline/pipeline.h"
#include "receivers/otlp/ingest_core.h"

namespace stackhouse::receivers {

struct OtlpHttpOptions {
  uint64_t maxBodyBytes = 64ull << 20;  // decompressed (and, for identity bodies, received) size
  otlp::DecodeLimits limits;
  // Not owned; null: no memory limit. Consulted before each body is inflated and decoded.
  pipeline::MemoryLimiter* memoryLimiter = nullptr;
  // The ingestion key every request must carry (ingestion_key.h); empty: none required.
  std::string ingestionKey;
};

class OtlpHttpReceiver {
 public:
  OtlpHttpReceiver(const OtlpHttpOptions& options, pipeline::Pipeline& pipeline);

  // The HTTP handler; runs on the server's IO threads.
  void handle(http::Request&& request, http::Respond respond);

  // The server's Admit hook (http::ServerOptions::admit), on its IO threads: reserves the body's
  // Content-Length with the memory limiter before the body is read, or refuses the request there
  // and then (503 + Retry-After) above the soft limit, so that refused bodies are never held.
  http::AdmitResult admit(const http::RequestHead& head);

 private:
  void ingest(http::Request&& request, http::Respond respond, otlp::Signal signal);

  OtlpHttpOptions options_;
  OtlpIngestCore core_;
};

}  // namespace stackhouse::receivers
