// The text renderings of src/otlp/text_format.h, against Go's strconv/encoding/json spellings.
#include "otlp/text_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "otlp/json_keys.h"
#include "otlp_test_support.h"

namespace stackhouse::otlp::detail {
namespace {

template <typename F>
std::string render(F&& f) {
  Buffer b;
  f(b);
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::string es6(double v) {
  return render([v](Buffer& b) { appendEs6Double(b, v); });
}

TEST(TextFormat, Es6DoublesAsGoWritesThem) {
  const std::pair<double, const char*> cases[] = {
      {0.0, "0"},
      {-0.0, "-0"},
      {1.0, "1"},
      {-2.5, "-2.5"},
      {0.1, "0.1"},
      {100.0, "100"},
      {1e20, "100000000000000000000"},
      {123456789012345680000.0, "123456789012345680000"},
      {9.999999999999999e20, "999999999999999900000"},
      {1e21, "1e+21"},
      {1.5e300, "1.5e+300"},
      {1e-6, "0.000001"},
      {1.25e-6, "0.00000125"},
      {9.99e-7, "9.99e-7"},
      {1e-7, "1e-7"},
      {1.5e-10, "1.5e-10"},
      {5e-324, "5e-324"},
      {std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
      {0.30000000000000004, "0.30000000000000004"},
  };
  for (const auto& [v, want] : cases) EXPECT_EQ(es6(v), want) << want;
}

TEST(TextFormat, Es6MatchesTheReferenceOnRandomDoubles) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) continue;
    if (i % 2 == 0)
      v = static_cast<double>(static_cast<int64_t>(rng() % 2000000) - 1000000) /
          static_cast<double>(1 + rng() % 10000);
    ASSERT_EQ(es6(v), testing::refEs6(v)) << std::hexfloat << v;
  }
}

TEST(TextFormat, SpecialDoubles) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(render([&](Buffer& b) { appendDoubleAsString(b, nan); }), "NaN");
  EXPECT_EQ(render([&](Buffer& b) { appendDoubleAsString(b, inf); }), "+Inf");
  EXPECT_EQ(render([&](Buffer& b) { appendDoubleAsString(b, -inf); }), "-Inf");
  EXPECT_EQ(render([&](Buffer& b) { appendDoubleAsJson(b, nan); }), "\"NaN\"");
  EXPECT_EQ(render([&](Buffer& b) { appendDoubleAsJson(b, inf); }), "\"Infinity\"");
  EXPECT_EQ(render([&](Buffer& b) { appendDoubleAsJson(b, -inf); }), "\"-Infinity\"");
}

TEST(TextFormat, GoJsonStrings) {
  auto quote = [](std::string_view s, size_t* replaced = nullptr) {
    return render([&](Buffer& b) {
      const size_t n = appendGoJsonString(b, s);
      if (replaced != nullptr) *replaced = n;
    });
  };
  EXPECT_EQ(quote("plain"), R"("plain")");
  EXPECT_EQ(quote("\"\\\b\f\n\r\t\x01\x1f\x7f"), R"("\"\\\b\f\n\r\t\u0001\u001f)"
                                                 "\x7f\"");
  EXPECT_EQ(quote("<a href='x'>&</a>"), R"("\u003ca href='x'\u003e\u0026\u003c/a\u003e")");
  EXPECT_EQ(quote("line\u2028para\u2029"), R"("line\u2028para\u2029")");
  EXPECT_EQ(quote("é€𝄞"), "\"é€𝄞\"");
  size_t replaced = 0;
  EXPECT_EQ(quote("a\xff"
                  "b\xc3",
                  &replaced),
            R"("a\ufffdb\ufffd")");
  EXPECT_EQ(replaced, 2u);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 12, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    ASSERT_EQ(quote(s), testing::refGoJsonQuote(s));
  }
}

TEST(TextFormat, Sanitized) {
  Buffer b;
  EXPECT_EQ(appendSanitized(b, "ok é"), 0u);
  EXPECT_EQ(appendSanitized(b, "\xff\xe2\x82"), 3u);  // a bad byte, then a truncated € (2 bytes)
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), b.size()),
            "ok é\uFFFD\uFFFD\uFFFD");
}

TEST(TextFormat, Base64AndHex) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    std::string raw(rng() % 40, '\0');
    for (auto& c : raw) c = static_cast<char>(rng());
    const std::string encoded = render([&](Buffer& b) {
      appendBase64(b, reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
    });
    ASSERT_EQ(encoded, testing::refBase64(raw));
    std::string decoded;
    ASSERT_TRUE(decodeBase64(encoded, decoded));
    ASSERT_EQ(decoded, raw);
    // URL-safe alphabet and no padding are accepted too.
    std::string url = encoded;
    for (auto& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!url.empty() && url.back() == '=') url.pop_back();
    ASSERT_TRUE(decodeBase64(url, decoded));
    ASSERT_EQ(decoded, raw);
    const std::string hex = render(
        [&](Buffer& b) { appendHex(b, reinterpret_cast<const uint8_t*>(raw.data()), raw.size()); });
    ASSERT_EQ(hex, testing::refHex(raw));
  }
  std::string out;
  for (const char* bad : {"a", "ab=c", "a===", "ab!c", "abcde"}) {
    EXPECT_FALSE(decodeBase64(bad, out)) << bad;
  }
  uint8_t bytes[16];
  size_t n = 0;
  EXPECT_TRUE(decodeHex("0aFf", bytes, sizeof bytes, &n));
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(bytes[1], 0xff);
  EXPECT_FALSE(decodeHex("0aF", bytes, sizeof bytes, &n));
  EXPECT_FALSE(decodeHex("0g", bytes, sizeof bytes, &n));
  EXPECT_FALSE(decodeHex(std::string(34, '0'), bytes, sizeof bytes, &n));
}

TEST(JsonKeys, CamelAndSnakeCaseMatch) {
  EXPECT_EQ(lookupKey("timeUnixNano"), Key::kTimeUnixNano);
  EXPECT_EQ(lookupKey("time_unix_nano"), Key::kTimeUnixNano);
  EXPECT_EQ(lookupKey("observedTimeUnixNano"), Key::kObservedTimeUnixNano);
  EXPECT_EQ(lookupKey("kvlist_value"), Key::kKvlistValue);
  EXPECT_EQ(lookupKey("exponentialHistogram"), Key::kExponentialHistogram);
  EXPECT_EQ(lookupKey("timeUnixNanos"), Key::kUnknown);
  EXPECT_EQ(lookupKey("timeUnixNan"), Key::kUnknown);
  EXPECT_EQ(lookupKey(""), Key::kUnknown);
  EXPECT_EQ(lookupKey(std::string(1000, '_')), Key::kUnknown);
  EXPECT_EQ(keyName(Key::kParentSpanId), "parentSpanId");
}

}  // namespace
}  // namespace stackhouse::otlp::detail
