// libFuzzer entry point for the OTLP decoders (see CMakeLists.txt for the input layout).
// Besides crashes and sanitizer reports it checks the decoders' contracts, aborting on a breach:
//  - every column of a batch has exactly rows() values;
//  - a failed call leaves the batch (which already holds a row) and the stats as they were;
//  - accepted counts the rows added;
//  - every string stored is well-formed UTF-8.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "common/utf8.h"
#include "otlp/decode.h"
#include "telemetry/batch_ops.h"

namespace {

using namespace stackhouse;  // NOLINT(google-build-using-namespace)

#if defined(OTLP_FUZZ_JSON)
constexpr otlp::Encoding kEncoding = otlp::Encoding::kJson;
constexpr char kSeedRow[] = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}],)"
                            R"("resourceSpans":[{"scopeSpans":[{"spans":[{}]}]}],)"
                            R"("resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":)"
                            R"({"dataPoints":[{}]}},{"sum":{"dataPoints":[{}]}},)"
                            R"({"histogram":{"dataPoints":[{}]}},)"
                            R"({"exponentialHistogram":{"dataPoints":[{}]}},)"
                            R"({"summary":{"dataPoints":[{}]}}]}]}]})";
constexpr size_t kSeedRowSize = sizeof kSeedRow - 1;
#else
constexpr otlp::Encoding kEncoding = otlp::Encoding::kProtobuf;
// One empty record under one resource and scope: field 1 { field 2 { field 2 {} } }. For metrics
// each kind gets a point: ResourceMetrics { ScopeMetrics { Metric { <kind> { data_points {} } } }
// }.
constexpr char kSeedRow[] = "\x0a\x04\x12\x02\x12\x00";
constexpr size_t kSeedRowSize = 6;
constexpr char kSeedMetrics[] =
    "\x0a\x20\x12\x1e"
    "\x12\x04\x2a\x02\x0a\x00"   // gauge
    "\x12\x04\x3a\x02\x0a\x00"   // sum
    "\x12\x04\x4a\x02\x0a\x00"   // histogram
    "\x12\x04\x52\x02\x0a\x00"   // exponential histogram
    "\x12\x04\x5a\x02\x0a\x00";  // summary
constexpr size_t kSeedMetricsSize = sizeof kSeedMetrics - 1;
#endif

void check(bool ok) {
  if (!ok) std::abort();
}

template <typename Batch>
bool consistent(const Batch& batch) {
  bool ok = true;
  const size_t n = batch.rows();
  batch.forEachColumn([&](std::string_view, const auto& column) { ok = ok && column.size() == n; });
  return ok;
}

template <typename T, telemetry::FixedKind K>
bool validUtf8(const telemetry::FixedColumn<T, K>&) {
  return true;
}
bool validUtf8(const telemetry::StringColumn& c) {
  return isValidUtf8({reinterpret_cast<const char*>(c.data().data()), c.data().size()});
}
bool validUtf8(const telemetry::MapColumn& c) {
  return validUtf8(c.keys()) && validUtf8(c.values());
}
template <typename Child>
bool validUtf8(const telemetry::ListColumn<Child>& c) {
  return validUtf8(c.child());
}

template <typename Batch>
bool allUtf8(const Batch& batch) {
  bool ok = true;
  batch.forEachColumn([&](std::string_view, const auto& column) { ok = ok && validUtf8(column); });
  return ok;
}

std::span<const uint8_t> bytes(const char* s, size_t n) {
  return {reinterpret_cast<const uint8_t*>(s), n};
}

// Decodes the seed row, then `body` on top of it, and checks the contracts.
template <typename Batch, typename Decode, typename Each>
void run(std::span<const uint8_t> seed, std::span<const uint8_t> body,
         const otlp::DecodeLimits& limits, Decode&& decode, Each&& forEachBatch) {
  Batch batch;
  otlp::DecodeStats stats;
  check(decode(seed, batch, stats, otlp::DecodeLimits{}).isOk());
  size_t rowsBefore = 0;
  size_t bytesBefore = 0;
  forEachBatch(batch, [&](const auto& b) {
    rowsBefore += b.rows();
    bytesBefore += telemetry::batchBytes(b);
  });
  check(rowsBefore > 0 && stats.accepted == rowsBefore);
  const otlp::DecodeStats statsBefore = stats;
  const Status status = decode(body, batch, stats, limits);
  size_t rows = 0;
  size_t bytesAfter = 0;
  forEachBatch(batch, [&](const auto& b) {
    check(consistent(b));
    check(allUtf8(b));
    rows += b.rows();
    bytesAfter += telemetry::batchBytes(b);
  });
  if (status.isOk()) {
    check(stats.accepted - statsBefore.accepted == rows - rowsBefore);
    check(stats.rejected >= statsBefore.rejected);
  } else {
    check(rows == rowsBefore && bytesAfter == bytesBefore);
    check(stats.accepted == statsBefore.accepted && stats.rejected == statsBefore.rejected &&
          stats.invalidUtf8 == statsBefore.invalidUtf8 &&
          stats.firstRejection == statsBefore.firstRejection &&
          stats.droppedAttributes == statsBefore.droppedAttributes &&
          stats.truncatedKeys == statsBefore.truncatedKeys &&
          stats.truncatedValues == statsBefore.truncatedValues);
    check(!status.message().empty());
  }
}

template <typename B, typename F>
void single(const B& b, F&& f) {
  f(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static otlp::Decoder decoder;  // scratch reused across inputs, as a receiver thread would
  const uint8_t selector = data[0];
  const std::span<const uint8_t> body(data + 1, size - 1);
  otlp::DecodeLimits limits;
  if ((selector & 0x80) != 0) limits.maxDepth = 3;
  if ((selector & 0x40) != 0) limits.maxBatchGrowth = 4096;
  if ((selector & 0x20) != 0) {
    // Tiny per-request and per-record limits: cuts must keep every string valid UTF-8 (allUtf8)
    // and a refused call must roll back.
    limits.maxResources = 2;
    limits.maxRecords = 4;
    limits.maxAttributes = 2;
    limits.maxKeyBytes = 5;
    limits.maxValueBytes = 7;
  }
  switch (selector % 3) {
    case 0:
      run<telemetry::LogBatch>(
          bytes(kSeedRow, kSeedRowSize), body, limits,
          [](auto b, auto& batch, auto& stats, const auto& l) {
            return decoder.decodeLogs(b, kEncoding, batch, stats, l);
          },
          [](const auto& batch, auto&& f) { single(batch, f); });
      break;
    case 1:
      run<telemetry::SpanBatch>(
          bytes(kSeedRow, kSeedRowSize), body, limits,
          [](auto b, auto& batch, auto& stats, const auto& l) {
            return decoder.decodeSpans(b, kEncoding, batch, stats, l);
          },
          [](const auto& batch, auto&& f) { single(batch, f); });
      break;
    default:
#if defined(OTLP_FUZZ_JSON)
      run<telemetry::MetricBatch>(
          bytes(kSeedRow, kSeedRowSize), body, limits,
#else
      run<telemetry::MetricBatch>(
          bytes(kSeedMetrics, kSeedMetricsSize), body, limits,
#endif
          [](auto b, auto& batch, auto& stats, const auto& l) {
            return decoder.decodeMetrics(b, kEncoding, batch, stats, l);
          },
          [](const auto& batch, auto&& f) { batch.forEachKind(f); });
      break;
  }
  return 0;
}
