#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>

namespace stackhouse::pipeline {
namespace {

using telemetry::LogBatch;

// Records what it is given; can be told to fail.
class RecordingSink : public Sink {
public:
  Status writeLogs(std::span<const LogBatch* const> batches, std::string_view batchId) override {
    std::lock_guard lock(mu);
    ++calls;
    ids.emplace_back(batchId);
    if (failuresLeft > 0) {
      --failuresLeft;
      return unavailable("store down");
    }
    size_t rows = 0;
    for (const LogBatch* b : batches) rows += b->rows();
    groups.push_back(rows);
    return Status::ok();
  }
  Status writeSpans(std::span<const telemetry::SpanBatch* const>, std::string_view) override {
    return Status::ok();
  }
  Status writeMetrics(std::span<const telemetry::MetricBatch* const>, std::string_view) override {
    return Status::ok();
  }

  std::mutex mu;
  int calls = 0;
  int failuresLeft = 0;
  std::vector<size_t> groups;
  std::vector<std::string> ids;
};

PooledBatch<LogBatch> logsOf(Pipeline& p, size_t rows) {
  auto b = p.logPool().acquire();
  for (size_t i = 0; i < rows; ++i) {
    b->timestamp.append(static_cast<int64_t>(i));
    b->body.append("x");
  }
  return b;
}

TEST(Pipeline, GroupsRequestsUntilTheRowThreshold) {
  RecordingSink sink;
  PipelineOptions options;
  options.sendBatchSize = 100;
  options.timeout = std::chrono::milliseconds(10'000);
  Pipeline p(options, sink);
  p.start();
  std::vector<std::future<Status>> acks;
  for (int i = 0; i < 10; ++i) {
    auto promise = std::make_shared<std::promise<Status>>();
    acks.push_back(promise->get_future());
    ASSERT_TRUE(p.submit(logsOf(p, 10), [promise](const Status& s) { promise->set_value(s); }).isOk());
  }
  for (auto& f : acks) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_TRUE(f.get().isOk());
  }
  std::lock_guard lock(sink.mu);
  ASSERT_EQ(sink.groups.size(), 1u);
  EXPECT_EQ(sink.groups[0], 100u);
}

TEST(Pipeline, FlushesASmallGroupAtTheTimeout) {
  RecordingSink sink;
  PipelineOptions options;
  options.sendBatchSize = 1000;
  options.timeout = std::chrono::milliseconds(50);
  Pipeline p(options, sink);
  p.start();
  std::promise<Status> done;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(p.submit(logsOf(p, 3), [&](const Status& s) { done.set_value(s); }).isOk());
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(f.get().isOk());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(45));
}

TEST(Pipeline, RetriesWithTheSameBatchIdThenAcknowledges) {
  RecordingSink sink;
  sink.failuresLeft = 2;
  PipelineOptions options;
  options.timeout = std::chrono::milliseconds(1);
  options.retryBackoff = std::chrono::milliseconds(1);
  Pipeline p(options, sink);
  p.start();
  std::promise<Status> done;
  ASSERT_TRUE(p.submit(logsOf(p, 5), [&](const Status& s) { done.set_value(s); }).isOk());
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(f.get().isOk());
  std::lock_guard lock(sink.mu);
  ASSERT_EQ(sink.ids.size(), 3u);
  EXPECT_EQ(sink.ids[0], sink.ids[1]);
  EXPECT_EQ(sink.ids[1], sink.ids[2]);
}

TEST(Pipeline, FailsRequestsAsRetryableWhenTheSinkKeepsFailing) {
  RecordingSink sink;
  sink.failuresLeft = 100;
  PipelineOptions options;
  options.timeout = std::chrono::milliseconds(1);
  options.retryBackoff = std::chrono::milliseconds(1);
  Pipeline p(options, sink);
  p.start();
  std::promise<Status> done;
  ASSERT_TRUE(p.submit(logsOf(p, 5), [&](const Status& s) { done.set_value(s); }).isOk());
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const Status s = f.get();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("store down"), std::string::npos);
}

TEST(Pipeline, RefusesWhenPendingBytesPassTheLimit) {
  RecordingSink sink;
  PipelineOptions options;
  options.timeout = std::chrono::milliseconds(60'000);
  options.sendBatchSize = 1'000'000;
  options.maxPendingBytes = 1000;
  Pipeline p(options, sink);
  p.start();
  std::atomic<int> acked{0};
  ASSERT_TRUE(p.submit(logsOf(p, 100), [&](const Status&) { ++acked; }).isOk());
  const Status refused = p.submit(logsOf(p, 100), [&](const Status&) { ++acked; });
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  p.stop();  // drains: the accepted request is completed
  EXPECT_EQ(acked.load(), 1);
}

TEST(Pipeline, StopDrainsAndRefusesAfterwards) {
  RecordingSink sink;
  PipelineOptions options;
  options.timeout = std::chrono::milliseconds(60'000);
  Pipeline p(options, sink);
  p.start();
  Status got = internalError("not called");
  ASSERT_TRUE(p.submit(logsOf(p, 1), [&](const Status& s) { got = s; }).isOk());
  p.stop();
  EXPECT_TRUE(got.isOk());
  EXPECT_EQ(p.submit(logsOf(p, 1), [](const Status&) {}).code(), StatusCode::kUnavailable);
  p.stop();
}

TEST(Pipeline, StopWithoutStart) {
  RecordingSink sink;
  Pipeline p(PipelineOptions{}, sink);
  p.stop();
}

TEST(BatchPool, ReusesClearedBatches) {
  BatchPool<LogBatch> pool;
  LogBatch* first;
  {
    auto b = pool.acquire();
    b->body.append("abc");
    first = b.get();
  }
  auto again = pool.acquire();
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(again->body.size(), 0u);
}

}  // namespace
}  // namespace stackhouse::pipeline
