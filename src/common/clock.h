#pragma once

#include <chrono>
#include <cstdint>

namespace stackhouse {

// Wall-clock time in nanoseconds since the Unix epoch.
inline int64_t wallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Monotonic time in nanoseconds, for durations and deadlines.
inline int64_t monoNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace stackhouse
