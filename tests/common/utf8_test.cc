#include "common/utf8.h"

#include <gtest/gtest.h>

namespace stackhouse {
namespace {

TEST(Utf8, Validates) {
  EXPECT_TRUE(isValidUtf8("plain ascii text that is longer than eight bytes"));
  EXPECT_TRUE(isValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(isValidUtf8("abc\xE2\x82"));       // truncated
}

TEST(Utf8, Sanitizes) {
  std::string out;
  EXPECT_EQ(appendUtf8Sanitized(out, std::string_view("a\xFF"
                                                      "b\xC3",
                                                      4)),
            2u);
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
}

}  // namespace
}  // namespace stackhouse
