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

// The one table both transports answer from: every code, on both sides.
TEST(Status, HttpAndGrpcTable) {
  struct Row {
    StatusCode code;
    int http;
    int grpc;
  };
  const Row rows[] = {
      {StatusCode::kOk, 200, 0},
      {StatusCode::kInvalidArgument, 400, 3},
      {StatusCode::kNotFound, 404, 5},
      {StatusCode::kPermissionDenied, 403, 7},
      {StatusCode::kResourceExhausted, 413, 8},
      {StatusCode::kUnsupported, 415, 12},
      {StatusCode::kInternal, 500, 13},
      {StatusCode::kUnavailable, 503, 14},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(std::string(statusCodeName(r.code)));
    EXPECT_EQ(httpStatusCode(r.code), r.http);
    EXPECT_EQ(grpcStatusCode(r.code), r.grpc);
  }
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
