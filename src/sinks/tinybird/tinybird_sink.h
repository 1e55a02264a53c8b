// TinybirdSink: rows to Tinybird data sources through the Events API: `POST
// <endpoint>/v0/events?name=<data source>&wait=true`, NDJSON (one row per line, keyed by the
// ClickHouse table's column names, see row_json.h), gzip, `Authorization: Bearer <token>`.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/metrics.h"
#include "config/config.h"
#include "pipeline/sink.h"
#include "sinks/common/chunked_send.h"
#include "sinks/http/http_client.h"
#include "sinks/sink_factory.h"
#include "sinks/tinybird/tinybird_config.h"

namespace stackhouse::sinks::tinybird {

struct TinybirdSettings {
  std::string endpoint;  // https://api.tinybird.co, without a trailing slash
  std::string token;     // a token with DATASOURCE:APPEND on the data sources
  TinybirdDatasources datasources;
  bool wait = true;
  std::chrono::milliseconds timeout{30'000};
  uint64_t maxRequestBytes = 10 << 20;  // NDJSON bytes of one request, before gzip
};

// The reading of one Events API answer, the sink's only status mapping (Tinybird documents
// 200/202 success, 400 invalid, 403 token, 404 data source, 413 too large, 429 rate limited with
// Retry-After, 500/503 server):
//   200, 202       OK (rows Tinybird quarantined are counted by the caller)
//   413            too large: the rows are sent in smaller requests
//   429            kResourceExhausted (throttled), after Retry-After
//   401, 403, 404  kUnavailable: the token or the data source is wrong. The rows are fine; they
//                  stay queued (within the queue's budget) until the configuration is fixed
//   other 4xx      kInvalidArgument (permanent)
//   5xx, no answer kUnavailable, after Retry-After when given
SendOutcome tinybirdOutcome(const http::Response& response);

// `quarantined_rows` of an Events API answer ({"successful_rows": N, "quarantined_rows": M}),
// 0 when absent.
uint64_t quarantinedRows(std::string_view body);

class TinybirdSink final : public pipeline::Sink {
 public:
  TinybirdSink(TinybirdSettings settings, std::unique_ptr<http::Client> client);

  // Sends the group's rows to the signal's data source (metric points: each kind to its own),
  // in requests of at most maxRequestBytes, and returns once Tinybird acknowledged every one
  // (with wait=true: written). A failure is classified by tinybirdOutcome; a kRetry of the same
  // group resumes after the rows already taken.
  Status writeLogs(std::span<const telemetry::LogBatch* const> batches, std::string_view batchId,
                   pipeline::Attempt attempt) override;
  Status writeSpans(std::span<const telemetry::SpanBatch* const> batches, std::string_view batchId,
                    pipeline::Attempt attempt) override;
  Status writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                      std::string_view batchId, pipeline::Attempt attempt) override;

 private:
  // Rows [from, to) of `batches` to one data source; `from`/`to` and progress are counted from
  // `base` (the rows of the group before these batches' kind).
  template <typename Batch>
  Status send(std::span<const Batch* const> batches, const std::string& datasource, size_t base,
              size_t from, DeliveryProgress& progress);

  TinybirdSettings settings_;
  std::unique_ptr<http::Client> client_;
  // One per signal: a retry of one signal's group resumes even after another signal was sent.
  DeliveryProgress logsProgress_, spansProgress_, metricsProgress_;
  std::string compressed_;
  Counter& quarantined_;
  Counter& oversized_;
};

Result<std::unique_ptr<pipeline::Sink>> makeTinybirdSink(const TinybirdConfig& config,
                                                         const std::string& secretsDir);

// Its entry in the sink registry (sinks/registry.cc): kind, queue block, create.
SinkFactory tinybirdFactory();

}  // namespace stackhouse::sinks::tinybird
