#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace stackhouse {
namespace {

TEST(JsonWriter, ObjectsArraysAndEscapes) {
  std::string out;
  JsonWriter w(out);
  w.beginObject();
  w.field("a", "x\"y\\z\n\x01");
  w.key("list").beginArray().value(int64_t{1}).value(true).null().value(1.5).endArray();
  w.field("n", uint64_t{18446744073709551615ULL});
  w.endObject();
  EXPECT_EQ(out, R"({"a":"x\"y\\z\n\u0001","list":[1,true,null,1.5],"n":18446744073709551615})");
}

TEST(JsonWriter, InvalidUtf8IsReplaced) {
  std::string out;
  appendJsonString(out, std::string_view("ok\xff\xc3\xa9", 5));
  EXPECT_EQ(out, "\"ok\xEF\xBF\xBD\xC3\xA9\"");
}

TEST(JsonWriter, NonFiniteDoubles) {
  std::string out;
  appendJsonDouble(out, NAN);
  out += ',';
  appendJsonDouble(out, -INFINITY);
  EXPECT_EQ(out, "\"NaN\",\"-Infinity\"");
}

}  // namespace
}  // namespace stackhouse
