#include "sinks/http/compression.h"

#include <gtest/gtest.h>

#include <random>

namespace stackhouse::sinks::http {
namespace {

std::string sample(size_t n) {
  std::mt19937 rng(7);
  std::string s;
  s.reserve(n);
  static constexpr std::string_view kWords[] = {"order ", "paid ", "checkout ",
                                                "42 ",    "\n",    {"\0", 1}};
  while (s.size() < n) {
    if (rng() % 8 == 0) {
      s.push_back(static_cast<char>(rng()));
    } else {
      s.append(kWords[rng() % std::size(kWords)]);
    }
  }
  s.resize(n);
  return s;
}

TEST(Compression, Names) {
  EXPECT_EQ(parseCompression("gzip"), Compression::kGzip);
  EXPECT_EQ(parseCompression("zstd"), Compression::kZstd);
  EXPECT_EQ(parseCompression("none"), Compression::kNone);
  EXPECT_EQ(parseCompression("lz4"), std::nullopt);
  EXPECT_EQ(parseCompression("GZIP"), std::nullopt);
  EXPECT_EQ(compressionName(Compression::kGzip), "gzip");
  EXPECT_EQ(compressionName(Compression::kZstd), "zstd");
  EXPECT_EQ(compressionName(Compression::kNone), "");
}

TEST(Compression, RoundTrips) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{3} << 20}) {
      std::string in = sample(n);
      std::string packed, unpacked;
      ASSERT_TRUE(compress(c, in, packed).isOk());
      if (c != Compression::kNone && n >= 1000) {
        EXPECT_LT(packed.size(), in.size());
      }
      Status s = decompress(c, packed, n + 1, unpacked);
      ASSERT_TRUE(s.isOk()) << s.toString();
      EXPECT_EQ(unpacked, in) << compressionName(c) << " " << n;
    }
  }
}

TEST(Compression, ReadsConcatenatedMembersAndFrames) {
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    std::string a, b, unpacked;
    ASSERT_TRUE(compress(c, "first ", a).isOk());
    ASSERT_TRUE(compress(c, "second", b).isOk());
    ASSERT_TRUE(decompress(c, a + b, 100, unpacked).isOk());
    EXPECT_EQ(unpacked, "first second");
  }
}

TEST(Compression, RefusesBombsTruncationAndGarbage) {
  std::string zeros(64 << 20, '\0');
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    std::string packed, out;
    ASSERT_TRUE(compress(c, zeros, packed).isOk());
    EXPECT_LT(packed.size(), 1u << 20);
    Status s = decompress(c, packed, 1 << 20, out);
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << compressionName(c);
    EXPECT_LE(out.size(), 1u << 20);

    std::string in = sample(100000);
    ASSERT_TRUE(compress(c, in, packed).isOk());
    s = decompress(c, std::string_view(packed).substr(0, packed.size() / 2), 1 << 20, out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << compressionName(c) << " truncated";
    s = decompress(c, "this is not compressed at all", 1 << 20, out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << compressionName(c) << " garbage";
  }
  std::string out;
  EXPECT_EQ(decompress(Compression::kNone, "12345", 4, out).code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace stackhouse::sinks::http
