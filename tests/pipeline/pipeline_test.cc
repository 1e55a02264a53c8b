#include "pipeline/pipeline.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>

#include "common/log.h"
#include "common/metrics.h"
#include "pipeline/sink_queue.h"
#include "support/log_rows.h"

namespace stackhouse::pipeline {
namespace {

namespace fs = std::filesystem;
using telemetry::LogBatch;
using telemetry::SpanBatch;

// The part of the test sinks that is always the same: spans are counted, metrics taken.
class SpanCountingSink : public Sink {
 public:
  Status writeSpans(std::span<const SpanBatch* const> batches, std::string_view, Attempt) override {
    std::lock_guard lock(mu);
    for (const SpanBatch* b : batches) spans += b->rows();
    return Status::ok();
  }
  Status writeMetrics(std::span<const telemetry::MetricBatch* const>, std::string_view,
                      Attempt) override {
    return Status::ok();
  }

  std::mutex mu;
  size_t spans = 0;  // guarded by mu
};

// Records what it is given; can be told to fail.
class RecordingSink : public SpanCountingSink {
 public:
  Status writeLogs(std::span<const LogBatch* const> batches, std::string_view batchId,
                   Attempt attempt) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(delayMs.load()));
    std::lock_guard lock(mu);
    ++calls;
    callTimes.push_back(std::chrono::steady_clock::now());
    ids.emplace_back(batchId);
    attempts.push_back(attempt);
    if (logsDown) return unavailable("store down");
    if (failuresLeft > 0) {
      --failuresLeft;
      return unavailable("store down").withRetryAfter(retryAfter);
    }
    // A row whose body is "poison" can never be stored: refused permanently, nothing stored.
    for (const LogBatch* b : batches) {
      for (size_t i = 0; i < b->rows(); ++i) {
        if (b->body.at(i) == "poison") return invalidArgument("Code: 6. row cannot be stored");
      }
    }
    size_t rows = 0;
    for (const LogBatch* b : batches) {
      rows += b->rows();
      for (size_t i = 0; i < b->rows(); ++i) bodies.emplace_back(b->body.at(i));
    }
    if (stored.contains(std::string(batchId))) return Status::ok();  // deduplicated
    stored.insert(std::string(batchId));
    groups.push_back(rows);
    return Status::ok();
  }
  size_t storedRows() {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (size_t g : groups) n += g;
    return n;
  }

  int calls = 0;
  int failuresLeft = 0;
  std::chrono::milliseconds retryAfter{0};  // what a failing call says to wait
  std::vector<std::chrono::steady_clock::time_point> callTimes;
  bool logsDown = false;
  std::atomic<int> delayMs{0};  // each logs call takes this long
  std::vector<size_t> groups;
  std::vector<std::string> ids;
  std::vector<Attempt> attempts;
  std::vector<std::string> bodies;
  std::set<std::string> stored;
};

template <typename F>
bool eventually(F&& f, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return f();
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stackhouse-pipeline-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  PipelineOptions options(size_t rows = 100, int ageMs = 50) {
    PipelineOptions o;
    o.queueDir = dir_ + "/queue";
    o.sendBatchSize = rows;
    o.timeout = std::chrono::milliseconds(ageMs);
    o.retryBackoff = std::chrono::milliseconds(5);
    return o;
  }
  static PooledBatch<LogBatch> logsOf(Pipeline& p, size_t rows, const std::string& body = "x") {
    auto b = p.logPool().acquire();
    for (size_t i = 0; i < rows; ++i) {
      testing::LogRow row;
      row.timestamp = static_cast<int64_t>(i);
      row.body = body;
      testing::appendLogRow(*b, row);
    }
    return b;
  }
  // Rows of `bodyBytes`-byte bodies that differ row to row (the row's number first), so that a
  // record holds every body in full: a queue record writes a value repeated row after row once.
  static PooledBatch<LogBatch> sizedLogsOf(Pipeline& p, size_t rows, size_t bodyBytes) {
    auto b = p.logPool().acquire();
    for (size_t i = 0; i < rows; ++i) {
      std::string body = std::to_string(i) + ' ';
      body.resize(std::max(bodyBytes, body.size()), 'y');
      testing::LogRow row;
      row.timestamp = static_cast<int64_t>(i);
      row.body = body;
      testing::appendLogRow(*b, row);
    }
    return b;
  }
  static Status submitAndWait(Pipeline& p, PooledBatch<LogBatch> b, RequestKey key = {}) {
    std::promise<Status> done;
    auto f = done.get_future();
    const Status s = p.submit(std::move(b), key, [&](const Status& r) { done.set_value(r); });
    if (!s.isOk()) return s;
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return unavailable("no answer");
    }
    return f.get();
  }

  // `n` requests of `bytes` each admitted for logs, as long as they are (the caller checks how
  // many were).
  static std::vector<Admission> admitLogs(Pipeline& p, int n, uint64_t bytes) {
    std::vector<Admission> admitted;
    for (int i = 0; i < n; ++i) {
      auto a = p.admit(telemetry::Source::kLogs, bytes);
      if (!a.isOk()) break;
      admitted.push_back(std::move(a.value()));
    }
    return admitted;
  }
  // One sink, `sink`, fed logs through a 64 KiB queue of 8 KiB segments.
  static std::vector<PipelineSink> smallQueue(Sink& sink, const std::string& name,
                                              OnFull onFull = OnFull::kBackpressure) {
    std::vector<PipelineSink> sinks(1);
    sinks[0].sink = &sink;
    sinks[0].queue.sink = name;
    sinks[0].queue.maxBytes = 64 << 10;
    sinks[0].queue.segmentBytes = 8 << 10;
    sinks[0].queue.onFull = onFull;
    sinks[0].sources = {telemetry::Source::kLogs};
    return sinks;
  }
  std::string dir_;
};

TEST_F(PipelineTest, AcknowledgesOnceQueuedAndSendsLargeRanges) {
  RecordingSink sink;
  Pipeline p(options(100, 10'000), sink);
  p.start();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(submitAndWait(p, logsOf(p, 10)).isOk());
  // Ten requests, acknowledged one by one, make one range of 100 rows.
  ASSERT_TRUE(eventually([&] { return sink.storedRows() == 100; }));
  std::lock_guard lock(sink.mu);
  ASSERT_EQ(sink.groups.size(), 1u);
  EXPECT_EQ(sink.groups[0], 100u);
  EXPECT_EQ(sink.attempts[0], Attempt::kFirst);
}

TEST_F(PipelineTest, ASmallRangeIsSentAtItsAge) {
  RecordingSink sink;
  Pipeline p(options(1000, 30), sink);
  p.start();
  ASSERT_TRUE(submitAndWait(p, logsOf(p, 3)).isOk());
  EXPECT_TRUE(eventually([&] { return sink.storedRows() == 3; }));
}

TEST_F(PipelineTest, RetryableFailuresAreRetriedUnderTheSameId) {
  RecordingSink sink;
  sink.failuresLeft = 3;
  Pipeline p(options(5, 10), sink);
  p.start();
  ASSERT_TRUE(submitAndWait(p, logsOf(p, 5)).isOk());
  ASSERT_TRUE(eventually([&] { return sink.storedRows() == 5; }));
  std::lock_guard lock(sink.mu);
  ASSERT_EQ(sink.ids.size(), 4u);
  for (const auto& id : sink.ids) EXPECT_EQ(id, sink.ids[0]);
  EXPECT_EQ(sink.attempts[0], Attempt::kFirst);
  EXPECT_EQ(sink.attempts[3], Attempt::kRetry);
}

// A sink told to wait (Retry-After) is not called again sooner, even when the backoff is shorter.
TEST_F(PipelineTest, TheDelayASinkWasToldIsHonoured) {
  RecordingSink sink;
  sink.failuresLeft = 1;
  sink.retryAfter = std::chrono::milliseconds(400);
  Pipeline p(options(5, 10), sink);  // backoff 5 ms
  p.start();
  ASSERT_TRUE(submitAndWait(p, logsOf(p, 5)).isOk());
  ASSERT_TRUE(eventually([&] { return sink.storedRows() == 5; }));
  std::lock_guard lock(sink.mu);
  ASSERT_EQ(sink.callTimes.size(), 2u);
  EXPECT_GE(sink.callTimes[1] - sink.callTimes[0], std::chrono::milliseconds(400));
}

// An episode of failures is one line at its start and one at its end, not a line per call.
TEST_F(PipelineTest, AFailingEpisodeIsLoggedAtItsStartAndEnd) {
  const std::string logPath = dir_ + "/log.jsonl";
  const int fd = ::open(logPath.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  log::setOutputFd(fd);
  {
    RecordingSink sink;
    sink.failuresLeft = 6;
    Pipeline p(options(5, 10), sink);  // backoff 5 ms: six failures within a second
    p.start();
    ASSERT_TRUE(submitAndWait(p, logsOf(p, 5)).isOk());
    ASSERT_TRUE(eventually([&] { return sink.storedRows() == 5; }));
    p.stop();
  }
  log::setOutputFd(STDOUT_FILENO);
  ::close(fd);
  std::ifstream in(logPath);
  std::vector<std::string> failed, recovered;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"sink call failed") != std::string::npos) failed.push_back(line);
    if (line.find("\"sink call succeeded again\"") != std::string::npos) recovered.push_back(line);
  }
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].find("\"failed_calls\":1"), std::string::npos) << failed[0];
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_NE(recovered[0].find("\"failed_calls\":6"), std::string::npos) << recovered[0];
}

TEST_F(PipelineTest, APermanentFailureDropsOnlyTheRecordsThatCauseIt) {
  RecordingSink sink;
  Pipeline p(options(8, 10'000), sink);
  p.start();
  const Labels refusedLabels{{"sink", "clickhouse"}, {"signal", "logs"}, {"reason", "refused"}};
  const auto& refused =
      metrics().counter("stackhouse_queue_dropped_records_total", "", refusedLabels);
  const auto& refusedRows =
      metrics().counter("stackhouse_queue_dropped_rows_total", "", refusedLabels);
  const uint64_t refusedBefore = refused.value(), refusedRowsBefore = refusedRows.value();
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(
        submitAndWait(p, logsOf(p, 1, i == 5 ? "poison" : "ok" + std::to_string(i))).isOk());
  }
  ASSERT_TRUE(eventually([&] { return sink.storedRows() == 7; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sink.storedRows(), 7u);
  EXPECT_EQ(refused.value() - refusedBefore, 1u);
  EXPECT_EQ(refusedRows.value() - refusedRowsBefore, 1u);
  std::lock_guard lock(sink.mu);
  for (const auto& b : sink.bodies) EXPECT_NE(b, "poison");
  // Isolation calls compare with what the sink holds.
  EXPECT_EQ(sink.attempts.back(), Attempt::kIsolate);
}

TEST_F(PipelineTest, AFailingSignalDoesNotHoldBackAnother) {
  RecordingSink sink;
  sink.logsDown = true;
  Pipeline p(options(1, 10), sink);
  p.start();
  ASSERT_TRUE(submitAndWait(p, logsOf(p, 1)).isOk());
  auto spans = p.spanPool().acquire();
  // One span, every column holding its empty value.
  spans->forEachColumn([](auto, auto& c) {
    using C = std::decay_t<decltype(c)>;
    if constexpr (requires { c.endRow(); }) {
      c.endRow();
    } else if constexpr (std::is_same_v<C, telemetry::StringColumn>) {
      c.append("");
    } else {
      c.append({});
    }
  });
  std::promise<Status> done;
  ASSERT_TRUE(p.submit(std::move(spans), {}, [&](const Status& s) { done.set_value(s); }).isOk());
  EXPECT_TRUE(done.get_future().get().isOk());
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(sink.mu);
    return sink.spans == 1;
  }));
}

// A sink whose logs endpoint never answers: each logs call waits for an answer until its deadline
// (as an HTTP client does with the time the worker leaves it), then fails. Spans are stored.
class HangingLogsSink : public SpanCountingSink {
 public:
  Status writeLogs(std::span<const LogBatch* const> batches, std::string_view, Attempt) override {
    const auto left = timeLeft(std::chrono::hours(1));
    std::unique_lock lock(mu);
    ++logCalls;
    longestWait = std::max(longestWait, left);
    if (!answered.wait_for(lock, left, [&] { return answers; })) {
      return unavailable("no answer");
    }
    for (const LogBatch* b : batches) logs += b->rows();
    return Status::ok();
  }

  std::condition_variable answered;
  bool answers = false;  // guarded by mu
  int logCalls = 0;
  std::chrono::milliseconds longestWait{0};
  size_t logs = 0;
};

PooledBatch<SpanBatch> oneSpan(Pipeline& p) {
  auto spans = p.spanPool().acquire();
  spans->forEachColumn([](auto, auto& c) {
    using C = std::decay_t<decltype(c)>;
    if constexpr (requires { c.endRow(); }) {
      c.endRow();
    } else if constexpr (std::is_same_v<C, telemetry::StringColumn>) {
      c.append("");
    } else {
      c.append({});
    }
  });
  return spans;
}

TEST_F(PipelineTest, ASendPastItsTimeoutIsRetriedAndOtherSignalsKeepFlowing) {
  HangingLogsSink sink;
  std::vector<PipelineSink> sinks(1);
  sinks[0].sink = &sink;
  sinks[0].queue.sink = "hanging";
  sinks[0].worker.maxAge = std::chrono::milliseconds(5);
  sinks[0].worker.backoffInitial = std::chrono::milliseconds(5);
  sinks[0].worker.sendTimeout = std::chrono::milliseconds(150);
  sinks[0].sources = {telemetry::Source::kLogs, telemetry::Source::kTraces};
  Pipeline p(options(), std::move(sinks));
  Counter& timeouts = metrics().counter("stackhouse_sink_send_timeouts_total", "",
                                        {{"sink", "hanging"}, {"signal", "logs"}});
  Counter& retried =
      metrics().counter("stackhouse_sink_sends_total", "",
                        {{"sink", "hanging"}, {"signal", "logs"}, {"outcome", "retryable"}});
  const uint64_t timeoutsBefore = timeouts.value();
  const uint64_t retriedBefore = retried.value();
  const std::string logPath = dir_ + "/log.jsonl";
  const int fd = ::open(logPath.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  log::setOutputFd(fd);
  p.start();
  ASSERT_TRUE(submitAndWait(p, logsOf(p, 3)).isOk());  // queued: acknowledged
  // Spans keep being stored while every logs call hangs until its deadline.
  for (int i = 1; i <= 5; ++i) {
    std::promise<Status> done;
    ASSERT_TRUE(p.submit(oneSpan(p), {}, [&](const Status& s) { done.set_value(s); }).isOk());
    EXPECT_TRUE(done.get_future().get().isOk());
    EXPECT_TRUE(eventually(
        [&] {
          std::lock_guard lock(sink.mu);
          return sink.spans == static_cast<size_t>(i);
        },
        std::chrono::seconds(2)))
        << "span " << i << " was held back by the hanging logs call";
  }
  EXPECT_TRUE(eventually([&] { return timeouts.value() >= timeoutsBefore + 2; }));
  {
    std::lock_guard lock(sink.mu);
    EXPECT_GE(sink.logCalls, 2);
    EXPECT_EQ(sink.logs, 0u);
    EXPECT_LE(sink.longestWait.count(), 150) << "the sink was given more than the deadline";
    EXPECT_GT(sink.longestWait.count(), 100);
  }
  EXPECT_GE(retried.value(), retriedBefore + 2) << "a timeout is a retryable failure";
  // The endpoint answers again: the same range is stored.
  {
    std::lock_guard lock(sink.mu);
    sink.answers = true;
  }
  sink.answered.notify_all();
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(sink.mu);
    return sink.logs == 3;
  }));
  p.stop();
  log::setOutputFd(STDOUT_FILENO);
  ::close(fd);
  // One line at the start of the failing episode and one at its end, however many calls timed out.
  std::ifstream in(logPath);
  size_t failed = 0, recovered = 0;
  for (std::string l; std::getline(in, l);) {
    if (l.find("sink call failed") != std::string::npos) {
      ++failed;
      EXPECT_NE(l.find("send timeout (150 ms)"), std::string::npos) << l;
    }
    if (l.find("sink call succeeded again") != std::string::npos) ++recovered;
  }
  EXPECT_EQ(failed, 1u);
  EXPECT_EQ(recovered, 1u);
}

TEST_F(PipelineTest, WhatIsQueuedSurvivesARestartAndIsSentAgainUnderTheSameId) {
  RecordingSink down;
  down.logsDown = true;
  std::string firstId;
  {
    Pipeline p(options(4, 10), down);
    p.start();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(submitAndWait(p, logsOf(p, 1)).isOk());
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(down.mu);
      return !down.ids.empty();
    }));
    p.stop();
    std::lock_guard lock(down.mu);
    firstId = down.ids[0];
  }
  RecordingSink up;
  Pipeline p(options(4, 10), up);
  p.start();
  ASSERT_TRUE(eventually([&] { return up.storedRows() == 4; }));
  std::lock_guard lock(up.mu);
  EXPECT_EQ(up.ids[0], firstId);
  EXPECT_EQ(up.attempts[0], Attempt::kRetry);
}

TEST_F(PipelineTest, ARetryOfAQueuedRequestIsNotQueuedAgain) {
  auto ledger = RequestLedger::open({dir_ + "/ledger"});
  ASSERT_TRUE(ledger.isOk());
  RecordingSink sink;
  PipelineOptions o = options(1000, 20);
  o.ledger = ledger.value().get();
  const RequestKey key{1, 2};
  {
    Pipeline p(o, sink);
    p.start();
    ASSERT_TRUE(submitAndWait(p, logsOf(p, 3), key).isOk());
    ASSERT_TRUE(submitAndWait(p, logsOf(p, 3), key).isOk());
    ASSERT_TRUE(eventually([&] { return sink.storedRows() == 3; }));
  }
  EXPECT_EQ(sink.storedRows(), 3u);
}

TEST_F(PipelineTest, RoutesEachSourceToItsSinksOnly) {
  RecordingSink a, b;
  std::vector<PipelineSink> sinks(2);
  sinks[0].sink = &a;
  sinks[0].queue.sink = "a";
  sinks[0].worker.maxAge = std::chrono::milliseconds(5);
  sinks[0].sources = {telemetry::Source::kLogs};
  sinks[1].sink = &b;
  sinks[1].queue.sink = "b";
  sinks[1].worker.maxAge = std::chrono::milliseconds(5);
  sinks[1].sources = {telemetry::Source::kLogs, telemetry::Source::kK8sEvents};
  Pipeline p(options(), std::move(sinks));
  p.start();
  ASSERT_TRUE(submitAndWait(p, logsOf(p, 2)).isOk());
  std::promise<Status> events;
  ASSERT_TRUE(p.submit(logsOf(p, 5), telemetry::Source::kK8sEvents, {}, [&](const Status& s) {
                 events.set_value(s);
               }).isOk());
  EXPECT_TRUE(events.get_future().get().isOk());
  // Unrouted: answered, dropped, counted.
  std::promise<Status> scraped;
  ASSERT_TRUE(
      p.submit(logsOf(p, 7), telemetry::Source::kPrometheusScrape, {}, [&](const Status& s) {
         scraped.set_value(s);
       }).isOk());
  EXPECT_TRUE(scraped.get_future().get().isOk());
  EXPECT_TRUE(eventually([&] { return a.storedRows() == 2 && b.storedRows() == 7; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(a.storedRows(), 2u);
  EXPECT_EQ(b.storedRows(), 7u);
}

TEST_F(PipelineTest, AFullQueuePushesBack) {
  RecordingSink sink;
  sink.logsDown = true;
  Pipeline p(options(), smallQueue(sink, "clickhouse"));
  p.start();
  Status last;
  int accepted = 0;
  for (int i = 0; i < 200 && last.isOk(); ++i) {
    last = submitAndWait(p, sizedLogsOf(p, 10, 100));
    if (last.isOk()) ++accepted;
  }
  EXPECT_EQ(last.code(), StatusCode::kUnavailable);
  EXPECT_GT(accepted, 10);
}

// Room reserved from requests' headers (Pipeline::admit) counts against the queue until the
// request is appended or dropped: requests admitted together cannot promise more than the queue
// has, a request may use the room it reserved, and nothing stays reserved once they are gone.
TEST_F(PipelineTest, AdmittedRequestsCannotPromiseMoreRoomThanTheQueueHas) {
  RecordingSink sink;
  sink.logsDown = true;  // nothing leaves the queue
  Pipeline p(options(), smallQueue(sink, "promises"));
  p.start();
  // Nothing learnt yet: a request reserves the size its header announces.
  constexpr uint64_t kRequest = 20 << 10;
  ASSERT_EQ(p.reservationFor(telemetry::Source::kLogs, kRequest), kRequest);
  std::vector<Admission> admitted = admitLogs(p, 3, kRequest);
  ASSERT_EQ(admitted.size(), 3u);
  // 60 KiB of 64 promised: a fourth is refused from its header, a small one still fits.
  Counter& refused =
      metrics().counter("stackhouse_queue_refused_appends_total", "", {{"sink", "promises"}});
  Counter& refusedDecoded =
      metrics().counter("stackhouse_queue_refused_decoded_total", "", {{"sink", "promises"}});
  const auto fourth = p.admit(telemetry::Source::kLogs, kRequest);
  ASSERT_FALSE(fourth.isOk());
  EXPECT_EQ(fourth.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.value(), 1u);
  EXPECT_EQ(refusedDecoded.value(), 0u);
  EXPECT_TRUE(p.admit(telemetry::Source::kLogs, 1 << 10).isOk());
  // A source routed nowhere reserves nothing and is never refused.
  EXPECT_TRUE(p.admit(telemetry::Source::kTraces, 1 << 30).isOk());

  // Records of ~10 KiB: without a reservation the promised room is not theirs...
  EXPECT_EQ(submitAndWait(p, sizedLogsOf(p, 10, 1000)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.value(), 2u);
  EXPECT_EQ(refusedDecoded.value(), 1u);  // refused after its decoding
  // ...with one, they use it; the room is given back once they are queued.
  {
    std::promise<Status> done;
    auto answered = done.get_future();
    ASSERT_TRUE(p.submit(
                     sizedLogsOf(p, 10, 1000), RequestKey{},
                     [&](const Status& s) { done.set_value(s); }, std::move(admitted[0]))
                    .isOk());
    ASSERT_EQ(answered.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    EXPECT_TRUE(answered.get().isOk());
  }
  // Dropped requests (a bad body, a client gone) give their room back: nothing stays promised,
  // so exactly the room the queue does not hold can be reserved.
  admitted.clear();
  const Gauge& queued = metrics().gauge("stackhouse_queue_bytes", "", {{"sink", "promises"}});
  const uint64_t free = (64 << 10) - static_cast<uint64_t>(queued.value());
  // The announced size that reserves `room` now (the reservation per announced byte was learnt
  // from the request just queued).
  auto announcedFor = [&](uint64_t room) {
    const uint64_t perMiB = p.reservationFor(telemetry::Source::kLogs, 1 << 20);
    return room * (1 << 20) / perMiB;
  };
  EXPECT_FALSE(p.admit(telemetry::Source::kLogs, announcedFor(free + 64)).isOk());
  EXPECT_TRUE(p.admit(telemetry::Source::kLogs, announcedFor(free - 64)).isOk());
}

// What admit() reserves follows what requests' records took in the queue per byte their headers
// announced: requests whose records take ten times their announced size reserve about ten times.
TEST_F(PipelineTest, TheRoomReservedIsLearntFromWhatRecordsTakeInTheQueue) {
  RecordingSink sink;
  std::vector<PipelineSink> sinks = smallQueue(sink, "learning");
  sinks[0].queue.maxBytes = 1 << 20;
  Pipeline p(options(), std::move(sinks));
  p.start();
  // Before anything is learnt, the announced size: 16 of 64 KiB fit in 1 MiB.
  EXPECT_EQ(admitLogs(p, 16, 64 << 10).size(), 16u);
  // Records of ~1 KiB each, announced as 100 bytes a row.
  for (int i = 0; i < 20; ++i) {
    auto a = p.admit(telemetry::Source::kLogs, 1000);
    ASSERT_TRUE(a.isOk());
    std::promise<Status> done;
    auto answered = done.get_future();
    ASSERT_TRUE(p.submit(
                     sizedLogsOf(p, 10, 1000), RequestKey{},
                     [&](const Status& s) { done.set_value(s); }, std::move(a.value()))
                    .isOk());
    ASSERT_EQ(answered.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  }
  ASSERT_TRUE(eventually([&] { return sink.storedRows() == 200; }));
  const uint64_t reserved = p.reservationFor(telemetry::Source::kLogs, 1000);
  EXPECT_GT(reserved, 8000u);
  EXPECT_LT(reserved, 14000u);
  EXPECT_EQ(p.reservationFor(telemetry::Source::kTraces, 1000), 1000u);
  // Now 64 KiB announced reserve ~640 KiB: a second one does not fit beside the first.
  auto first = p.admit(telemetry::Source::kLogs, 64 << 10);
  ASSERT_TRUE(first.isOk());
  EXPECT_FALSE(p.admit(telemetry::Source::kLogs, 64 << 10).isOk());
}

// A request routed to two queues that push back is refused when either has no room, and then
// holds nothing in the other.
TEST_F(PipelineTest, ARefusedAdmissionHoldsNothingInTheOtherQueuesOfItsRoute) {
  RecordingSink sink;
  sink.logsDown = true;
  std::vector<PipelineSink> sinks = smallQueue(sink, "wide");
  sinks[0].queue.maxBytes = 128 << 10;
  sinks[0].sources = {telemetry::Source::kLogs, telemetry::Source::kTraces};
  std::vector<PipelineSink> narrow = smallQueue(sink, "narrow");
  sinks.push_back(std::move(narrow[0]));  // 64 KiB, logs only
  Pipeline p(options(), std::move(sinks));
  p.start();
  auto first = p.admit(telemetry::Source::kLogs, 48 << 10);
  ASSERT_TRUE(first.isOk());
  EXPECT_FALSE(p.admit(telemetry::Source::kLogs, 48 << 10).isOk());  // "narrow" has 16 KiB left
  // "wide" holds the first request's 48 KiB only: 80 KiB are left there, for traces.
  EXPECT_FALSE(p.admit(telemetry::Source::kTraces, 81 << 10).isOk());
  EXPECT_TRUE(p.admit(telemetry::Source::kTraces, 79 << 10).isOk());
}

// A queue that drops its oldest records never refuses, so it reserves nothing.
TEST_F(PipelineTest, DropOldestQueuesReserveNothing) {
  RecordingSink sink;
  sink.logsDown = true;
  Pipeline p(options(), smallQueue(sink, "dropper", OnFull::kDropOldest));
  p.start();
  const std::vector<Admission> admitted = admitLogs(p, 10, 20 << 10);
  EXPECT_EQ(admitted.size(), 10u);
  EXPECT_TRUE(submitAndWait(p, sizedLogsOf(p, 10, 1000)).isOk());
}

TEST_F(PipelineTest, DropOldestKeepsAcceptingAndCountsWhatItDrops) {
  RecordingSink sink;
  sink.logsDown = true;
  std::vector<PipelineSink> sinks = smallQueue(sink, "dropper", OnFull::kDropOldest);
  // The range the worker holds (and retries) is never dropped: keep it small.
  sinks[0].worker.maxRows = 20;
  Pipeline p(options(), std::move(sinks));
  p.start();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(submitAndWait(p, sizedLogsOf(p, 10, 100)).isOk()) << i;
  }
  const auto& dropped =
      metrics().counter("stackhouse_queue_dropped_records_total", "",
                        {{"sink", "dropper"}, {"signal", "logs"}, {"reason", "full"}});
  EXPECT_GT(dropped.value(), 0u);
  // What is left: the held range plus what fits in the budget; all else was counted.
  EXPECT_LT(dropped.value(), 200u);
  // Ten rows a record.
  EXPECT_EQ(metrics()
                .counter("stackhouse_queue_dropped_rows_total", "",
                         {{"sink", "dropper"}, {"signal", "logs"}, {"reason", "full"}})
                .value(),
            dropped.value() * 10);
}

// After an outage the worker reads what the queue holds in ranges of at most an eighth of a
// dropOldest queue's budget: while a slow sink takes them, there is always something older to
// drop, and appends are never refused (they were, when the worker held the whole queue).
TEST_F(PipelineTest, DropOldestNeverPushesBackWhileTheSinkCatchesUp) {
  RecordingSink sink;
  {
    std::lock_guard lock(sink.mu);
    sink.logsDown = true;
  }
  std::vector<PipelineSink> sinks(1);
  sinks[0].sink = &sink;
  sinks[0].queue.sink = "catching-up";
  sinks[0].queue.maxBytes = 64 << 10;
  sinks[0].queue.segmentBytes = 4 << 10;
  sinks[0].queue.onFull = OnFull::kDropOldest;
  sinks[0].worker.backoffMax = std::chrono::milliseconds(20);
  sinks[0].sources = {telemetry::Source::kLogs};
  Pipeline p(options(), std::move(sinks));
  p.start();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(submitAndWait(p, sizedLogsOf(p, 10, 100)).isOk()) << i;
  }
  // The sink is back, but slow: each call takes 300 ms.
  sink.delayMs = 300;
  {
    std::lock_guard lock(sink.mu);
    sink.logsDown = false;
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  int submitted = 0;
  while (std::chrono::steady_clock::now() < until) {
    const Status s = submitAndWait(p, sizedLogsOf(p, 10, 100));
    ASSERT_TRUE(s.isOk()) << submitted << ": " << s.toString();
    ++submitted;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(submitted, 100);
  EXPECT_GT(sink.storedRows(), 0u);
  sink.delayMs = 0;
}

// A full queue drops a sliver of its oldest records, not most of what it holds: its segments (what
// dropOldest deletes) are at most a sixteenth of the budget even when segmentBytes is larger.
TEST_F(PipelineTest, DropOldestDropsAtMostASixteenthOfTheBudgetAtATime) {
  SinkQueueOptions o;
  o.sink = "sliver";
  o.dir = dir_ + "/sliver";
  o.maxBytes = 16 << 20;  // segmentBytes stays at its 64 MiB default
  o.fsync = false;
  o.onFull = OnFull::kDropOldest;
  auto queue = SinkQueue::open(o, nullptr);
  ASSERT_TRUE(queue.isOk()) << queue.status().toString();
  const std::string payload(64 << 10, 'z');
  iovec part{const_cast<char*>(payload.data()), payload.size()};
  const auto& dropped =
      metrics().counter("stackhouse_queue_dropped_records_total", "",
                        {{"sink", "sliver"}, {"signal", "logs"}, {"reason", "full"}});
  uint64_t appended = 0;
  const std::string logPath = dir_ + "/sliver.log";
  const int logFd = ::open(logPath.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  ASSERT_GE(logFd, 0);
  log::setOutputFd(logFd);
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(
        queue.value()
            ->append(telemetry::Signal::kLogs, std::span<const iovec>(&part, 1), payload.size(), 1)
            .isOk());
    ++appended;
    if (dropped.value() > 0) {
      // Within a segment plus one record of the budget, whatever was dropped.
      EXPECT_GE(queue.value()->bytes() + (1 << 20) + payload.size() + 16, o.maxBytes) << i;
    }
    EXPECT_LE(queue.value()->bytes(), o.maxBytes);
  }
  log::setOutputFd(-1);
  ::close(logFd);
  // One dropping episode, logged once: the queue never went under half its budget.
  std::ifstream logFile(logPath);
  int starts = 0, ends = 0;
  for (std::string line; std::getline(logFile, line);) {
    starts += line.find("queue full: dropping") != std::string::npos ? 1 : 0;
    ends += line.find("no longer dropping") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(ends, 0);
  EXPECT_GT(dropped.value(), 0u);
  EXPECT_EQ(metrics()
                .counter("stackhouse_queue_dropped_rows_total", "",
                         {{"sink", "sliver"}, {"signal", "logs"}, {"reason", "full"}})
                .value(),
            dropped.value());  // one row a record
  // Every record is either still queued or counted.
  EXPECT_EQ(queue.value()->log(telemetry::Signal::kLogs).bytesOnDisk() / (payload.size() + 16) +
                dropped.value(),
            appended);
}

TEST_F(PipelineTest, StopWithoutStartAndTwiceIsFine) {
  RecordingSink sink;
  Pipeline p(options(), sink);
  p.stop();
  p.stop();
}

}  // namespace
}  // namespace stackhouse::pipeline
