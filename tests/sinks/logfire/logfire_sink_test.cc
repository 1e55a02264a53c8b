// LogfireSink against a stand-in that checks Logfire's documented OTLP/HTTP wire format strictly:
// POST /v1/{logs,traces,metrics}, Content-Type application/x-protobuf, Content-Encoding gzip,
// `Authorization: <write token>` (no scheme), a body libprotobuf parses as the signal's
// Export*ServiceRequest without unknown fields, within the request size.
#include "sinks/logfire/logfire_sink.h"

#include <gtest/gtest.h>

#include <fstream>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/decode.h"
#include "otlp/otlp_test_support.h"
#include "sinks/support/redaction_corpus.h"
#include "sinks/support/stand_in.h"
#include "support/temp_dir.h"

namespace stackhouse::sinks::logfire {
namespace {

using namespace std::chrono_literals;
using sinks::testing::Answer;
using sinks::testing::Received;
using sinks::testing::StandIn;
using stackhouse::otlp::testing::dumpRows;
using stackhouse::otlp::testing::RequestGenerator;

constexpr std::string_view kToken = "pylf_v1_us_test0123456789writeTOKEN";

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool noUnknownFields(const google::protobuf::Message& m) {
  const auto* reflection = m.GetReflection();
  if (!reflection->GetUnknownFields(m).empty()) return false;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(m, f); ++i) {
        if (!noUnknownFields(reflection->GetRepeatedMessage(m, f, i))) return false;
      }
    } else if (!noUnknownFields(reflection->GetMessage(m, f))) {
      return false;
    }
  }
  return true;
}

// Logfire's format, as its OpenTelemetry client documentation gives it.
std::string checkLogfire(const Received& r, uint64_t maxBytes) {
  if (r.method != "POST") return "method " + r.method;
  if (auto e = sinks::testing::expectHeader(r, "content-type", "application/x-protobuf");
      !e.empty()) {
    return e;
  }
  if (auto e = sinks::testing::expectHeader(r, "content-encoding", "gzip"); !e.empty()) return e;
  if (auto e = sinks::testing::expectHeader(r, "authorization", kToken); !e.empty()) return e;
  if (r.body.size() > maxBytes) return "a request of " + std::to_string(r.body.size()) + " bytes";
  std::unique_ptr<google::protobuf::Message> message;
  if (r.target == "/v1/logs") {
    message = std::make_unique<otlp::testing::LogsRequest>();
  } else if (r.target == "/v1/traces") {
    message = std::make_unique<otlp::testing::TraceRequest>();
  } else if (r.target == "/v1/metrics") {
    message = std::make_unique<otlp::testing::MetricsRequest>();
  } else {
    return "path " + r.target;
  }
  if (!message->ParseFromString(r.body)) return "the body is not a valid " + r.target + " request";
  if (!noUnknownFields(*message)) return "unknown fields in the request";
  return "";
}

struct Fixture {
  explicit Fixture(uint64_t maxBytes = 4 << 20)
      : standIn([maxBytes](const Received& r) { return checkLogfire(r, maxBytes); },
                Answer{200, "", {}, 0ms, "application/x-protobuf"}) {
    LogfireSettings settings;
    settings.baseUrl = standIn.url();
    settings.token = std::string(kToken);
    settings.timeout = 2s;
    settings.maxRequestBytes = maxBytes;
    auto client = http::Client::create({});
    sink = std::make_unique<LogfireSink>(std::move(settings), std::move(client.value()));
  }

  // Every accepted request of a path decoded again into one batch.
  template <typename Batch, typename Decode>
  Batch arrived(std::string_view path, Decode decode) {
    Batch out;
    for (const Received& r : standIn.accepted()) {
      if (r.target != path) continue;
      otlp::DecodeStats stats;
      EXPECT_TRUE(decode(bytesOf(r.body), out, stats).isOk());
    }
    return out;
  }

  StandIn standIn;
  std::unique_ptr<LogfireSink> sink;
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

otlp::Encoding pb() { return otlp::Encoding::kProtobuf; }

TEST(LogfireSink, EverySignalArrivesIntact) {
  Fixture f;
  telemetry::LogBatch logs[2];
  telemetry::SpanBatch spans;
  telemetry::MetricBatch metrics;
  otlp::DecodeStats stats;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    RequestGenerator gen(seed);
    ASSERT_TRUE(
        otlp::decodeLogs(bytesOf(gen.logs().SerializeAsString()), pb(), logs[seed % 2], stats)
            .isOk());
    ASSERT_TRUE(
        otlp::decodeSpans(bytesOf(gen.traces().SerializeAsString()), pb(), spans, stats).isOk());
    ASSERT_TRUE(
        otlp::decodeMetrics(bytesOf(gen.metrics().SerializeAsString()), pb(), metrics, stats)
            .isOk());
  }
  const telemetry::LogBatch* logGroup[] = {&logs[0], &logs[1]};
  const telemetry::SpanBatch* spanGroup[] = {&spans};
  const telemetry::MetricBatch* metricGroup[] = {&metrics};
  ASSERT_TRUE(f.sink->writeLogs(logGroup, "g1", pipeline::Attempt::kFirst).isOk());
  ASSERT_TRUE(f.sink->writeSpans(spanGroup, "g2", pipeline::Attempt::kFirst).isOk());
  ASSERT_TRUE(f.sink->writeMetrics(metricGroup, "g3", pipeline::Attempt::kFirst).isOk());
  EXPECT_TRUE(f.standIn.violations().empty()) << f.standIn.violations().front();

  auto expectedLogs = dumpRows(logs[0]);
  for (auto& row : dumpRows(logs[1])) expectedLogs.push_back(row);
  auto gotLogs = f.arrived<telemetry::LogBatch>("/v1/logs", [](auto b, auto& out, auto& s) {
    return otlp::decodeLogs(b, otlp::Encoding::kProtobuf, out, s);
  });
  EXPECT_EQ(dumpRows(gotLogs), expectedLogs);
  auto gotSpans = f.arrived<telemetry::SpanBatch>("/v1/traces", [](auto b, auto& out, auto& s) {
    return otlp::decodeSpans(b, otlp::Encoding::kProtobuf, out, s);
  });
  EXPECT_EQ(dumpRows(gotSpans), dumpRows(spans));
  auto gotMetrics =
      f.arrived<telemetry::MetricBatch>("/v1/metrics", [](auto b, auto& out, auto& s) {
        return otlp::decodeMetrics(b, otlp::Encoding::kProtobuf, out, s);
      });
  EXPECT_EQ(dumpRows(gotMetrics.gauge), dumpRows(metrics.gauge));
  EXPECT_EQ(dumpRows(gotMetrics.sum), dumpRows(metrics.sum));
  EXPECT_EQ(dumpRows(gotMetrics.histogram), dumpRows(metrics.histogram));
  EXPECT_EQ(dumpRows(gotMetrics.expHistogram), dumpRows(metrics.expHistogram));
  EXPECT_EQ(dumpRows(gotMetrics.summary), dumpRows(metrics.summary));
}

TEST(LogfireSink, LargeGroupsAreSplitToFitTheRequestSize) {
  Fixture f(64 << 10);
  const telemetry::LogBatch logs = randomLogs(300);
  const telemetry::LogBatch* group[] = {&logs};
  ASSERT_TRUE(f.sink->writeLogs(group, "big", pipeline::Attempt::kFirst).isOk());
  EXPECT_TRUE(f.standIn.violations().empty());
  EXPECT_GT(f.standIn.accepted().size(), 3u);
  auto got = f.arrived<telemetry::LogBatch>("/v1/logs", [](auto b, auto& out, auto& s) {
    return otlp::decodeLogs(b, otlp::Encoding::kProtobuf, out, s);
  });
  EXPECT_EQ(dumpRows(got), dumpRows(logs));
}

TEST(LogfireSink, A413HalvesTheRequest) {
  Fixture f;
  const telemetry::LogBatch logs = randomLogs(30);
  f.standIn.script({Answer{413}, Answer{413}});
  const telemetry::LogBatch* group[] = {&logs};
  ASSERT_TRUE(f.sink->writeLogs(group, "g", pipeline::Attempt::kFirst).isOk());
  const auto received = f.standIn.received();
  ASSERT_GE(received.size(), 4u);  // whole, half, quarter, then the rest
  EXPECT_LT(received[1].body.size(), received[0].body.size());
  auto got = f.arrived<telemetry::LogBatch>("/v1/logs", [](auto b, auto& out, auto& s) {
    return otlp::decodeLogs(b, otlp::Encoding::kProtobuf, out, s);
  });
  EXPECT_EQ(dumpRows(got), dumpRows(logs));
}

TEST(LogfireSink, FailuresAreClassified) {
  struct Case {
    Answer answer;
    StatusCode code;
    std::chrono::milliseconds retryAfter;
  };
  const Case cases[] = {
      {Answer{429, "", {{"Retry-After", "7"}}}, StatusCode::kResourceExhausted, 7000ms},
      {Answer{503, "", {{"Retry-After", "2"}}}, StatusCode::kUnavailable, 2000ms},
      {Answer{502}, StatusCode::kUnavailable, 0ms},
      {Answer{500}, StatusCode::kUnavailable, 0ms},
      {Answer{400}, StatusCode::kInvalidArgument, 0ms},
      {Answer{404}, StatusCode::kInvalidArgument, 0ms},
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
    // The message never carries the token.
    EXPECT_EQ(st.message().find(kToken), std::string::npos);
  }
}

TEST(LogfireSink, SlowOrDownIsRetryable) {
  const telemetry::LogBatch logs = randomLogs(2);
  const telemetry::LogBatch* group[] = {&logs};
  {
    Fixture f;
    f.standIn.script({Answer{200, "", {}, 3s}});  // past the 2 s timeout
    const Status st = f.sink->writeLogs(group, "g", pipeline::Attempt::kFirst);
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.toString();
  }
  {
    Fixture f;
    f.standIn.stop();
    const Status st = f.sink->writeLogs(group, "g", pipeline::Attempt::kFirst);
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.toString();
  }
}

TEST(LogfireSink, ARetryResumesAfterTheRowsAlreadyTaken) {
  Fixture f(64 << 10);
  const telemetry::LogBatch logs = randomLogs(300);
  const telemetry::LogBatch* group[] = {&logs};
  f.standIn.script({Answer{200}, Answer{200}, Answer{503}});
  EXPECT_EQ(f.sink->writeLogs(group, "g", pipeline::Attempt::kFirst).code(),
            StatusCode::kUnavailable);
  ASSERT_EQ(f.standIn.accepted().size(), 2u);
  ASSERT_TRUE(f.sink->writeLogs(group, "g", pipeline::Attempt::kRetry).isOk());
  auto got = f.arrived<telemetry::LogBatch>("/v1/logs", [](auto b, auto& out, auto& s) {
    return otlp::decodeLogs(b, otlp::Encoding::kProtobuf, out, s);
  });
  EXPECT_EQ(dumpRows(got), dumpRows(logs));  // every row once
}

TEST(LogfireSink, AnotherSignalBetweenTriesDoesNotRestartTheGroup) {
  Fixture f(64 << 10);
  const telemetry::LogBatch logs = randomLogs(300);
  const telemetry::LogBatch* group[] = {&logs};
  telemetry::SpanBatch spans;
  otlp::DecodeStats stats;
  RequestGenerator gen(1);
  ASSERT_TRUE(
      otlp::decodeSpans(bytesOf(gen.traces().SerializeAsString()), pb(), spans, stats).isOk());
  const telemetry::SpanBatch* spanGroup[] = {&spans};
  f.standIn.script({Answer{200}, Answer{503}});
  EXPECT_EQ(f.sink->writeLogs(group, "g", pipeline::Attempt::kFirst).code(),
            StatusCode::kUnavailable);
  ASSERT_TRUE(f.sink->writeSpans(spanGroup, "s", pipeline::Attempt::kFirst).isOk());
  ASSERT_TRUE(f.sink->writeLogs(group, "g", pipeline::Attempt::kRetry).isOk());
  auto got = f.arrived<telemetry::LogBatch>("/v1/logs", [](auto b, auto& out, auto& s) {
    return otlp::decodeLogs(b, otlp::Encoding::kProtobuf, out, s);
  });
  EXPECT_EQ(dumpRows(got), dumpRows(logs));  // every row once
}

TEST(LogfireSink, PartialSuccessIsCountedNotRetried) {
  Fixture f;
  // ExportLogsServiceResponse { partial_success { rejected_log_records: 3, error_message } }
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse response;
  response.mutable_partial_success()->set_rejected_log_records(3);
  response.mutable_partial_success()->set_error_message("3 records too old");
  EXPECT_EQ(partialSuccessRejected(response.SerializeAsString()), 3u);
  EXPECT_EQ(partialSuccessRejected(""), 0u);
  EXPECT_EQ(partialSuccessRejected("\x0a\x05\x08"), 0u);  // truncated: read as nothing rejected
  f.standIn.script({Answer{200, response.SerializeAsString(), {}, 0ms, "application/x-protobuf"}});
  const telemetry::LogBatch logs = randomLogs(3);
  const telemetry::LogBatch* group[] = {&logs};
  const uint64_t before =
      metrics().counter("stackhouse_sink_rejected_rows_total", "", {{"sink", "logfire"}}).value();
  ASSERT_TRUE(f.sink->writeLogs(group, "g", pipeline::Attempt::kFirst).isOk());
  EXPECT_EQ(
      metrics().counter("stackhouse_sink_rejected_rows_total", "", {{"sink", "logfire"}}).value(),
      before + 3);
  EXPECT_EQ(f.standIn.received().size(), 1u);
}

TEST(LogfireSink, RedactedCorpusLeavesNoNeedle) {
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
    ASSERT_EQ(received.size(), 3u);
    for (const Received& r : received) {
      if (redact) {
        EXPECT_EQ(sinks::testing::needlesIn(r.body), std::vector<std::string>{}) << r.target;
      } else {
        EXPECT_EQ(sinks::testing::needlesIn(r.body), sinks::testing::redactionNeedles())
            << r.target;
      }
      // Something of the corpus did arrive: the benign text and the service.
      EXPECT_NE(r.body.find("checkout"), std::string::npos) << r.target;
    }
  }
}

TEST(LogfireSink, FactoryReadsTheTokenAndPicksTheRegion) {
  const stackhouse::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/logfire");
  std::ofstream(dir.path() + "/logfire/token") << kToken << "\n";
  logfire::LogfireConfig config;
  config.enabled = true;
  config.token = {"logfire", "token", ""};
  EXPECT_EQ(logfireBaseUrl(config), "https://logfire-us.pydantic.dev");
  config.region = "eu";
  EXPECT_EQ(logfireBaseUrl(config), "https://logfire-eu.pydantic.dev");
  EXPECT_TRUE(makeLogfireSink(config, dir.path()).isOk());
  config.token = {"logfire", "missing", ""};
  const auto missing = makeLogfireSink(config, dir.path());
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("otelConfig.exporters.logfire"), std::string::npos);

  // End to end through the factory: endpoint overrides the region.
  Fixture f;
  config.token = {"logfire", "token", ""};
  config.endpoint = f.standIn.url();
  auto sink = makeLogfireSink(config, dir.path());
  ASSERT_TRUE(sink.isOk());
  const telemetry::LogBatch logs = randomLogs(1);
  const telemetry::LogBatch* group[] = {&logs};
  ASSERT_TRUE(sink.value()->writeLogs(group, "g", pipeline::Attempt::kFirst).isOk());
  EXPECT_TRUE(f.standIn.violations().empty());
}

}  // namespace
}  // namespace stackhouse::sinks::logfire
