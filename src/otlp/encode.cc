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
      const char* name = signal == Signal::kLogs    ? "rejectedLogRecords"
                         : signal == Signal::kSpans ? "rejectedSpans"
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

}  // namespace stackhouse::otlp
