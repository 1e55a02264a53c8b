// Counters for the per-record limits of otlp::DecodeLimits (attributes dropped, keys and values
// cut), one set per receiver:
//   stackhouse_receiver_attributes_dropped_total{receiver}
//   stackhouse_receiver_attributes_truncated_total{receiver,part="key"|"value"}
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

}  // namespace stackhouse::receivers
