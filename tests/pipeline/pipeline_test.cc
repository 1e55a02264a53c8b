#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <set>

namespace stackhouse::pipeline {
namespace {

using telemetry::LogBatch;

// Records what it is given; can be told to fail.
class RecordingSink : public Sink {
 public:
  Status writeLogs(std::span<const LogBatch* const> batches, std::string_view batchId,
                   Attempt attempt) override {
    std::lock_guard lock(mu);
    ++calls;
    ids.emplace_back(batchId);
    attempts.push_back(attempt);
    if (failuresLeft > 0) {
      --failuresLeft;
      return unavailable("store down");
    }
    // A group holding a row whose body is "poison" can never be stored: refused permanently,
    // with nothing of the group stored, as the contract asks.
    for (const LogBatch* b : batches) {
      for (size_t i = 0; i < b->rows(); ++i) {
        if (b->body.at(i) == "poison") return invalidArgument("row cannot be stored");
      }
    }
    size_t rows = 0;
    for (const LogBatch* b : batches) rows += b->rows();
    groups.push_back(rows);
    return Status::ok();
  }
  Status writeSpans(std::span<const telemetry::SpanBatch* const>, std::string_view,
                    pipeline::Attempt) override {
    return Status::ok();
  }
  Status writeMetrics(std::span<const telemetry::MetricBatch* const>, std::string_view,
                      pipeline::Attempt) override {
    return Status::ok();
  }

  std::mutex mu;
  int calls = 0;
  int failuresLeft = 0;
  std::vector<size_t> groups;
  std::vector<std::string> ids;
  std::vector<Attempt> attempts;
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
  options.linger = std::chrono::milliseconds(10'000);
  Pipeline p(options, sink);
  p.start();
  std::vector<std::future<Status>> acks;
  for (int i = 0; i < 10; ++i) {
    auto promise = std::make_shared<std::promise<Status>>();
    acks.push_back(promise->get_future());
    ASSERT_TRUE(
        p.submit(logsOf(p, 10), {}, [promise](const Status& s) { promise->set_value(s); }).isOk());
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
  options.linger = std::chrono::milliseconds(10'000);
  Pipeline p(options, sink);
  p.start();
  std::promise<Status> done;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(p.submit(logsOf(p, 3), {}, [&](const Status& s) { done.set_value(s); }).isOk());
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(f.get().isOk());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(45));
}

TEST(Pipeline, AQuietPeriodEndsAGroupBeforeTheTimeout) {
  RecordingSink sink;
  PipelineOptions options;
  options.sendBatchSize = 1000;
  options.timeout = std::chrono::milliseconds(10'000);
  options.linger = std::chrono::milliseconds(20);
  Pipeline p(options, sink);
  p.start();
  std::promise<Status> first, second;
  ASSERT_TRUE(p.submit(logsOf(p, 3), {}, [&](const Status& s) { first.set_value(s); }).isOk());
  ASSERT_TRUE(p.submit(logsOf(p, 4), {}, [&](const Status& s) { second.set_value(s); }).isOk());
  auto f = first.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  ASSERT_EQ(second.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  std::lock_guard lock(sink.mu);
  ASSERT_EQ(sink.groups.size(), 1u);
  EXPECT_EQ(sink.groups[0], 7u);
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
  ASSERT_TRUE(p.submit(logsOf(p, 5), {}, [&](const Status& s) { done.set_value(s); }).isOk());
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(f.get().isOk());
  std::lock_guard lock(sink.mu);
  ASSERT_EQ(sink.ids.size(), 3u);
  EXPECT_EQ(sink.ids[0], sink.ids[1]);
  EXPECT_EQ(sink.ids[1], sink.ids[2]);
  // The calls after a failure may find rows of the failed one stored: the sink is told so.
  EXPECT_EQ(sink.attempts,
            (std::vector<Attempt>{Attempt::kFirst, Attempt::kRetry, Attempt::kRetry}));
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
  ASSERT_TRUE(p.submit(logsOf(p, 5), {}, [&](const Status& s) { done.set_value(s); }).isOk());
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const Status s = f.get();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("store down"), std::string::npos);
}

TEST(Pipeline, APermanentFailureFailsOnlyTheRequestsThatCauseIt) {
  RecordingSink sink;
  PipelineOptions options;
  options.sendBatchSize = 1000;
  options.timeout = std::chrono::milliseconds(10'000);
  options.linger = std::chrono::milliseconds(10'000);
  options.retryBackoff = std::chrono::milliseconds(1);
  Pipeline p(options, sink);
  p.start();
  // Nine requests of 10 rows and, in fifth place, one whose rows the sink refuses; 100 rows in
  // all, so they form one group.
  constexpr int kRequests = 10;
  constexpr int kCulprit = 4;
  std::vector<std::future<Status>> acks;
  for (int i = 0; i < kRequests; ++i) {
    auto promise = std::make_shared<std::promise<Status>>();
    acks.push_back(promise->get_future());
    auto batch = logsOf(p, 9);
    batch->timestamp.append(0);
    batch->body.append(i == kCulprit ? "poison" : "fine");
    ASSERT_TRUE(p.submit(std::move(batch), {}, [promise](const Status& s) {
                   promise->set_value(s);
                 }).isOk());
  }
  p.stop();  // flushes the group
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_EQ(acks[i].wait_for(std::chrono::seconds(5)), std::future_status::ready);
    const Status s = acks[i].get();
    if (i == kCulprit) {
      // Permanent: the receivers answer 400 / INVALID_ARGUMENT, never a retryable error.
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.toString();
      EXPECT_NE(s.message().find("row cannot be stored"), std::string::npos);
    } else {
      EXPECT_TRUE(s.isOk()) << i << ": " << s.toString();
    }
  }
  std::lock_guard lock(sink.mu);
  size_t stored = 0;
  for (size_t rows : sink.groups) stored += rows;
  EXPECT_EQ(stored, 90u);  // every innocent row, once
  // Not retried: the group (1), then halves down to the culprit: 10 -> 5+5 -> 2+3 -> 1+2 -> 1+1.
  EXPECT_LE(sink.calls, 1 + 2 * 4);
  std::set<std::string> ids(sink.ids.begin(), sink.ids.end());
  EXPECT_EQ(ids.size(), sink.ids.size()) << "each insert has an id of its own";
  // The halves are compared with what the sink holds: the group's call may have stored some.
  ASSERT_FALSE(sink.attempts.empty());
  EXPECT_EQ(sink.attempts[0], Attempt::kFirst);
  for (size_t i = 1; i < sink.attempts.size(); ++i) EXPECT_EQ(sink.attempts[i], Attempt::kIsolate);
}

TEST(Pipeline, APermanentFailureOfALoneRequestIsNotRetried) {
  RecordingSink sink;
  PipelineOptions options;
  options.timeout = std::chrono::milliseconds(1);
  options.retryBackoff = std::chrono::milliseconds(1);
  Pipeline p(options, sink);
  p.start();
  std::promise<Status> done;
  auto batch = logsOf(p, 0);
  batch->timestamp.append(0);
  batch->body.append("poison");
  ASSERT_TRUE(p.submit(std::move(batch), {}, [&](const Status& s) { done.set_value(s); }).isOk());
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(f.get().code(), StatusCode::kInvalidArgument);
  std::lock_guard lock(sink.mu);
  EXPECT_EQ(sink.calls, 1);
}

TEST(Pipeline, RefusesWhenPendingBytesPassTheLimit) {
  RecordingSink sink;
  PipelineOptions options;
  options.timeout = std::chrono::milliseconds(60'000);
  options.linger = std::chrono::milliseconds(60'000);
  options.sendBatchSize = 1'000'000;
  options.maxPendingBytes = 1000;
  Pipeline p(options, sink);
  p.start();
  std::atomic<int> acked{0};
  ASSERT_TRUE(p.submit(logsOf(p, 100), {}, [&](const Status&) { ++acked; }).isOk());
  const Status refused = p.submit(logsOf(p, 100), {}, [&](const Status&) { ++acked; });
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  p.stop();  // drains: the accepted request is completed
  EXPECT_EQ(acked.load(), 1);
}

TEST(Pipeline, StopDrainsAndRefusesAfterwards) {
  RecordingSink sink;
  PipelineOptions options;
  options.timeout = std::chrono::milliseconds(60'000);
  options.linger = std::chrono::milliseconds(60'000);
  Pipeline p(options, sink);
  p.start();
  Status got = internalError("not called");
  ASSERT_TRUE(p.submit(logsOf(p, 1), {}, [&](const Status& s) { got = s; }).isOk());
  p.stop();
  EXPECT_TRUE(got.isOk());
  EXPECT_EQ(p.submit(logsOf(p, 1), {}, [](const Status&) {}).code(), StatusCode::kUnavailable);
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

namespace stackhouse::pipeline {
namespace {

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stackhouse-ledger-XXXXXX";
    dir_ = mkdtemp(tmpl);
    options_.path = dir_ + "/ledger";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  RequestLedger::Options options_;
};

TEST_F(LedgerTest, KeysDependOnSignalAndBodyAndSurviveAReopen) {
  RequestKey a, b, c;
  {
    auto ledger = RequestLedger::open(options_);
    ASSERT_TRUE(ledger.isOk()) << ledger.status().toString();
    const std::string body = "same bytes";
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(body.data()),
                                         body.size());
    a = ledger.value()->keyOf(0, bytes);
    b = ledger.value()->keyOf(1, bytes);
    c = ledger.value()->keyOf(0, bytes.subspan(1));
    EXPECT_FALSE(a == b);
    EXPECT_FALSE(a == c);
    EXPECT_TRUE(a == ledger.value()->keyOf(0, bytes));
    ASSERT_TRUE(ledger.value()->recordCommitted(std::vector<RequestKey>{a, b}).isOk());
    EXPECT_TRUE(ledger.value()->isCommitted(a));
    EXPECT_FALSE(ledger.value()->isCommitted(c));
  }
  auto reopened = RequestLedger::open(options_);
  ASSERT_TRUE(reopened.isOk());
  EXPECT_TRUE(reopened.value()->isCommitted(a));
  EXPECT_TRUE(reopened.value()->isCommitted(b));
  EXPECT_FALSE(reopened.value()->isCommitted(c));
  // The seed is kept, so keys computed before and after a restart agree.
  const std::string body = "same bytes";
  EXPECT_TRUE(reopened.value()->keyOf(
                  0, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()),
                                              body.size())) == a);
}

TEST_F(LedgerTest, ARecordCutShortByACrashIsIgnored) {
  {
    auto ledger = RequestLedger::open(options_);
    ASSERT_TRUE(ledger.value()->recordCommitted(std::vector<RequestKey>{{1, 2}}).isOk());
    ASSERT_TRUE(ledger.value()->recordCommitted(std::vector<RequestKey>{{3, 4}, {5, 6}}).isOk());
  }
  const auto size = std::filesystem::file_size(options_.path);
  std::filesystem::resize_file(options_.path, size - 5);
  auto reopened = RequestLedger::open(options_);
  ASSERT_TRUE(reopened.isOk());
  EXPECT_TRUE(reopened.value()->isCommitted({1, 2}));
  EXPECT_FALSE(reopened.value()->isCommitted({3, 4}));
}

TEST_F(LedgerTest, ForgetsTheOldestPastTheBound) {
  options_.maxKeys = 2;
  auto ledger = RequestLedger::open(options_);
  ASSERT_TRUE(
      ledger.value()->recordCommitted(std::vector<RequestKey>{{1, 1}, {2, 2}, {3, 3}}).isOk());
  EXPECT_FALSE(ledger.value()->isCommitted({1, 1}));
  EXPECT_TRUE(ledger.value()->isCommitted({3, 3}));
  EXPECT_EQ(ledger.value()->size(), 2u);
}

TEST_F(LedgerTest, PipelineAnswersRetriesWithoutStoringThemAgain) {
  auto ledger = RequestLedger::open(options_);
  RecordingSink sink;
  PipelineOptions options;
  options.timeout = std::chrono::milliseconds(30);
  options.linger = std::chrono::milliseconds(30);
  options.ledger = ledger.value().get();
  Pipeline p(options, sink);
  p.start();
  const RequestKey key{42, 43};
  // The same request twice before its insert: one insert, both answered OK.
  std::promise<Status> first, second, third;
  ASSERT_TRUE(p.submit(logsOf(p, 5), key, [&](const Status& s) { first.set_value(s); }).isOk());
  ASSERT_TRUE(p.submit(logsOf(p, 5), key, [&](const Status& s) { second.set_value(s); }).isOk());
  EXPECT_TRUE(first.get_future().get().isOk());
  EXPECT_TRUE(second.get_future().get().isOk());
  // And once more after the commit: answered at once.
  ASSERT_TRUE(p.submit(logsOf(p, 5), key, [&](const Status& s) { third.set_value(s); }).isOk());
  auto f = third.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_TRUE(f.get().isOk());
  p.stop();
  std::lock_guard lock(sink.mu);
  ASSERT_EQ(sink.groups.size(), 1u);
  EXPECT_EQ(sink.groups[0], 5u);
  EXPECT_TRUE(ledger.value()->isCommitted(key));
}

}  // namespace
}  // namespace stackhouse::pipeline
