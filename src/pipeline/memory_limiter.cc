#include "pipeline/memory_limiter.h"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>

#include "common/log.h"

namespace stackhouse::pipeline {

MemoryLimiterOptions defaultMemoryLimiterOptions() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long pageSize = sysconf(_SC_PAGESIZE);
  uint64_t limit = 2ull << 30;
  if (pages > 0 && pageSize > 0) {
    const uint64_t physical = static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize);
    limit = std::min(limit, physical / 10 * 8);
  }
  return {limit, limit / 5};
}

MemoryLimiter::MemoryLimiter(const MemoryLimiterOptions& options,
                             std::function<uint64_t()> pendingBytes)
    : options_(options),
      softLimit_(options.limitBytes > options.spikeLimitBytes
                     ? options.limitBytes - options.spikeLimitBytes
                     : 0),
      pendingBytes_(std::move(pendingBytes)) {}

void MemoryLimiter::exportGauges() {
  metrics().gaugeFunction(
      "stackhouse_memory_limiter_held_bytes",
      "Bytes held by requests in flight and by the pipeline, as the memory limiter counts them.",
      [this] { return static_cast<double>(heldBytes()); });
  metrics().gaugeFunction("stackhouse_memory_limiter_soft_limit_bytes",
                          "Above this many bytes held, receivers refuse new requests.",
                          [this] { return static_cast<double>(softLimit_); });
}

uint64_t MemoryLimiter::heldBytes() const {
  return inFlight_.load(std::memory_order_relaxed) + (pendingBytes_ ? pendingBytes_() : 0);
}

Counter& MemoryLimiter::refusedCounter(std::string_view receiver) {
  return metrics().counter("stackhouse_memory_limiter_refused_total",
                           "Requests refused because the memory limiter's soft limit was reached.",
                           {{"receiver", std::string(receiver)}});
}

Result<MemoryLimiter::Reservation> MemoryLimiter::admit(uint64_t bytes, Counter& refused) {
  const uint64_t held = heldBytes();
  if (held >= softLimit_) {
    refused.inc();
    if (!refusing_.exchange(true)) {
      log::warn("memory limit reached: refusing requests until the pipeline drains",
                log::Fields()
                    .add("held_bytes", held)
                    .add("soft_limit_bytes", softLimit_)
                    .add("limit_bytes", options_.limitBytes));
    }
    return unavailable("memory limit reached (" + std::to_string(held >> 20) +
                       " MiB held, soft limit " + std::to_string(softLimit_ >> 20) +
                       " MiB); retry later");
  }
  if (refusing_.exchange(false)) {
    log::info("memory limit: accepting requests again", log::Fields().add("held_bytes", held));
  }
  Reservation r;
  r.limiter_ = this;
  r.bytes_ = bytes;
  inFlight_.fetch_add(bytes, std::memory_order_relaxed);
  return r;
}

void MemoryLimiter::Reservation::grow(uint64_t more) {
  if (limiter_ == nullptr) return;
  bytes_ += more;
  limiter_->inFlight_.fetch_add(more, std::memory_order_relaxed);
}

void MemoryLimiter::Reservation::reset() {
  if (limiter_ != nullptr) limiter_->inFlight_.fetch_sub(bytes_, std::memory_order_relaxed);
  limiter_ = nullptr;
  bytes_ = 0;
}

}  // namespace stackhouse::pipeline
