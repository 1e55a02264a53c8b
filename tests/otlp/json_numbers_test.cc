// OTLP/JSON integers as senders whose numbers are doubles write them (every JavaScript SDK:
// JSON.stringify of a Number): int64 values past 2^53 as the double they became
// (9223372036854776000, -9223372036854776000), large ones in exponent form (1e+21). They must be
// kept, stored as the protobuf encoding of the same SDK values is; a count that has no uint64
// value rejects its data point alone (OTLP partial success), never the request.
#include <gtest/gtest.h>

#include <span>
#include <string>

#include "otlp/decode.h"
#include "otlp_test_support.h"

namespace stackhouse::otlp {
namespace {

using testing::cellOf;

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string jsonLogs(std::string_view record) {
  return R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)" + std::string(record) + "]}]}]}";
}

std::string jsonMetrics(std::string_view metrics) {
  return R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[)" + std::string(metrics) + "]}]}]}";
}

// What the JS SDK's JSON and protobuf serializers write for one attribute value (a Number):
// JSON always {"intValue": <JSON.stringify(n)>} for an integral n; protobuf int_value when
// -2^63 <= n < 2^63, else double_value.
struct EdgeNumber {
  const char* key;
  const char* jsonText;  // as JSON.stringify writes the Number
  double number;
  const char* stored;  // the attribute value as stored, from either encoding
};

constexpr EdgeNumber kEdges[] = {
    {"two_pow_63", "9223372036854776000", 9223372036854775808.0, "9223372036854776000"},
    {"minus_two_pow_63", "-9223372036854776000", -9223372036854775808.0, "-9223372036854775808"},
    {"two_pow_53_plus_2", "9007199254740994", 9007199254740994.0, "9007199254740994"},
    {"e21", "1e+21", 1e21, "1e+21"},
    {"minus_e21", "-1e+21", -1e21, "-1e+21"},
    {"two_pow_64", "18446744073709552000", 18446744073709551616.0, "18446744073709552000"},
    {"e300", "1e+300", 1e300, "1e+300"},
};

void setAsTheSdkEncodesProtobuf(testing::pbcommon::AnyValue* v, double n) {
  if (n >= -9223372036854775808.0 && n < 9223372036854775808.0) {
    v->set_int_value(static_cast<int64_t>(n));
  } else {
    v->set_double_value(n);
  }
}

TEST(JsonNumbers, IntValuesAsJavaScriptWritesThemMatchTheProtobufTwin) {
  std::string attrs;
  std::string array;
  for (const EdgeNumber& e : kEdges) {
    if (!attrs.empty()) attrs += ",";
    attrs += std::string(R"({"key":")") + e.key + R"(","value":{"intValue":)" + e.jsonText + "}}";
    if (!array.empty()) array += ",";
    array += std::string(R"({"intValue":)") + e.jsonText + "}";
  }
  attrs += R"(,{"key":"array","value":{"arrayValue":{"values":[)" + array + "]}}}";
  const std::string json =
      jsonLogs(R"({"body":{"intValue":9223372036854776000},"attributes":[)" + attrs + "]}");

  testing::LogsRequest req;
  auto* lr = req.add_resource_logs()->add_scope_logs()->add_log_records();
  setAsTheSdkEncodesProtobuf(lr->mutable_body(), 9223372036854775808.0);
  auto* arrayValue = [&] {
    for (const EdgeNumber& e : kEdges) {
      auto* kv = lr->add_attributes();
      kv->set_key(e.key);
      setAsTheSdkEncodesProtobuf(kv->mutable_value(), e.number);
    }
    auto* kv = lr->add_attributes();
    kv->set_key("array");
    return kv->mutable_value()->mutable_array_value();
  }();
  for (const EdgeNumber& e : kEdges) setAsTheSdkEncodesProtobuf(arrayValue->add_values(), e.number);
  const std::string proto = req.SerializeAsString();

  telemetry::LogBatch fromJson;
  telemetry::LogBatch fromProto;
  DecodeStats jsonStats;
  DecodeStats protoStats;
  const Status js = decodeLogs(bytesOf(json), Encoding::kJson, fromJson, jsonStats);
  ASSERT_TRUE(js.isOk()) << js.toString();
  ASSERT_TRUE(decodeLogs(bytesOf(proto), Encoding::kProtobuf, fromProto, protoStats).isOk());
  ASSERT_EQ(fromJson.rows(), 1u);
  EXPECT_EQ(jsonStats.rejected, 0u);
  EXPECT_EQ(testing::dumpRows(fromJson), testing::dumpRows(fromProto));

  std::string want = "{";
  std::string wantArray = "[";
  for (const EdgeNumber& e : kEdges) {
    want += std::string(want.size() > 1 ? ", " : "") + "\"" + e.key + "\": \"" + e.stored + "\"";
    wantArray += std::string(wantArray.size() > 1 ? "," : "") + e.stored;
  }
  want += ", \"array\": \"" + wantArray + "]\"}";
  EXPECT_EQ(cellOf(fromJson.logAttributes, 0), want);
  EXPECT_EQ(fromJson.body.at(0), "9223372036854776000");
}

TEST(JsonNumbers, OtherIntValueSpellingsAreKept) {
  const std::string json = jsonLogs(R"({"attributes":[)"
                                    R"({"key":"a","value":{"intValue":1e3}},)"
                                    R"({"key":"b","value":{"intValue":"-9223372036854775808"}},)"
                                    R"({"key":"c","value":{"intValue":"9223372036854775808"}},)"
                                    R"({"key":"d","value":{"intValue":"1e21"}},)"
                                    R"({"key":"e","value":{"intValue":-92233720368547758080}},)"
                                    R"({"key":"f","value":{"intValue":1.5}},)"
                                    R"({"key":"g","value":{"intValue":-0.0}}]})");
  telemetry::LogBatch b;
  DecodeStats stats;
  const Status st = decodeLogs(bytesOf(json), Encoding::kJson, b, stats);
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_EQ(cellOf(b.logAttributes, 0),
            R"({"a": "1000", "b": "-9223372036854775808", "c": "9223372036854776000", )"
            R"("d": "1e+21", "e": "-92233720368547760000", "f": "1.5", "g": "0"})");
}

TEST(JsonNumbers, SpansKeepEdgeIntegersInEveryAttributeMap) {
  const std::string json =
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":"r","value":{"intValue":1e+21}}]},)"
      R"("scopeSpans":[{"scope":{"attributes":[{"key":"s","value":{"intValue":-1e+21}}]},)"
      R"("spans":[{"name":"x","attributes":[{"key":"a","value":{"intValue":9223372036854776000}}],)"
      R"("events":[{"name":"e","attributes":[{"key":"b","value":{"intValue":-9223372036854776000}}]}],)"
      R"("links":[{"attributes":[{"key":"c","value":{"intValue":18446744073709552000}}]}]}]}]}]})";
  telemetry::SpanBatch b;
  DecodeStats stats;
  const Status st = decodeSpans(bytesOf(json), Encoding::kJson, b, stats);
  ASSERT_TRUE(st.isOk()) << st.toString();
  ASSERT_EQ(b.rows(), 1u);
  EXPECT_EQ(cellOf(b.resourceAttributes, 0), R"({"r": "1e+21"})");
  EXPECT_EQ(cellOf(b.spanAttributes, 0), R"({"a": "9223372036854776000"})");
  EXPECT_EQ(cellOf(b.eventsAttributes, 0), R"([{"b": "-9223372036854775808"}])");
  EXPECT_EQ(cellOf(b.linksAttributes, 0), R"([{"c": "18446744073709552000"}])");
}

TEST(JsonNumbers, AsIntPastInt64IsStoredAsTheDoubleItIs) {
  const std::string json = jsonMetrics(
      R"({"name":"g","gauge":{"dataPoints":[{"asInt":9223372036854776000},)"
      R"({"asInt":-9223372036854776000},{"asInt":1e+21},{"asInt":"18446744073709551616"},)"
      R"({"asInt":9007199254740994,"exemplars":[{"asInt":1e+21}]}]}},)"
      R"({"name":"s","sum":{"aggregationTemporality":2,"isMonotonic":true,)"
      R"("dataPoints":[{"asInt":18446744073709552000}]}})");
  telemetry::MetricBatch m;
  DecodeStats stats;
  const Status st = decodeMetrics(bytesOf(json), Encoding::kJson, m, stats);
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_EQ(stats.accepted, 6u);
  EXPECT_EQ(stats.rejected, 0u);
  ASSERT_EQ(m.gauge.rows(), 5u);
  EXPECT_EQ(m.gauge.value.at(0), 9223372036854775808.0);
  EXPECT_EQ(m.gauge.value.at(1), -9223372036854775808.0);
  EXPECT_EQ(m.gauge.value.at(2), 1e21);
  EXPECT_EQ(m.gauge.value.at(3), 18446744073709551616.0);
  EXPECT_EQ(m.gauge.value.at(4), 9007199254740994.0);
  EXPECT_EQ(m.gauge.exemplars.value.child().at(0), 1e21);
  ASSERT_EQ(m.sum.rows(), 1u);
  EXPECT_EQ(m.sum.value.at(0), 18446744073709551616.0);
}

TEST(JsonNumbers, AsIntOfAWrongTypeStillFailsTheRequest) {
  const std::string json = jsonMetrics(R"({"gauge":{"dataPoints":[{"asInt":"SECRET"}]}})");
  telemetry::MetricBatch m;
  DecodeStats stats;
  const Status st = decodeMetrics(bytesOf(json), Encoding::kJson, m, stats);
  ASSERT_FALSE(st.isOk());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "json: NumberDataPoint.asInt must be an integer (a number or a decimal "
            "string)");
}

struct CountCase {
  const char* name;
  std::string metric;  // one metric whose single data point has an unrepresentable count
  const char* reason;
};

TEST(JsonNumbers, ANumberItsFieldCannotHoldRejectsItsDataPointOnly) {
  const std::vector<CountCase> cases = {
      {"histogram count past 2^64",
       R"({"name":"h","histogram":{"dataPoints":[{"count":1e+21,"attributes":[)"
       R"({"key":"k","value":{"stringValue":"v"}}]}]}})",
       "HistogramDataPoint.count is not an unsigned 64-bit integer"},
      {"histogram count negative", R"({"name":"h","histogram":{"dataPoints":[{"count":-1}]}})",
       "HistogramDataPoint.count is not an unsigned 64-bit integer"},
      {"histogram bucket count fractional",
       R"({"name":"h","histogram":{"dataPoints":[{"count":2,"bucketCounts":[1,0.5]}]}})",
       "HistogramDataPoint.bucketCounts is not an unsigned 64-bit integer"},
      {"histogram bucket count as a decimal string past 2^64",
       R"({"name":"h","histogram":{"dataPoints":[{"bucketCounts":["99999999999999999999"]}]}})",
       "HistogramDataPoint.bucketCounts is not an unsigned 64-bit integer"},
      {"exponential histogram count",
       R"({"name":"e","exponentialHistogram":{"dataPoints":[{"count":18446744073709552000}]}})",
       "ExponentialHistogramDataPoint.count is not an unsigned 64-bit integer"},
      {"exponential histogram zero count",
       R"({"name":"e","exponentialHistogram":{"dataPoints":[{"zeroCount":-3}]}})",
       "ExponentialHistogramDataPoint.zeroCount is not an unsigned 64-bit integer"},
      {"exponential histogram bucket count",
       R"({"name":"e","exponentialHistogram":{"dataPoints":[{"negative":{"bucketCounts":[1,-1e+21]}}]}})",
       "ExponentialHistogramDataPoint.Buckets.bucketCounts is not an unsigned 64-bit integer"},
      {"summary count", R"({"name":"q","summary":{"dataPoints":[{"count":2e19}]}})",
       "SummaryDataPoint.count is not an unsigned 64-bit integer"},
      {"exponential histogram scale past int32",
       R"({"name":"e","exponentialHistogram":{"dataPoints":[{"scale":4294967296}]}})",
       "ExponentialHistogramDataPoint.scale is not a signed 32-bit integer"},
      {"exponential histogram offset fractional",
       R"({"name":"e","exponentialHistogram":{"dataPoints":[{"positive":{"offset":1.5}}]}})",
       "ExponentialHistogramDataPoint.Buckets.offset is not a signed 32-bit integer"},
  };
  // Each bad point sits between two good ones of the same kind, which are both stored.
  const std::string good = R"({"name":"g","gauge":{"dataPoints":[{"asInt":1}]}})";
  for (const CountCase& c : cases) {
    SCOPED_TRACE(c.name);
    telemetry::MetricBatch m;
    DecodeStats stats;
    const std::string goodOfKind = [&] {
      std::string s = c.metric;
      const size_t at = s.find("dataPoints\":[{");
      return s.substr(0, at) + R"(dataPoints":[{"count":"7"}]}})";
    }();
    const std::string json =
        jsonMetrics(good + "," + goodOfKind + "," + c.metric + "," + goodOfKind);
    const Status st = decodeMetrics(bytesOf(json), Encoding::kJson, m, stats);
    ASSERT_TRUE(st.isOk()) << st.toString();
    EXPECT_EQ(stats.accepted, 3u);
    EXPECT_EQ(stats.rejected, 1u);
    EXPECT_EQ(stats.firstRejection, std::string("data point 2: ") + c.reason);
    EXPECT_TRUE(testing::columnsConsistent(m.histogram));
    EXPECT_TRUE(testing::columnsConsistent(m.expHistogram));
    EXPECT_TRUE(testing::columnsConsistent(m.summary));
    EXPECT_EQ(m.gauge.rows(), 1u);
    EXPECT_EQ(m.histogram.rows() + m.expHistogram.rows() + m.summary.rows(), 2u);
    m.forEachKind([](const auto& kind) {
      for (size_t i = 0; i < kind.rows(); ++i) {
        EXPECT_EQ(cellOf(kind.common.attributes, i), "{}");  // the rejected point's are gone
      }
    });
  }
}

TEST(JsonNumbers, ACountOfAWrongTypeStillFailsTheRequest) {
  const std::string json =
      jsonMetrics(R"({"name":"h","histogram":{"dataPoints":[{"count":"SECRET"}]}})");
  telemetry::MetricBatch m;
  DecodeStats stats;
  const Status st = decodeMetrics(bytesOf(json), Encoding::kJson, m, stats);
  ASSERT_FALSE(st.isOk());
  EXPECT_EQ(st.message(),
            "json: HistogramDataPoint.count must be an unsigned 64-bit integer (a number or a "
            "decimal string)");
  EXPECT_EQ(stats.rejected, 0u);
}

}  // namespace
}  // namespace stackhouse::otlp
