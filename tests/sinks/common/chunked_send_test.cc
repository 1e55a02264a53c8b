// sendInChunks: requests cut to the limits, resumed after a failure, and none started once the
// call's deadline has passed.
#include "sinks/common/chunked_send.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/counting_sink.h"

namespace stackhouse::sinks {
namespace {

// A group of ten rows of one byte each, started as a first attempt; `sent` records the requests
// as [begin, end) row ranges.
class SendInChunksTest : public ::testing::Test {
 protected:
  void SetUp() override { progress.start("g1", pipeline::Attempt::kFirst); }
  auto encode() {
    return [this](size_t begin, size_t end, std::string& body) {
      next = begin;
      body.assign(end - begin, 'r');
    };
  }

  stackhouse::testing::CountingSink sink;
  DeliveryProgress progress;
  ChunkStats stats;
  std::vector<std::pair<size_t, size_t>> sent;
  size_t next = 0;
};

TEST_F(SendInChunksTest, CutsToTheRowLimitAndRecordsProgress) {
  const Status s = sendInChunks(sink, 0, 10, 4, 1000, progress, stats, encode(),
                                [&](const std::string& body, size_t rows) {
                                  sent.emplace_back(next, next + rows);
                                  EXPECT_EQ(body.size(), rows);
                                  return SendOutcome{};
                                });
  EXPECT_TRUE(s.isOk());
  EXPECT_EQ(sent, (std::vector<std::pair<size_t, size_t>>{{0, 4}, {4, 8}, {8, 10}}));
  EXPECT_EQ(progress.start("g1", pipeline::Attempt::kRetry), 10u);
}

TEST_F(SendInChunksTest, NoRequestStartsPastTheDeadline) {
  // The first request takes the call past its deadline: it completes, the rest wait for the retry.
  sink.setCallDeadline(pipeline::Sink::Clock::now() + std::chrono::milliseconds(20));
  const Status s = sendInChunks(sink, 0, 10, 4, 1000, progress, stats, encode(),
                                [&](const std::string&, size_t rows) {
                                  sent.emplace_back(next, next + rows);
                                  std::this_thread::sleep_for(std::chrono::milliseconds(40));
                                  return SendOutcome{};
                                });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("send timeout"), std::string::npos) << s.message();
  EXPECT_EQ(sent, (std::vector<std::pair<size_t, size_t>>{{0, 4}}));
  // The retry of the same group resumes after the rows delivered, under a new deadline.
  sink.setCallDeadline(pipeline::Sink::Clock::time_point::max());
  const size_t from = progress.start("g1", pipeline::Attempt::kRetry);
  EXPECT_EQ(from, 4u);
  sent.clear();
  EXPECT_TRUE(sendInChunks(sink, from, 10, 4, 1000, progress, stats, encode(),
                           [&](const std::string&, size_t rows) {
                             sent.emplace_back(next, next + rows);
                             return SendOutcome{};
                           })
                  .isOk());
  EXPECT_EQ(sent, (std::vector<std::pair<size_t, size_t>>{{4, 8}, {8, 10}}));
}

}  // namespace
}  // namespace stackhouse::sinks
