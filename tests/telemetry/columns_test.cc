#include "telemetry/columns.h"

#include <gtest/gtest.h>

#include "telemetry/batch_ops.h"
#include "telemetry/log_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::telemetry {
namespace {

TEST(StringColumn, AppendBuildAndTruncate) {
  StringColumn c;
  c.append("one");
  c.data().append("tw", 2);
  c.data().append("o", 1);
  c.commit();
  c.append("");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.at(0), "one");
  EXPECT_EQ(c.at(1), "two");
  EXPECT_EQ(c.at(2), "");
  c.truncate(1);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.data().size(), 3u);
}

TEST(MapColumn, RowsOfEntries) {
  MapColumn m;
  m.add("a", "1");
  m.add("b", "2");
  m.endRow();
  m.endRow();  // an empty map
  m.add("c", "3");
  m.endRow();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.offset(1), 2);
  EXPECT_EQ(m.offset(2), 2);
  EXPECT_EQ(m.offset(3), 3);
  m.truncate(1);
  EXPECT_EQ(m.keys().size(), 2u);
}

TEST(ListColumn, AppendColumnRebasesOffsets) {
  MapListColumn a, b;
  a.child().add("k", "v");
  a.child().endRow();
  a.endRow();
  b.child().endRow();
  b.child().endRow();
  b.endRow();
  a.appendColumn(b);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a.offset(1), 1);
  EXPECT_EQ(a.offset(2), 3);
  EXPECT_EQ(a.child().size(), 3u);
}

TEST(Batch, TruncateRollsBackEveryColumn) {
  SpanBatch s;
  s.timestamp.append(1);
  s.forEachColumn([](std::string_view, auto& c) {
    using C = std::decay_t<decltype(c)>;
    if constexpr (std::is_same_v<C, StringColumn>) {
      if (c.size() == 0) c.append("x");
    } else if constexpr (std::is_same_v<C, MapColumn> || std::is_same_v<C, StringListColumn> ||
                         std::is_same_v<C, MapListColumn> ||
                         std::is_same_v<C, TimestampListColumn>) {
      c.endRow();
    } else {
      if (c.size() == 0) c.append(0);
    }
  });
  EXPECT_EQ(s.rows(), 1u);
  EXPECT_GT(batchBytes(s), 0u);
  clearBatch(s);
  EXPECT_EQ(s.rows(), 0u);
  EXPECT_EQ(s.traceId.size(), 0u);
  EXPECT_EQ(s.eventsName.size(), 0u);
}

}  // namespace
}  // namespace stackhouse::telemetry
