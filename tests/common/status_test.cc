#include "common/status.h"

#include <gtest/gtest.h>

namespace stackhouse {
namespace {

Result<int> half(int v) {
  if (v % 2 != 0) return invalidArgument("odd value");
  return v / 2;
}

Status chain(int v, int* out) {
  auto r = half(v);
  if (!r) return r.status();
  *out = *r;
  return Status::ok();
}

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(Status::ok().isOk());
  Status s = resourceExhausted("too big");
  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.toString(), "resource exhausted: too big");
}

TEST(Status, GrpcCodes) {
  EXPECT_EQ(grpcStatusCode(StatusCode::kOk), 0);
  EXPECT_EQ(grpcStatusCode(StatusCode::kInvalidArgument), 3);
  EXPECT_EQ(grpcStatusCode(StatusCode::kResourceExhausted), 8);
  EXPECT_EQ(grpcStatusCode(StatusCode::kUnavailable), 14);
  EXPECT_EQ(grpcStatusCode(StatusCode::kUnsupported), 12);
  EXPECT_EQ(grpcStatusCode(StatusCode::kInternal), 13);
}

TEST(Result, ValueOrStatus) {
  int out = 0;
  EXPECT_TRUE(chain(8, &out).isOk());
  EXPECT_EQ(out, 4);
  Status s = chain(3, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "odd value");
}

}  // namespace
}  // namespace stackhouse
