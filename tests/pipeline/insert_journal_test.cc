#include "pipeline/insert_journal.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <type_traits>

#include "pipeline/pipeline.h"
#include "support/log_rows.h"
#include "telemetry/batch_codec.h"

namespace stackhouse::pipeline {
namespace {

using telemetry::LogBatch;
using telemetry::MetricBatch;

void addLog(LogBatch& b, int64_t ts, std::string_view body) {
  stackhouse::testing::appendLogRow(b, {.timestamp = ts,
                                        .body = body,
                                        .traceId = "0102030405060708090a0b0c0d0e0f10",
                                        .traceFlags = 1,
                                        .scopeName = "scope",
                                        .attributes = {{"k", std::string(body)}, {"empty", ""}},
                                        .resource = {{"service.name", "svc"}}});
}

// Brings every column of `batch` to the longest column's row count with empty values.
template <typename B>
void padRows(B& batch) {
  size_t rows = 0;
  batch.forEachColumn([&](auto, auto& column) { rows = std::max(rows, column.size()); });
  batch.forEachColumn([&](auto, auto& column) {
    using C = std::decay_t<decltype(column)>;
    while (column.size() < rows) {
      if constexpr (requires { typename C::ValueType; }) {
        column.append(typename C::ValueType{});
      } else if constexpr (requires { column.commit(); }) {
        column.commit();
      } else {
        column.endRow();
      }
    }
  });
}

// Every buffer of a batch, byte for byte.
template <typename B>
std::vector<std::string> buffersOf(const B& batch) {
  std::vector<std::string> out;
  telemetry::visitBatchBuffers(batch, [&](const telemetry::Buffer& buffer) {
    out.emplace_back(reinterpret_cast<const char*>(buffer.data()), buffer.size());
  });
  return out;
}

class InsertJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stackhouse-journal-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/insert-journal";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<InsertJournal> open() {
    auto journal = InsertJournal::open(path_);
    EXPECT_TRUE(journal.isOk()) << journal.status().toString();
    return journal.isOk() ? std::move(journal.value()) : nullptr;
  }
  // Writes a group of two log batches (three rows) with keys {1,2} and {3,4}.
  void writeLogGroup(InsertJournal& journal) {
    addLog(a_, 1'000, "first");
    addLog(a_, 2'000, "second");
    addLog(b_, 3'000, "third");
    const LogBatch* parts[] = {&a_, &b_};
    const RequestKey keys[] = {{1, 2}, {3, 4}};
    ASSERT_TRUE(journal.write("boot-logs-7", keys, parts).isOk());
  }
  static PipelineOptions pipelineOptions(RequestLedger& ledger, InsertJournal& journal) {
    PipelineOptions options;
    options.ledger = &ledger;
    options.journal = &journal;
    options.linger = std::chrono::milliseconds(1);
    return options;
  }
  std::string fileBytes() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  std::string dir_;
  std::string path_;
  LogBatch a_, b_;
};

TEST_F(InsertJournalTest, AGroupComesBackAsWritten) {
  {
    auto journal = open();
    writeLogGroup(*journal);
  }
  auto journal = open();
  auto recovered = journal->recover();
  ASSERT_TRUE(recovered.isOk()) << recovered.status().toString();
  ASSERT_TRUE(recovered->has_value());
  const InsertJournal::Group& group = **recovered;
  EXPECT_EQ(group.token, "boot-logs-7");
  ASSERT_EQ(group.keys.size(), 2u);
  EXPECT_TRUE((group.keys[1] == RequestKey{3, 4}));
  ASSERT_EQ(group.batches.index(), 0u);
  const auto& batches = std::get<0>(group.batches);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0]->rows(), 2u);
  EXPECT_EQ(batches[0]->body.at(1), "second");
  EXPECT_EQ(batches[1]->logAttributes.values().at(0), "third");
  EXPECT_EQ(buffersOf(*batches[0]), buffersOf(a_));
  EXPECT_EQ(buffersOf(*batches[1]), buffersOf(b_));

  ASSERT_TRUE(journal->clear().isOk());
  auto empty = journal->recover();
  ASSERT_TRUE(empty.isOk());
  EXPECT_FALSE(empty->has_value());
}

// What the commands that only read a data directory rely on: peek() neither creates the file nor
// changes it.
TEST_F(InsertJournalTest, PeekReadsAGroupWithoutCreatingOrChangingTheFile) {
  auto none = InsertJournal::peek(path_);
  ASSERT_TRUE(none.isOk()) << none.status().toString();
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(std::filesystem::exists(path_));

  {
    auto journal = open();
    writeLogGroup(*journal);
  }
  const std::string before = fileBytes();
  const auto mtime = std::filesystem::last_write_time(path_);
  auto left = InsertJournal::peek(path_);
  ASSERT_TRUE(left.isOk()) << left.status().toString();
  ASSERT_TRUE(left->has_value());
  EXPECT_EQ((*left)->token, "boot-logs-7");
  EXPECT_EQ(fileBytes(), before);
  EXPECT_EQ(std::filesystem::last_write_time(path_), mtime);
}

TEST_F(InsertJournalTest, MetricGroupsKeepEveryKind) {
  MetricBatch m;
  m.gauge.common.metricName.append("g");
  m.gauge.common.timeUnix.append(5);
  m.gauge.value.append(1.5);
  m.histogram.common.metricName.append("h");
  m.histogram.bucketCounts.child().append(7);
  m.histogram.bucketCounts.endRow();
  padRows(m.gauge);
  padRows(m.histogram);
  ASSERT_TRUE(telemetry::batchConsistent(m));
  const MetricBatch* parts[] = {&m};
  auto journal = open();
  ASSERT_TRUE(journal->write("t", {}, parts).isOk());
  auto recovered = journal->recover();
  ASSERT_TRUE(recovered.isOk() && recovered->has_value());
  ASSERT_EQ((**recovered).batches.index(), 2u);
  const MetricBatch& back = *std::get<2>((**recovered).batches)[0];
  EXPECT_EQ(back.gauge.value.at(0), 1.5);
  EXPECT_EQ(back.histogram.common.metricName.at(0), "h");
  EXPECT_EQ(back.histogram.bucketCounts.child().at(0), 7u);
  EXPECT_EQ(buffersOf(back), buffersOf(m));
}

TEST_F(InsertJournalTest, AWriteCutShortAnywhereIsDiscarded) {
  {
    auto journal = open();
    writeLogGroup(*journal);
  }
  const std::string whole = fileBytes();
  for (size_t length = 0; length < whole.size(); ++length) {
    std::filesystem::resize_file(path_, 0);
    {
      std::ofstream out(path_, std::ios::binary);
      out.write(whole.data(), static_cast<std::streamsize>(length));
    }
    auto journal = open();
    auto recovered = journal->recover();
    ASSERT_TRUE(recovered.isOk()) << "cut at " << length << ": " << recovered.status().toString();
    EXPECT_FALSE(recovered->has_value()) << "cut at " << length;
  }
}

TEST_F(InsertJournalTest, AWholeButDamagedRecordIsAnErrorNotACrash) {
  {
    auto journal = open();
    writeLogGroup(*journal);
  }
  const std::string whole = fileBytes();
  // Flip each byte of the record's body in turn (not the footer): every outcome is either an
  // error naming the journal or a group whose batches are well formed.
  size_t errors = 0;
  for (size_t at = 8; at + 16 < whole.size(); ++at) {
    std::string damaged = whole;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5a);
    {
      std::ofstream out(path_, std::ios::binary | std::ios::trunc);
      out.write(damaged.data(), static_cast<std::streamsize>(damaged.size()));
    }
    auto journal = open();
    auto recovered = journal->recover();
    if (!recovered.isOk()) {
      ++errors;
      EXPECT_NE(recovered.status().message().find("insert journal is malformed"),
                std::string::npos);
      continue;
    }
    ASSERT_TRUE(recovered->has_value());
    for (const auto& batch : std::get<0>((**recovered).batches)) {
      EXPECT_TRUE(telemetry::batchConsistent(*batch)) << "flip at " << at;
    }
  }
  EXPECT_GT(errors, 0u);
}

// Submits one log row under `key`; the future holds the pipeline's answer.
std::future<Status> submitLog(Pipeline& p, const RequestKey& key, std::string_view body) {
  auto answer = std::make_shared<std::promise<Status>>();
  auto future = answer->get_future();
  auto batch = p.logPool().acquire();
  addLog(*batch, 1'000, body);
  const Status s =
      p.submit(std::move(batch), key, [answer](const Status& st) { answer->set_value(st); });
  if (!s.isOk()) answer->set_value(s);
  return future;
}

// Stands in for the store: deduplicates by token, as the store does with
// insert_deduplication_token.
class DeduplicatingSink : public Sink {
 public:
  Status writeLogs(std::span<const LogBatch* const> batches, std::string_view batchId,
                   Attempt attempt) override {
    tokensSeen.emplace_back(batchId);
    attempts.push_back(attempt);
    if (journalSizeDuringWrite != nullptr)
      *journalSizeDuringWrite = std::filesystem::file_size(journalPath);
    for (const std::string& t : committed) {
      if (t == batchId) return Status::ok();
    }
    for (const LogBatch* b : batches) {
      for (size_t i = 0; i < b->rows(); ++i) {
        if (b->body.at(i) == "poison") return invalidArgument("row cannot be stored");
      }
    }
    committed.emplace_back(batchId);
    for (const LogBatch* b : batches) rows += b->rows();
    return Status::ok();
  }
  Status writeSpans(std::span<const telemetry::SpanBatch* const>, std::string_view,
                    pipeline::Attempt) override {
    return Status::ok();
  }
  Status writeMetrics(std::span<const MetricBatch* const>, std::string_view,
                      pipeline::Attempt) override {
    return Status::ok();
  }
  std::vector<std::string> committed;
  std::vector<std::string> tokensSeen;
  std::vector<Attempt> attempts;
  size_t rows = 0;
  std::string journalPath;
  uintmax_t* journalSizeDuringWrite = nullptr;
};

// A process was killed after its insert committed and before the keys reached the ledger: the
// next start replays the group (deduplicated), records the keys, and a retry is then answered
// without storing anything.
TEST_F(InsertJournalTest, PipelineReplaysTheLeftGroupAndAnswersItsRetries) {
  auto ledger = RequestLedger::open({dir_ + "/ledger"});
  ASSERT_TRUE(ledger.isOk());
  DeduplicatingSink sink;
  sink.committed.push_back("boot-logs-7");  // the first insert had committed
  sink.rows = 3;
  auto journal = open();
  writeLogGroup(*journal);

  Pipeline p(pipelineOptions(*ledger.value(), *journal), sink);
  p.start();
  ASSERT_EQ(sink.tokensSeen, std::vector<std::string>{"boot-logs-7"});
  EXPECT_EQ(sink.attempts, std::vector<Attempt>{Attempt::kRetry});  // a replay may find rows
  EXPECT_EQ(sink.rows, 3u);
  EXPECT_TRUE(ledger.value()->isCommitted({1, 2}));
  EXPECT_TRUE(ledger.value()->isCommitted({3, 4}));
  EXPECT_EQ(std::filesystem::file_size(path_), 0u);

  auto answer = submitLog(p, {3, 4}, "first");
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_TRUE(answer.get().isOk());
  p.stop();
  EXPECT_EQ(sink.rows, 3u);
}

TEST_F(InsertJournalTest, PipelineReplaysAGroupThatHadNotCommitted) {
  auto ledger = RequestLedger::open({dir_ + "/ledger"});
  DeduplicatingSink sink;
  auto journal = open();
  writeLogGroup(*journal);
  Pipeline p(pipelineOptions(*ledger.value(), *journal), sink);
  p.start();
  p.stop();
  EXPECT_EQ(sink.committed, std::vector<std::string>{"boot-logs-7"});
  EXPECT_EQ(sink.attempts, std::vector<Attempt>{Attempt::kRetry});
  EXPECT_EQ(sink.rows, 3u);
  EXPECT_TRUE(ledger.value()->isCommitted({1, 2}));
}

// A process was killed while it isolated the request whose rows the sink refuses: it had
// committed the first half under its own id. The replay halves the group the same way, under the
// same ids, so that half is found stored (not stored twice), the rest commits, and only the
// culprit's key stays out of the ledger.
TEST_F(InsertJournalTest, PipelineReplaysTheIsolationOfARefusedRequest) {
  auto ledger = RequestLedger::open({dir_ + "/ledger"});
  ASSERT_TRUE(ledger.isOk());
  DeduplicatingSink sink;
  auto journal = open();
  LogBatch a, b, c;
  addLog(a, 1'000, "first");
  addLog(b, 2'000, "second");
  addLog(c, 3'000, "poison");
  const LogBatch* parts[] = {&a, &b, &c};
  const RequestKey keys[] = {{1, 1}, {2, 2}, {3, 3}};
  ASSERT_TRUE(journal->write("boot-logs-9", keys, parts).isOk());
  sink.committed.push_back("boot-logs-9-ia");  // {a}: committed before the kill
  sink.rows = 1;

  Pipeline p(pipelineOptions(*ledger.value(), *journal), sink);
  p.start();
  p.stop();
  EXPECT_EQ(sink.tokensSeen,
            (std::vector<std::string>{"boot-logs-9", "boot-logs-9-ia", "boot-logs-9-ib",
                                      "boot-logs-9-iba", "boot-logs-9-ibb"}));
  EXPECT_EQ(sink.rows, 2u);  // first and second, once each
  EXPECT_TRUE(ledger.value()->isCommitted({1, 1}));
  EXPECT_TRUE(ledger.value()->isCommitted({2, 2}));
  EXPECT_FALSE(ledger.value()->isCommitted({3, 3}));
  EXPECT_EQ(std::filesystem::file_size(path_), 0u);
}

TEST_F(InsertJournalTest, EachGroupIsJournaledDuringItsInsertAndClearedAfter) {
  auto ledger = RequestLedger::open({dir_ + "/ledger"});
  DeduplicatingSink sink;
  uintmax_t sizeDuringWrite = 0;
  sink.journalPath = path_;
  sink.journalSizeDuringWrite = &sizeDuringWrite;
  auto journal = open();
  Pipeline p(pipelineOptions(*ledger.value(), *journal), sink);
  p.start();
  EXPECT_TRUE(submitLog(p, {9, 9}, "one").get().isOk());
  p.stop();
  EXPECT_GT(sizeDuringWrite, 0u);
  EXPECT_EQ(std::filesystem::file_size(path_), 0u);
  EXPECT_EQ(sink.attempts, std::vector<Attempt>{Attempt::kFirst});
  EXPECT_EQ(sink.rows, 1u);
}

}  // namespace
}  // namespace stackhouse::pipeline
