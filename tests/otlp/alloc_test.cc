// Steady state allocates nothing: once a Decoder's scratch and the batch's buffers have grown,
// decoding the same requests again makes no heap allocation. This binary replaces the global
// operator new (the decoder's scratch) and, outside sanitizer builds, aligned_alloc (the columns'
// Buffers) to count.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <span>
#include <string>

#include "otlp/decode.h"
#include "otlp_test_support.h"
#include "support/allocation_counter.h"
#include "telemetry/batch_ops.h"

using stackhouse::testing::allocationCount;
using stackhouse::testing::kCountsBuffers;

namespace stackhouse::otlp {
namespace {

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void clearAll(telemetry::LogBatch& b) { telemetry::clearBatch(b); }
void clearAll(telemetry::SpanBatch& b) { telemetry::clearBatch(b); }
void clearAll(telemetry::MetricBatch& m) {
  m.forEachKind([](auto& kind) { telemetry::clearBatch(kind); });
}

// Decodes `body` three times into a cleared batch; the last run must not allocate.
template <typename Batch, typename Decode>
uint64_t allocationsInSteadyState(const std::string& body, Decode&& decode) {
  Batch batch;
  DecodeStats stats;
  const uint64_t first = allocationCount();
  EXPECT_TRUE(decode(bytesOf(body), batch, stats).isOk());
  if (kCountsBuffers) {
    EXPECT_GT(allocationCount(), first);  // the counter sees a batch grow
  }
  for (int i = 0; i < 2; ++i) {
    clearAll(batch);
    EXPECT_TRUE(decode(bytesOf(body), batch, stats).isOk());
  }
  clearAll(batch);
  const uint64_t before = allocationCount();
  const Status st = decode(bytesOf(body), batch, stats);
  const uint64_t after = allocationCount();
  EXPECT_TRUE(st.isOk());
  EXPECT_GT(batch.rows(), 0u);
  return after - before;
}

TEST(Allocations, NoneInSteadyState) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    testing::RequestGenerator gen(seed);
    const auto logs = gen.logs();
    const auto traces = gen.traces();
    if (testing::refLogs(logs).rows.empty() || testing::refSpans(traces).rows.empty()) continue;
    Decoder decoder;
    for (Encoding e : {Encoding::kProtobuf, Encoding::kJson}) {
      const std::string logsBody =
          e == Encoding::kJson ? testing::toOtlpJson(logs) : logs.SerializeAsString();
      const std::string tracesBody =
          e == Encoding::kJson ? testing::toOtlpJson(traces) : traces.SerializeAsString();
      EXPECT_EQ(
          (allocationsInSteadyState<telemetry::LogBatch>(
              logsBody, [&](auto body, auto& batch,
                            auto& stats) { return decoder.decodeLogs(body, e, batch, stats); })),
          0u)
          << "logs, seed " << seed;
      EXPECT_EQ(
          (allocationsInSteadyState<telemetry::SpanBatch>(
              tracesBody, [&](auto body, auto& batch,
                              auto& stats) { return decoder.decodeSpans(body, e, batch, stats); })),
          0u)
          << "spans, seed " << seed;
    }
  }
}

TEST(Allocations, NoneInSteadyStateForMetrics) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    testing::RequestGenerator gen(seed);
    const auto metrics = gen.metrics();
    if (testing::refMetrics(metrics).gauge.empty()) continue;
    for (Encoding e : {Encoding::kProtobuf, Encoding::kJson}) {
      const std::string body =
          e == Encoding::kJson ? testing::toOtlpJson(metrics) : metrics.SerializeAsString();
      EXPECT_EQ((allocationsInSteadyState<telemetry::MetricBatch>(
                    body, [&](auto b, auto& batch,
                              auto& stats) { return decodeMetrics(b, e, batch, stats); })),
                0u)
          << "metrics, seed " << seed;
    }
  }
}

}  // namespace
}  // namespace stackhouse::otlp
