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
//    A record is rejected when one of its ids has the wrong length (or, in JSON, is not hex), or
//    (DecodeLimits::checkTimes) when one of its times cannot be stored; a record older than the
//    retention is dropped and counted in stats.expired.
//  - kInvalidArgument: the body is malformed (bad protobuf framing, a known field with the wrong
//    wire type or JSON type, bad JSON, AnyValue nesting past maxDepth). The message names the
//    problem and its place and never echoes payload content.
//  - kInvalidArgument also when the request has more resources or records than the limits allow
//    (maxResources, maxRecords); the message names the limit and its configuration key.
//  - kResourceExhausted: the decoded rows would grow the batch past maxBatchGrowth.
//  On any non-OK status the batch and the stats are exactly as they were before the call.
//
// Invalid UTF-8 in strings is replaced with U+FFFD and counted in stats.invalidUtf8. Attributes
// past the per-record limits are dropped or cut and counted in stats (see DecodeLimits); the
// request still succeeds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"
#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/source.h"
#include "telemetry/span_batch.h"

namespace stackhouse::otlp {

enum class Encoding : unsigned char {
  kProtobuf,  // application/x-protobuf, and gRPC
  kJson,      // application/json (OTLP/JSON)
};

// The signal of a request: which Export*ServiceRequest it is.
using Signal = telemetry::Signal;

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

  // Per-request limits; past one the call fails with kInvalidArgument, naming the limit.
  // ResourceLogs/ResourceSpans/ResourceMetrics in one request.
  size_t maxResources = 10000;
  // Log records, spans or metric data points in one request, rejected ones included.
  size_t maxRecords = 100000;

  // Per-record limits; past one the value is cut, not refused (counted in DecodeStats, reported
  // as an OTLP partial-success warning). They apply to every attribute map: resource, scope,
  // record, event, link and exemplar attributes.
  // Attributes kept per map, the first ones in input order; later ones are dropped (they are
  // still decoded, so a malformed value among them fails the call as anywhere else).
  size_t maxAttributes = 128;
  // Bytes of an attribute key, and of an attribute value as stored (its text: a string as it is,
  // other values rendered, arrays and kvlists as JSON), after UTF-8 sanitizing. Longer ones are
  // cut at the last UTF-8 character boundary within the limit. A cut JSON rendering is no
  // longer valid JSON.
  size_t maxKeyBytes = 1024;
  size_t maxValueBytes = size_t{64} << 10;

  // Record times (README.md, "Timestamps"). With checkTimes, a record with a time the tables
  // cannot hold, or later than the receive time plus maxFutureSkew, is rejected on its own
  // (partial success, the message naming the field); one whose row time is older than the
  // receive time minus retention is dropped and counted in DecodeStats::expired instead; a log
  // record without any time gets the receive time. Without checkTimes times are stored as sent:
  // the decoders' mapping tests feed arbitrary values; `stackhouse run` turns it on for both
  // receivers (from maxFutureSkew and the retention).
  bool checkTimes = false;
  uint64_t nowNanos = 0;  // the receive time, ns since the epoch; 0: the clock, read once a call
  uint64_t maxFutureSkewNanos = uint64_t{3600} * 1'000'000'000;
  uint64_t retentionNanos = 0;  // the store's TTL; 0: none (nothing expires on arrival)
};

// The latest times the tables hold: a DateTime64(9) column up to INT64_MAX ns
// (2262-04-11T23:47:16.854775807Z); the DateTime columns and TTL expressions that a row's main
// time also goes into (TimestampTime, toDateTime(Timestamp)) up to 2^32 - 1 s
// (2106-02-07T06:28:15Z). Both hold every time from the epoch on.
inline constexpr uint64_t kMaxDateTime64Nanos = uint64_t{INT64_MAX};
inline constexpr uint64_t kMaxDateTimeNanos = uint64_t{UINT32_MAX} * 1'000'000'000 + 999'999'999;

// The configuration keys of the limits above, named in error and warning messages.
struct DecodeLimitKeys {
  static constexpr const char* kMaxResources =
      "otelConfig.receivers.otlp.limits.maxResourcesPerRequest";
  static constexpr const char* kMaxRecords =
      "otelConfig.receivers.otlp.limits.maxRecordsPerRequest";
  static constexpr const char* kMaxAttributes =
      "otelConfig.receivers.otlp.limits.maxAttributesPerRecord";
  static constexpr const char* kMaxKeyBytes =
      "otelConfig.receivers.otlp.limits.maxAttributeKeyLength";
  static constexpr const char* kMaxValueBytes =
      "otelConfig.receivers.otlp.limits.maxAttributeValueLength";
  static constexpr const char* kMaxDepth = "otelConfig.receivers.otlp.limits.maxValueDepth";
  static constexpr const char* kMaxFutureSkew = "otelConfig.receivers.otlp.limits.maxFutureSkew";
  static constexpr const char* kRetention = "otelConfig.exporters.clickhouse.ttl";
};

// Counters a decode call adds to; a caller may keep one across calls.
struct DecodeStats {
  uint64_t accepted = 0;  // records appended: log records, spans or metric data points
  uint64_t rejected = 0;  // records dropped on their own (partial success)
  // Records older than the retention on arrival (DecodeLimits::retentionNanos): dropped, not
  // stored and not counted as rejected; the partial-success message says so.
  uint64_t expired = 0;
  // Ill-formed UTF-8 bytes replaced with U+FFFD, in everything decoded (records rejected later
  // included).
  uint64_t invalidUtf8 = 0;
  // Why the first rejected record was rejected, e.g. "span 3: trace_id has 15 bytes, expected
  // 16". Set once (when empty); suitable as the partial-success error message.
  std::string firstRejection;
  // Attributes dropped past DecodeLimits::maxAttributes, and keys and values cut to
  // maxKeyBytes / maxValueBytes (records rejected later included).
  uint64_t droppedAttributes = 0;
  uint64_t truncatedKeys = 0;
  uint64_t truncatedValues = 0;

  bool truncated() const { return droppedAttributes + truncatedKeys + truncatedValues != 0; }
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
