#include "sinks/tinybird/row_json.h"

#include <cmath>
#include <cstdio>

#include "common/json_writer.h"

namespace stackhouse::sinks::tinybird {
namespace {

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
void civilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2 ? 1 : 0;
}

}  // namespace

void appendDateTime64(std::string& out, int64_t unixNanos) {
  int64_t seconds = unixNanos / 1'000'000'000;
  int64_t nanos = unixNanos % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --seconds;
  }
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civilFromDays(days, y, m, d);
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "\"%04lld-%02u-%02u %02lld:%02lld:%02lld.%09lld\"",
                              static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                              static_cast<long long>(rem % 3600 / 60),
                              static_cast<long long>(rem % 60), static_cast<long long>(nanos));
  out.append(buf, static_cast<size_t>(n));
}

namespace detail {

void appendKey(std::string& out, std::string_view key) {
  appendJsonString(out, key);
  out += ':';
}

void appendValue(std::string& out, const telemetry::StringColumn& c, size_t i) {
  appendJsonString(out, c.at(i));
}

void appendValue(std::string& out, const telemetry::MapColumn& c, size_t i) {
  out += '{';
  for (auto e = static_cast<size_t>(c.offset(i)); e < static_cast<size_t>(c.offset(i + 1)); ++e) {
    if (e != static_cast<size_t>(c.offset(i))) out += ',';
    appendJsonString(out, c.keys().at(e));
    out += ':';
    appendJsonString(out, c.values().at(e));
  }
  out += '}';
}

void appendFixed(std::string& out, telemetry::FixedKind kind, uint64_t bits) {
  using telemetry::FixedKind;
  switch (kind) {
    case FixedKind::kTimestampNs: appendDateTime64(out, static_cast<int64_t>(bits)); return;
    case FixedKind::kUInt8: out += std::to_string(bits & 0xff); return;
    case FixedKind::kUInt32: out += std::to_string(bits & 0xffffffffu); return;
    case FixedKind::kInt32:
      out += std::to_string(static_cast<int32_t>(static_cast<uint32_t>(bits)));
      return;
    case FixedKind::kUInt64: out += std::to_string(bits); return;
    case FixedKind::kBool: out += (bits & 0xff) != 0 ? "true" : "false"; return;
    case FixedKind::kFloat64: {
      double v;
      std::memcpy(&v, &bits, sizeof v);
      // JSON has no NaN or infinities; ClickHouse reads these spellings of a Float64.
      if (std::isnan(v)) {
        out += "\"nan\"";
      } else if (std::isinf(v)) {
        out += v > 0 ? "\"inf\"" : "\"-inf\"";
      } else {
        // Always with a fraction or an exponent: a double past 2^64 written as a bare integer
        // ("18446744073709552000") is more than strict JSON readers take as an integer.
        const size_t start = out.size();
        appendJsonDouble(out, v);
        if (out.find_first_of(".eE", start) == std::string::npos) out += ".0";
      }
      return;
    }
  }
}

}  // namespace detail
}  // namespace stackhouse::sinks::tinybird
