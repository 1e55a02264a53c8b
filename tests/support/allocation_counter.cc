// See allocation_counter.h. GCC pairs the replaced operators with the library's inlined ones and
// warns; both sides use malloc/free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include "support/allocation_counter.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<uint64_t> gAllocations{0};

void* countedAlloc(size_t n) {
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

uint64_t stackhouse::testing::allocationCount() { return gAllocations.load(); }

#if !defined(__SANITIZE_ADDRESS__)
extern "C" void* aligned_alloc(size_t alignment, size_t size) {
  using Fn = void* (*)(size_t, size_t);
  static const auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "aligned_alloc"));
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  return real(alignment, size);
}
#endif

// Every form, so that no allocation bypasses the count (and each new is paired with this delete).
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
