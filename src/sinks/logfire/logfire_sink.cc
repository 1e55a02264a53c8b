#include "sinks/logfire/logfire_sink.h"

#include <utility>

#include "common/log.h"
#include "config/secret.h"
#include "otlp/request_encode.h"
#include "sinks/http/compression.h"
#include "telemetry/row_slice.h"

namespace stackhouse::sinks::logfire {
namespace {

// Requests carry at most this many rows whatever their size: bounds the work one answer covers.
constexpr size_t kMaxRowsPerRequest = 10'000;

bool readVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Skips one field's value of wire type `wire`; false when the input is malformed.
bool skipField(std::string_view& in, uint64_t wire) {
  uint64_t v = 0;
  switch (wire) {
    case 0: return readVarint(in, v);
    case 1:
      if (in.size() < 8) return false;
      in.remove_prefix(8);
      return true;
    case 2:
      if (!readVarint(in, v) || v > in.size()) return false;
      in.remove_prefix(v);
      return true;
    case 5:
      if (in.size() < 4) return false;
      in.remove_prefix(4);
      return true;
    default: return false;
  }
}

}  // namespace

std::string logfireBaseUrl(const LogfireConfig& config) {
  if (!config.endpoint.empty()) return config.endpoint;
  return "https://logfire-" + config.region + ".pydantic.dev";
}

uint64_t partialSuccessRejected(std::string_view body) {
  // Export*ServiceResponse { partial_success = 1 { rejected_* = 1 (int64), error_message = 2 } }
  while (!body.empty()) {
    uint64_t key = 0;
    if (!readVarint(body, key)) return 0;
    if (key >> 3 == 1 && (key & 7) == 2) {
      uint64_t length = 0;
      if (!readVarint(body, length) || length > body.size()) return 0;
      std::string_view partial = body.substr(0, length);
      body.remove_prefix(length);
      uint64_t rejected = 0;
      while (!partial.empty()) {
        uint64_t inner = 0;
        if (!readVarint(partial, inner)) return 0;
        if (inner >> 3 == 1 && (inner & 7) == 0) {
          if (!readVarint(partial, rejected)) return 0;
        } else if (!skipField(partial, inner & 7)) {
          return 0;
        }
      }
      // int64 on the wire: a negative count is nonsense, read as nothing rejected.
      return static_cast<int64_t>(rejected) < 0 ? 0 : rejected;
    }
    if (!skipField(body, key & 7)) return 0;
  }
  return 0;
}

SendOutcome logfireOutcome(const http::Response& response) {
  if (!response.answered()) {
    return {unavailable("logfire: no answer: " + response.transportMessage)};
  }
  const int status = response.status;
  if (status >= 200 && status < 300) return {Status::ok()};
  const auto retryAfter = http::parseRetryAfter(response.header("retry-after"));
  const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      retryAfter.value_or(std::chrono::seconds(0)));
  const std::string code = std::to_string(status);
  if (status == 413) return {Status::ok(), /*tooLarge=*/true};
  if (status == 429) {
    return {resourceExhausted("logfire: throttled (HTTP 429)").withRetryAfter(delay)};
  }
  if (status == 502 || status == 503 || status == 504) {
    return {unavailable("logfire: unavailable (HTTP " + code + ")").withRetryAfter(delay)};
  }
  if (status == 401 || status == 403) {
    return {unavailable("logfire: the write token was refused (HTTP " + code +
                        "); check otelConfig.exporters.logfire's token")};
  }
  if (status >= 400 && status < 500) {
    return {invalidArgument("logfire: the request was refused (HTTP " + code + ")")};
  }
  return {unavailable("logfire: server error (HTTP " + code + ")")};
}

LogfireSink::LogfireSink(LogfireSettings settings, std::unique_ptr<http::Client> client)
    : settings_(std::move(settings)),
      client_(std::move(client)),
      rejected_(metrics().counter("stackhouse_sink_rejected_rows_total",
                                  "Rows a sink's service refused in a partial success.",
                                  {{"sink", "logfire"}})),
      oversized_(metrics().counter("stackhouse_sink_oversized_rows_total",
                                   "Rows larger than one request to the sink may be, skipped.",
                                   {{"sink", "logfire"}})) {}

template <typename Batch, typename Encode>
Status LogfireSink::write(std::span<const Batch* const> batches, std::string_view batchId,
                          pipeline::Attempt attempt, DeliveryProgress& progress,
                          std::string_view signal, std::string_view path, Encode&& encode) {
  const size_t total = telemetry::totalRows(batches);
  const size_t from = progress.start(batchId, attempt);
  ChunkStats stats;
  const std::string url = settings_.baseUrl + std::string(path);
  Status st = sendInChunks(
      *this, from, total, kMaxRowsPerRequest, settings_.maxRequestBytes, progress, stats,
      [&](size_t begin, size_t end, std::string& body) {
        const auto slices = telemetry::sliceRows(batches, begin, end);
        encode(std::span<const telemetry::RowSlice<Batch>>(slices), body);
      },
      [&](const std::string& body, size_t rows) -> SendOutcome {
        if (Status c = http::compress(http::Compression::kGzip, body, compressed_); !c.isOk()) {
          return {unavailable("logfire: " + c.message())};
        }
        http::Request request;
        request.url = url;
        request.headers = {{"Content-Type", "application/x-protobuf"},
                           {"Content-Encoding", "gzip"},
                           {"Authorization", settings_.token}};
        request.body = compressed_;
        request.timeout = settings_.timeout;
        request.maxResponseBodyBytes = 64 << 10;
        const http::Response response = client_->send(request);
        SendOutcome outcome = logfireOutcome(response);
        if (outcome.status.isOk() && !outcome.tooLarge) {
          if (const uint64_t rejected = partialSuccessRejected(response.body); rejected > 0) {
            rejected_.inc(rejected);
            // The count only: Logfire's message may quote the rows.
            log::warn("logfire rejected part of a request",
                      log::Fields()
                          .add("signal", signal)
                          .add("rejected", rejected)
                          .add("rows", static_cast<uint64_t>(rows)));
          }
        }
        return outcome;
      });
  if (stats.oversizedRows > 0) {
    oversized_.inc(stats.oversizedRows);
    log::warn("logfire: rows larger than one request skipped",
              log::Fields()
                  .add("signal", signal)
                  .add("rows", static_cast<uint64_t>(stats.oversizedRows)));
  }
  return st;
}

Status LogfireSink::writeLogs(std::span<const telemetry::LogBatch* const> batches,
                              std::string_view batchId, pipeline::Attempt attempt) {
  return write(batches, batchId, attempt, logsProgress_, "logs", "/v1/logs",
               [](auto slices, std::string& out) { otlp::encodeLogsRequest(slices, out); });
}

Status LogfireSink::writeSpans(std::span<const telemetry::SpanBatch* const> batches,
                               std::string_view batchId, pipeline::Attempt attempt) {
  return write(batches, batchId, attempt, spansProgress_, "spans", "/v1/traces",
               [](auto slices, std::string& out) { otlp::encodeTraceRequest(slices, out); });
}

Status LogfireSink::writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                                 std::string_view batchId, pipeline::Attempt attempt) {
  return write(batches, batchId, attempt, metricsProgress_, "metric points", "/v1/metrics",
               [](auto slices, std::string& out) { otlp::encodeMetricsRequest(slices, out); });
}

Result<std::unique_ptr<pipeline::Sink>> makeLogfireSink(const LogfireConfig& config,
                                                        const std::string& secretsDir) {
  auto token = config::readCredential(config.token, secretsDir, "otelConfig.exporters.logfire");
  if (!token.isOk()) return token.status();
  auto client = http::Client::create(http::ClientOptions{});
  if (!client.isOk()) return client.status();
  LogfireSettings settings;
  settings.baseUrl = logfireBaseUrl(config);
  settings.token = std::move(token.value());
  settings.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout);
  settings.maxRequestBytes = config.maxRequestSize;
  return std::unique_ptr<pipeline::Sink>(
      std::make_unique<LogfireSink>(std::move(settings), std::move(client.value())));
}

SinkFactory logfireFactory() {
  return vendorFactory<LogfireConfig, makeLogfireSink>(kLogfireSection);
}

}  // namespace stackhouse::sinks::logfire
