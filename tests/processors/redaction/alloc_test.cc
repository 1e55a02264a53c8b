// Steady state allocates nothing: once the per-thread scratch and the batch's buffers have grown,
// redacting batches of the same shape again makes no heap allocation.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "redaction_test_support.h"
#include "support/allocation_counter.h"
#include "telemetry/batch_ops.h"

using stackhouse::testing::allocationCount;
using stackhouse::testing::kCountsBuffers;

namespace stackhouse::redaction {
namespace {

void fill(telemetry::LogBatch& b) {
  for (int i = 0; i < 200; ++i) {
    testing::addLog(b, "user jane@example.com GET https://h/p?q=1 took 3ms",
                    {{"http.request.header.authorization", "Bearer abcdefgh12345678"},
                     {"file.path", "/a/b/c.pdf"},
                     {"http.route", "/p"}},
                    {{"service.name", "svc"}});
    testing::addLog(b, "nothing to see", {{"http.route", "/q"}});
  }
}

TEST(RedactionAlloc, SteadyStateAllocatesNothing) {
  Redactor r(testing::testPolicy());
  telemetry::LogBatch b;
  uint64_t last = 0;
  for (int round = 0; round < 4; ++round) {
    telemetry::clearBatch(b);
    fill(b);
    const uint64_t before = allocationCount();
    r.process(b);
    last = allocationCount() - before;
  }
  EXPECT_EQ(last, 0u);
  EXPECT_EQ(
      testing::valueOf(testing::rowOf(b.logAttributes, 0), "http.request.header.authorization"),
      "****");
}

}  // namespace
}  // namespace stackhouse::redaction
