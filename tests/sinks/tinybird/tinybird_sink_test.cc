// TinybirdSink against a stand-in that checks the Events API as Tinybird documents it: POST
// /v0/events?name=<data source>&wait=true, `Authorization: Bearer <token>`, gzip, NDJSON (every
// line one JSON object, newline-terminated) within the request size; each row is then compared
// with the batch row it came from, column by column (tests/sinks/support/json_rows.h).
#include "sinks/tinybird/tinybird_sink.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "otlp/decode.h"
#include "otlp/otlp_test_support.h"
#include "sinks/support/json_rows.h"
#include "sinks/support/query_args.h"
#include "sinks/support/redaction_corpus.h"
#include "sinks/support/stand_in.h"
#include "sinks/tinybird/row_json.h"
#include "support/temp_dir.h"

namespace stackhouse::sinks::tinybird {
namespace {

using namespace std::chrono_literals;
using sinks::testing::Answer;
using sinks::testing::Received;
using sinks::testing::StandIn;
using stackhouse::otlp::testing::RequestGenerator;

constexpr std::string_view kToken = "p.eyJ1IjogInRlc3QifQ.tinybird-append-token";

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

using sinks::testing::queryOf;

std::string checkTinybird(const Received& r, uint64_t maxBytes) {
  if (r.method != "POST") return "method " + r.method;
  if (r.target.substr(0, r.target.find('?')) != "/v0/events") return "path " + r.target;
  const auto q = queryOf(r.target);
  if (q.count("name") == 0 || q.at("name").empty()) return "no name parameter";
  if (q.count("wait") == 0 || q.at("wait") != "true") return "wait=true missing";
  if (q.size() != 2) return "unexpected query parameters";
  if (auto e = sinks::testing::expectHeader(r, "authorization", "Bearer " + std::string(kToken));
      !e.empty()) {
    return e;
  }
  if (auto e = sinks::testing::expectHeader(r, "content-encoding", "gzip"); !e.empty()) return e;
  if (r.body.size() > maxBytes) return "a request of " + std::to_string(r.body.size()) + " bytes";
  if (r.body.empty() || r.body.back() != '\n') return "NDJSON must end with a newline";
  simdjson::dom::parser parser;
  size_t start = 0;
  while (start < r.body.size()) {
    const size_t end = r.body.find('\n', start);
    simdjson::dom::object row;
    if (parser.parse(r.body.data() + start, end - start).get(row) != simdjson::SUCCESS) {
      return "a line is not a JSON object: " + r.body.substr(start, end - start);
    }
    start = end + 1;
  }
  return "";
}

struct Fixture {
  explicit Fixture(uint64_t maxBytes = 10 << 20)
      : standIn([maxBytes](const Received& r) { return checkTinybird(r, maxBytes); },
                Answer{200, R"({"successful_rows": 1, "quarantined_rows": 0})"}) {
    TinybirdSettings settings;
    settings.endpoint = standIn.url();
    settings.token = std::string(kToken);
    settings.timeout = 2s;
    settings.maxRequestBytes = maxBytes;
    sink = std::make_unique<TinybirdSink>(std::move(settings),
                                          std::move(http::Client::create({}).value()));
  }

  // Every row accepted for a data source, in order, as parsed JSON text lines.
  std::vector<std::string> lines(std::string_view datasource) const {
    std::vector<std::string> out;
    for (const Received& r : standIn.accepted()) {
      if (queryOf(r.target)["name"] != datasource) continue;
      size_t start = 0;
      while (start < r.body.size()) {
        const size_t end = r.body.find('\n', start);
        out.push_back(r.body.substr(start, end - start));
        start = end + 1;
      }
    }
    return out;
  }

  template <typename Batch>
  void expectRows(std::string_view datasource, const Batch& batch) const {
    const auto got = lines(datasource);
    ASSERT_EQ(got.size(), batch.rows()) << datasource;
    simdjson::dom::parser parser;
    for (size_t i = 0; i < got.size(); ++i) {
      simdjson::dom::object row;
      ASSERT_EQ(parser.parse(got[i]).get(row), simdjson::SUCCESS);
      EXPECT_EQ(sinks::testing::rowDiff(row, batch, i), "") << datasource << " row " << i;
    }
  }

  StandIn standIn;
  std::unique_ptr<TinybirdSink> sink;
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

TEST(TinybirdRowJson, DateTime64) {
  std::string out;
  appendDateTime64(out, 0);
  EXPECT_EQ(out, "\"1970-01-01 00:00:00.000000000\"");
  out.clear();
  appendDateTime64(out, 1'733'475'662'123'456'789);
  EXPECT_EQ(out, "\"" + sinks::testing::dateTime64Text(1'733'475'662'123'456'789) + "\"");
  for (int64_t t : {int64_t{951'782'400'000'000'001}, int64_t{4'107'542'399'999'999'999},
                    int64_t{9'223'372'036'854'775'807}}) {
    out.clear();
    appendDateTime64(out, t);
    EXPECT_EQ(out, "\"" + sinks::testing::dateTime64Text(t) + "\"");
  }
}

TEST(TinybirdSink, EverySignalArrivesIntact) {
  Fixture f;
  telemetry::LogBatch logs;
  telemetry::SpanBatch spans;
  telemetry::MetricBatch metrics[2];
  otlp::DecodeStats stats;
  const auto pb = otlp::Encoding::kProtobuf;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    RequestGenerator gen(seed);
    ASSERT_TRUE(otlp::decodeLogs(bytesOf(gen.logs().SerializeAsString()), pb, logs, stats).isOk());
    ASSERT_TRUE(
        otlp::decodeSpans(bytesOf(gen.traces().SerializeAsString()), pb, spans, stats).isOk());
    ASSERT_TRUE(otlp::decodeMetrics(bytesOf(gen.metrics().SerializeAsString()), pb,
                                    metrics[seed < 20 ? 0 : 1], stats)
                    .isOk());
  }
  const telemetry::LogBatch* logGroup[] = {&logs};
  const telemetry::SpanBatch* spanGroup[] = {&spans};
  ASSERT_TRUE(f.sink->writeLogs(logGroup, "l", pipeline::Attempt::kFirst).isOk());
  ASSERT_TRUE(f.sink->writeSpans(spanGroup, "s", pipeline::Attempt::kFirst).isOk());
  // One metric batch per call, so each kind's data source holds one batch's rows in order.
  for (int i = 0; i < 2; ++i) {
    Fixture g;
    const telemetry::MetricBatch* metricGroup[] = {&metrics[i]};
    ASSERT_TRUE(g.sink->writeMetrics(metricGroup, "m", pipeline::Attempt::kFirst).isOk())
        << (g.standIn.violations().empty() ? "" : g.standIn.violations().front());
    EXPECT_TRUE(g.standIn.violations().empty());
    g.expectRows("otel_metrics_gauge", metrics[i].gauge);
    g.expectRows("otel_metrics_sum", metrics[i].sum);
    g.expectRows("otel_metrics_histogram", metrics[i].histogram);
    g.expectRows("otel_metrics_exponential_histogram", metrics[i].expHistogram);
    g.expectRows("otel_metrics_summary", metrics[i].summary);
  }
  EXPECT_TRUE(f.standIn.violations().empty()) << f.standIn.violations().front();
  f.expectRows("otel_logs", logs);
  f.expectRows("otel_traces", spans);
}

TEST(TinybirdSink, LargeGroupsAreSplitToFitTheRequestSize) {
  Fixture f(64 << 10);
  const telemetry::LogBatch logs = randomLogs(300);
  const telemetry::LogBatch* group[] = {&logs};
  ASSERT_TRUE(f.sink->writeLogs(group, "big", pipeline::Attempt::kFirst).isOk());
  EXPECT_TRUE(f.standIn.violations().empty());
  EXPECT_GT(f.standIn.accepted().size(), 3u);
  f.expectRows("otel_logs", logs);
}

TEST(TinybirdSink, A413HalvesTheRequest) {
  Fixture f;
  const telemetry::LogBatch logs = randomLogs(30);
  f.standIn.script({Answer{413}});
  const telemetry::LogBatch* group[] = {&logs};
  ASSERT_TRUE(f.sink->writeLogs(group, "g", pipeline::Attempt::kFirst).isOk());
  EXPECT_GE(f.standIn.received().size(), 3u);
  f.expectRows("otel_logs", logs);
}

TEST(TinybirdSink, FailuresAreClassified) {
  struct Case {
    Answer answer;
    StatusCode code;
    std::chrono::milliseconds retryAfter;
  };
  const Case cases[] = {
      {Answer{429, R"({"error":"rate limited"})", {{"Retry-After", "3"}}},
       StatusCode::kResourceExhausted, 3000ms},
      {Answer{503, "", {{"Retry-After", "1"}}}, StatusCode::kUnavailable, 1000ms},
      {Answer{500}, StatusCode::kUnavailable, 0ms},
      {Answer{400, R"({"error":"invalid"})"}, StatusCode::kInvalidArgument, 0ms},
      {Answer{403}, StatusCode::kUnavailable, 0ms},
      {Answer{404}, StatusCode::kUnavailable, 0ms},
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
    EXPECT_EQ(st.message().find(kToken), std::string::npos);
  }
  Fixture slow;
  slow.standIn.script({Answer{200, "", {}, 3s}});
  EXPECT_EQ(slow.sink->writeLogs(group, "g", pipeline::Attempt::kFirst).code(),
            StatusCode::kUnavailable);
  Fixture down;
  down.standIn.stop();
  EXPECT_EQ(down.sink->writeLogs(group, "g", pipeline::Attempt::kFirst).code(),
            StatusCode::kUnavailable);
}

TEST(TinybirdSink, AThrottledMetricGroupResumesWhereItStopped) {
  Fixture f;
  telemetry::MetricBatch metrics;
  otlp::DecodeStats stats;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    RequestGenerator gen(seed);
    ASSERT_TRUE(otlp::decodeMetrics(bytesOf(gen.metrics().SerializeAsString()),
                                    otlp::Encoding::kProtobuf, metrics, stats)
                    .isOk());
  }
  ASSERT_GT(metrics.gauge.rows(), 0u);
  ASSERT_GT(metrics.sum.rows(), 0u);
  const telemetry::MetricBatch* group[] = {&metrics};
  // Gauges are taken, sums are rate limited.
  f.standIn.script({Answer{200}, Answer{429, "", {{"Retry-After", "1"}}}});
  EXPECT_EQ(f.sink->writeMetrics(group, "m", pipeline::Attempt::kFirst).code(),
            StatusCode::kResourceExhausted);
  ASSERT_TRUE(f.sink->writeMetrics(group, "m", pipeline::Attempt::kRetry).isOk());
  f.expectRows("otel_metrics_gauge", metrics.gauge);  // once, not twice
  f.expectRows("otel_metrics_sum", metrics.sum);
  f.expectRows("otel_metrics_summary", metrics.summary);
}

TEST(TinybirdSink, QuarantinedRowsAreCounted) {
  EXPECT_EQ(quarantinedRows(R"({"successful_rows": 8, "quarantined_rows": 2})"), 2u);
  EXPECT_EQ(quarantinedRows(""), 0u);
  Fixture f;
  f.standIn.script({Answer{200, R"({"successful_rows":1,"quarantined_rows":1})"}});
  auto& counter =
      metrics().counter("stackhouse_sink_rejected_rows_total", "", {{"sink", "tinybird"}});
  const uint64_t before = counter.value();
  const telemetry::LogBatch logs = randomLogs(1);
  const telemetry::LogBatch* group[] = {&logs};
  ASSERT_TRUE(f.sink->writeLogs(group, "g", pipeline::Attempt::kFirst).isOk());
  EXPECT_EQ(counter.value(), before + 1);
}

TEST(TinybirdSink, RedactedCorpusLeavesNoNeedle) {
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
    const auto received = f.standIn.received();
    ASSERT_EQ(received.size(), 6u);  // logs, traces, gauge, sum, histogram, summary
    for (const Received& r : received) {
      // JSON escapes nothing in the needles, so the raw text is what to search.
      if (redact) {
        EXPECT_EQ(sinks::testing::needlesIn(r.body), std::vector<std::string>{}) << r.target;
      } else {
        EXPECT_EQ(sinks::testing::needlesIn(r.body), sinks::testing::redactionNeedles())
            << r.target;
      }
      EXPECT_NE(r.body.find("checkout"), std::string::npos) << r.target;
    }
  }
}

TEST(TinybirdSink, FactoryReadsTheToken) {
  const stackhouse::testing::TempDir dir;
  std::ofstream(dir.path() + "/tb-token") << kToken << "\n";
  Fixture f;
  tinybird::TinybirdConfig config;
  config.enabled = true;
  config.endpoint = f.standIn.url();
  config.token.file = dir.path() + "/tb-token";
  config.datasources.logs = "app_logs";
  auto sink = makeTinybirdSink(config, "/nonexistent");
  ASSERT_TRUE(sink.isOk()) << sink.status().toString();
  const telemetry::LogBatch logs = randomLogs(1);
  const telemetry::LogBatch* group[] = {&logs};
  ASSERT_TRUE(sink.value()->writeLogs(group, "g", pipeline::Attempt::kFirst).isOk());
  EXPECT_TRUE(f.standIn.violations().empty());
  f.expectRows("app_logs", logs);
  config.token.file = dir.path() + "/missing";
  EXPECT_EQ(makeTinybirdSink(config, "/nonexistent").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stackhouse::sinks::tinybird
