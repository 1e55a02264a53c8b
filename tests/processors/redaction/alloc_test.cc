// Steady state allocates nothing: once the per-thread scratch and the batch's buffers have grown,
// redacting batches of the same shape again makes no heap allocation.
// GCC pairs the replaced operators with the library's inlined ones and warns; both use malloc.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "redaction_test_support.h"
#include "telemetry/batch_ops.h"

namespace {
std::atomic<uint64_t> gAllocations{0};
}  // namespace

#if !defined(__SANITIZE_ADDRESS__)
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
    const uint64_t before = gAllocations.load();
    r.process(b);
    last = gAllocations.load() - before;
  }
  EXPECT_EQ(last, 0u);
  EXPECT_EQ(testing::valueOf(testing::rowOf(b.logAttributes, 0), "http.request.header.authorization"), "****");
}

}  // namespace
}  // namespace stackhouse::redaction
