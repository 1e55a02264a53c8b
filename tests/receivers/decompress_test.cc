#include "receivers/decompress.h"

#include <gtest/gtest.h>

#include "receivers/gzip_util.h"

namespace stackhouse::receivers {
namespace {

TEST(Gunzip, InflatesWithinTheLimit) {
  const std::string text(100000, 'x');
  std::string out;
  ASSERT_TRUE(gunzip(testing::gzip(text), 100000, out).isOk());
  EXPECT_EQ(out, text);
}

TEST(Gunzip, ConcatenatedMembers) {
  std::string out;
  ASSERT_TRUE(gunzip(testing::gzip("abc") + testing::gzip("def"), 100, out).isOk());
  EXPECT_EQ(out, "abcdef");
}

TEST(Gunzip, ABombStopsAtTheLimit) {
  // 1 GiB of zeros in about a megabyte: inflating stops at the limit, never allocating more.
  const std::string bomb = testing::gzipZeros(size_t{1} << 30);
  ASSERT_LT(bomb.size(), 2u << 20);
  std::string out;
  const Status s = gunzip(bomb, 1u << 20, out);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("exceeds the limit of 1048576 bytes"), std::string::npos);
  EXPECT_LE(out.capacity(), (2u << 20));
}

TEST(Gunzip, ExactlyTheLimitIsAllowed) {
  std::string out;
  EXPECT_TRUE(gunzip(testing::gzip(std::string(1000, 'a')), 1000, out).isOk());
  EXPECT_EQ(gunzip(testing::gzip(std::string(1001, 'a')), 1000, out).code(),
            StatusCode::kResourceExhausted);
}

TEST(Gunzip, RejectsGarbageAndTruncation) {
  std::string out;
  EXPECT_EQ(gunzip("not gzip at all", 1000, out).code(), StatusCode::kInvalidArgument);
  const std::string z = testing::gzip(std::string(5000, 'q'));
  EXPECT_EQ(gunzip(std::string_view(z).substr(0, z.size() / 2), 100000, out).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(gunzip("", 1000, out).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stackhouse::receivers
