// DatadogSink: logs through the Logs intake API v2, metric points through the Metrics API v2
// series, spans through Datadog's OTLP traces intake (README.md says why each, and the mapping).
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/metrics.h"
#include "config/config.h"
#include "pipeline/sink.h"
#include "sinks/common/chunked_send.h"
#include "sinks/datadog/datadog_config.h"
#include "sinks/http/http_client.h"
#include "sinks/sink_factory.h"

namespace stackhouse::sinks::datadog {

struct DatadogSettings {
  std::string logsUrl;    // https://http-intake.logs.<site>/api/v2/logs
  std::string seriesUrl;  // https://api.<site>/api/v2/series
  std::string tracesUrl;  // https://otlp.<site>/v1/traces
  std::string apiKey;     // sent as DD-API-KEY
  std::chrono::milliseconds timeout{30'000};
};

// The intake URLs for a site, or under `endpoint` when it is set.
DatadogSettings datadogUrls(const DatadogConfig& config);

// The documented limits.
inline constexpr size_t kMaxLogsPerRequest = 1000;               // entries of one array
inline constexpr size_t kMaxLogsRequestBytes = 5'000'000;        // uncompressed, "5MB"
inline constexpr size_t kMaxLogBytes = 1'000'000;                // one log, "1MB" (truncated)
inline constexpr size_t kMaxSeriesCompressedBytes = 512'000;     // a series payload, compressed
inline constexpr size_t kMaxSeriesRequestBytes = 5'242'880 - 1;  // decompressed: "less than"
inline constexpr size_t kMaxTraceRequestBytes = 3'200'000;       // our own bound per request

// The reading of one Datadog answer, the sink's only status mapping (Datadog documents 202
// accepted, 400 bad payload, 401/403 key, 408 timeout, 413 too large, 429 too many requests,
// 5xx retry later):
//   2xx             OK
//   413             too large: the rows are sent in smaller requests
//   429             kResourceExhausted (throttled), after Retry-After
//   408, 5xx        kUnavailable (retryable), after Retry-After when given
//   401, 403        kUnavailable: the API key was refused. The rows are fine; they stay queued
//                   (within the queue's budget) until the key is fixed
//   other 4xx       kInvalidArgument (permanent)
//   no answer       kUnavailable
SendOutcome datadogOutcome(const http::Response& response, std::string_view intake);

class DatadogSink final : public pipeline::Sink {
 public:
  DatadogSink(DatadogSettings settings, std::unique_ptr<http::Client> client);

  Status writeLogs(std::span<const telemetry::LogBatch* const> batches, std::string_view batchId,
                   pipeline::Attempt attempt) override;
  Status writeSpans(std::span<const telemetry::SpanBatch* const> batches, std::string_view batchId,
                    pipeline::Attempt attempt) override;
  // Metric points become series (README "Metrics"); cumulative sums, histograms and summaries
  // become deltas against the previous point of the same series, kept in memory (bounded). The
  // series of a group are computed once: a kRetry of the same group resends them, never
  // recomputes them.
  Status writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                      std::string_view batchId, pipeline::Attempt attempt) override;

 private:
  // gzip and POST one request; a compressed body over `maxCompressed` is not sent but reported
  // too large.
  SendOutcome post(const std::string& url, std::string_view contentType, const std::string& body,
                   std::string_view intake,
                   size_t maxCompressed = std::numeric_limits<size_t>::max());

  DatadogSettings settings_;
  std::unique_ptr<http::Client> client_;
  // One per signal: a retry of one signal's group resumes even after another signal was sent.
  DeliveryProgress logsProgress_, spansProgress_, metricsProgress_;
  std::string compressed_;
  // writeMetrics: the series of the group being sent (JSON objects), kept for its retries.
  std::string seriesBatchId_;
  std::vector<std::string> series_;
  // Previous cumulative value per series key, for deltas; cleared when it passes kMaxSeries.
  std::unordered_map<std::string, std::pair<int64_t, double>> previous_;
  Counter& oversized_;
};

Result<std::unique_ptr<pipeline::Sink>> makeDatadogSink(const DatadogConfig& config,
                                                        const std::string& secretsDir);

// Its entry in the sink registry (sinks/registry.cc): name, config section, create.
SinkFactory datadogFactory();

}  // namespace stackhouse::sinks::datadog
