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

// The time rules (DecodeLimits::checkTimes) add no allocation either: accepted, rejected and
// expired records alike, once the first rejection's message is kept.
TEST(Allocations, NoneInSteadyStateWithCheckedTimes) {
  constexpr uint64_t kNow = uint64_t{1'800'000'000} * 1'000'000'000;
  DecodeLimits limits;
  limits.checkTimes = true;
  limits.nowNanos = kNow;
  limits.retentionNanos = uint64_t{72} * 3600 * 1'000'000'000;
  const uint64_t times[] = {kNow, kNow - 1, kNow + (uint64_t{2} << 50), 1, UINT64_MAX, 0};
  int checked = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    testing::RequestGenerator gen(seed);
    auto logs = gen.logs();
    auto traces = gen.traces();
    size_t n = 0;
    for (auto& rl : *logs.mutable_resource_logs()) {
      for (auto& sl : *rl.mutable_scope_logs()) {
        for (auto& lr : *sl.mutable_log_records()) lr.set_time_unix_nano(times[n++ % 6]);
      }
    }
    for (auto& rs : *traces.mutable_resource_spans()) {
      for (auto& ss : *rs.mutable_scope_spans()) {
        for (auto& sp : *ss.mutable_spans()) {
          sp.set_start_time_unix_nano(times[n++ % 6]);
          sp.set_end_time_unix_nano(sp.start_time_unix_nano() + (n % 3));
          for (auto& ev : *sp.mutable_events()) ev.set_time_unix_nano(kNow);
        }
      }
    }
    Decoder decoder;
    {
      // Only requests that keep some rows under the rules (ids may reject the others).
      telemetry::LogBatch lb;
      telemetry::SpanBatch sb;
      DecodeStats st;
      const std::string l = logs.SerializeAsString();
      const std::string t = traces.SerializeAsString();
      if (!decoder.decodeLogs(bytesOf(l), Encoding::kProtobuf, lb, st, limits).isOk() ||
          !decoder.decodeSpans(bytesOf(t), Encoding::kProtobuf, sb, st, limits).isOk() ||
          lb.rows() == 0 || sb.rows() == 0) {
        continue;
      }
      ++checked;
    }
    for (Encoding e : {Encoding::kProtobuf, Encoding::kJson}) {
      const std::string logsBody =
          e == Encoding::kJson ? testing::toOtlpJson(logs) : logs.SerializeAsString();
      const std::string tracesBody =
          e == Encoding::kJson ? testing::toOtlpJson(traces) : traces.SerializeAsString();
      EXPECT_EQ((allocationsInSteadyState<telemetry::LogBatch>(
                    logsBody,
                    [&](auto body, auto& batch, auto& stats) {
                      return decoder.decodeLogs(body, e, batch, stats, limits);
                    })),
                0u)
          << "logs, seed " << seed;
      EXPECT_EQ((allocationsInSteadyState<telemetry::SpanBatch>(
                    tracesBody,
                    [&](auto body, auto& batch, auto& stats) {
                      return decoder.decodeSpans(body, e, batch, stats, limits);
                    })),
                0u)
          << "spans, seed " << seed;
    }
  }
  EXPECT_GT(checked, 5);
}

}  // namespace
}  // namespace stackhouse::otlp
