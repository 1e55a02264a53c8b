// State one decode call carries through the protobuf and JSON walkers: limits, statistics, the
// first error, and the resource and scope values that every row of a scope repeats.
// Internal to stackhouse_otlp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "otlp/decode.h"
#include "otlp/text_format.h"
#include "telemetry/columns.h"

namespace stackhouse::otlp::detail {

using telemetry::Buffer;
using telemetry::MapColumn;
using telemetry::StringColumn;

// The batch may not hold more than this many bytes after a decode. Columns address their bytes
// with int32 offsets, and one record can add far more than its own size (resource attributes
// repeat on every row), so the limit leaves a wide margin below 2 GiB.
inline constexpr size_t kMaxBatchBytes = size_t{1} << 30;

// A trace or span id as found in the input, before it is checked and rendered.
struct IdBytes {
  uint8_t bytes[16] = {};
  size_t size = 0;         // bytes in the input (may exceed 16, then `bytes` holds nothing)
  bool malformed = false;  // JSON only: not an even-length hex string

  void setRaw(const uint8_t* p, size_t n) {
    size = n;
    malformed = false;
    if (n <= sizeof bytes) std::memcpy(bytes, p, n);
  }
  bool isZero() const {
    for (size_t i = 0; i < size && i < sizeof bytes; ++i) {
      if (bytes[i] != 0) return false;
    }
    return true;
  }
};

class DecodeContext {
 public:
  DecodeContext(const DecodeLimits& limits, DecodeStats& stats, std::string_view format)
      : maxDepth_(limits.maxDepth < DecodeLimits::kMaxDepthCap ? limits.maxDepth
                                                               : DecodeLimits::kMaxDepthCap),
        maxGrowth_(limits.maxBatchGrowth),
        maxResources_(limits.maxResources),
        maxRecords_(limits.maxRecords),
        maxAttributes_(limits.maxAttributes),
        maxKeyBytes_(limits.maxKeyBytes),
        maxValueBytes_(limits.maxValueBytes),
        checkTimes_(limits.checkTimes),
        stats_(stats),
        format_(format) {
    if (checkTimes_) {
      now_ = limits.nowNanos != 0 ? limits.nowNanos : static_cast<uint64_t>(wallNanos());
      skew_ = limits.maxFutureSkewNanos;
      latest_ = now_ + skew_ < now_ ? UINT64_MAX : now_ + skew_;
      earliest_ = limits.retentionNanos != 0 && limits.retentionNanos < now_
                      ? now_ - limits.retentionNanos
                      : 0;
    }
  }

  size_t maxDepth() const { return maxDepth_; }
  // Protobuf only: where the body starts, so that errors can give offsets into it.
  void setBody(const uint8_t* begin) { bodyBegin_ = begin; }
  size_t offsetOf(const uint8_t* p) const { return static_cast<size_t>(p - bodyBegin_); }
  DecodeStats& stats() { return stats_; }
  std::string_view format() const { return format_; }

  // Records the first malformed-input error; the call then fails as a whole. Returns false so
  // that callers can `return ctx.fail(...)`.
  bool fail(std::string message) {
    if (!failed_) {
      failed_ = true;
      error_ = Status(StatusCode::kInvalidArgument, std::string(format_) + ": " + message);
    }
    return false;
  }
  bool failResourceExhausted(std::string message) {
    if (!failed_) {
      failed_ = true;
      error_ = Status(StatusCode::kResourceExhausted, std::string(format_) + ": " + message);
    }
    return false;
  }
  bool failed() const { return failed_; }
  const Status& error() const { return error_; }

  bool failDepth() {
    return fail("AnyValue nesting deeper than " + std::to_string(maxDepth_) + " levels (limit " +
                DecodeLimitKeys::kMaxDepth + ")");
  }

  void countInvalidUtf8(size_t n) { stats_.invalidUtf8 += n; }

  // Index (within this request) of the record being decoded; names it in rejection messages.
  uint64_t recordIndex() const { return recordIndex_; }
  // Called after each record (accepted or rejected); fails the call once the request holds more
  // than maxRecords.
  bool nextRecord() {
    if (++recordIndex_ <= maxRecords_) return true;
    return fail("the request holds more than " + std::to_string(maxRecords_) + " records (limit " +
                DecodeLimitKeys::kMaxRecords + ")");
  }
  // Called at each ResourceLogs/ResourceSpans/ResourceMetrics, before it is read.
  bool nextResource() {
    if (++resourceCount_ <= maxResources_) return true;
    return fail("the request holds more than " + std::to_string(maxResources_) +
                " resources (limit " + DecodeLimitKeys::kMaxResources + ")");
  }

  // Ends the current row of an attribute map, dropping its entries past maxAttributes. Checked
  // once per row rather than per attribute, to keep the per-attribute path short; hostile input
  // with many attributes costs its decoding, which the body size bounds.
  void endAttributes(MapColumn& map) {
    const size_t entries = map.pendingEntries();
    if (entries > maxAttributes_) [[unlikely]]
      dropAttributes(map, entries);
    map.endRow();
  }
  // Cuts the value being built in `column` (valid UTF-8, started at byte `start` of its data) to
  // maxKeyBytes / maxValueBytes.
  void limitKey(StringColumn& column, size_t start) {
    if (column.data().size() - start > maxKeyBytes_) [[unlikely]] {
      cutPending(column.data(), start + maxKeyBytes_, stats_.truncatedKeys);
    }
  }
  void limitValue(StringColumn& column, size_t start) {
    if (column.data().size() - start > maxValueBytes_) [[unlikely]] {
      cutPending(column.data(), start + maxValueBytes_, stats_.truncatedValues);
    }
  }

  // A record is dropped for partial success: counted, and the first reason kept.
  void reject(std::string_view what, std::string_view reason) {
    ++stats_.rejected;
    if (stats_.firstRejection.empty()) {
      stats_.firstRejection =
          std::string(what) + " " + std::to_string(recordIndex_) + ": " + std::string(reason);
    }
  }
  void accept() { ++stats_.accepted; }

  // Record times (DecodeLimits::checkTimes). The receive time; the latest time accepted
  // (receive time + skew); rows whose time is before earliest() are past the retention.
  bool checkTimes() const { return checkTimes_; }
  uint64_t now() const { return now_; }
  uint64_t latest() const { return latest_; }
  uint64_t earliest() const { return earliest_; }
  uint64_t skew() const { return skew_; }
  // A record past the retention is dropped for good, not rejected.
  void expire() { ++stats_.expired; }
  // The latest time of a record's nested elements (span events, exemplars), noted as they are
  // appended and taken (and reset) when the record's row is completed.
  void noteNestedTime(uint64_t t) {
    if (t > nestedMax_) nestedMax_ = t;
  }
  uint64_t takeNestedTime() {
    const uint64_t t = nestedMax_;
    nestedMax_ = 0;
    return t;
  }

  // Growth accounting: set once at the start, checked after every record.
  void setStartBytes(size_t bytes) {
    const size_t byGrowth = bytes + maxGrowth_ < bytes ? SIZE_MAX : bytes + maxGrowth_;
    byteLimit_ = byGrowth < kMaxBatchBytes ? byGrowth : kMaxBatchBytes;
  }
  bool checkBytes(size_t bytes) {
    if (bytes <= byteLimit_) return true;
    return failResourceExhausted("the decoded rows pass the batch size limit (" +
                                 std::to_string(byteLimit_) +
                                 " bytes; DecodeLimits::maxBatchGrowth)");
  }

  // Appends `s` sanitized to `column` as one value.
  void appendString(StringColumn& column, std::string_view s) {
    countInvalidUtf8(appendSanitized(column.data(), s));
    column.commit();
  }

 private:
  [[gnu::noinline, gnu::cold]] void dropAttributes(MapColumn& map, size_t entries) {
    const size_t keep = map.keys().size() - entries + maxAttributes_;
    map.keys().truncate(keep);
    map.values().truncate(keep);
    stats_.droppedAttributes += entries - maxAttributes_;
  }

  // Cuts `data` to `end` bytes, less the bytes of a UTF-8 character that the cut would split.
  [[gnu::noinline, gnu::cold]] static void cutPending(Buffer& data, size_t end, uint64_t& counter) {
    while ((data.data()[end] & 0xC0) == 0x80) --end;
    data.truncate(end);
    ++counter;
  }

  size_t maxDepth_;
  size_t maxGrowth_;
  size_t maxResources_;
  size_t maxRecords_;
  size_t maxAttributes_;
  size_t maxKeyBytes_;
  size_t maxValueBytes_;
  size_t byteLimit_ = kMaxBatchBytes;
  bool checkTimes_;
  uint64_t now_ = 0;
  uint64_t skew_ = 0;
  uint64_t latest_ = UINT64_MAX;
  uint64_t earliest_ = 0;
  uint64_t nestedMax_ = 0;
  DecodeStats& stats_;
  std::string_view format_;
  const uint8_t* bodyBegin_ = nullptr;
  bool failed_ = false;
  Status error_;
  uint64_t recordIndex_ = 0;
  uint64_t resourceCount_ = 0;
};

// Resource values repeated on every row of a ResourceLogs/ResourceSpans/ResourceMetrics,
// rendered once. Reused across calls (clear() keeps capacity).
struct ResourceRow {
  MapColumn attributes;  // exactly one row once finished
  StringColumn text;     // [0] schema url, [1] service name

  void clear() {
    attributes.clear();
    text.clear();
  }
  std::string_view schemaUrl() const { return text.at(0); }
  std::string_view serviceName() const { return text.at(1); }

  // After the attributes row has ended: ServiceName is the first service.name attribute's value
  // (pdata's Map.Get returns the first match).
  void finish(DecodeContext& ctx, std::string_view rawSchemaUrl) {
    ctx.appendString(text, rawSchemaUrl);
    const StringColumn& keys = attributes.keys();
    size_t found = keys.size();
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys.at(i) == "service.name") {
        found = i;
        break;
      }
    }
    text.append(found < keys.size() ? attributes.values().at(found) : std::string_view{});
  }
};

// InstrumentationScope values repeated on every row of a ScopeLogs/ScopeSpans/ScopeMetrics.
struct ScopeRow {
  MapColumn attributes;  // exactly one row once finished
  StringColumn text;     // [0] name, [1] version, [2] schema url
  uint32_t droppedAttributesCount = 0;

  void clear() {
    attributes.clear();
    text.clear();
    droppedAttributesCount = 0;
  }
  std::string_view name() const { return text.at(0); }
  std::string_view version() const { return text.at(1); }
  std::string_view schemaUrl() const { return text.at(2); }
};

// Metric identity repeated on every data point of a Metric.
struct MetricRow {
  StringColumn text;  // [0] name, [1] description, [2] unit
  void clear() { text.clear(); }
  std::string_view name() const { return text.at(0); }
  std::string_view description() const { return text.at(1); }
  std::string_view unit() const { return text.at(2); }
};

}  // namespace stackhouse::otlp::detail
