// LogfireSink: logs, spans and metric points to Logfire over OTLP/HTTP (protobuf, gzip), the way
// Logfire documents for OpenTelemetry clients: POST <base>/v1/{logs,traces,metrics} with the
// project's write token in `Authorization`.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/metrics.h"
#include "common/status.h"
#include "config/config.h"
#include "pipeline/sink.h"
#include "sinks/common/chunked_send.h"
#include "sinks/http/http_client.h"
#include "sinks/logfire/logfire_config.h"
#include "sinks/sink_factory.h"

namespace stackhouse::sinks::logfire {

// What the sink needs, resolved from its configuration at start-up.
struct LogfireSettings {
  std::string baseUrl;  // https://logfire-us.pydantic.dev, without a trailing slash
  std::string token;    // the write token, sent as `Authorization: <token>`
  std::chrono::milliseconds timeout{30'000};
  uint64_t maxRequestBytes = 4 << 20;  // one request's protobuf, before gzip
};

// The base URL for a region ("us", "eu") or an explicit endpoint (which wins).
std::string logfireBaseUrl(const LogfireConfig& config);

// The reading of one Logfire answer, the sink's only status mapping (OTLP/HTTP's rules):
//   2xx                    OK (a partial success in the body is counted by the caller)
//   413                    too large: the rows are sent in smaller requests
//   429                    kResourceExhausted (throttled), after Retry-After
//   502, 503, 504          kUnavailable (retryable), after Retry-After when given
//   401, 403               kUnavailable: the token was refused. The rows are fine; they stay
//                          queued (within the queue's budget) until the token is fixed
//   other 4xx              kInvalidArgument (permanent: Logfire will never take these rows)
//   other 5xx, no answer   kUnavailable
SendOutcome logfireOutcome(const http::Response& response);

// The rejected count of an Export*ServiceResponse's partial_success (0 for an empty or
// unreadable body: the rows were taken).
uint64_t partialSuccessRejected(std::string_view body);

class LogfireSink final : public pipeline::Sink {
 public:
  LogfireSink(LogfireSettings settings, std::unique_ptr<http::Client> client);

  // Each call sends the group as OTLP requests of at most maxRequestBytes, in order, and returns
  // once Logfire has answered every one of them with success (or at the first failure, which
  // it classifies with logfireOutcome; a kRetry of the same group resumes after the rows
  // already taken). Rows Logfire rejects in a partial success are counted, never resent.
  Status writeLogs(std::span<const telemetry::LogBatch* const> batches, std::string_view batchId,
                   pipeline::Attempt attempt) override;
  Status writeSpans(std::span<const telemetry::SpanBatch* const> batches, std::string_view batchId,
                    pipeline::Attempt attempt) override;
  Status writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                      std::string_view batchId, pipeline::Attempt attempt) override;

 private:
  template <typename Batch, typename Encode>
  Status write(std::span<const Batch* const> batches, std::string_view batchId,
               pipeline::Attempt attempt, DeliveryProgress& progress, std::string_view signal,
               std::string_view path, Encode&& encode);

  LogfireSettings settings_;
  std::unique_ptr<http::Client> client_;
  // One per signal: a retry of one signal's group resumes even after another signal was sent.
  DeliveryProgress logsProgress_, spansProgress_, metricsProgress_;
  std::string compressed_;
  Counter& rejected_;   // rows Logfire refused in a partial success
  Counter& oversized_;  // rows larger than a request may be, skipped
};

// The factory: reads the write token (secret or file) and opens the HTTP client. Fails
// (kInvalidArgument, at start-up) when the token cannot be read.
Result<std::unique_ptr<pipeline::Sink>> makeLogfireSink(const LogfireConfig& config,
                                                        const std::string& secretsDir);

// Its entry in the sink registry (sinks/registry.cc): kind, queue block, create.
SinkFactory logfireFactory();

}  // namespace stackhouse::sinks::logfire
