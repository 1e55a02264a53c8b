// Differential tests: random and hand-built requests are serialized with libprotobuf, decoded by
// our reader, and every column of every row is compared with what the reference mapping
// (otlp_test_support.cc) derives from the libprotobuf message. The same requests go through
// libprotobuf's JSON printer (camelCase and snake_case names, enum names and numbers) and the
// JSON reader must produce the identical rows.
#include <gtest/gtest.h>

#include <span>
#include <string>

#include "otlp/decode.h"
#include "otlp_test_support.h"
#include "telemetry/batch_ops.h"

namespace stackhouse::otlp {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)

constexpr uint64_t kSeeds = 400;

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void expectRows(const std::vector<Row>& actual, const std::vector<Row>& expected,
                const std::string& context) {
  ASSERT_EQ(actual.size(), expected.size()) << context;
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].size(), expected[i].size()) << context << " row " << i;
    for (const auto& [column, cell] : expected[i]) {
      const auto it = actual[i].find(column);
      ASSERT_NE(it, actual[i].end()) << context << " row " << i << " lacks " << column;
      EXPECT_EQ(it->second, cell) << context << " row " << i << " column " << column;
    }
  }
}

struct JsonVariant {
  bool snakeCase;
  bool enumsAsInts;
};
constexpr JsonVariant kJsonVariants[] = {{false, false}, {true, true}, {false, true}};

std::string variantName(const JsonVariant& v) {
  return std::string("json") + (v.snakeCase ? " snake_case" : " camelCase") +
         (v.enumsAsInts ? " enum ints" : " enum names");
}

TEST(Differential, Logs) {
  telemetry::LogBatch accumulated;
  std::vector<Row> accumulatedExpected;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    RequestGenerator gen(seed);
    const LogsRequest request = gen.logs();
    const Expected expected = refLogs(request);
    const std::string wire = request.SerializeAsString();
    const std::string context = "seed " + std::to_string(seed);

    telemetry::LogBatch batch;
    DecodeStats stats;
    const Status st = decodeLogs(bytesOf(wire), Encoding::kProtobuf, batch, stats);
    ASSERT_TRUE(st.isOk()) << context << ": " << st.toString();
    ASSERT_TRUE(columnsConsistent(batch)) << context;
    expectRows(dumpRows(batch), expected.rows, context + " protobuf");
    EXPECT_EQ(stats.accepted, expected.rows.size()) << context;
    EXPECT_EQ(stats.rejected, expected.rejected) << context;
    EXPECT_EQ(stats.firstRejection.empty(), expected.rejected == 0) << context;
    EXPECT_EQ(stats.invalidUtf8, 0u) << context;

    LogsRequest normalized = request;
    normalizeNegativeZero(&normalized);
    const Expected jsonExpected = refLogs(normalized);
    for (const JsonVariant& v : kJsonVariants) {
      const std::string json = toOtlpJson(normalized, v.snakeCase, v.enumsAsInts);
      ASSERT_FALSE(json.empty()) << context;
      telemetry::LogBatch jb;
      DecodeStats js;
      const Status jst = decodeLogs(bytesOf(json), Encoding::kJson, jb, js);
      ASSERT_TRUE(jst.isOk()) << context << " " << variantName(v) << ": " << jst.toString();
      expectRows(dumpRows(jb), jsonExpected.rows, context + " " + variantName(v));
      EXPECT_EQ(js.rejected, expected.rejected) << context;
    }

    // Appending to a batch that already holds rows.
    ASSERT_TRUE(decodeLogs(bytesOf(wire), Encoding::kProtobuf, accumulated, stats).isOk());
    accumulatedExpected.insert(accumulatedExpected.end(), expected.rows.begin(),
                               expected.rows.end());
  }
  ASSERT_TRUE(columnsConsistent(accumulated));
  expectRows(dumpRows(accumulated), accumulatedExpected, "accumulated");
}

TEST(Differential, Spans) {
  telemetry::SpanBatch accumulated;
  std::vector<Row> accumulatedExpected;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    RequestGenerator gen(seed);
    const TraceRequest request = gen.traces();
    const Expected expected = refSpans(request);
    const std::string wire = request.SerializeAsString();
    const std::string context = "seed " + std::to_string(seed);

    telemetry::SpanBatch batch;
    DecodeStats stats;
    const Status st = decodeSpans(bytesOf(wire), Encoding::kProtobuf, batch, stats);
    ASSERT_TRUE(st.isOk()) << context << ": " << st.toString();
    ASSERT_TRUE(columnsConsistent(batch)) << context;
    expectRows(dumpRows(batch), expected.rows, context + " protobuf");
    EXPECT_EQ(stats.accepted, expected.rows.size()) << context;
    EXPECT_EQ(stats.rejected, expected.rejected) << context;

    TraceRequest normalized = request;
    normalizeNegativeZero(&normalized);
    const Expected jsonExpected = refSpans(normalized);
    for (const JsonVariant& v : kJsonVariants) {
      const std::string json = toOtlpJson(normalized, v.snakeCase, v.enumsAsInts);
      telemetry::SpanBatch jb;
      DecodeStats js;
      const Status jst = decodeSpans(bytesOf(json), Encoding::kJson, jb, js);
      ASSERT_TRUE(jst.isOk()) << context << " " << variantName(v) << ": " << jst.toString();
      expectRows(dumpRows(jb), jsonExpected.rows, context + " " + variantName(v));
      EXPECT_EQ(js.rejected, expected.rejected) << context;
    }

    ASSERT_TRUE(decodeSpans(bytesOf(wire), Encoding::kProtobuf, accumulated, stats).isOk());
    accumulatedExpected.insert(accumulatedExpected.end(), expected.rows.begin(),
                               expected.rows.end());
  }
  ASSERT_TRUE(columnsConsistent(accumulated));
  expectRows(dumpRows(accumulated), accumulatedExpected, "accumulated");
}

void expectMetrics(const telemetry::MetricBatch& batch, const ExpectedMetrics& expected,
                   const std::string& context) {
  ASSERT_TRUE(columnsConsistent(batch.gauge)) << context;
  ASSERT_TRUE(columnsConsistent(batch.sum)) << context;
  ASSERT_TRUE(columnsConsistent(batch.histogram)) << context;
  ASSERT_TRUE(columnsConsistent(batch.expHistogram)) << context;
  ASSERT_TRUE(columnsConsistent(batch.summary)) << context;
  expectRows(dumpRows(batch.gauge), expected.gauge, context + " gauge");
  expectRows(dumpRows(batch.sum), expected.sum, context + " sum");
  expectRows(dumpRows(batch.histogram), expected.histogram, context + " histogram");
  expectRows(dumpRows(batch.expHistogram), expected.expHistogram, context + " exp histogram");
  expectRows(dumpRows(batch.summary), expected.summary, context + " summary");
}

TEST(Differential, Metrics) {
  uint64_t kindsSeen[5] = {};
  uint64_t rejectedSeen = 0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    RequestGenerator gen(seed);
    const MetricsRequest request = gen.metrics();
    const ExpectedMetrics expected = refMetrics(request);
    const std::string wire = request.SerializeAsString();
    const std::string context = "seed " + std::to_string(seed);

    telemetry::MetricBatch batch;
    DecodeStats stats;
    const Status st = decodeMetrics(bytesOf(wire), Encoding::kProtobuf, batch, stats);
    ASSERT_TRUE(st.isOk()) << context << ": " << st.toString();
    expectMetrics(batch, expected, context + " protobuf");
    EXPECT_EQ(stats.accepted, batch.rows()) << context;
    EXPECT_EQ(stats.rejected, expected.rejected) << context;
    kindsSeen[0] += batch.gauge.rows();
    kindsSeen[1] += batch.sum.rows();
    kindsSeen[2] += batch.histogram.rows();
    kindsSeen[3] += batch.expHistogram.rows();
    kindsSeen[4] += batch.summary.rows();
    rejectedSeen += stats.rejected;

    MetricsRequest normalized = request;
    normalizeNegativeZero(&normalized);
    const ExpectedMetrics jsonExpected = refMetrics(normalized);
    for (const JsonVariant& v : kJsonVariants) {
      const std::string json = toOtlpJson(normalized, v.snakeCase, v.enumsAsInts);
      telemetry::MetricBatch jb;
      DecodeStats js;
      const Status jst = decodeMetrics(bytesOf(json), Encoding::kJson, jb, js);
      ASSERT_TRUE(jst.isOk()) << context << " " << variantName(v) << ": " << jst.toString();
      expectMetrics(jb, jsonExpected, context + " " + variantName(v));
      EXPECT_EQ(js.rejected, expected.rejected) << context;
    }
  }
  // The generator reaches every kind, and rejections.
  for (uint64_t n : kindsSeen) EXPECT_GT(n, 50u);
  EXPECT_GT(rejectedSeen, 0u);
}

// Deeper values than the generator's default, up to the limit.
TEST(Differential, DeepValuesWithinTheLimit) {
  GenOptions options;
  options.maxDepth = 8;
  for (uint64_t seed = 1000; seed < 1100; ++seed) {
    RequestGenerator gen(seed, options);
    const LogsRequest request = gen.logs();
    const Expected expected = refLogs(request);
    const std::string wire = request.SerializeAsString();
    telemetry::LogBatch batch;
    DecodeStats stats;
    ASSERT_TRUE(decodeLogs(bytesOf(wire), Encoding::kProtobuf, batch, stats).isOk());
    expectRows(dumpRows(batch), expected.rows, "seed " + std::to_string(seed));
    LogsRequest normalized = request;
    normalizeNegativeZero(&normalized);
    const std::string json = toOtlpJson(normalized);
    telemetry::LogBatch jb;
    ASSERT_TRUE(decodeLogs(bytesOf(json), Encoding::kJson, jb, stats).isOk());
    expectRows(dumpRows(jb), refLogs(normalized).rows, "json seed " + std::to_string(seed));
  }
}

}  // namespace
}  // namespace stackhouse::otlp
