#include "store/store_error.h"

#include <gtest/gtest.h>

namespace stackhouse::store {
namespace {

TEST(StoreError, ParsesClickHouseMessages) {
  auto e = parseEngineError(
      "Code: 60. DB::Exception: Unknown table expression identifier 'otel.nope' in scope SELECT "
      "* FROM otel.nope. (UNKNOWN_TABLE) (version 26.5.1.1)\n");
  EXPECT_EQ(e.code, 60);
  EXPECT_EQ(e.name, "UNKNOWN_TABLE");
  EXPECT_EQ(e.message,
            "Unknown table expression identifier 'otel.nope' in scope SELECT * FROM otel.nope");
  EXPECT_EQ(toStatus(e).code(), StatusCode::kInvalidArgument);
}

TEST(StoreError, ReadonlyIsPermissionDenied) {
  auto e = parseEngineError(
      "Code: 164. DB::Exception: default: Cannot execute query in readonly mode. (READONLY)");
  EXPECT_EQ(e.code, 164);
  EXPECT_EQ(toStatus(e).code(), StatusCode::kPermissionDenied);
}

TEST(StoreError, TextWithoutCode) {
  auto e = parseEngineError("something odd");
  EXPECT_EQ(e.code, 0);
  EXPECT_EQ(e.message, "something odd");
  EXPECT_EQ(toStatus(e).code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace stackhouse::store
