#include "config/units.h"

#include <array>
#include <limits>

#include "config/quote.h"

namespace stackhouse::config {
namespace {

// 128-bit intermediates keep the arithmetic exact (1.25Ei is 1.25 * 2^60 bytes) with one
// overflow check at the end instead of one per step.
__extension__ using U128 = unsigned __int128;

constexpr uint64_t kMaxDurationMagnitude = uint64_t{1} << 63;  // |INT64_MIN| nanoseconds
constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kMinute = 60 * kSecond;
constexpr uint64_t kHour = 60 * kMinute;

struct DurationUnit {
  std::string_view name;
  uint64_t nanos;
};
constexpr std::array<DurationUnit, 8> kDurationUnits{{
    {"ns", 1},
    {"us", 1'000},
    {"\u00b5s", 1'000},  // micro sign, as Go accepts
    {"\u03bcs", 1'000},  // Greek small letter mu, as Go accepts
    {"ms", 1'000'000},
    {"s", kSecond},
    {"m", kMinute},
    {"h", kHour},
}};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

Status notADuration(std::string_view text, std::string_view hint) {
  std::string message = quoted(text) + " is not a duration such as 72h";
  if (!hint.empty()) {
    message += " (";
    message += hint;
    message += ')';
  }
  return invalidArgument(std::move(message));
}

// "3d", "3 days", "1day": the whole text is a count of days, so the hint can give the hours.
std::string dayUnitHint(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && digits < 6 && isDigit(text[digits])) ++digits;
  std::string_view rest = text.substr(digits);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (digits > 0 && (rest == "d" || rest == "day" || rest == "days")) {
    uint64_t days = 0;
    for (char c : text.substr(0, digits)) days = days * 10 + static_cast<uint64_t>(c - '0');
    return "there is no day unit: write " + std::to_string(days * 24) + "h for " +
           std::to_string(days) + (days == 1 ? " day" : " days");
  }
  return "there is no day unit: write hours, such as 72h";
}

void appendFraction(std::string& out, uint64_t fraction, uint64_t unit) {
  // unit is a power of ten (1e3, 1e6, 1e9): write fraction/unit as decimal digits, trailing
  // zeros dropped.
  if (fraction == 0) return;
  std::string digits;
  for (uint64_t scale = unit / 10; scale > 0; scale /= 10) {
    digits += static_cast<char>('0' + (fraction / scale) % 10);
  }
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  out += '.';
  out += digits;
}

void appendWithUnit(std::string& out, uint64_t nanos, uint64_t unit, std::string_view name) {
  out += std::to_string(nanos / unit);
  appendFraction(out, nanos % unit, unit);
  out += name;
}

Status notASize(std::string_view text, std::string_view hint) {
  std::string message = quoted(text) + " is not a size such as 64Mi or 1G";
  if (!hint.empty()) {
    message += " (";
    message += hint;
    message += ')';
  }
  return invalidArgument(std::move(message));
}

struct SizeSuffix {
  std::string_view name;
  int binaryExponent;   // power of two
  int decimalExponent;  // power of ten
};
constexpr std::array<SizeSuffix, 16> kSizeSuffixes{{
    {"", 0, 0},
    {"Ki", 10, 0},
    {"Mi", 20, 0},
    {"Gi", 30, 0},
    {"Ti", 40, 0},
    {"Pi", 50, 0},
    {"Ei", 60, 0},
    {"n", 0, -9},
    {"u", 0, -6},
    {"m", 0, -3},
    {"k", 0, 3},
    {"M", 0, 6},
    {"G", 0, 9},
    {"T", 0, 12},
    {"P", 0, 15},
    {"E", 0, 18},
}};

constexpr std::string_view kSuffixList = "suffixes are Ki Mi Gi Ti Pi Ei and k M G T P E";

}  // namespace

Result<std::chrono::nanoseconds> parseDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return notADuration(text, "");

  U128 total = 0;
  while (!s.empty()) {
    if (!isDigit(s.front()) && s.front() != '.') return notADuration(text, "");
    bool anyDigit = false;
    bool tooLong = false;
    uint64_t whole = 0;
    while (!s.empty() && isDigit(s.front())) {
      anyDigit = true;
      if (whole > kMaxDurationMagnitude / 10) {
        tooLong = true;
      } else {
        whole = whole * 10 + static_cast<uint64_t>(s.front() - '0');
      }
      s.remove_prefix(1);
    }
    // Digits past 18 are below a nanosecond even for hours, so they are read and dropped.
    uint64_t fraction = 0;
    uint64_t scale = 1;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      while (!s.empty() && isDigit(s.front())) {
        anyDigit = true;
        if (scale < 1'000'000'000'000'000'000) {
          fraction = fraction * 10 + static_cast<uint64_t>(s.front() - '0');
          scale *= 10;
        }
        s.remove_prefix(1);
      }
    }
    if (!anyDigit) return notADuration(text, "");

    size_t unitLength = 0;
    while (unitLength < s.size() && !isDigit(s[unitLength]) && s[unitLength] != '.') ++unitLength;
    std::string_view unitName = s.substr(0, unitLength);
    s.remove_prefix(unitLength);
    if (unitName.empty()) return notADuration(text, "missing unit: ns, us, ms, s, m or h");
    const DurationUnit* unit = nullptr;
    for (const auto& candidate : kDurationUnits) {
      if (candidate.name == unitName) unit = &candidate;
    }
    if (unit == nullptr) {
      std::string_view trimmed = unitName;
      while (!trimmed.empty() && trimmed.front() == ' ') trimmed.remove_prefix(1);
      if (!trimmed.empty() && (trimmed.front() == 'd' || trimmed.front() == 'D')) {
        return notADuration(text, dayUnitHint(text));
      }
      return notADuration(
          text, "unknown unit " + quoted(unitName, 16) + "; units are ns, us, ms, s, m and h");
    }
    if (tooLong) break;
    total += U128{whole} * unit->nanos + U128{fraction} * unit->nanos / scale;
    if (total > kMaxDurationMagnitude) break;
    if (s.empty()) {
      if (!negative && total == kMaxDurationMagnitude) break;
      auto magnitude = static_cast<uint64_t>(total);
      // C++20 conversions are modular, so 2^63 negated is INT64_MIN.
      return std::chrono::nanoseconds(static_cast<int64_t>(negative ? ~magnitude + 1 : magnitude));
    }
  }
  return invalidArgument(quoted(text) + " is too long for a duration (at most 2562047h)");
}

std::string formatDuration(std::chrono::nanoseconds value) {
  int64_t count = value.count();
  if (count == 0) return "0s";
  std::string out;
  // Modular negation handles INT64_MIN.
  uint64_t nanos = static_cast<uint64_t>(count);
  if (count < 0) {
    out += '-';
    nanos = ~nanos + 1;
  }
  if (nanos < kSecond) {
    if (nanos >= 1'000'000) {
      appendWithUnit(out, nanos, 1'000'000, "ms");
    } else if (nanos >= 1'000) {
      appendWithUnit(out, nanos, 1'000, "us");
    } else {
      out += std::to_string(nanos) + "ns";
    }
    return out;
  }
  if (uint64_t hours = nanos / kHour; hours > 0) out += std::to_string(hours) + "h";
  if (uint64_t minutes = nanos % kHour / kMinute; minutes > 0) {
    out += std::to_string(minutes) + "m";
  }
  if (uint64_t rest = nanos % kMinute; rest > 0) appendWithUnit(out, rest, kSecond, "s");
  return out;
}

Result<uint64_t> parseByteSize(std::string_view text) {
  std::string_view s = text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (!s.empty() && s.front() == '-') return notASize(text, "sizes cannot be negative");

  std::string_view wholeDigits;
  std::string_view fractionDigits;
  size_t n = 0;
  while (n < s.size() && isDigit(s[n])) ++n;
  wholeDigits = s.substr(0, n);
  s.remove_prefix(n);
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    n = 0;
    while (n < s.size() && isDigit(s[n])) ++n;
    fractionDigits = s.substr(0, n);
    s.remove_prefix(n);
  }
  if (wholeDigits.empty() && fractionDigits.empty()) return notASize(text, "");

  const std::string_view suffix = s;
  int binaryExponent = 0;
  int decimalExponent = 0;
  bool known = false;
  for (const auto& candidate : kSizeSuffixes) {
    if (candidate.name == suffix) {
      binaryExponent = candidate.binaryExponent;
      decimalExponent = candidate.decimalExponent;
      known = true;
    }
  }
  if (!known && suffix.size() >= 2 && (suffix.front() == 'e' || suffix.front() == 'E')) {
    // Exponent form, 1e9 or 5E-3.
    std::string_view exponent = suffix.substr(1);
    bool negativeExponent = false;
    if (exponent.front() == '+' || exponent.front() == '-') {
      negativeExponent = exponent.front() == '-';
      exponent.remove_prefix(1);
    }
    bool allDigits = !exponent.empty() && exponent.size() <= 4;
    for (char c : exponent) allDigits = allDigits && isDigit(c);
    if (allDigits) {
      for (char c : exponent) decimalExponent = decimalExponent * 10 + (c - '0');
      if (negativeExponent) decimalExponent = -decimalExponent;
      known = true;
    }
  }
  if (!known) {
    return notASize(text, "unknown suffix " + quoted(suffix, 16) + "; " + std::string(kSuffixList));
  }

  while (!wholeDigits.empty() && wholeDigits.front() == '0') wholeDigits.remove_prefix(1);
  while (!fractionDigits.empty() && fractionDigits.back() == '0') fractionDigits.remove_suffix(1);
  // Twenty significant digits cover every 64-bit value; with a 2^60 suffix the mantissa still
  // fits in 128 bits.
  if (wholeDigits.size() + fractionDigits.size() > 20) return notASize(text, "too many digits");
  U128 value = 0;
  for (char c : wholeDigits) value = value * 10 + static_cast<unsigned>(c - '0');
  for (char c : fractionDigits) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value == 0) return uint64_t{0};

  constexpr U128 kMax = std::numeric_limits<uint64_t>::max();
  const std::string tooLarge = quoted(text) + " is too large for a size (at most 2^64-1 bytes)";
  value <<= binaryExponent;
  int exponent = decimalExponent - static_cast<int>(fractionDigits.size());
  for (; exponent > 0; --exponent) {
    value *= 10;
    if (value > kMax) return invalidArgument(tooLarge);
  }
  if (exponent < 0) {
    // value < 2^127 < 10^39, so a larger divisor always leaves a fraction.
    if (exponent < -38) return invalidArgument(quoted(text) + " is not a whole number of bytes");
    U128 divisor = 1;
    for (; exponent < 0; ++exponent) divisor *= 10;
    if (value % divisor != 0) {
      std::string message = quoted(text) + " is not a whole number of bytes";
      if (suffix == "m") {
        message += " (m means milli; write M for 10^6 or Mi for 2^20)";
      }
      return invalidArgument(std::move(message));
    }
    value /= divisor;
  }
  if (value > kMax) return invalidArgument(tooLarge);
  return static_cast<uint64_t>(value);
}

std::string formatByteSize(uint64_t bytes) {
  if (bytes == 0) return "0";
  for (int i = static_cast<int>(kSizeSuffixes.size()) - 1; i >= 0; --i) {
    const auto& suffix = kSizeSuffixes[static_cast<size_t>(i)];
    if (suffix.binaryExponent > 0 && bytes % (uint64_t{1} << suffix.binaryExponent) == 0) {
      return std::to_string(bytes >> suffix.binaryExponent) + std::string(suffix.name);
    }
  }
  for (int i = static_cast<int>(kSizeSuffixes.size()) - 1; i >= 0; --i) {
    const auto& suffix = kSizeSuffixes[static_cast<size_t>(i)];
    if (suffix.decimalExponent <= 0) continue;
    uint64_t unit = 1;
    for (int e = 0; e < suffix.decimalExponent; ++e) unit *= 10;
    if (bytes % unit == 0) return std::to_string(bytes / unit) + std::string(suffix.name);
  }
  return std::to_string(bytes);
}

}  // namespace stackhouse::config
