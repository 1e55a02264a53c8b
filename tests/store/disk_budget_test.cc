// The disk budget against the real engine: logs over five days, a budget the store has passed,
// the oldest days dropped first (every table's partition of a day together), the newest kept.
#include "store/disk_budget.h"

#include <gtest/gtest.h>

#include "store/chdb_store.h"
#include "support/log_rows.h"
#include "support/temp_dir.h"
#include "telemetry/log_batch.h"

namespace stackhouse::store {
namespace {

constexpr int64_t kDayNs = 86'400'000'000'000;
constexpr int64_t kFirstDay = 1'699'574'400'000'000'000;  // 2023-11-10T00:00:00Z

class DiskBudgetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new stackhouse::testing::TempDir();
    auto s = ChdbStore::open({dir_->path() + "/db", 0});  // no TTL: old days stay
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = s.value().release();
  }
  static std::string q(const std::string& sql) {
    auto r = store_->query(sql, "TSV", {});
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? r->data : "";
  }
  static stackhouse::testing::TempDir* dir_;
  static ChdbStore* store_;
};
stackhouse::testing::TempDir* DiskBudgetTest::dir_ = nullptr;
ChdbStore* DiskBudgetTest::store_ = nullptr;

TEST_F(DiskBudgetTest, DropsTheOldestDaysBeforeTheBudgetIsPassed) {
  for (int day = 0; day < 5; ++day) {
    telemetry::LogBatch b;
    for (int i = 0; i < 2000; ++i) {
      stackhouse::testing::appendLogRow(
          b, {.timestamp = kFirstDay + day * kDayNs + int64_t{i} * 1'000'000'000,
              .body = "day " + std::to_string(day) + " row " + std::to_string(i) +
                      " with a body long enough to take some room on disk",
              .attributes = {{"i", std::to_string(i * 7919)}}});
    }
    const telemetry::LogBatch* parts[] = {&b};
    ASSERT_TRUE(store_->insert<telemetry::LogBatch>(parts, "day-" + std::to_string(day)).isOk());
  }
  MetricsRegistry metrics;
  // Under the high watermark: nothing happens.
  auto roomy = DiskBudget::create(*store_, {.maxBytes = 1ull << 40}, &metrics);
  ASSERT_TRUE(roomy.isOk());
  auto nothing = roomy.value()->checkOnce();
  ASSERT_TRUE(nothing.isOk()) << nothing.status().toString();
  EXPECT_TRUE(nothing->dropped.empty());
  const uint64_t total = nothing->bytesBefore;
  ASSERT_GT(total, 0u);

  // A budget the five days pass: act at 90% of it, drop down to 80%.
  const uint64_t budget = total * 7 / 10;
  auto tight = DiskBudget::create(*store_, {.maxBytes = budget}, &metrics);
  ASSERT_TRUE(tight.isOk());
  auto check = tight.value()->checkOnce();
  ASSERT_TRUE(check.isOk()) << check.status().toString();
  ASSERT_FALSE(check->dropped.empty());
  EXPECT_EQ(check->dropped.front().partitionId, "20231110") << "the oldest day first";
  EXPECT_LE(check->bytesAfter, budget * 8 / 10 + total / 5) << "about one day's slack at most";
  EXPECT_LT(check->bytesAfter, budget);
  const std::string days =
      q("SELECT DISTINCT toDate(TimestampTime) FROM otel.otel_logs ORDER BY 1");
  EXPECT_EQ(days.find("2023-11-10"), std::string::npos) << days;
  EXPECT_NE(days.find("2023-11-14"), std::string::npos) << "the newest day stays: " << days;
  const std::string rendered = metrics.render();
  EXPECT_NE(rendered.find("stackhouse_store_disk_budget_partitions_dropped_total " +
                          std::to_string(check->dropped.size())),
            std::string::npos)
      << rendered;

  // A budget no day fits: everything but the newest day goes, and the newest stays.
  auto tiny = DiskBudget::create(*store_, {.maxBytes = 1}, nullptr);
  ASSERT_TRUE(tiny.isOk());
  auto last = tiny.value()->checkOnce();
  ASSERT_TRUE(last.isOk()) << last.status().toString();
  EXPECT_EQ(q("SELECT DISTINCT toDate(TimestampTime) FROM otel.otel_logs"), "2023-11-14\n");
  EXPECT_EQ(q("SELECT count() FROM otel.otel_logs"), "2000\n");
}

TEST_F(DiskBudgetTest, TheThreadStartsAndStops) {
  auto budget = DiskBudget::create(
      *store_, {.maxBytes = 1ull << 40, .interval = std::chrono::milliseconds(10)}, nullptr);
  ASSERT_TRUE(budget.isOk());
  budget.value()->stop();  // without start
  budget.value()->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  budget.value()->stop();
  budget.value()->stop();  // idempotent
}

}  // namespace
}  // namespace stackhouse::store
