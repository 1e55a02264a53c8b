// Response bodies, read back with libprotobuf.
#include "otlp/encode.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "otlp_test_support.h"

namespace stackhouse::otlp {
namespace {

using opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse;
using opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;

TEST(Encode, FullSuccessIsTheEmptyMessage) {
  EXPECT_EQ(encodeExportResponse(Signal::kLogs, Encoding::kProtobuf, 0, ""), "");
  EXPECT_EQ(encodeExportResponse(Signal::kTraces, Encoding::kJson, 0, ""), "{}");
}

TEST(Encode, PartialSuccessProtobuf) {
  ExportLogsServiceResponse logs;
  ASSERT_TRUE(logs.ParseFromString(
      encodeExportResponse(Signal::kLogs, Encoding::kProtobuf, 3, "log record 2: bad")));
  EXPECT_EQ(logs.partial_success().rejected_log_records(), 3);
  EXPECT_EQ(logs.partial_success().error_message(), "log record 2: bad");

  ExportTraceServiceResponse traces;
  ASSERT_TRUE(traces.ParseFromString(
      encodeExportResponse(Signal::kTraces, Encoding::kProtobuf, 1ull << 40, "")));
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
                  encodeExportResponse(Signal::kTraces, Encoding::kJson, 2, ""), &traces)
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

TEST(Encode, RetryStatusCarriesRetryInfo) {
  for (uint64_t millis : {uint64_t{1000}, uint64_t{250}, uint64_t{2500}, uint64_t{0}}) {
    SCOPED_TRACE(millis);
    google::rpc::Status status;
    ASSERT_TRUE(status.ParseFromString(encodeRetryStatus(14, "memory limit reached", millis)));
    EXPECT_EQ(status.code(), 14);
    EXPECT_EQ(status.message(), "memory limit reached");
    ASSERT_EQ(status.details_size(), 1);
    EXPECT_EQ(status.details(0).type_url(), "type.googleapis.com/google.rpc.RetryInfo");
    google::rpc::RetryInfo info;
    ASSERT_TRUE(status.details(0).UnpackTo(&info));
    EXPECT_EQ(info.retry_delay().seconds(), static_cast<int64_t>(millis / 1000));
    EXPECT_EQ(info.retry_delay().nanos(), static_cast<int32_t>(millis % 1000 * 1'000'000));
  }
}

TEST(Encode, PartialSuccessMessageNamesTheLimits) {
  DecodeLimits limits;
  DecodeStats stats;
  EXPECT_EQ(partialSuccessMessage(stats, limits), "");
  stats.firstRejection = "span 0: trace_id has 3 bytes, expected 16";
  EXPECT_EQ(partialSuccessMessage(stats, limits), "");  // nothing rejected in this request
  stats.rejected = 1;
  EXPECT_EQ(partialSuccessMessage(stats, limits), "span 0: trace_id has 3 bytes, expected 16");
  stats.droppedAttributes = 72;
  stats.truncatedValues = 2;
  EXPECT_EQ(partialSuccessMessage(stats, limits),
            "span 0: trace_id has 3 bytes, expected 16; attributes dropped past 128 in one "
            "record: 72 (limit otelConfig.receivers.otlp.limits.maxAttributesPerRecord); "
            "attribute values cut to 65536 bytes: 2 (limit "
            "otelConfig.receivers.otlp.limits.maxAttributeValueLength)");
  stats.rejected = 0;
  stats.droppedAttributes = 0;
  stats.truncatedValues = 0;
  stats.truncatedKeys = 1;
  limits.maxKeyBytes = 16;
  EXPECT_EQ(partialSuccessMessage(stats, limits),
            "attribute keys cut to 16 bytes: 1 (limit "
            "otelConfig.receivers.otlp.limits.maxAttributeKeyLength)");
}

}  // namespace
}  // namespace stackhouse::otlp
