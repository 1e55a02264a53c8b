// OtlpIngestCore: the outcome of each kind of request, and the counter it moves, without a
// transport. The HTTP and gRPC receiver tests check how each transport frames these outcomes.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>

#include "common/metrics.h"
#include "receivers/otlp/ingest_core.h"
#include "support/counting_sink.h"

namespace stackhouse::receivers {
namespace {

using stackhouse::testing::CountingSink;

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

uint64_t requests(std::string_view signal, std::string_view outcome) {
  return metrics()
      .counter("stackhouse_receiver_requests_total", "",
               {{"receiver", "otlp-core-test"},
                {"signal", std::string(signal)},
                {"outcome", std::string(outcome)}})
      .value();
}

// Ingests one body and waits for its answer (given once, on whichever thread).
ExportResult ingestOne(OtlpIngestCore& core, otlp::Signal signal, const std::string& json) {
  std::promise<ExportResult> answered;
  std::atomic<int> calls{0};
  core.ingest(signal, otlp::Encoding::kJson, bytesOf(json), [&](ExportResult r) {
    if (calls.fetch_add(1) == 0) answered.set_value(std::move(r));
  });
  ExportResult r = answered.get_future().get();
  EXPECT_EQ(calls.load(), 1);
  return r;
}

const std::string kTwoLogs =
    R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","body":{"stringValue":"one"}},{"timeUnixNano":"2","body":{"stringValue":"two"}}]}]}]})";
const std::string kOneBadLog =
    R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"ok"}},{"traceId":"abcd","body":{"stringValue":"bad"}}]}]}]})";
const std::string kOneSpan =
    R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"s","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]})";
const std::string kOneGauge =
    R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"1","asDouble":1.5}]}}]}]}]})";

class IngestCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pipeline_ = stackhouse::testing::startedPipeline(sink_);
    core_ = std::make_unique<OtlpIngestCore>("otlp-core-test", "core-test", *pipeline_,
                                             otlp::DecodeLimits{});
  }
  void TearDown() override { pipeline_->stop(); }

  CountingSink sink_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<OtlpIngestCore> core_;
};

TEST_F(IngestCoreTest, EachSignalIsAcceptedOnceDurable) {
  struct Case {
    otlp::Signal signal;
    std::string_view name;
    const std::string* body;
  };
  for (const Case& c : {Case{otlp::Signal::kLogs, "logs", &kTwoLogs},
                        Case{otlp::Signal::kTraces, "traces", &kOneSpan},
                        Case{otlp::Signal::kMetrics, "metrics", &kOneGauge}}) {
    SCOPED_TRACE(std::string(c.name));
    const uint64_t before = requests(c.name, "accepted");
    const ExportResult r = ingestOne(*core_, c.signal, *c.body);
    EXPECT_TRUE(r.status.isOk()) << r.status.toString();
    EXPECT_EQ(r.rejected, 0u);
    EXPECT_EQ(r.message, "");
    EXPECT_EQ(requests(c.name, "accepted") - before, 1u);
  }
}

TEST_F(IngestCoreTest, RejectedRecordsArePartialSuccess) {
  const ExportResult r = ingestOne(*core_, otlp::Signal::kLogs, kOneBadLog);
  EXPECT_TRUE(r.status.isOk());
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_NE(r.message.find("trace"), std::string::npos) << r.message;
}

TEST_F(IngestCoreTest, MalformedDataIsInvalidAndCounted) {
  const uint64_t before = requests("logs", "invalid");
  const ExportResult r = ingestOne(*core_, otlp::Signal::kLogs, "{\"resourceLogs\": [");
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(r.status.message().empty());
  EXPECT_EQ(requests("logs", "invalid") - before, 1u);
}

TEST_F(IngestCoreTest, NothingToStoreIsAnsweredAtOnce) {
  const ExportResult r = ingestOne(*core_, otlp::Signal::kMetrics, "{}");
  EXPECT_TRUE(r.status.isOk());
  EXPECT_EQ(sink_.points.load(), 0u);
}

TEST_F(IngestCoreTest, AStoppedPipelineIsRetryableAndCountedRefused) {
  pipeline_->stop();
  const uint64_t before = requests("traces", "refused");
  const ExportResult r = ingestOne(*core_, otlp::Signal::kTraces, kOneSpan);
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(requests("traces", "refused") - before, 1u);
}

TEST_F(IngestCoreTest, AFullQueueIsRetryable) {
  CountingSink down;
  const auto fullPipeline = stackhouse::testing::fullQueuePipeline(down, "core-full");
  pipeline::Pipeline& full = *fullPipeline;
  OtlpIngestCore core("otlp-core-test", "core-test", full, otlp::DecodeLimits{});
  ExportResult r;
  for (int i = 0; i < 50 && r.status.isOk(); ++i)
    r = ingestOne(core, otlp::Signal::kLogs, kTwoLogs);
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("queue is full"), std::string::npos) << r.status.message();
  // Asked before anything is read or decoded (for a request of 1 KiB): refused, and counted by
  // the receiver and by the queue.
  Counter& queueRefused =
      metrics().counter("stackhouse_queue_refused_appends_total", "", {{"sink", "core-full"}});
  const uint64_t before = requests("logs", "refused");
  const uint64_t queueBefore = queueRefused.value();
  EXPECT_EQ(core.admit(otlp::Signal::kLogs, 1024).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(requests("logs", "refused") - before, 1u);
  EXPECT_EQ(queueRefused.value() - queueBefore, 1u);
  // Other signals are not routed to that queue.
  EXPECT_TRUE(core.admit(otlp::Signal::kTraces, 1024).isOk());
  full.stop();
}

}  // namespace
}  // namespace stackhouse::receivers
