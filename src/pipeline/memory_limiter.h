// MemoryLimiter: receivers refuse new requests, the OTLP way, before the process grows past its
// memory limit.
//
// Accounting is by bytes actually held, not by RSS: the request bodies receivers hold (received,
// and inflated) from arrival until their batch is handed to the pipeline, plus the pipeline's
// pending bytes (decoded batches queued or being inserted, Pipeline::pendingBytes). A request is
// admitted while that total is under the soft limit (limit − spike); above it, admit() refuses
// with kUnavailable, which receivers answer with HTTP 503 + Retry-After or gRPC UNAVAILABLE, so
// that well-behaved SDKs back off and retry. The spike allowance covers what is admitted while the
// total is just under the soft limit (requests up to the body limit each, decoded batches larger
// than their bodies).
//
// It sits beside the pipeline rather than in it because receivers must consult it before they
// decode: refusing after the work is done would not save the memory.
//
// Refusals are counted (stackhouse_memory_limiter_refused_total{receiver}) and logged without
// content: one warning when refusing starts, one line when it ends.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

#include "common/metrics.h"
#include "common/status.h"

namespace stackhouse::pipeline {

struct MemoryLimiterOptions {
  uint64_t limitBytes = 2ull << 30;         // hard limit
  uint64_t spikeLimitBytes = 400ull << 20;  // soft limit = limitBytes - spikeLimitBytes
};

// The default limit on this machine: 80% of physical memory, at most 2 GiB; the spike allowance
// 20% of the limit.
MemoryLimiterOptions defaultMemoryLimiterOptions();

class MemoryLimiter {
 public:
  // `pendingBytes` reports the pipeline's pending bytes; called from receiver threads.
  MemoryLimiter(const MemoryLimiterOptions& options, std::function<uint64_t()> pendingBytes);
  MemoryLimiter(const MemoryLimiter&) = delete;
  MemoryLimiter& operator=(const MemoryLimiter&) = delete;

  // Bytes of one request counted as held until it is destroyed (or reset). Move-only.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept : limiter_(other.limiter_), bytes_(other.bytes_) {
      other.limiter_ = nullptr;
      other.bytes_ = 0;
    }
    Reservation& operator=(Reservation&& other) noexcept {
      if (this != &other) {
        reset();
        limiter_ = other.limiter_;
        bytes_ = other.bytes_;
        other.limiter_ = nullptr;
        other.bytes_ = 0;
      }
      return *this;
    }
    ~Reservation() { reset(); }
    // Counts `more` bytes too (an inflated body), without a check: the request was admitted.
    void grow(uint64_t more);
    uint64_t bytes() const { return bytes_; }
    void reset();

   private:
    friend class MemoryLimiter;
    MemoryLimiter* limiter_ = nullptr;
    uint64_t bytes_ = 0;
  };

  // Called by a receiver when a request of `bytes` has arrived, before decoding it; any thread.
  // OK: the bytes are counted until the Reservation goes. kUnavailable when the bytes held are at
  // or above the soft limit (the message states the limit, never request content); `refused` (the
  // receiver's refusedCounter) is incremented then.
  Result<Reservation> admit(uint64_t bytes, Counter& refused);

  // stackhouse_memory_limiter_refused_total{receiver}: for a receiver to create once and keep.
  static Counter& refusedCounter(std::string_view receiver);

  // Registers stackhouse_memory_limiter_held_bytes and _soft_limit_bytes, read from this limiter:
  // for the process's one limiter, which must then outlive every /metrics scrape.
  void exportGauges();

  uint64_t heldBytes() const;
  uint64_t softLimitBytes() const { return softLimit_; }
  uint64_t limitBytes() const { return options_.limitBytes; }

 private:
  MemoryLimiterOptions options_;
  uint64_t softLimit_;
  std::function<uint64_t()> pendingBytes_;
  std::atomic<uint64_t> inFlight_{0};
  std::atomic<bool> refusing_{false};
};

}  // namespace stackhouse::pipeline
