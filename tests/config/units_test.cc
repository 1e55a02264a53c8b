#include "config/units.h"

#include <gtest/gtest.h>

#include <limits>

namespace stackhouse::config {
namespace {

using std::chrono::nanoseconds;

struct DurationCase {
  std::string_view text;
  int64_t nanos;
};

TEST(ParseDuration, AcceptsGoSyntax) {
  constexpr int64_t kSecond = 1'000'000'000;
  constexpr int64_t kMinute = 60 * kSecond;
  constexpr int64_t kHour = 60 * kMinute;
  const DurationCase cases[] = {
      {"0", 0},
      {"0s", 0},
      {"-0", 0},
      {"72h", 72 * kHour},
      {"360h", 360 * kHour},
      {"1h30m", kHour + 30 * kMinute},
      {"200ms", 200'000'000},
      {"1.5s", 1'500'000'000},
      {".5s", 500'000'000},
      {"5.s", 5 * kSecond},
      {"1.5h", kHour + kHour / 2},
      {"15ns", 15},
      {"1us", 1'000},
      {"1\u00b5s", 1'000},  // micro sign
      {"1\u03bcs", 1'000},  // Greek mu
      {"1h1m1s1ms1us1ns", kHour + 61 * kSecond + 1'001'001},
      {"30m30m", kHour},  // Go allows repeated units
      {"+5s", 5 * kSecond},
      {"-1.5h", -(kHour + kHour / 2)},
      {"0.0000000001s", 0},  // below a nanosecond: truncated, as Go does
      {"2562047h47m16.854775807s", std::numeric_limits<int64_t>::max()},
      {"-2562047h47m16.854775808s", std::numeric_limits<int64_t>::min()},
      {"-9223372036854775808ns", std::numeric_limits<int64_t>::min()},
  };
  for (const auto& c : cases) {
    auto parsed = parseDuration(c.text);
    ASSERT_TRUE(parsed.isOk()) << c.text << ": " << parsed.status().message();
    EXPECT_EQ(parsed->count(), c.nanos) << c.text;
  }
}

struct InvalidCase {
  std::string_view text;
  std::string_view message;
};

TEST(ParseDuration, RejectsWithPreciseMessages) {
  const InvalidCase cases[] = {
      {"", R"("" is not a duration such as 72h)"},
      {"3 days",
       R"("3 days" is not a duration such as 72h (there is no day unit: write 72h for 3 days))"},
      {"3d", R"("3d" is not a duration such as 72h (there is no day unit: write 72h for 3 days))"},
      {"1day",
       R"("1day" is not a duration such as 72h (there is no day unit: write 24h for 1 day))"},
      {"1d12h",
       R"("1d12h" is not a duration such as 72h (there is no day unit: write hours, such as 72h))"},
      {"3600", R"("3600" is not a duration such as 72h (missing unit: ns, us, ms, s, m or h))"},
      {"1h30", R"("1h30" is not a duration such as 72h (missing unit: ns, us, ms, s, m or h))"},
      {"2w",
       R"("2w" is not a duration such as 72h (unknown unit "w"; units are ns, us, ms, s, m and h))"},
      {"1 h",
       R"("1 h" is not a duration such as 72h (unknown unit " h"; units are ns, us, ms, s, m and h))"},
      {"1H",
       R"("1H" is not a duration such as 72h (unknown unit "H"; units are ns, us, ms, s, m and h))"},
      {"h", R"("h" is not a duration such as 72h)"},
      {".s", R"(".s" is not a duration such as 72h)"},
      {"-", R"("-" is not a duration such as 72h)"},
      {"1.2.3s", R"("1.2.3s" is not a duration such as 72h (missing unit: ns, us, ms, s, m or h))"},
      {"2562048h", R"("2562048h" is too long for a duration (at most 2562047h))"},
      {"9223372036854775808ns",
       R"("9223372036854775808ns" is too long for a duration (at most 2562047h))"},
      {"99999999999999999999h",
       R"("99999999999999999999h" is too long for a duration (at most 2562047h))"},
  };
  for (const auto& c : cases) {
    auto parsed = parseDuration(c.text);
    ASSERT_FALSE(parsed.isOk()) << c.text;
    EXPECT_EQ(parsed.status().message(), c.message) << c.text;
  }
}

TEST(FormatDuration, ShortestTextThatReadsBack) {
  using namespace std::chrono_literals;
  EXPECT_EQ(formatDuration(0s), "0s");
  EXPECT_EQ(formatDuration(72h), "72h");
  EXPECT_EQ(formatDuration(90min), "1h30m");
  EXPECT_EQ(formatDuration(200ms), "200ms");
  EXPECT_EQ(formatDuration(1500ms), "1.5s");
  EXPECT_EQ(formatDuration(1500us), "1.5ms");
  EXPECT_EQ(formatDuration(1ns), "1ns");
  EXPECT_EQ(formatDuration(-90s), "-1m30s");
  EXPECT_EQ(formatDuration(1h + 200ms), "1h0.2s");
  EXPECT_EQ(formatDuration(60s), "1m");
  for (auto value : {nanoseconds(1), nanoseconds(999'999'999), nanoseconds(123'456'789'012'345),
                     nanoseconds(std::numeric_limits<int64_t>::max()),
                     nanoseconds(std::numeric_limits<int64_t>::min()), nanoseconds(-1)}) {
    auto parsed = parseDuration(formatDuration(value));
    ASSERT_TRUE(parsed.isOk()) << formatDuration(value);
    EXPECT_EQ(*parsed, value) << formatDuration(value);
  }
}

struct SizeCase {
  std::string_view text;
  uint64_t bytes;
};

TEST(ParseByteSize, AcceptsKubernetesQuantities) {
  const SizeCase cases[] = {
      {"0", 0},
      {"100", 100},
      {"+100", 100},
      {"1Ki", 1024},
      {"64Mi", 64 * kMiB},
      {"512Mi", 512 * kMiB},
      {"10Gi", 10 * kGiB},
      {"50Gi", 50 * kGiB},
      {"1Ti", kGiB * 1024},
      {"1.5Gi", kGiB + kGiB / 2},
      {"0.5Ki", 512},
      {".5Ki", 512},
      {"1k", 1000},
      {"2.5k", 2500},
      {"1M", 1'000'000},
      {"1G", 1'000'000'000},
      {"1T", 1'000'000'000'000},
      {"1E", 1'000'000'000'000'000'000},
      {"1e3", 1000},
      {"1E3", 1000},
      {"5e+2", 500},
      {"1000m", 1},
      {"15Ei", 15ULL << 60},
      {"1.25Ei", (5ULL << 60) / 4},
      {"18446744073709551615", std::numeric_limits<uint64_t>::max()},
      {"007", 7},
  };
  for (const auto& c : cases) {
    auto parsed = parseByteSize(c.text);
    ASSERT_TRUE(parsed.isOk()) << c.text << ": " << parsed.status().message();
    EXPECT_EQ(*parsed, c.bytes) << c.text;
  }
}

TEST(ParseByteSize, RejectsWithPreciseMessages) {
  const InvalidCase cases[] = {
      {"", R"("" is not a size such as 64Mi or 1G)"},
      {"Gi", R"("Gi" is not a size such as 64Mi or 1G)"},
      {"1GB",
       R"("1GB" is not a size such as 64Mi or 1G (unknown suffix "GB"; suffixes are Ki Mi Gi Ti Pi Ei and k M G T P E))"},
      {"1gi",
       R"("1gi" is not a size such as 64Mi or 1G (unknown suffix "gi"; suffixes are Ki Mi Gi Ti Pi Ei and k M G T P E))"},
      {"1K",
       R"("1K" is not a size such as 64Mi or 1G (unknown suffix "K"; suffixes are Ki Mi Gi Ti Pi Ei and k M G T P E))"},
      {"1 Gi",
       R"("1 Gi" is not a size such as 64Mi or 1G (unknown suffix " Gi"; suffixes are Ki Mi Gi Ti Pi Ei and k M G T P E))"},
      {"1.5.5",
       R"("1.5.5" is not a size such as 64Mi or 1G (unknown suffix ".5"; suffixes are Ki Mi Gi Ti Pi Ei and k M G T P E))"},
      {"-1Ki", R"("-1Ki" is not a size such as 64Mi or 1G (sizes cannot be negative))"},
      {"0.5", R"("0.5" is not a whole number of bytes)"},
      {"1e-3", R"("1e-3" is not a whole number of bytes)"},
      {"512m",
       R"("512m" is not a whole number of bytes (m means milli; write M for 10^6 or Mi for 2^20))"},
      {"16Ei", R"("16Ei" is too large for a size (at most 2^64-1 bytes))"},
      {"18446744073709551616",
       R"("18446744073709551616" is too large for a size (at most 2^64-1 bytes))"},
      {"1e100", R"("1e100" is too large for a size (at most 2^64-1 bytes))"},
      {"123456789012345678901",
       R"("123456789012345678901" is not a size such as 64Mi or 1G (too many digits))"},
  };
  for (const auto& c : cases) {
    auto parsed = parseByteSize(c.text);
    ASSERT_FALSE(parsed.isOk()) << c.text;
    EXPECT_EQ(parsed.status().message(), c.message) << c.text;
  }
}

TEST(FormatByteSize, ShortestExactQuantity) {
  EXPECT_EQ(formatByteSize(0), "0");
  EXPECT_EQ(formatByteSize(100), "100");
  EXPECT_EQ(formatByteSize(64 * kMiB), "64Mi");
  EXPECT_EQ(formatByteSize(256 * kMiB), "256Mi");
  EXPECT_EQ(formatByteSize(50 * kGiB), "50Gi");
  EXPECT_EQ(formatByteSize(1'000'000'000), "1G");
  EXPECT_EQ(formatByteSize(1000), "1k");
  EXPECT_EQ(formatByteSize(1536), "1536");
  for (uint64_t value : {uint64_t{1}, uint64_t{1023}, uint64_t{1} << 63, uint64_t{123456789},
                         std::numeric_limits<uint64_t>::max()}) {
    auto parsed = parseByteSize(formatByteSize(value));
    ASSERT_TRUE(parsed.isOk()) << formatByteSize(value);
    EXPECT_EQ(*parsed, value);
  }
}

}  // namespace
}  // namespace stackhouse::config
