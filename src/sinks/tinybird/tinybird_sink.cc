#include "sinks/tinybird/tinybird_sink.h"

#include <type_traits>
#include <utility>
#include <vector>

#include "common/log.h"
#include "config/secret.h"
#include "sinks/http/compression.h"
#include "sinks/tinybird/row_json.h"
#include "telemetry/row_slice.h"

namespace stackhouse::sinks::tinybird {
namespace {

// No row count is documented; this bounds the work one answer covers.
constexpr size_t kMaxRowsPerRequest = 100'000;

}  // namespace

uint64_t quarantinedRows(std::string_view body) {
  constexpr std::string_view kKey = "\"quarantined_rows\"";
  const size_t at = body.find(kKey);
  if (at == std::string_view::npos) return 0;
  size_t i = at + kKey.size();
  while (i < body.size() && (body[i] == ' ' || body[i] == ':')) ++i;
  uint64_t n = 0;
  for (; i < body.size() && body[i] >= '0' && body[i] <= '9'; ++i) {
    n = n * 10 + static_cast<uint64_t>(body[i] - '0');
  }
  return n;
}

SendOutcome tinybirdOutcome(const http::Response& response) {
  if (!response.answered()) {
    return {unavailable("tinybird: no answer: " + response.transportMessage)};
  }
  const int status = response.status;
  if (status == 200 || status == 202) return {Status::ok()};
  const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      http::parseRetryAfter(response.header("retry-after")).value_or(std::chrono::seconds(0)));
  const std::string code = std::to_string(status);
  if (status == 413) return {Status::ok(), /*tooLarge=*/true};
  if (status == 429) {
    return {resourceExhausted("tinybird: rate limited (HTTP 429)").withRetryAfter(delay)};
  }
  if (status == 401 || status == 403 || status == 404) {
    return {unavailable("tinybird: the token or the data source was refused (HTTP " + code +
                        "); check otelConfig.exporters.tinybird")};
  }
  if (status >= 400 && status < 500) {
    return {invalidArgument("tinybird: the request was refused (HTTP " + code + ")")};
  }
  if (status >= 200 && status < 300) return {Status::ok()};
  return {unavailable("tinybird: server error (HTTP " + code + ")").withRetryAfter(delay)};
}

TinybirdSink::TinybirdSink(TinybirdSettings settings, std::unique_ptr<http::Client> client)
    : settings_(std::move(settings)),
      client_(std::move(client)),
      quarantined_(metrics().counter("stackhouse_sink_rejected_rows_total",
                                     "Rows a sink's service refused in a partial success.",
                                     {{"sink", "tinybird"}})),
      oversized_(metrics().counter("stackhouse_sink_oversized_rows_total",
                                   "Rows larger than one request to the sink may be, skipped.",
                                   {{"sink", "tinybird"}})) {}

template <typename Batch>
Status TinybirdSink::send(std::span<const Batch* const> batches, const std::string& datasource,
                          size_t base, size_t from, DeliveryProgress& progress) {
  const size_t total = telemetry::totalRows(batches);
  if (total == 0 || from >= base + total) return Status::ok();
  const std::string url = settings_.endpoint + "/v0/events?name=" + http::urlEncode(datasource) +
                          (settings_.wait ? "&wait=true" : "");
  ChunkStats stats;
  progress.setBase(base);
  Status st = sendInChunks(
      *this, from > base ? from - base : 0, total, kMaxRowsPerRequest, settings_.maxRequestBytes,
      progress, stats,
      [&](size_t begin, size_t end, std::string& body) {
        for (const auto& slice : telemetry::sliceRows(batches, begin, end)) {
          for (size_t i = slice.begin; i < slice.end; ++i) appendRowJson(*slice.batch, i, body);
        }
      },
      [&](const std::string& body, size_t rows) -> SendOutcome {
        if (Status c = http::compress(http::Compression::kGzip, body, compressed_); !c.isOk()) {
          return {unavailable("tinybird: " + c.message())};
        }
        http::Request request;
        request.url = url;
        request.headers = {{"Content-Type", "application/x-ndjson"},
                           {"Content-Encoding", "gzip"},
                           {"Authorization", "Bearer " + settings_.token}};
        request.body = compressed_;
        request.timeout = settings_.timeout;
        request.maxResponseBodyBytes = 64 << 10;
        const http::Response response = client_->send(request);
        SendOutcome outcome = tinybirdOutcome(response);
        if (outcome.status.isOk() && !outcome.tooLarge) {
          if (const uint64_t q = quarantinedRows(response.body); q > 0) {
            quarantined_.inc(q);
            log::warn("tinybird quarantined rows", log::Fields()
                                                       .add("datasource", datasource)
                                                       .add("quarantined", q)
                                                       .add("rows", static_cast<uint64_t>(rows)));
          }
        }
        return outcome;
      });
  if (stats.oversizedRows > 0) {
    oversized_.inc(stats.oversizedRows);
    log::warn("tinybird: rows larger than one request skipped",
              log::Fields()
                  .add("datasource", datasource)
                  .add("rows", static_cast<uint64_t>(stats.oversizedRows)));
  }
  return st;
}

Status TinybirdSink::writeLogs(std::span<const telemetry::LogBatch* const> batches,
                               std::string_view batchId, pipeline::Attempt attempt) {
  return send(batches, settings_.datasources.logs, 0, logsProgress_.start(batchId, attempt),
              logsProgress_);
}

Status TinybirdSink::writeSpans(std::span<const telemetry::SpanBatch* const> batches,
                                std::string_view batchId, pipeline::Attempt attempt) {
  return send(batches, settings_.datasources.traces, 0, spansProgress_.start(batchId, attempt),
              spansProgress_);
}

Status TinybirdSink::writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                                  std::string_view batchId, pipeline::Attempt attempt) {
  const size_t from = metricsProgress_.start(batchId, attempt);
  size_t base = 0;
  // Each kind to its data source, in the order gauge, sum, histogram, exponential histogram,
  // summary; `base` counts the group's rows of the kinds already sent.
  auto kind = [&](auto member, const std::string& datasource) -> Status {
    using KindBatch = std::remove_cvref_t<decltype(batches[0]->*member)>;
    std::vector<const KindBatch*> parts;
    parts.reserve(batches.size());
    for (const telemetry::MetricBatch* b : batches) parts.push_back(&(b->*member));
    const std::span<const KindBatch* const> view(parts);
    Status st = send(view, datasource, base, from, metricsProgress_);
    base += telemetry::totalRows(view);
    return st;
  };
  const TinybirdDatasources& d = settings_.datasources;
  STACKHOUSE_RETURN_IF_ERROR(kind(&telemetry::MetricBatch::gauge, d.gauge));
  STACKHOUSE_RETURN_IF_ERROR(kind(&telemetry::MetricBatch::sum, d.sum));
  STACKHOUSE_RETURN_IF_ERROR(kind(&telemetry::MetricBatch::histogram, d.histogram));
  STACKHOUSE_RETURN_IF_ERROR(kind(&telemetry::MetricBatch::expHistogram, d.exponentialHistogram));
  return kind(&telemetry::MetricBatch::summary, d.summary);
}

Result<std::unique_ptr<pipeline::Sink>> makeTinybirdSink(const TinybirdConfig& config,
                                                         const std::string& secretsDir) {
  auto token = config::readCredential(config.token, secretsDir, "otelConfig.exporters.tinybird");
  if (!token.isOk()) return token.status();
  auto client = http::Client::create(http::ClientOptions{});
  if (!client.isOk()) return client.status();
  TinybirdSettings settings;
  settings.endpoint = config.endpoint;
  settings.token = std::move(token.value());
  settings.datasources = config.datasources;
  settings.wait = config.wait;
  settings.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout);
  settings.maxRequestBytes = config.maxRequestSize;
  return std::unique_ptr<pipeline::Sink>(
      std::make_unique<TinybirdSink>(std::move(settings), std::move(client.value())));
}

SinkFactory tinybirdFactory() {
  return vendorFactory<TinybirdConfig, makeTinybirdSink>(kTinybirdSection);
}

}  // namespace stackhouse::sinks::tinybird
