// Steady state allocates nothing: once a Decoder's scratch and the batch's buffers have grown,
// decoding the same requests again makes no heap allocation. This binary replaces the global
// operator new (the decoder's scratch) and, outside sanitizer builds, aligned_alloc (the columns'
// Buffers) to count.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <span>
#include <string>

#include "otlp/decode.h"
#include "otlp_test_support.h"
#include "telemetry/batch_ops.h"

namespace {
std::atomic<uint64_t> gAllocations{0};
}  // namespace

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCountsBuffers = false;  // ASan owns aligned_alloc; only operator new is counted
#else
constexpr bool kCountsBuffers = true;
extern "C" void* aligned_alloc(size_t alignment, size_t size) {
  using Fn = void* (*)(size_t, size_t);
  static const auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "aligned_alloc"));
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  return real(alignment, size);
}
#endif

namespace {
void* countedAlloc(size_t n) {
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

// Every form, so that no allocation bypasses the count (and, under ASan, so that each new is
// paired with our delete).
void* operator new(size_t n) {
  if (void* p = countedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = countedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept { return countedAlloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return countedAlloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

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
  const uint64_t first = gAllocations.load();
  EXPECT_TRUE(decode(bytesOf(body), batch, stats).isOk());
  if (kCountsBuffers) {
    EXPECT_GT(gAllocations.load(), first);  // the counter sees a batch grow
  }
  for (int i = 0; i < 2; ++i) {
    clearAll(batch);
    EXPECT_TRUE(decode(bytesOf(body), batch, stats).isOk());
  }
  clearAll(batch);
  const uint64_t before = gAllocations.load();
  const Status st = decode(bytesOf(body), batch, stats);
  const uint64_t after = gAllocations.load();
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
