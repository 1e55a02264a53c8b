#include "otlp/encode.h"

#include "common/json_writer.h"
#include "common/utf8.h"

namespace stackhouse::otlp {

namespace {

void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(static_cast<uint8_t>(v) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void putTag(std::string& out, uint32_t field, uint32_t wireType) {
  putVarint(out, uint64_t{field} << 3 | wireType);
}

void putString(std::string& out, uint32_t field, std::string_view value) {
  putTag(out, field, 2);
  if (isValidUtf8(value)) {
    putVarint(out, value.size());
    out.append(value);
    return;
  }
  std::string clean;
  appendUtf8Sanitized(clean, value);
  putVarint(out, clean.size());
  out.append(clean);
}

void putBytes(std::string& out, uint32_t field, std::string_view value) {
  putTag(out, field, 2);
  putVarint(out, value.size());
  out.append(value);
}

}  // namespace

std::string encodeExportResponse(Signal signal, Encoding encoding, uint64_t rejected,
                                 std::string_view message) {
  const bool empty = rejected == 0 && message.empty();
  if (encoding == Encoding::kJson) {
    if (empty) return "{}";
    std::string out;
    JsonWriter w(out);
    w.beginObject().key("partialSuccess").beginObject();
    if (rejected != 0) {
      const char* name = signal == Signal::kLogs     ? "rejectedLogRecords"
                         : signal == Signal::kTraces ? "rejectedSpans"
                                                     : "rejectedDataPoints";
      // int64 fields are strings in the protobuf JSON mapping.
      w.field(name, std::to_string(rejected));
    }
    if (!message.empty()) w.field("errorMessage", message);
    w.endObject().endObject();
    return out;
  }
  if (empty) return {};
  std::string inner;
  if (rejected != 0) {
    putTag(inner, 1, 0);
    putVarint(inner, rejected);
  }
  if (!message.empty()) putString(inner, 2, message);
  std::string out;
  putTag(out, 1, 2);
  putVarint(out, inner.size());
  out += inner;
  return out;
}

std::string partialSuccessMessage(const DecodeStats& stats, const DecodeLimits& limits) {
  std::string out = stats.rejected > 0 ? stats.firstRejection : std::string();
  if (stats.expired > 0) {
    // Not rejected (retrying cannot help either): the sender learns why they do not show up.
    if (!out.empty()) out += "; ";
    out += std::to_string(stats.expired);
    out += stats.expired == 1 ? " record was" : " records were";
    out += " older than the retention of ";
    out += std::to_string(limits.retentionNanos / 1'000'000'000);
    out += " s on arrival and dropped (";
    out += DecodeLimitKeys::kRetention;
    out += "; is the sender's clock right?)";
  }
  // "<what>: <count> (limit <key>)"
  auto warn = [&out](uint64_t n, const std::string& what, const char* key) {
    if (n == 0) return;
    if (!out.empty()) out += "; ";
    out += what;
    out += ": ";
    out += std::to_string(n);
    out += " (limit ";
    out += key;
    out += ')';
  };
  warn(stats.droppedAttributes,
       "attributes dropped past " + std::to_string(limits.maxAttributes) + " in one record",
       DecodeLimitKeys::kMaxAttributes);
  warn(stats.truncatedKeys,
       "attribute keys cut to " + std::to_string(limits.maxKeyBytes) + " bytes",
       DecodeLimitKeys::kMaxKeyBytes);
  warn(stats.truncatedValues,
       "attribute values cut to " + std::to_string(limits.maxValueBytes) + " bytes",
       DecodeLimitKeys::kMaxValueBytes);
  return out;
}

std::string encodeStatus(Encoding encoding, int code, std::string_view message) {
  if (encoding == Encoding::kJson) {
    std::string out;
    JsonWriter w(out);
    w.beginObject().field("code", code);
    if (!message.empty()) w.field("message", message);
    w.endObject();
    return out;
  }
  std::string out;
  if (code != 0) {
    putTag(out, 1, 0);
    // int32 is sign-extended to 64 bits on the wire.
    putVarint(out, static_cast<uint64_t>(static_cast<int64_t>(code)));
  }
  if (!message.empty()) putString(out, 2, message);
  return out;
}

std::string encodeRetryStatus(int code, std::string_view message, uint64_t retryDelayMillis) {
  // google.protobuf.Duration {seconds = 1 (int64), nanos = 2 (int32)}
  std::string duration;
  if (retryDelayMillis >= 1000) {
    putTag(duration, 1, 0);
    putVarint(duration, retryDelayMillis / 1000);
  }
  if (retryDelayMillis % 1000 != 0) {
    putTag(duration, 2, 0);
    putVarint(duration, retryDelayMillis % 1000 * 1'000'000);
  }
  // google.rpc.RetryInfo {retry_delay = 1}
  std::string retryInfo;
  putBytes(retryInfo, 1, duration);
  // google.protobuf.Any {type_url = 1, value = 2}
  std::string any;
  putBytes(any, 1, "type.googleapis.com/google.rpc.RetryInfo");
  putBytes(any, 2, retryInfo);
  std::string out = encodeStatus(Encoding::kProtobuf, code, message);
  putBytes(out, 3, any);
  return out;
}

}  // namespace stackhouse::otlp
