#include "sinks/common/retry_after.h"

#include <array>
#include <cstdint>
#include <ctime>

namespace stackhouse::sinks {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool readNumber(std::string_view s, size_t pos, size_t digits, int& out) {
  if (pos + digits > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + digits; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"), the form RFC 9110 says senders use.
bool parseImfFixdate(std::string_view s, int64_t& epochSeconds) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s.substr(25) != " GMT") return false;
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!readNumber(s, 5, 2, day) || !readNumber(s, 12, 4, year) || !readNumber(s, 17, 2, hour) ||
      !readNumber(s, 20, 2, minute) || !readNumber(s, 23, 2, second)) {
    return false;
  }
  int month = -1;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (s.substr(8, 3) == kMonths[i]) month = static_cast<int>(i);
  }
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  epochSeconds = static_cast<int64_t>(timegm(&tm));
  return true;
}

}  // namespace

std::chrono::milliseconds parseRetryAfter(std::string_view value,
                                          std::chrono::system_clock::time_point now,
                                          std::chrono::milliseconds cap) {
  using std::chrono::milliseconds;
  value = trim(value);
  if (value.empty()) return milliseconds(0);
  if (value.front() >= '0' && value.front() <= '9') {
    uint64_t seconds = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return milliseconds(0);
      seconds = seconds * 10 + static_cast<uint64_t>(c - '0');
      if (seconds > static_cast<uint64_t>(cap.count() / 1000 + 1)) return cap;
    }
    return std::min(cap, milliseconds(seconds * 1000));
  }
  int64_t at = 0;
  if (!parseImfFixdate(value, at)) return milliseconds(0);
  const auto delay = std::chrono::duration_cast<milliseconds>(
      std::chrono::system_clock::time_point(std::chrono::seconds(at)) - now);
  if (delay.count() <= 0) return milliseconds(0);
  return std::min(cap, delay);
}

}  // namespace stackhouse::sinks
