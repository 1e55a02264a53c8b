// Counts heap allocations, for tests that check a steady state allocates nothing.
//
// Link allocation_counter.cc into the test binary itself (as a source, not through a library):
// it replaces the global operator new/delete and, outside AddressSanitizer builds, aligned_alloc
// (what column Buffers use). One such binary per test, since the replacement is process-wide.
#pragma once

#include <cstdint>

namespace stackhouse::testing {

// Allocations so far, through operator new (and aligned_alloc when kCountsBuffers).
uint64_t allocationCount();

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kCountsBuffers = false;  // ASan owns aligned_alloc; only new is counted
#else
inline constexpr bool kCountsBuffers = true;
#endif

}  // namespace stackhouse::testing
