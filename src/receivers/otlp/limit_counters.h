// Counters for the per-record limits of otlp::DecodeLimits (attributes dropped, keys and values
// cut), one set per receiver:
//   stackhouse_receiver_attributes_dropped_total{receiver}
//   stackhouse_receiver_attributes_truncated_total{receiver,part="key"|"value"}
// and for records already past the retention when they arrive (both transports):
//   stackhouse_receiver_records_expired_on_arrival_total{signal}
#pragma once

#include <string_view>

#include "common/metrics.h"
#include "otlp/decode.h"

namespace stackhouse::receivers {

class LimitCounters {
 public:
  // Registers (or finds) the receiver's counters; any thread, typically once at start.
  explicit LimitCounters(std::string_view receiver);

  // Adds what one decoded request had cut; any thread.
  void count(const otlp::DecodeStats& stats) {
    if (!stats.truncated()) return;
    dropped_.inc(stats.droppedAttributes);
    keysCut_.inc(stats.truncatedKeys);
    valuesCut_.inc(stats.truncatedValues);
  }

 private:
  Counter& dropped_;
  Counter& keysCut_;
  Counter& valuesCut_;
};

// Adds the records of one decoded request that were dropped as past the retention; any thread.
void countExpired(otlp::Signal signal, uint64_t records);

}  // namespace stackhouse::receivers
