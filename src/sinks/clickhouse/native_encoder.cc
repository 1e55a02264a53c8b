#include "sinks/clickhouse/native_encoder.h"

namespace stackhouse::sinks::clickhouse {

void appendVarUInt(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void appendString(std::string& out, std::string_view s) {
  appendVarUInt(out, s.size());
  out.append(s);
}

namespace native {

void appendData(std::string& out, const telemetry::StringColumn& c, size_t begin, size_t end) {
  const char* bytes = reinterpret_cast<const char*>(c.data().data());
  for (size_t i = begin; i < end; ++i) {
    const auto from = static_cast<size_t>(c.offset(i));
    const auto to = static_cast<size_t>(c.offset(i + 1));
    appendVarUInt(out, to - from);
    out.append(bytes + from, to - from);
  }
}

void appendData(std::string& out, const telemetry::MapColumn& c, size_t begin, size_t end) {
  const int64_t base = c.offset(begin);
  for (size_t i = begin + 1; i <= end; ++i) {
    const uint64_t offset = static_cast<uint64_t>(c.offset(i) - base);
    out.append(reinterpret_cast<const char*>(&offset), sizeof offset);
  }
  const auto from = static_cast<size_t>(c.offset(begin));
  const auto to = static_cast<size_t>(c.offset(end));
  appendData(out, c.keys(), from, to);
  appendData(out, c.values(), from, to);
}

}  // namespace native
}  // namespace stackhouse::sinks::clickhouse
