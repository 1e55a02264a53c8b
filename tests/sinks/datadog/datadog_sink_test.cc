// DatadogSink against a stand-in that checks Datadog's documented intakes strictly:
//   POST /api/v2/logs    DD-API-KEY, application/json, gzip; a JSON array of at most 1000 log
//                        objects, at most 5 MB uncompressed, each log at most 1 MB, `message`
//                        a string
//   POST /api/v2/series  DD-API-KEY, application/json, gzip; {"series": [...]} each with a
//                        metric name, type 0..3, points [{timestamp, value}], string tags,
//                        resources [{name, type}]; at most 512000 bytes compressed and under
//                        5242880 uncompressed
//   POST /v1/traces      dd-api-key, application/x-protobuf, gzip; an ExportTraceServiceRequest
//                        libprotobuf parses without unknown fields
#include "sinks/datadog/datadog_sink.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <random>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "otlp/decode.h"
#include "otlp/otlp_test_support.h"
#include "sinks/support/redaction_corpus.h"
#include "sinks/support/stand_in.h"
#include "support/temp_dir.h"

namespace stackhouse::sinks::datadog {
namespace {

using namespace std::chrono_literals;
using sinks::testing::Answer;
using sinks::testing::Received;
using sinks::testing::StandIn;
using stackhouse::otlp::testing::dumpRows;
using stackhouse::otlp::testing::RequestGenerator;

constexpr std::string_view kApiKey = "0123456789abcdef0123456789abcdef";

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string checkLogs(const Received& r) {
  if (r.body.size() > 5'000'000) return "logs payload over 5MB";
  simdjson::dom::parser parser;
  simdjson::dom::array entries;
  if (parser.parse(r.body).get(entries) != simdjson::SUCCESS) return "logs: not a JSON array";
  if (entries.size() == 0 || entries.size() > 1000) {
    return "logs: " + std::to_string(entries.size()) + " entries";
  }
  for (auto entry : entries) {
    simdjson::dom::object log;
    if (entry.get(log) != simdjson::SUCCESS) return "logs: an entry is not an object";
    if (simdjson::minify(log).size() > 1'000'000) return "logs: an entry over 1MB";
    std::string_view message;
    if (log["message"].get(message) != simdjson::SUCCESS) return "logs: message not a string";
    std::string_view tags;
    if (auto t = log["ddtags"];
        t.error() == simdjson::SUCCESS && t.get(tags) != simdjson::SUCCESS) {
      return "logs: ddtags not a string";
    }
    int64_t ts;
    if (log["timestamp"].get(ts) != simdjson::SUCCESS) return "logs: timestamp not an integer";
  }
  return "";
}

std::string checkSeries(const Received& r) {
  if (r.rawBody.size() > 512'000) return "series payload over 512000 bytes compressed";
  if (r.body.size() >= 5'242'880) return "series payload not under 5242880 bytes";
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(r.body).get(root) != simdjson::SUCCESS) return "series: not a JSON object";
  if (root.size() != 1) return "series: keys besides series";
  simdjson::dom::array series;
  if (root["series"].get(series) != simdjson::SUCCESS) return "series: no series array";
  for (auto item : series) {
    simdjson::dom::object s;
    if (item.get(s) != simdjson::SUCCESS) return "series: an item is not an object";
    std::string_view metric;
    if (s["metric"].get(metric) != simdjson::SUCCESS || metric.empty()) return "series: metric";
    int64_t type;
    if (s["type"].get(type) != simdjson::SUCCESS || type < 0 || type > 3) return "series: type";
    simdjson::dom::array points;
    if (s["points"].get(points) != simdjson::SUCCESS || points.size() == 0) return "points";
    for (auto p : points) {
      int64_t ts;
      double v;
      if (p["timestamp"].get(ts) != simdjson::SUCCESS || p["value"].get(v) != simdjson::SUCCESS) {
        return "series: a point needs an integer timestamp and a number value";
      }
    }
    for (auto field : s) {
      const std::string_view k = field.key;
      if (k == "tags") {
        simdjson::dom::array tags;
        if (field.value.get(tags) != simdjson::SUCCESS) return "series: tags";
        for (auto t : tags) {
          std::string_view tag;
          if (t.get(tag) != simdjson::SUCCESS) return "series: a tag is not a string";
        }
      } else if (k == "resources") {
        simdjson::dom::array res;
        if (field.value.get(res) != simdjson::SUCCESS) return "series: resources";
        for (auto x : res) {
          std::string_view name, rtype;
          if (x["name"].get(name) != simdjson::SUCCESS || x["type"].get(rtype) != simdjson::SUCCESS)
            return "series: a resource needs name and type";
        }
      } else if (k == "interval") {
        int64_t interval;
        if (field.value.get(interval) != simdjson::SUCCESS) return "series: interval";
      } else if (k != "metric" && k != "type" && k != "points") {
        return "series: unknown field " + std::string(k);
      }
    }
  }
  return "";
}

std::string checkDatadog(const Received& r) {
  if (r.method != "POST") return "method " + r.method;
  if (auto e = sinks::testing::expectHeader(r, "dd-api-key", kApiKey); !e.empty()) return e;
  if (auto e = sinks::testing::expectHeader(r, "content-encoding", "gzip"); !e.empty()) return e;
  if (r.target == "/api/v2/logs" || r.target == "/api/v2/series") {
    if (auto e = sinks::testing::expectHeader(r, "content-type", "application/json"); !e.empty())
      return e;
    return r.target == "/api/v2/logs" ? checkLogs(r) : checkSeries(r);
  }
  if (r.target == "/v1/traces") {
    if (auto e = sinks::testing::expectHeader(r, "content-type", "application/x-protobuf");
        !e.empty())
      return e;
    otlp::testing::TraceRequest request;
    if (!request.ParseFromString(r.body)) return "traces: not an ExportTraceServiceRequest";
    if (!request.GetReflection()->GetUnknownFields(request).empty()) return "unknown fields";
    return "";
  }
  return "path " + r.target;
}

struct Fixture {
  Fixture() : standIn(checkDatadog, Answer{202, "{\"errors\":[]}"}) {
    datadog::DatadogConfig config;
    config.endpoint = standIn.url();
    DatadogSettings settings = datadogUrls(config);
    settings.apiKey = std::string(kApiKey);
    settings.timeout = 2s;
    sink = std::make_unique<DatadogSink>(std::move(settings),
                                         std::move(http::Client::create({}).value()));
  }
  std::vector<Received> at(std::string_view path) const {
    std::vector<Received> out;
    for (const Received& r : standIn.accepted()) {
      if (r.target == path) out.push_back(r);
    }
    return out;
  }
  // Every series accepted, in order, as "metric|type|value|interval|tags".
  std::vector<std::string> series() const {
    std::vector<std::string> out;
    simdjson::dom::parser parser;
    for (const Received& r : at("/api/v2/series")) {
      simdjson::dom::object root = parser.parse(r.body).get_object();
      for (auto s : root["series"].get_array()) {
        std::string line = std::string(std::string_view(s["metric"])) + "|" +
                           std::to_string(int64_t(s["type"])) + "|";
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, double(s["points"].at(0)["value"]));
        line += std::string(buf, end) + "|";
        int64_t interval = 0;
        if (s["interval"].get(interval) != simdjson::SUCCESS) interval = 0;
        line += std::to_string(interval) + "|";
        for (auto t : s["tags"].get_array()) line += std::string(std::string_view(t)) + ",";
        out.push_back(line);
      }
    }
    return out;
  }

  StandIn standIn;
  std::unique_ptr<DatadogSink> sink;
};

telemetry::LogBatch randomLogs(uint64_t seeds) {
  telemetry::LogBatch batch;
  otlp::DecodeStats stats;
  for (uint64_t seed = 0; seed < seeds; ++seed) {
    RequestGenerator gen(seed);
    EXPECT_TRUE(otlp::decodeLogs(bytesOf(gen.logs().SerializeAsString()), otlp::Encoding::kProtobuf,
                                 batch, stats)
                    .isOk());
  }
  return batch;
}

TEST(DatadogSink, SiteUrls) {
  datadog::DatadogConfig config;
  DatadogSettings s = datadogUrls(config);
  EXPECT_EQ(s.logsUrl, "https://http-intake.logs.datadoghq.com/api/v2/logs");
  EXPECT_EQ(s.seriesUrl, "https://api.datadoghq.com/api/v2/series");
  EXPECT_EQ(s.tracesUrl, "https://otlp.datadoghq.com/v1/traces");
  config.site = "us5.datadoghq.com";
  s = datadogUrls(config);
  EXPECT_EQ(s.logsUrl, "https://http-intake.logs.us5.datadoghq.com/api/v2/logs");
  EXPECT_EQ(s.seriesUrl, "https://api.us5.datadoghq.com/api/v2/series");
  config.site = "ddog-gov.com";
  EXPECT_EQ(datadogUrls(config).tracesUrl, "https://otlp.ddog-gov.com/v1/traces");
}

TEST(DatadogSink, LogsArriveAsDocumentedAndAreCutAtAThousand) {
  Fixture f;
  const telemetry::LogBatch logs = randomLogs(400);
  ASSERT_GT(logs.rows(), 1000u);
  const telemetry::LogBatch* group[] = {&logs};
  ASSERT_TRUE(f.sink->writeLogs(group, "l", pipeline::Attempt::kFirst).isOk());
  EXPECT_TRUE(f.standIn.violations().empty()) << f.standIn.violations().front();
  const auto requests = f.at("/api/v2/logs");
  EXPECT_EQ(requests.size(), (logs.rows() + 999) / 1000);
  simdjson::dom::parser parser;
  size_t row = 0;
  for (const Received& r : requests) {
    for (auto entry : parser.parse(r.body).get_array()) {
      ASSERT_LT(row, logs.rows());
      EXPECT_EQ(std::string_view(entry["message"]), logs.body.at(row)) << row;
      EXPECT_EQ(int64_t(entry["timestamp"]), logs.timestamp.at(row) / 1'000'000) << row;
      EXPECT_EQ(std::string_view(entry["otel.timestamp"]), std::to_string(logs.timestamp.at(row)));
      if (!logs.serviceName.at(row).empty()) {
        EXPECT_EQ(std::string_view(entry["service"]), logs.serviceName.at(row)) << row;
      }
      if (!logs.traceId.at(row).empty()) {
        EXPECT_EQ(std::string_view(entry["otel.trace_id"]), logs.traceId.at(row));
      }
      ++row;
    }
  }
  EXPECT_EQ(row, logs.rows());
}

TEST(DatadogSink, LogMappingOfOneRecord) {
  Fixture f;
  otlp::testing::LogsRequest request;
  auto* rl = request.add_resource_logs();
  auto add = [](auto* kvs, const char* k, const char* v) {
    auto* kv = kvs->Add();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  };
  add(rl->mutable_resource()->mutable_attributes(), "service.name", "checkout");
  add(rl->mutable_resource()->mutable_attributes(), "host.name", "web-1");
  add(rl->mutable_resource()->mutable_attributes(), "deployment.environment", "prod");
  add(rl->mutable_resource()->mutable_attributes(), "service.version", "1.2.3");
  auto* record = rl->add_scope_logs()->add_log_records();
  record->set_time_unix_nano(1'733'475'662'123'456'789);
  record->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_WARN);
  record->set_severity_text("WARNING");
  record->mutable_body()->set_string_value("disk almost full");
  record->set_trace_id(
      std::string("\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c", 16));
  add(record->mutable_attributes(), "disk", "/dev/sda1");
  telemetry::LogBatch batch;
  otlp::DecodeStats stats;
  ASSERT_TRUE(otlp::decodeLogs(bytesOf(request.SerializeAsString()), otlp::Encoding::kProtobuf,
                               batch, stats)
                  .isOk());
  const telemetry::LogBatch* group[] = {&batch};
  ASSERT_TRUE(f.sink->writeLogs(group, "l", pipeline::Attempt::kFirst).isOk());
  simdjson::dom::parser parser;
  auto entry = parser.parse(f.at("/api/v2/logs").at(0).body).get_array().at(0);
  EXPECT_EQ(std::string_view(entry["message"]), "disk almost full");
  EXPECT_EQ(std::string_view(entry["status"]), "warn");
  EXPECT_EQ(std::string_view(entry["service"]), "checkout");
  EXPECT_EQ(std::string_view(entry["hostname"]), "web-1");
  EXPECT_EQ(std::string_view(entry["ddtags"]), "env:prod,version:1.2.3");
  EXPECT_EQ(int64_t(entry["timestamp"]), 1'733'475'662'123);
  EXPECT_EQ(std::string_view(entry["otel.trace_id"]), "5b8efff798038103d269b633813fc60c");
  // The lower 64 bits, d269b633813fc60c, in decimal.
  EXPECT_EQ(std::string_view(entry["dd.trace_id"]), "15161849952847513100");
  EXPECT_EQ(std::string_view(entry["disk"]), "/dev/sda1");
  EXPECT_EQ(std::string_view(entry["deployment.environment"]), "prod");
}

TEST(DatadogSink, SpansArriveIntactThroughTheOtlpIntake) {
  Fixture f;
  telemetry::SpanBatch spans;
  otlp::DecodeStats stats;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    RequestGenerator gen(seed);
    ASSERT_TRUE(otlp::decodeSpans(bytesOf(gen.traces().SerializeAsString()),
                                  otlp::Encoding::kProtobuf, spans, stats)
                    .isOk());
  }
  const telemetry::SpanBatch* group[] = {&spans};
  ASSERT_TRUE(f.sink->writeSpans(group, "s", pipeline::Attempt::kFirst).isOk());
  EXPECT_TRUE(f.standIn.violations().empty());
  telemetry::SpanBatch got;
  for (const Received& r : f.at("/v1/traces")) {
    ASSERT_TRUE(otlp::decodeSpans(bytesOf(r.body), otlp::Encoding::kProtobuf, got, stats).isOk());
  }
  EXPECT_EQ(dumpRows(got), dumpRows(spans));
}

// Builds the metric points of the mapping test.
telemetry::MetricBatch mappingPoints(double cumulative, uint64_t histogramCount) {
  using namespace opentelemetry::proto::metrics::v1;
  otlp::testing::MetricsRequest request;
  auto* rm = request.add_resource_metrics();
  auto* kv = rm->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("api");
  kv = rm->mutable_resource()->add_attributes();
  kv->set_key("host.name");
  kv->mutable_value()->set_string_value("web-1");
  auto* sm = rm->add_scope_metrics();
  const uint64_t t = 1'733'475'660'000'000'000, start = t - 10'000'000'000;
  auto attr = [](auto* point) {
    auto* a = point->add_attributes();
    a->set_key("route");
    a->mutable_value()->set_string_value("/pay");
  };
  auto* g = sm->add_metrics();
  g->set_name("queue.depth");
  auto* gp = g->mutable_gauge()->add_data_points();
  gp->set_time_unix_nano(t);
  gp->set_as_double(4.5);
  attr(gp);
  auto* d = sm->add_metrics();
  d->set_name("requests");
  d->mutable_sum()->set_is_monotonic(true);
  d->mutable_sum()->set_aggregation_temporality(AGGREGATION_TEMPORALITY_DELTA);
  auto* dp = d->mutable_sum()->add_data_points();
  dp->set_start_time_unix_nano(start);
  dp->set_time_unix_nano(t);
  dp->set_as_int(12);
  attr(dp);
  auto* c = sm->add_metrics();
  c->set_name("bytes.sent");
  c->mutable_sum()->set_is_monotonic(true);
  c->mutable_sum()->set_aggregation_temporality(AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* cp = c->mutable_sum()->add_data_points();
  cp->set_start_time_unix_nano(start);
  cp->set_time_unix_nano(t);
  cp->set_as_double(cumulative);
  auto* u = sm->add_metrics();
  u->set_name("connections");
  u->mutable_sum()->set_is_monotonic(false);
  u->mutable_sum()->set_aggregation_temporality(AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* up = u->mutable_sum()->add_data_points();
  up->set_time_unix_nano(t);
  up->set_as_int(7);
  auto* h = sm->add_metrics();
  h->set_name("latency");
  h->mutable_histogram()->set_aggregation_temporality(AGGREGATION_TEMPORALITY_DELTA);
  auto* hp = h->mutable_histogram()->add_data_points();
  hp->set_start_time_unix_nano(start);
  hp->set_time_unix_nano(t);
  hp->set_count(histogramCount);
  hp->set_sum(1.5);
  hp->add_bucket_counts(1);
  hp->add_bucket_counts(histogramCount - 1);
  hp->add_explicit_bounds(0.25);
  auto* q = sm->add_metrics();
  q->set_name("size");
  auto* qp = q->mutable_summary()->add_data_points();
  qp->set_time_unix_nano(t);
  qp->set_count(2);
  qp->set_sum(5);
  auto* v = qp->add_quantile_values();
  v->set_quantile(0.5);
  v->set_value(2);
  telemetry::MetricBatch batch;
  otlp::DecodeStats stats;
  EXPECT_TRUE(otlp::decodeMetrics(bytesOf(request.SerializeAsString()), otlp::Encoding::kProtobuf,
                                  batch, stats)
                  .isOk());
  return batch;
}

TEST(DatadogSink, MetricPointsBecomeSeriesAsDocumented) {
  Fixture f;
  const telemetry::MetricBatch first = mappingPoints(100, 3);
  const telemetry::MetricBatch second = mappingPoints(160, 5);
  const telemetry::MetricBatch* one[] = {&first};
  const telemetry::MetricBatch* two[] = {&second};
  ASSERT_TRUE(f.sink->writeMetrics(one, "m1", pipeline::Attempt::kFirst).isOk());
  ASSERT_TRUE(f.sink->writeMetrics(two, "m2", pipeline::Attempt::kFirst).isOk());
  EXPECT_TRUE(f.standIn.violations().empty()) << f.standIn.violations().front();
  const std::vector<std::string> expected = {
      // first group: the cumulative sum and the summary's count and sum only set their base
      "queue.depth|3|4.5|0|service:api,route:/pay,",
      "requests|1|12|10|service:api,route:/pay,",
      "connections|3|7|0|service:api,",
      "latency.count|1|3|10|service:api,",
      "latency.sum|1|1.5|10|service:api,",
      "latency.bucket|1|1|10|service:api,lower_bound:-inf,upper_bound:0.25,",
      "latency.bucket|1|2|10|service:api,lower_bound:0.25,upper_bound:inf,",
      "size.quantile|3|2|0|service:api,quantile:0.5,",
      // second group: deltas against the first
      "queue.depth|3|4.5|0|service:api,route:/pay,",
      "requests|1|12|10|service:api,route:/pay,",
      "bytes.sent|1|60|0|service:api,",
      "connections|3|7|0|service:api,",
      "latency.count|1|5|10|service:api,",
      "latency.sum|1|1.5|10|service:api,",
      "latency.bucket|1|1|10|service:api,lower_bound:-inf,upper_bound:0.25,",
      "latency.bucket|1|4|10|service:api,lower_bound:0.25,upper_bound:inf,",
      "size.count|1|0|0|service:api,",
      "size.sum|1|0|0|service:api,",
      "size.quantile|3|2|0|service:api,quantile:0.5,",
  };
  EXPECT_EQ(f.series(), expected);
  // The host is a resource of every series.
  simdjson::dom::parser parser;
  auto s = parser.parse(f.at("/api/v2/series").at(0).body)["series"].at(0);
  EXPECT_EQ(std::string_view(s["resources"].at(0)["name"]), "web-1");
  EXPECT_EQ(std::string_view(s["resources"].at(0)["type"]), "host");
}

TEST(DatadogSink, ARetriedMetricGroupResendsTheSameSeries) {
  Fixture f;
  const telemetry::MetricBatch first = mappingPoints(100, 3);
  const telemetry::MetricBatch second = mappingPoints(160, 5);
  const telemetry::MetricBatch* one[] = {&first};
  const telemetry::MetricBatch* two[] = {&second};
  ASSERT_TRUE(f.sink->writeMetrics(one, "m1", pipeline::Attempt::kFirst).isOk());
  f.standIn.script({Answer{503}});
  EXPECT_EQ(f.sink->writeMetrics(two, "m2", pipeline::Attempt::kFirst).code(),
            StatusCode::kUnavailable);
  ASSERT_TRUE(f.sink->writeMetrics(two, "m2", pipeline::Attempt::kRetry).isOk());
  const auto all = f.series();
  // The delta computed on the first attempt, not a zero from a recomputation.
  EXPECT_NE(std::find(all.begin(), all.end(), "bytes.sent|1|60|0|service:api,"), all.end());
}

TEST(DatadogSink, LargeSeriesPayloadsAreSplitUnderTheCompressedLimit) {
  Fixture f;
  // 20000 gauge points whose attribute values do not compress: well past 512000 bytes gzipped.
  otlp::testing::MetricsRequest request;
  auto* metric = request.add_resource_metrics()->add_scope_metrics()->add_metrics();
  metric->set_name("cardinality");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    auto* p = metric->mutable_gauge()->add_data_points();
    p->set_time_unix_nano(1'733'475'660'000'000'000);
    p->set_as_double(i);
    auto* a = p->add_attributes();
    a->set_key("id");
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    a->mutable_value()->set_string_value(buf);
  }
  telemetry::MetricBatch metrics;
  otlp::DecodeStats stats;
  ASSERT_TRUE(otlp::decodeMetrics(bytesOf(request.SerializeAsString()), otlp::Encoding::kProtobuf,
                                  metrics, stats)
                  .isOk());
  const telemetry::MetricBatch* group[] = {&metrics};
  ASSERT_TRUE(f.sink->writeMetrics(group, "m", pipeline::Attempt::kFirst).isOk());
  EXPECT_TRUE(f.standIn.violations().empty()) << f.standIn.violations().front();
  EXPECT_GT(f.at("/api/v2/series").size(), 1u);
  EXPECT_EQ(f.series().size(), 20000u);  // every point, once
}

TEST(DatadogSink, FailuresAreClassified) {
  struct Case {
    Answer answer;
    StatusCode code;
    std::chrono::milliseconds retryAfter;
  };
  const Case cases[] = {
      {Answer{429, "", {{"Retry-After", "5"}}}, StatusCode::kResourceExhausted, 5000ms},
      {Answer{408}, StatusCode::kUnavailable, 0ms},
      {Answer{500}, StatusCode::kUnavailable, 0ms},
      {Answer{503, "", {{"Retry-After", "4"}}}, StatusCode::kUnavailable, 4000ms},
      {Answer{400}, StatusCode::kInvalidArgument, 0ms},
      {Answer{401}, StatusCode::kUnavailable, 0ms},
      {Answer{403}, StatusCode::kUnavailable, 0ms},
  };
  const telemetry::LogBatch logs = randomLogs(2);
  const telemetry::LogBatch* group[] = {&logs};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.answer.status);
    Fixture f;
    f.standIn.script({c.answer});
    const Status st = f.sink->writeLogs(group, "g", pipeline::Attempt::kFirst);
    EXPECT_EQ(st.code(), c.code) << st.toString();
    EXPECT_EQ(st.retryAfter(), c.retryAfter);
    EXPECT_EQ(st.message().find(kApiKey), std::string::npos);
  }
  Fixture tooLarge;
  tooLarge.standIn.script({Answer{413}});
  ASSERT_TRUE(tooLarge.sink->writeLogs(group, "g", pipeline::Attempt::kFirst).isOk());
  EXPECT_EQ(tooLarge.standIn.received().size(), 3u);  // refused whole, then two halves
  Fixture down;
  down.standIn.stop();
  EXPECT_EQ(down.sink->writeLogs(group, "g", pipeline::Attempt::kFirst).code(),
            StatusCode::kUnavailable);
}

TEST(DatadogSink, RedactedCorpusLeavesNoNeedle) {
  for (bool redact : {false, true}) {
    SCOPED_TRACE(redact ? "redacted" : "control: not redacted");
    Fixture f;
    sinks::testing::RedactedBatches corpus = sinks::testing::redactedCorpus(redact);
    const telemetry::LogBatch* logs[] = {&corpus.logs};
    const telemetry::SpanBatch* spans[] = {&corpus.spans};
    const telemetry::MetricBatch* metricGroup[] = {&corpus.metrics};
    ASSERT_TRUE(f.sink->writeLogs(logs, "l", pipeline::Attempt::kFirst).isOk());
    ASSERT_TRUE(f.sink->writeSpans(spans, "s", pipeline::Attempt::kFirst).isOk());
    ASSERT_TRUE(f.sink->writeMetrics(metricGroup, "m", pipeline::Attempt::kFirst).isOk());
    EXPECT_TRUE(f.standIn.violations().empty());
    const auto received = f.standIn.received();
    ASSERT_EQ(received.size(), 3u);
    std::string all;
    for (const Received& r : received) {
      if (redact) {
        EXPECT_EQ(sinks::testing::needlesIn(r.body), std::vector<std::string>{}) << r.target;
      }
      all += r.body;
    }
    // Series carry the points' attributes as tags (not the resource's): the control checks the
    // three requests together.
    if (!redact) {
      EXPECT_EQ(sinks::testing::needlesIn(all), sinks::testing::redactionNeedles());
    }
  }
}

TEST(DatadogSink, FactoryReadsTheApiKey) {
  const stackhouse::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/datadog");
  std::ofstream(dir.path() + "/datadog/api-key") << kApiKey << "\n";
  Fixture f;
  datadog::DatadogConfig config;
  config.enabled = true;
  config.endpoint = f.standIn.url();
  config.apiKey = {"datadog", "api-key", ""};
  auto sink = makeDatadogSink(config, dir.path());
  ASSERT_TRUE(sink.isOk()) << sink.status().toString();
  const telemetry::LogBatch logs = randomLogs(1);
  const telemetry::LogBatch* group[] = {&logs};
  ASSERT_TRUE(sink.value()->writeLogs(group, "g", pipeline::Attempt::kFirst).isOk());
  EXPECT_TRUE(f.standIn.violations().empty());
  config.apiKey = {"datadog", "nope", ""};
  EXPECT_EQ(makeDatadogSink(config, dir.path()).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stackhouse::sinks::datadog
