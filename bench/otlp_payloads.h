// Realistic OTLP/protobuf requests for the benchmarks, encoded by a minimal protobuf writer:
// logs with 10 attributes and ~200-byte bodies, and spans with 10 attributes and one event.
#pragma once

#include <cstdint>
#include <string>

namespace stackhouse::bench {

// One ExportLogsServiceRequest with `records` log records. `seed` varies ids, times and values.
std::string makeLogsRequest(int records, uint64_t seed, std::string_view service = "checkout");
// One ExportTraceServiceRequest with `spans` spans.
std::string makeSpansRequest(int spans, uint64_t seed, std::string_view service = "checkout");

}  // namespace stackhouse::bench
