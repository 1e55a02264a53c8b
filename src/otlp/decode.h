// OTLP request decoding: the bodies of ExportLogsServiceRequest, ExportTraceServiceRequest and
// ExportMetricsServiceRequest, as protobuf or OTLP/JSON, decoded straight into the batches'
// columns, with the OpenTelemetry Collector ClickHouse exporter's mapping (see README.md).
//
// There are no intermediate message objects: the protobuf reader walks the wire format in place
// and the JSON reader walks a simdjson DOM; strings go from the input into the column buffers.
// A Decoder keeps its scratch state between calls, so decoding allocates nothing per record once
// its buffers and the batch's have grown to their working size.
//
// Outcome of a call:
//  - OK: every record was either appended to the batch (stats.accepted) or rejected on its own
//    (stats.rejected, with stats.firstRejection naming the first one) — OTLP partial success.
//    A record is rejected when one of its ids has the wrong length (or, in JSON, is not hex).
//  - kInvalidArgument: the body is malformed (bad protobuf framing, a known field with the wrong
//    wire type or JSON type, bad JSON, AnyValue nesting past maxDepth). The message names the
//    problem and its place and never echoes payload content.
//  - kResourceExhausted: the decoded rows would grow the batch past maxBatchGrowth.
//  On any non-OK status the batch and the stats are exactly as they were before the call.
//
// Invalid UTF-8 in strings is replaced with U+FFFD and counted in stats.invalidUtf8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"
#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::otlp {

enum class Encoding : unsigned char {
  kProtobuf,  // application/x-protobuf, and gRPC
  kJson,      // application/json (OTLP/JSON)
};

enum class Signal : unsigned char { kLogs, kSpans, kMetrics };

struct DecodeLimits {
  // Deepest AnyValue nesting accepted. An attribute value or a log body is level 1; a value
  // inside its array or kvlist is level 2, and so on. Deeper input fails the call. Rendering
  // recurses once per level, so values above kMaxDepthCap are treated as kMaxDepthCap.
  size_t maxDepth = 32;
  static constexpr size_t kMaxDepthCap = 256;
  // Most bytes one call may add to the batch. Resource and scope attributes are repeated on
  // every row, so a small request can expand a lot; past this the call fails with
  // kResourceExhausted. (Independently, a batch never grows past 1 GiB.)
  size_t maxBatchGrowth = size_t{256} << 20;
};

// Counters a decode call adds to; a caller may keep one across calls.
struct DecodeStats {
  uint64_t accepted = 0;  // records appended: log records, spans or metric data points
  uint64_t rejected = 0;  // records dropped on their own (partial success)
  // Ill-formed UTF-8 bytes replaced with U+FFFD, in everything decoded (records rejected later
  // included).
  uint64_t invalidUtf8 = 0;
  // Why the first rejected record was rejected, e.g. "span 3: trace_id has 15 bytes, expected
  // 16". Set once (when empty); suitable as the partial-success error message.
  std::string firstRejection;
};

// Decodes OTLP export requests into batches, reusing its scratch state between calls.
// Not thread-safe: use one per thread (the free functions below do).
class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Appends the records of `body` (an ExportLogsServiceRequest) to `out`. `body` needs no
  // padding or terminator: JSON is copied once into a reused padded buffer for simdjson (a memcpy
  // per call). Neither `body` nor any view into it is kept after the call.
  Status decodeLogs(std::span<const uint8_t> body, Encoding encoding, telemetry::LogBatch& out,
                    DecodeStats& stats, const DecodeLimits& limits = {});
  // ExportTraceServiceRequest into spans (the otel_traces columns).
  Status decodeSpans(std::span<const uint8_t> body, Encoding encoding, telemetry::SpanBatch& out,
                     DecodeStats& stats, const DecodeLimits& limits = {});
  // ExportMetricsServiceRequest: each data point goes to the batch of its metric's kind
  // (gauge, sum, histogram, exponential histogram, summary). Metrics without data are skipped.
  Status decodeMetrics(std::span<const uint8_t> body, Encoding encoding,
                       telemetry::MetricBatch& out, DecodeStats& stats,
                       const DecodeLimits& limits = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The same, on a Decoder owned by the calling thread (created on first use).
Status decodeLogs(std::span<const uint8_t> body, Encoding encoding, telemetry::LogBatch& out,
                  DecodeStats& stats, const DecodeLimits& limits = {});
Status decodeSpans(std::span<const uint8_t> body, Encoding encoding, telemetry::SpanBatch& out,
                   DecodeStats& stats, const DecodeLimits& limits = {});
Status decodeMetrics(std::span<const uint8_t> body, Encoding encoding, telemetry::MetricBatch& out,
                     DecodeStats& stats, const DecodeLimits& limits = {});

}  // namespace stackhouse::otlp
