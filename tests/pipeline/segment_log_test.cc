#include "pipeline/segment_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace stackhouse::pipeline {
namespace {

namespace fs = std::filesystem;

class SegmentLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stackhouse-queue-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SegmentLog> open(Recovery* recovery = nullptr, uint64_t segmentBytes = 1 << 20) {
    SegmentLogOptions o;
    o.dir = dir_ + "/log";
    o.segmentBytes = segmentBytes;
    auto log = SegmentLog::open(o, recovery);
    EXPECT_TRUE(log.isOk()) << log.status().toString();
    return log.isOk() ? std::move(log.value()) : nullptr;
  }

  // A payload as record_codec writes it: a key, then bytes naming the record.
  static std::vector<uint8_t> payloadOf(uint64_t n, size_t size = 100) {
    std::vector<uint8_t> p(16 + size, static_cast<uint8_t>(n));
    std::memcpy(p.data(), &n, 8);
    std::memcpy(p.data() + 8, &n, 8);
    return p;
  }
  static QueuePosition append(SegmentLog& log, uint64_t n, size_t size = 100) {
    auto p = payloadOf(n, size);
    iovec v{p.data(), p.size()};
    auto end =
        log.append(std::span<const iovec>(&v, 1), p.size(), static_cast<uint32_t>(n % 7 + 1));
    EXPECT_TRUE(end.isOk());
    return *end;
  }
  static std::vector<QueueRecord> readAll(SegmentLog& log) {
    std::vector<QueueRecord> out;
    EXPECT_TRUE(log.read(log.committed(), SIZE_MAX, SIZE_MAX, {}, out).isOk());
    return out;
  }
  std::vector<std::string> segments() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_ + "/log")) {
      if (e.path().extension() == ".seg") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
};

TEST_F(SegmentLogTest, RecordsComeBackInOrderOnlyOncePublished) {
  auto log = open();
  QueuePosition last;
  for (uint64_t i = 1; i <= 5; ++i) last = append(*log, i);
  EXPECT_TRUE(readAll(*log).empty()) << "unpublished records must not be read";
  ASSERT_TRUE(log->sync().isOk());
  log->publish(last);
  const auto records = readAll(*log);
  ASSERT_EQ(records.size(), 5u);
  for (uint64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(records[i].payload, payloadOf(i + 1));
    EXPECT_EQ(records[i].rows, (i + 1) % 7 + 1);
  }
  EXPECT_EQ(records.back().end, last);
}

TEST_F(SegmentLogTest, CommitSurvivesReopenAndDeletesConsumedSegments) {
  QueuePosition fourth;
  {
    auto log = open(nullptr, 400);  // a few records per segment
    QueuePosition end;
    for (uint64_t i = 1; i <= 10; ++i) {
      end = append(*log, i);
      if (i == 4) fourth = end;
    }
    ASSERT_TRUE(log->sync().isOk());
    log->publish(end);
    ASSERT_TRUE(log->commit(fourth).isOk());
  }
  Recovery recovery;
  auto log = open(&recovery, 400);
  EXPECT_EQ(recovery.records, 6u);
  ASSERT_EQ(recovery.keys.size(), 6u);
  EXPECT_EQ(recovery.keys[0].hi, 5u);
  EXPECT_EQ(log->committed(), fourth);
  const auto records = readAll(*log);
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0].payload, payloadOf(5));
  // Segments wholly before the committed position are gone.
  for (const auto& path : segments()) {
    EXPECT_GE(std::stoull(fs::path(path).stem().string(), nullptr, 16), fourth.segment);
  }
}

TEST_F(SegmentLogTest, ARangeInFlightIsReadBackExactly) {
  QueuePosition third;
  {
    auto log = open();
    QueuePosition end;
    for (uint64_t i = 1; i <= 6; ++i) {
      end = append(*log, i);
      if (i == 3) third = end;
    }
    ASSERT_TRUE(log->sync().isOk());
    log->publish(end);
    ASSERT_TRUE(log->beginRange(third).isOk());
  }
  auto log = open();
  EXPECT_EQ(log->inFlightEnd(), third);
  std::vector<QueueRecord> out;
  ASSERT_TRUE(log->read(log->committed(), 1, 1, log->inFlightEnd(), out).isOk());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out.back().end, third);
}

// The crash test: synced records followed by a tail a kill or power cut can leave (cut short at
// any offset, or with damaged bytes). Every synced record must come back; the tail is cut and
// counted; appends after recovery work.
TEST_F(SegmentLogTest, TornOrCorruptTailsAreCutAndNoSyncedRecordIsLost) {
  constexpr uint64_t kSynced = 5;
  std::vector<uint8_t> image;
  uint64_t syncedBytes = 0;
  {
    auto log = open();
    QueuePosition end;
    for (uint64_t i = 1; i <= kSynced; ++i) end = append(*log, i);
    ASSERT_TRUE(log->sync().isOk());
    syncedBytes = end.offset;
    append(*log, 6, 300);  // the tail: never synced, never acknowledged
    append(*log, 7, 50);
  }
  const auto segs = segments();
  ASSERT_EQ(segs.size(), 1u);
  const std::string seg = segs[0];
  {
    std::ifstream in(seg, std::ios::binary);
    image.assign(std::istreambuf_iterator<char>(in), {});
  }
  const uint64_t full = image.size();
  int cases = 0;
  for (uint64_t cut = syncedBytes; cut <= full; cut += 7) {
    for (int damage = 0; damage < 2; ++damage) {
      // Restore the image, then cut it (damage 0) or flip a byte past the synced part (1).
      fs::remove_all(dir_ + "/log");
      {
        auto log = open();  // makes the directory and id
      }
      for (const auto& s : segments()) fs::remove(s);
      std::vector<uint8_t> bytes(image.begin(), image.begin() + static_cast<long>(cut));
      if (damage == 1) {
        bytes.assign(image.begin(), image.end());
        if (cut < full) bytes[cut] ^= 0x5a;
      }
      {
        std::ofstream out(seg, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<long>(bytes.size()));
      }
      Recovery recovery;
      auto log = open(&recovery);
      ASSERT_NE(log, nullptr);
      const auto records = readAll(*log);
      ASSERT_GE(records.size(), kSynced) << "cut " << cut << " damage " << damage;
      for (uint64_t i = 0; i < kSynced; ++i) EXPECT_EQ(records[i].payload, payloadOf(i + 1));
      // Anything but the whole image or a cut at the last synced record leaves a tail to cut.
      if (cut != full && !(damage == 0 && cut == syncedBytes)) {
        EXPECT_GT(recovery.tornBytes, 0u) << "cut " << cut << " damage " << damage;
      }
      EXPECT_EQ(fs::file_size(seg), records.empty() ? 0 : records.back().end.offset);
      // The log takes new records after the cut, and they are read after the old ones.
      const QueuePosition end = append(*log, 99);
      ASSERT_TRUE(log->sync().isOk());
      log->publish(end);
      const auto after = readAll(*log);
      ASSERT_EQ(after.size(), records.size() + 1);
      EXPECT_EQ(after.back().payload, payloadOf(99));
      ++cases;
    }
  }
  EXPECT_GT(cases, 50);
}

TEST_F(SegmentLogTest, PeekCountsWithoutChangingAnything) {
  {
    auto log = open();
    QueuePosition end;
    for (uint64_t i = 1; i <= 3; ++i) end = append(*log, i);
    ASSERT_TRUE(log->sync().isOk());
  }
  const auto before = segments();
  auto summary = SegmentLog::peek(dir_ + "/log");
  ASSERT_TRUE(summary.isOk());
  EXPECT_EQ(summary->records, 3u);
  EXPECT_EQ(segments(), before);
  auto none = SegmentLog::peek(dir_ + "/absent");
  ASSERT_TRUE(none.isOk());
  EXPECT_EQ(none->records, 0u);
  EXPECT_FALSE(fs::exists(dir_ + "/absent"));
}

TEST_F(SegmentLogTest, DropOldestNeverDropsWhatWasRead) {
  auto log = open(nullptr, 300);
  QueuePosition end;
  for (uint64_t i = 1; i <= 9; ++i) end = append(*log, i);
  ASSERT_TRUE(log->sync().isOk());
  log->publish(end);
  std::vector<QueueRecord> first;
  ASSERT_TRUE(log->read(log->committed(), 1, SIZE_MAX, {}, first).isOk());
  ASSERT_EQ(first.size(), 1u);
  uint64_t dropped = 0;
  while (true) {
    const auto d = log->dropOldest();
    if (d.records == 0) break;
    dropped += d.records;
  }
  std::vector<QueueRecord> rest;
  ASSERT_TRUE(log->read(first.back().end, SIZE_MAX, SIZE_MAX, {}, rest).isOk());
  // Every record is either read, dropped (counted) or still there.
  EXPECT_EQ(1 + dropped + rest.size(), 9u);
  EXPECT_GT(dropped, 0u);
}

// The reader reads segments outside the log's lock; dropOldest (on the appending thread) must not
// drop the segment it is reading meanwhile, or its records are both sent and counted as dropped.
// Every record is read or counted dropped, never both.
TEST_F(SegmentLogTest, DropOldestRacingTheReaderCountsEachRecordOnce) {
  auto log = open(nullptr, 2000);  // about ten records a segment
  constexpr uint64_t kRecords = 20000;
  constexpr uint64_t kBudget = 20000;
  std::atomic<bool> done{false};
  uint64_t dropped = 0;
  std::thread writer([&] {
    for (uint64_t i = 1; i <= kRecords; ++i) {
      while (log->bytesOnDisk() + 216 > kBudget) {
        const auto d = log->dropOldest();
        if (d.records == 0) break;
        dropped += d.records;
      }
      const QueuePosition end = append(*log, i, 200);
      log->publish(end);
    }
    done = true;
  });
  std::vector<uint64_t> seen;
  QueuePosition from = log->committed();
  auto drain = [&] {
    std::vector<QueueRecord> out;
    EXPECT_TRUE(log->read(from, SIZE_MAX, SIZE_MAX, {}, out).isOk());
    for (const QueueRecord& r : out) {
      uint64_t n = 0;
      std::memcpy(&n, r.payload.data(), 8);
      seen.push_back(n);
    }
    if (!out.empty()) {
      from = out.back().end;
      // Commit what was read, as the worker does once its sink has it.
      EXPECT_TRUE(log->beginRange(from).isOk());
      EXPECT_TRUE(log->commit(from).isOk());
    }
  };
  while (!done) drain();
  writer.join();
  drain();
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a record read twice";
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(seen.size() + dropped, kRecords) << seen.size() << " read + " << dropped << " dropped";
}

}  // namespace
}  // namespace stackhouse::pipeline
