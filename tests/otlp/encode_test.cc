// Response bodies, read back with libprotobuf.
#include "otlp/encode.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "google/rpc/status.pb.h"
#include "otlp_test_support.h"

namespace stackhouse::otlp {
namespace {

using opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;

TEST(Encode, FullSuccessIsTheEmptyMessage) {
  EXPECT_EQ(encodeExportResponse(Signal::kLogs, Encoding::kProtobuf, 0, ""), "");
  EXPECT_EQ(encodeExportResponse(Signal::kSpans, Encoding::kJson, 0, ""), "{}");
}

TEST(Encode, PartialSuccessProtobuf) {
  ExportLogsServiceResponse logs;
  ASSERT_TRUE(logs.ParseFromString(
      encodeExportResponse(Signal::kLogs, Encoding::kProtobuf, 3, "log record 2: bad")));
  EXPECT_EQ(logs.partial_success().rejected_log_records(), 3);
  EXPECT_EQ(logs.partial_success().error_message(), "log record 2: bad");

  ExportTraceServiceResponse traces;
  ASSERT_TRUE(traces.ParseFromString(
      encodeExportResponse(Signal::kSpans, Encoding::kProtobuf, 1ull << 40, "")));
  EXPECT_EQ(traces.partial_success().rejected_spans(), int64_t{1} << 40);
  EXPECT_TRUE(traces.has_partial_success());

  ExportMetricsServiceResponse metrics;
  ASSERT_TRUE(metrics.ParseFromString(
      encodeExportResponse(Signal::kMetrics, Encoding::kProtobuf, 0, "warning only")));
  EXPECT_EQ(metrics.partial_success().rejected_data_points(), 0);
  EXPECT_EQ(metrics.partial_success().error_message(), "warning only");
}

TEST(Encode, PartialSuccessJson) {
  const std::string json =
      encodeExportResponse(Signal::kMetrics, Encoding::kJson, 7, "data point 0: \"x\" \xff");
  EXPECT_EQ(json,
            R"({"partialSuccess":{"rejectedDataPoints":"7","errorMessage":"data point 0: \"x\" )"
            "\xEF\xBF\xBD\"}}");
  ExportMetricsServiceResponse metrics;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &metrics).ok());
  EXPECT_EQ(metrics.partial_success().rejected_data_points(), 7);
  ExportTraceServiceResponse traces;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  encodeExportResponse(Signal::kSpans, Encoding::kJson, 2, ""), &traces)
                  .ok());
  EXPECT_EQ(traces.partial_success().rejected_spans(), 2);
  ExportLogsServiceResponse logs;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  encodeExportResponse(Signal::kLogs, Encoding::kJson, 1, "m"), &logs)
                  .ok());
  EXPECT_EQ(logs.partial_success().rejected_log_records(), 1);
}

TEST(Encode, ProtobufMessagesAreValidUtf8) {
  ExportLogsServiceResponse logs;
  ASSERT_TRUE(logs.ParseFromString(
      encodeExportResponse(Signal::kLogs, Encoding::kProtobuf, 1, "bad \xff byte")));
  EXPECT_EQ(logs.partial_success().error_message(), "bad \uFFFD byte");
}

TEST(Encode, Status) {
  google::rpc::Status status;
  ASSERT_TRUE(status.ParseFromString(encodeStatus(Encoding::kProtobuf, 3, "protobuf: bad")));
  EXPECT_EQ(status.code(), 3);
  EXPECT_EQ(status.message(), "protobuf: bad");
  ASSERT_TRUE(status.ParseFromString(encodeStatus(Encoding::kProtobuf, -1, "")));
  EXPECT_EQ(status.code(), -1);
  EXPECT_EQ(encodeStatus(Encoding::kProtobuf, 0, ""), "");
  const std::string json = encodeStatus(Encoding::kJson, 8, "slow down");
  EXPECT_EQ(json, R"({"code":8,"message":"slow down"})");
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &status).ok());
  EXPECT_EQ(status.code(), 8);
}

}  // namespace
}  // namespace stackhouse::otlp
