#include "sinks/datadog/datadog_sink.h"

#include <charconv>
#include <limits>
#include <optional>
#include <utility>

#include "common/json_writer.h"
#include "common/log.h"
#include "config/secret.h"
#include "otlp/request_encode.h"
#include "sinks/http/compression.h"
#include "telemetry/row_slice.h"

namespace stackhouse::sinks::datadog {
namespace {

constexpr size_t kMaxSeriesPerRequest = 10'000;
constexpr size_t kMaxSpansPerRequest = 10'000;
// Cumulative series remembered for deltas; past it the memory starts afresh (each series then
// loses one point, as after a restart).
constexpr size_t kMaxSeries = 200'000;

std::string_view mapValue(const telemetry::MapColumn& m, size_t row, std::string_view key) {
  for (auto e = static_cast<size_t>(m.offset(row)); e < static_cast<size_t>(m.offset(row + 1));
       ++e) {
    if (m.keys().at(e) == key) return m.values().at(e);
  }
  return {};
}

// The host as Datadog's OpenTelemetry mapping takes it from the resource.
std::string_view hostOf(const telemetry::MapColumn& resource, size_t row) {
  for (std::string_view key : {"datadog.host.name", "host.name", "k8s.node.name", "host.id"}) {
    if (auto v = mapValue(resource, row, key); !v.empty()) return v;
  }
  return {};
}

// Unified service tagging: service, env, version from the resource's conventions.
void unifiedTags(const telemetry::MapColumn& resource, size_t row, std::string_view service,
                 std::vector<std::string>& tags) {
  if (!service.empty()) tags.push_back("service:" + std::string(service));
  std::string_view env = mapValue(resource, row, "deployment.environment.name");
  if (env.empty()) env = mapValue(resource, row, "deployment.environment");
  if (!env.empty()) tags.push_back("env:" + std::string(env));
  if (auto v = mapValue(resource, row, "service.version"); !v.empty()) {
    tags.push_back("version:" + std::string(v));
  }
}

// The lower 64 bits of a hex id, in decimal: Datadog's dd.trace_id / dd.span_id.
std::string lower64Decimal(std::string_view hex) {
  if (hex.size() < 16) return {};
  uint64_t v = 0;
  const auto tail = hex.substr(hex.size() - 16);
  if (std::from_chars(tail.data(), tail.data() + tail.size(), v, 16).ec != std::errc()) return {};
  return std::to_string(v);
}

std::string_view statusOf(uint8_t number, std::string_view text) {
  if (number >= 1 && number <= 4) return "trace";
  if (number >= 5 && number <= 8) return "debug";
  if (number >= 9 && number <= 12) return "info";
  if (number >= 13 && number <= 16) return "warn";
  if (number >= 17 && number <= 20) return "error";
  if (number >= 21 && number <= 24) return "fatal";
  return text;
}

// Cut at a UTF-8 character boundary at most `max` bytes in.
std::string_view cutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

bool reservedLogKey(std::string_view k) {
  for (std::string_view r :
       {"message", "status", "timestamp", "service", "hostname", "ddtags", "ddsource",
        "otel.severity_text", "otel.severity_number", "otel.trace_id", "otel.span_id",
        "dd.trace_id", "dd.span_id", "otel.timestamp"}) {
    if (k == r) return true;
  }
  return false;
}

void appendLog(const telemetry::LogBatch& b, size_t i, std::string& out) {
  JsonWriter w(out);
  w.beginObject();
  w.key("message").value(cutUtf8(b.body.at(i), kMaxLogBytes - 64 * 1024));
  if (auto status = statusOf(b.severityNumber.at(i), b.severityText.at(i)); !status.empty()) {
    w.key("status").value(status);
  }
  w.key("timestamp").value(static_cast<int64_t>(b.timestamp.at(i) / 1'000'000));
  w.key("otel.timestamp").value(std::to_string(b.timestamp.at(i)));
  if (!b.serviceName.at(i).empty()) w.key("service").value(b.serviceName.at(i));
  if (auto host = hostOf(b.resourceAttributes, i); !host.empty()) w.key("hostname").value(host);
  std::vector<std::string> tags;
  unifiedTags(b.resourceAttributes, i, {}, tags);
  if (!tags.empty()) {
    std::string joined;
    for (const std::string& t : tags) joined += (joined.empty() ? "" : ",") + t;
    w.key("ddtags").value(joined);
  }
  if (!b.severityText.at(i).empty()) w.key("otel.severity_text").value(b.severityText.at(i));
  w.key("otel.severity_number").value(std::to_string(b.severityNumber.at(i)));
  if (!b.traceId.at(i).empty()) {
    w.key("otel.trace_id").value(b.traceId.at(i));
    w.key("dd.trace_id").value(lower64Decimal(b.traceId.at(i)));
  }
  if (!b.spanId.at(i).empty()) {
    w.key("otel.span_id").value(b.spanId.at(i));
    w.key("dd.span_id").value(lower64Decimal(b.spanId.at(i)));
  }
  // Resource, then record attributes, as top-level attributes (a record's wins over the
  // resource's; a key that is also a reserved field is left out, so the object has no duplicate).
  auto attributes = [&](const telemetry::MapColumn& m, const telemetry::MapColumn* over) {
    for (auto e = static_cast<size_t>(m.offset(i)); e < static_cast<size_t>(m.offset(i + 1)); ++e) {
      const std::string_view k = m.keys().at(e);
      if (reservedLogKey(k)) continue;
      if (over != nullptr && !mapValue(*over, i, k).empty()) continue;
      bool repeated = false;  // a key seen earlier in the same map: the first wins
      for (auto p = static_cast<size_t>(m.offset(i)); p < e && !repeated; ++p) {
        repeated = m.keys().at(p) == k;
      }
      if (!repeated) w.key(k).value(m.values().at(e));
    }
  };
  attributes(b.resourceAttributes, &b.logAttributes);
  attributes(b.logAttributes, nullptr);
  w.endObject();
}

// One series of the v2 API with one point.
struct SeriesPoint {
  std::string_view metric;
  std::string_view suffix;
  int type;  // 1 count, 2 rate, 3 gauge
  int64_t timestamp;
  double value;
  int64_t interval;  // seconds, for counts; 0: none
};

void appendSeries(std::string& out, const SeriesPoint& p, const std::vector<std::string>& tags,
                  std::string_view host) {
  out.clear();
  JsonWriter w(out);
  w.beginObject();
  w.key("metric").value(std::string(p.metric) + std::string(p.suffix));
  w.key("type").value(p.type);
  w.key("points").beginArray().beginObject();
  w.key("timestamp").value(p.timestamp);
  w.key("value").value(p.value);
  w.endObject().endArray();
  if (p.interval > 0) w.key("interval").value(p.interval);
  w.key("tags").beginArray();
  for (const std::string& t : tags) w.value(t);
  w.endArray();
  if (!host.empty()) {
    w.key("resources").beginArray().beginObject();
    w.key("name").value(host);
    w.key("type").value("host");
    w.endObject().endArray();
  }
  w.endObject();
}

}  // namespace

DatadogSettings datadogUrls(const DatadogConfig& config) {
  DatadogSettings s;
  if (!config.endpoint.empty()) {
    s.logsUrl = config.endpoint + "/api/v2/logs";
    s.seriesUrl = config.endpoint + "/api/v2/series";
    s.tracesUrl = config.endpoint + "/v1/traces";
  } else {
    s.logsUrl = "https://http-intake.logs." + config.site + "/api/v2/logs";
    s.seriesUrl = "https://api." + config.site + "/api/v2/series";
    s.tracesUrl = "https://otlp." + config.site + "/v1/traces";
  }
  s.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout);
  return s;
}

SendOutcome datadogOutcome(const http::Response& response, std::string_view intake) {
  const std::string what = "datadog " + std::string(intake) + ": ";
  if (!response.answered()) return {unavailable(what + "no answer: " + response.transportMessage)};
  const int status = response.status;
  if (status >= 200 && status < 300) return {Status::ok()};
  const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      http::parseRetryAfter(response.header("retry-after")).value_or(std::chrono::seconds(0)));
  const std::string code = std::to_string(status);
  if (status == 413) return {Status::ok(), /*tooLarge=*/true};
  if (status == 429) {
    return {resourceExhausted(what + "too many requests (HTTP 429)").withRetryAfter(delay)};
  }
  if (status == 408 || status >= 500) {
    return {unavailable(what + "retry later (HTTP " + code + ")").withRetryAfter(delay)};
  }
  if (status == 401 || status == 403) {
    return {unavailable(what + "the API key was refused (HTTP " + code +
                        "); check otelConfig.exporters.datadog")};
  }
  return {invalidArgument(what + "the request was refused (HTTP " + code + ")")};
}

DatadogSink::DatadogSink(DatadogSettings settings, std::unique_ptr<http::Client> client)
    : settings_(std::move(settings)),
      client_(std::move(client)),
      oversized_(metrics().counter("stackhouse_sink_oversized_rows_total",
                                   "Rows larger than one request to the sink may be, skipped.",
                                   {{"sink", "datadog"}})) {}

SendOutcome DatadogSink::post(const std::string& url, std::string_view contentType,
                              const std::string& body, std::string_view intake,
                              size_t maxCompressed) {
  if (Status c = http::compress(http::Compression::kGzip, body, compressed_); !c.isOk()) {
    return {unavailable("datadog: " + c.message())};
  }
  // Over the compressed limit: the chunker halves the request before anything is sent.
  if (compressed_.size() > maxCompressed) return {Status::ok(), /*tooLarge=*/true};
  http::Request request;
  request.url = url;
  request.headers = {{"Content-Type", std::string(contentType)},
                     {"Content-Encoding", "gzip"},
                     {"DD-API-KEY", settings_.apiKey}};
  request.body = compressed_;
  request.timeout = settings_.timeout;
  request.maxResponseBodyBytes = 64 << 10;
  return datadogOutcome(client_->send(request), intake);
}

Status DatadogSink::writeLogs(std::span<const telemetry::LogBatch* const> batches,
                              std::string_view batchId, pipeline::Attempt attempt) {
  const size_t from = logsProgress_.start(batchId, attempt);
  ChunkStats stats;
  Status st = sendInChunks(
      *this, from, telemetry::totalRows(batches), kMaxLogsPerRequest, kMaxLogsRequestBytes,
      logsProgress_, stats,
      [&](size_t begin, size_t end, std::string& body) {
        body += '[';
        bool first = true;
        for (const auto& slice : telemetry::sliceRows(batches, begin, end)) {
          for (size_t i = slice.begin; i < slice.end; ++i) {
            if (!first) body += ',';
            first = false;
            appendLog(*slice.batch, i, body);
          }
        }
        body += ']';
      },
      [&](const std::string& body, size_t) {
        return post(settings_.logsUrl, "application/json", body, "logs");
      });
  if (stats.oversizedRows > 0) oversized_.inc(stats.oversizedRows);
  return st;
}

Status DatadogSink::writeSpans(std::span<const telemetry::SpanBatch* const> batches,
                               std::string_view batchId, pipeline::Attempt attempt) {
  const size_t from = spansProgress_.start(batchId, attempt);
  ChunkStats stats;
  Status st = sendInChunks(
      *this, from, telemetry::totalRows(batches), kMaxSpansPerRequest, kMaxTraceRequestBytes,
      spansProgress_, stats,
      [&](size_t begin, size_t end, std::string& body) {
        const auto slices = telemetry::sliceRows(batches, begin, end);
        otlp::encodeTraceRequest(std::span<const telemetry::RowSlice<telemetry::SpanBatch>>(slices),
                                 body);
      },
      [&](const std::string& body, size_t) {
        return post(settings_.tracesUrl, "application/x-protobuf", body, "traces");
      });
  if (stats.oversizedRows > 0) oversized_.inc(stats.oversizedRows);
  return st;
}

Status DatadogSink::writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                                 std::string_view batchId, pipeline::Attempt attempt) {
  const size_t from = metricsProgress_.start(batchId, attempt);
  if (attempt != pipeline::Attempt::kRetry || batchId != seriesBatchId_) {
    seriesBatchId_.assign(batchId);
    series_.clear();
    if (previous_.size() > kMaxSeries) previous_.clear();
    std::string entry;
    std::vector<std::string> tags;
    std::string key;
    // The point's tags (unified service tags, then its attributes) and host.
    auto start = [&](const telemetry::MetricPointCommon& c, size_t i) {
      tags.clear();
      unifiedTags(c.resourceAttributes, i, c.serviceName.at(i), tags);
      for (auto e = static_cast<size_t>(c.attributes.offset(i));
           e < static_cast<size_t>(c.attributes.offset(i + 1)); ++e) {
        tags.push_back(std::string(c.attributes.keys().at(e)) + ":" +
                       std::string(c.attributes.values().at(e)));
      }
      key.clear();
      key.append(c.metricName.at(i)).push_back('\0');
      for (const std::string& t : tags) key.append(t).push_back('\0');
      key.append(hostOf(c.resourceAttributes, i));
    };
    auto emit = [&](const telemetry::MetricPointCommon& c, size_t i, const SeriesPoint& p,
                    const std::vector<std::string>& pointTags) {
      appendSeries(entry, p, pointTags, hostOf(c.resourceAttributes, i));
      series_.push_back(entry);
    };
    // The increase of a cumulative value since the series' previous point; nothing for its first
    // point and after a reset (a new start time or a smaller value), which only set the base.
    auto delta = [&](const std::string& k, int64_t startTime,
                     double value) -> std::optional<double> {
      auto [it, inserted] = previous_.try_emplace(k, startTime, value);
      if (inserted) return std::nullopt;
      const auto [prevStart, prevValue] = it->second;
      it->second = {startTime, value};
      if (prevStart != startTime || value < prevValue) return std::nullopt;
      return value - prevValue;
    };
    auto seconds = [](int64_t nanos) { return nanos / 1'000'000'000; };
    for (const telemetry::MetricBatch* mb : batches) {
      for (size_t i = 0; i < mb->gauge.rows(); ++i) {
        const auto& c = mb->gauge.common;
        start(c, i);
        emit(c, i, {c.metricName.at(i), "", 3, seconds(c.timeUnix.at(i)), mb->gauge.value.at(i), 0},
             tags);
      }
      for (size_t i = 0; i < mb->sum.rows(); ++i) {
        const auto& c = mb->sum.common;
        start(c, i);
        const int64_t t = c.timeUnix.at(i), s = c.startTimeUnix.at(i);
        const double v = mb->sum.value.at(i);
        const bool monotonic = mb->sum.isMonotonic.at(i) != 0;
        const bool cumulative = mb->sum.aggregationTemporality.at(i) == 2;
        if (!monotonic) {
          emit(c, i, {c.metricName.at(i), "", 3, seconds(t), v, 0}, tags);
        } else if (!cumulative) {
          emit(c, i, {c.metricName.at(i), "", 1, seconds(t), v, s > 0 ? seconds(t - s) : 0}, tags);
        } else if (auto d = delta(key, s, v)) {
          emit(c, i, {c.metricName.at(i), "", 1, seconds(t), *d, 0}, tags);
        }
      }
      for (size_t i = 0; i < mb->histogram.rows(); ++i) {
        const auto& h = mb->histogram;
        const auto& c = h.common;
        start(c, i);
        const int64_t t = c.timeUnix.at(i), s = c.startTimeUnix.at(i);
        const bool cumulative = h.aggregationTemporality.at(i) == 2;
        const int64_t interval = !cumulative && s > 0 ? seconds(t - s) : 0;
        auto count = [&](std::string_view suffix, const std::string& k, double v,
                         const std::vector<std::string>& pointTags) {
          if (!cumulative) {
            emit(c, i, {c.metricName.at(i), suffix, 1, seconds(t), v, interval}, pointTags);
          } else if (auto d = delta(k, s, v)) {
            emit(c, i, {c.metricName.at(i), suffix, 1, seconds(t), *d, 0}, pointTags);
          }
        };
        count(".count", key + "\x1f.count", static_cast<double>(h.count.at(i)), tags);
        count(".sum", key + "\x1f.sum", h.sum.at(i), tags);
        // Bucket counts, as Datadog's exporter does in its counters mode: one count per bucket,
        // tagged with its bounds.
        const auto b0 = static_cast<size_t>(h.bucketCounts.offset(i));
        const auto b1 = static_cast<size_t>(h.bucketCounts.offset(i + 1));
        const auto e0 = static_cast<size_t>(h.explicitBounds.offset(i));
        const size_t bounds = static_cast<size_t>(h.explicitBounds.offset(i + 1)) - e0;
        for (size_t b = 0; b < b1 - b0; ++b) {
          auto bound = [&](size_t k) {
            char buf[32];
            auto [end, ec] =
                std::to_chars(buf, buf + sizeof buf, h.explicitBounds.child().at(e0 + k));
            (void)ec;
            return std::string(buf, end);
          };
          std::vector<std::string> bucketTags = tags;
          bucketTags.push_back("lower_bound:" + (b == 0 ? std::string("-inf") : bound(b - 1)));
          bucketTags.push_back("upper_bound:" + (b < bounds ? bound(b) : std::string("inf")));
          count(".bucket", key + "\x1f" + bucketTags[bucketTags.size() - 2] + bucketTags.back(),
                static_cast<double>(h.bucketCounts.child().at(b0 + b)), bucketTags);
        }
      }
      for (size_t i = 0; i < mb->expHistogram.rows(); ++i) {
        const auto& h = mb->expHistogram;
        const auto& c = h.common;
        start(c, i);
        const int64_t t = c.timeUnix.at(i), s = c.startTimeUnix.at(i);
        const bool cumulative = h.aggregationTemporality.at(i) == 2;
        for (auto [suffix, v] :
             {std::pair<std::string_view, double>{".count", static_cast<double>(h.count.at(i))},
              std::pair<std::string_view, double>{".sum", h.sum.at(i)}}) {
          if (!cumulative) {
            emit(c, i, {c.metricName.at(i), suffix, 1, seconds(t), v, s > 0 ? seconds(t - s) : 0},
                 tags);
          } else if (auto d = delta(key + "\x1f" + std::string(suffix), s, v)) {
            emit(c, i, {c.metricName.at(i), suffix, 1, seconds(t), *d, 0}, tags);
          }
        }
      }
      for (size_t i = 0; i < mb->summary.rows(); ++i) {
        const auto& q = mb->summary;
        const auto& c = q.common;
        start(c, i);
        const int64_t t = c.timeUnix.at(i), s = c.startTimeUnix.at(i);
        // Summaries are cumulative: count and sum as deltas, quantiles as gauges.
        if (auto d = delta(key + "\x1f.count", s, static_cast<double>(q.count.at(i)))) {
          emit(c, i, {c.metricName.at(i), ".count", 1, seconds(t), *d, 0}, tags);
        }
        if (auto d = delta(key + "\x1f.sum", s, q.sum.at(i))) {
          emit(c, i, {c.metricName.at(i), ".sum", 1, seconds(t), *d, 0}, tags);
        }
        for (auto k = static_cast<size_t>(q.quantile.offset(i));
             k < static_cast<size_t>(q.quantile.offset(i + 1)); ++k) {
          char buf[32];
          auto [end, ec] = std::to_chars(buf, buf + sizeof buf, q.quantile.child().at(k));
          (void)ec;
          std::vector<std::string> quantileTags = tags;
          quantileTags.push_back("quantile:" + std::string(buf, end));
          emit(c, i,
               {c.metricName.at(i), ".quantile", 3, seconds(t), q.quantileValue.child().at(k), 0},
               quantileTags);
        }
      }
    }
  }
  ChunkStats stats;
  Status st = sendInChunks(
      *this, from, series_.size(), kMaxSeriesPerRequest, kMaxSeriesRequestBytes, metricsProgress_,
      stats,
      [&](size_t begin, size_t end, std::string& body) {
        body += "{\"series\":[";
        for (size_t k = begin; k < end; ++k) {
          if (k != begin) body += ',';
          body += series_[k];
        }
        body += "]}";
      },
      [&](const std::string& body, size_t) -> SendOutcome {
        return post(settings_.seriesUrl, "application/json", body, "series",
                    kMaxSeriesCompressedBytes);
      });
  if (stats.oversizedRows > 0) oversized_.inc(stats.oversizedRows);
  return st;
}

Result<std::unique_ptr<pipeline::Sink>> makeDatadogSink(const DatadogConfig& config,
                                                        const std::string& secretsDir) {
  auto key = config::readCredential(config.apiKey, secretsDir, "otelConfig.exporters.datadog");
  if (!key.isOk()) return key.status();
  auto client = http::Client::create(http::ClientOptions{});
  if (!client.isOk()) return client.status();
  DatadogSettings settings = datadogUrls(config);
  settings.apiKey = std::move(key.value());
  return std::unique_ptr<pipeline::Sink>(
      std::make_unique<DatadogSink>(std::move(settings), std::move(client.value())));
}

SinkFactory datadogFactory() {
  return vendorFactory<DatadogConfig, makeDatadogSink>(kDatadogSection);
}

}  // namespace stackhouse::sinks::datadog
