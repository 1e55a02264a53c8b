// encodeLogsRequest / encodeTraceRequest / encodeMetricsRequest: random requests (the
// differential test's generator) are decoded into batches, encoded back, parsed by libprotobuf
// (the independent reader: the bytes must be a valid Export*ServiceRequest with no unknown
// fields) and decoded again; every column of every row must come back as it was, whether the
// rows go out as one request or cut into several slices.
#include "otlp/request_encode.h"

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "otlp/decode.h"
#include "otlp_test_support.h"

namespace stackhouse::otlp {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)

constexpr uint64_t kSeeds = 200;

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool hasUnknownFields(const google::protobuf::Message& m) {
  const auto* reflection = m.GetReflection();
  if (!reflection->GetUnknownFields(m).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(m, f); ++i) {
        if (hasUnknownFields(reflection->GetRepeatedMessage(m, f, i))) return true;
      }
    } else if (hasUnknownFields(reflection->GetMessage(m, f))) {
      return true;
    }
  }
  return false;
}

// Cuts rows [0, rows) at a few seed-dependent places.
template <typename Batch>
std::vector<RowSlice<Batch>> slicesOf(const Batch& batch, size_t rows, uint64_t seed) {
  std::vector<RowSlice<Batch>> slices;
  size_t begin = 0;
  for (size_t cut = 1 + seed % 3; begin < rows; cut = cut * 2 + 1) {
    const size_t end = std::min(rows, begin + cut);
    slices.push_back({&batch, begin, end});
    begin = end;
  }
  return slices;
}

template <typename Request, typename Batch, typename Decode, typename Encode>
void roundTrip(const Request& request, Decode decode, Encode encode, size_t (*rowsOf)(const Batch&),
               uint64_t seed) {
  const std::string context = "seed " + std::to_string(seed);
  Batch original;
  DecodeStats stats;
  ASSERT_TRUE(decode(bytesOf(request.SerializeAsString()), original, stats).isOk()) << context;
  const size_t rows = rowsOf(original);
  for (bool cut : {false, true}) {
    std::vector<RowSlice<Batch>> slices =
        cut ? slicesOf(original, rows, seed) : std::vector<RowSlice<Batch>>{{&original, 0, rows}};
    std::string wire;
    encode(std::span<const RowSlice<Batch>>(slices), wire);
    Request parsed;
    ASSERT_TRUE(parsed.ParseFromString(wire)) << context;
    EXPECT_FALSE(hasUnknownFields(parsed)) << context;
    Batch again;
    DecodeStats againStats;
    ASSERT_TRUE(decode(bytesOf(wire), again, againStats).isOk()) << context;
    EXPECT_EQ(againStats.rejected, 0u) << context;
    if constexpr (std::is_same_v<Batch, telemetry::MetricBatch>) {
      EXPECT_EQ(dumpRows(again.gauge), dumpRows(original.gauge)) << context;
      EXPECT_EQ(dumpRows(again.sum), dumpRows(original.sum)) << context;
      EXPECT_EQ(dumpRows(again.histogram), dumpRows(original.histogram)) << context;
      EXPECT_EQ(dumpRows(again.expHistogram), dumpRows(original.expHistogram)) << context;
      EXPECT_EQ(dumpRows(again.summary), dumpRows(original.summary)) << context;
    } else {
      EXPECT_EQ(dumpRows(again), dumpRows(original)) << context << (cut ? " cut" : " whole");
    }
  }
}

TEST(RequestEncode, LogsRoundTrip) {
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    RequestGenerator gen(seed);
    roundTrip<LogsRequest, telemetry::LogBatch>(
        gen.logs(),
        [](std::span<const uint8_t> b, telemetry::LogBatch& out, DecodeStats& s) {
          return decodeLogs(b, Encoding::kProtobuf, out, s);
        },
        [](std::span<const RowSlice<telemetry::LogBatch>> s, std::string& out) {
          encodeLogsRequest(s, out);
        },
        +[](const telemetry::LogBatch& b) { return b.rows(); }, seed);
  }
}

TEST(RequestEncode, SpansRoundTrip) {
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    RequestGenerator gen(seed);
    roundTrip<TraceRequest, telemetry::SpanBatch>(
        gen.traces(),
        [](std::span<const uint8_t> b, telemetry::SpanBatch& out, DecodeStats& s) {
          return decodeSpans(b, Encoding::kProtobuf, out, s);
        },
        [](std::span<const RowSlice<telemetry::SpanBatch>> s, std::string& out) {
          encodeTraceRequest(s, out);
        },
        +[](const telemetry::SpanBatch& b) { return b.rows(); }, seed);
  }
}

TEST(RequestEncode, MetricsRoundTrip) {
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    RequestGenerator gen(seed);
    roundTrip<MetricsRequest, telemetry::MetricBatch>(
        gen.metrics(),
        [](std::span<const uint8_t> b, telemetry::MetricBatch& out, DecodeStats& s) {
          return decodeMetrics(b, Encoding::kProtobuf, out, s);
        },
        [](std::span<const RowSlice<telemetry::MetricBatch>> s, std::string& out) {
          encodeMetricsRequest(s, out);
        },
        +[](const telemetry::MetricBatch& b) { return b.rows(); }, seed);
  }
}

TEST(RequestEncode, NoRowsIsTheEmptyMessage) {
  telemetry::LogBatch batch;
  std::string wire;
  std::vector<RowSlice<telemetry::LogBatch>> none{{&batch, 0, 0}};
  encodeLogsRequest(none, wire);
  EXPECT_TRUE(wire.empty());
}

}  // namespace
}  // namespace stackhouse::otlp
