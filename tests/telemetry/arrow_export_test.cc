#include "telemetry/arrow_export.h"

#include <gtest/gtest.h>

#include <cstring>

#include "telemetry/log_batch.h"

namespace stackhouse::telemetry {
namespace {

TEST(ArrowExport, DescribesLogBatchAsStruct) {
  LogBatch b;
  b.timestamp.append(42);
  b.forEachColumn([](std::string_view, auto& c) {
    using C = std::decay_t<decltype(c)>;
    if constexpr (std::is_same_v<C, StringColumn>) {
      c.append("v");
    } else if constexpr (std::is_same_v<C, MapColumn>) {
      c.add("k", "v");
      c.endRow();
    } else {
      if (c.size() == 0) c.append(7);
    }
  });
  ArrowExport e;
  e.exportBatch(b);
  ArrowSchema* s = e.schema();
  ArrowArray* a = e.array();
  EXPECT_STREQ(s->format, "+s");
  ASSERT_EQ(s->n_children, 16);
  EXPECT_EQ(a->length, 1);
  EXPECT_STREQ(s->children[0]->name, "Timestamp");
  EXPECT_STREQ(s->children[0]->format, "tsn:UTC");
  EXPECT_STREQ(s->children[9]->name, "ResourceAttributes");
  EXPECT_STREQ(s->children[9]->format, "+m");
  ASSERT_EQ(s->children[9]->n_children, 1);
  EXPECT_STREQ(s->children[9]->children[0]->format, "+s");
  EXPECT_EQ(a->children[9]->children[0]->length, 1);
  const auto* ts = static_cast<const int64_t*>(a->children[0]->buffers[1]);
  EXPECT_EQ(ts[0], 42);
  // Releasing only marks the structure; the export can be handed out again.
  s->release(s);
  EXPECT_EQ(s->release, nullptr);
  EXPECT_NE(e.schema()->release, nullptr);
  EXPECT_EQ(e.columnNames().front(), "Timestamp");
}

}  // namespace
}  // namespace stackhouse::telemetry
