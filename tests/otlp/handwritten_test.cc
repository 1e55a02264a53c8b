// Hand-written requests with the expected column values spelled out: the mapping rules of
// README.md, checked literally (the differential test checks them against a reference).
#include <gtest/gtest.h>

#include <cmath>
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

// The same request as protobuf (built with libprotobuf) and as hand-written OTLP/JSON must give
// these rows.
TEST(Handwritten, LogMapping) {
  testing::LogsRequest req;
  auto* rl = req.add_resource_logs();
  rl->set_schema_url("https://opentelemetry.io/schemas/1.21.0");
  auto* ra = rl->mutable_resource()->add_attributes();
  ra->set_key("service.name");
  ra->mutable_value()->set_string_value("checkout");
  auto* ra2 = rl->mutable_resource()->add_attributes();
  ra2->set_key("service.name");
  ra2->mutable_value()->set_string_value("second");  // the first one names the service
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("io.lib");
  sl->mutable_scope()->set_version("1.2");
  auto* lr = sl->add_log_records();
  lr->set_observed_time_unix_nano(1700000000000000001);  // time_unix_nano 0: falls back
  lr->set_severity_number(testing::pblogs::SEVERITY_NUMBER_WARN2);
  lr->set_severity_text("WARN");
  lr->set_flags(0x301);
  lr->set_trace_id(
      std::string("\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c", 16));
  lr->set_span_id(std::string("\xee\xe1\x9b\x7e\xc3\xc1\xb1\x74", 8));
  lr->set_event_name("checkout.done");
  auto* kv = lr->mutable_body()->mutable_kvlist_value();
  auto add = [](auto* list, const char* key) {
    auto* e = list->add_values();
    e->set_key(key);
    return e->mutable_value();
  };
  add(kv, "z")->set_double_value(1e21);
  add(kv, "a")->set_int_value(-3);
  add(kv, "a")->set_string_value("<b>&\"x\"\n");  // a later equal key wins
  add(kv, "bytes")->set_bytes_value(std::string("\x00\xff\x10", 3));
  auto* arr = add(kv, "arr")->mutable_array_value();
  arr->add_values()->set_bool_value(true);
  arr->add_values()->set_double_value(0.1);
  arr->add_values()->set_double_value(1e-7);
  arr->add_values();  // empty
  arr->add_values()->set_double_value(std::nan(""));
  kv->add_values()->set_key("novalue");
  auto attr = [&](const char* key) {
    auto* a = lr->add_attributes();
    a->set_key(key);
    return a->mutable_value();
  };
  attr("d1")->set_double_value(100);
  attr("d2")->set_double_value(123456789012345680000.0);
  attr("d3")->set_double_value(-1.5e-10);
  attr("inf")->set_double_value(-INFINITY);
  attr("b")->set_bool_value(false);
  attr("bytes")->set_bytes_value("hello");
  attr("empty");
  attr("arr")->mutable_array_value();

  const std::string json = R"({"resourceLogs":[{
    "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}},
                              {"key":"service.name","value":{"stringValue":"second"}}]},
    "schemaUrl":"https://opentelemetry.io/schemas/1.21.0",
    "scopeLogs":[{"scope":{"name":"io.lib","version":"1.2"},"logRecords":[{
      "observedTimeUnixNano":"1700000000000000001","severityNumber":"SEVERITY_NUMBER_WARN2",
      "severityText":"WARN","flags":769,"traceId":"5B8EFFF798038103D269B633813FC60C",
      "spanId":"eee19b7ec3c1b174","eventName":"checkout.done",
      "body":{"kvlistValue":{"values":[
        {"key":"z","value":{"doubleValue":1e21}},{"key":"a","value":{"intValue":-3}},
        {"key":"a","value":{"stringValue":"<b>&\"x\"\n"}},{"key":"bytes","value":{"bytesValue":"AP8Q"}},
        {"key":"arr","value":{"arrayValue":{"values":[{"boolValue":true},{"doubleValue":0.1},
          {"doubleValue":"1e-7"},{},{"doubleValue":"NaN"}]}}},{"key":"novalue"}]}},
      "attributes":[{"key":"d1","value":{"doubleValue":100}},
        {"key":"d2","value":{"doubleValue":123456789012345680000}},
        {"key":"d3","value":{"doubleValue":-1.5e-10}},{"key":"inf","value":{"doubleValue":"-Infinity"}},
        {"key":"b","value":{"boolValue":false}},{"key":"bytes","value":{"bytesValue":"aGVsbG8"}},
        {"key":"empty","value":{}},{"key":"arr","value":{"arrayValue":{}}}],
      "unknownField":{"deep":[1,2,{"x":null}]}}]}]}]})";

  const std::string wire = req.SerializeAsString();
  for (const auto& [body, encoding] :
       {std::pair{wire, Encoding::kProtobuf}, std::pair{json, Encoding::kJson}}) {
    SCOPED_TRACE(encoding == Encoding::kJson ? "json" : "protobuf");
    telemetry::LogBatch b;
    DecodeStats stats;
    const Status st = decodeLogs(bytesOf(body), encoding, b, stats);
    ASSERT_TRUE(st.isOk()) << st.toString();
    ASSERT_EQ(b.rows(), 1u);
    EXPECT_EQ(b.timestamp.at(0), 1700000000000000001);
    EXPECT_EQ(b.traceId.at(0), "5b8efff798038103d269b633813fc60c");
    EXPECT_EQ(b.spanId.at(0), "eee19b7ec3c1b174");
    EXPECT_EQ(b.traceFlags.at(0), 1);
    EXPECT_EQ(b.severityText.at(0), "WARN");
    EXPECT_EQ(b.severityNumber.at(0), 14);
    EXPECT_EQ(b.serviceName.at(0), "checkout");
    EXPECT_EQ(b.body.at(0), R"({"a":"\u003cb\u003e\u0026\"x\"\n","arr":[true,0.1,1e-7,null,"NaN"],)"
                            R"("bytes":"AP8Q","novalue":null,"z":1e+21})");
    EXPECT_EQ(b.resourceSchemaUrl.at(0), "https://opentelemetry.io/schemas/1.21.0");
    EXPECT_EQ(cellOf(b.resourceAttributes, 0),
              R"({"service.name": "checkout", "service.name": "second"})");
    EXPECT_EQ(b.scopeName.at(0), "io.lib");
    EXPECT_EQ(b.scopeVersion.at(0), "1.2");
    EXPECT_EQ(cellOf(b.logAttributes, 0),
              R"({"d1": "100", "d2": "123456789012345680000", "d3": "-1.5e-10", "inf": "-Inf", )"
              R"("b": "false", "bytes": "aGVsbG8=", "empty": "", "arr": "[]"})");
    EXPECT_EQ(b.eventName.at(0), "checkout.done");
  }
}

TEST(Handwritten, SpanMapping) {
  const std::string json = R"({"resource_spans":[{"resource":{"attributes":[
      {"key":"service.name","value":{"intValue":"42"}}]},
    "scope_spans":[{"scope":{"name":"tracer"},"spans":[
      {"trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"0102030405060708",
       "parent_span_id":"0000000000000000","name":"GET /","kind":"SPAN_KIND_SERVER",
       "start_time_unix_nano":"1000","end_time_unix_nano":"250","trace_state":"a=b",
       "status":{"code":"STATUS_CODE_ERROR","message":"boom"},
       "events":[{"time_unix_nano":"1100","name":"retry","attributes":[{"key":"n","value":{"int_value":"2"}}]},
                 {"name":"second"}],
       "links":[{"trace_id":"0102030405060708090a0b0c0d0e0f11","span_id":"1112131415161718","trace_state":"x=y"}]},
      {"traceId":"0102030405060708090a0b0c0d0e0f10","kind":9,"status":{"code":7},
       "startTimeUnixNano":1000,"endTimeUnixNano":3000}]}]}]})";
  telemetry::SpanBatch b;
  DecodeStats stats;
  const Status st = decodeSpans(bytesOf(json), Encoding::kJson, b, stats);
  ASSERT_TRUE(st.isOk()) << st.toString();
  ASSERT_EQ(b.rows(), 2u);
  EXPECT_EQ(b.traceId.at(0), "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(b.parentSpanId.at(0), "");
  EXPECT_EQ(b.spanKind.at(0), "Server");
  EXPECT_EQ(b.serviceName.at(0), "42");  // AsString of a non-string service.name
  EXPECT_EQ(b.duration.at(0), 0u);       // end before start
  EXPECT_EQ(b.statusCode.at(0), "Error");
  EXPECT_EQ(b.statusMessage.at(0), "boom");
  EXPECT_EQ(b.traceState.at(0), "a=b");
  EXPECT_EQ(cellOf(b.eventsTimestamp, 0), "[1100, 0]");
  EXPECT_EQ(cellOf(b.eventsName, 0), R"(["retry", "second"])");
  EXPECT_EQ(cellOf(b.eventsAttributes, 0), R"([{"n": "2"}, {}])");
  EXPECT_EQ(cellOf(b.linksTraceId, 0), R"(["0102030405060708090a0b0c0d0e0f11"])");
  EXPECT_EQ(cellOf(b.linksSpanId, 0), R"(["1112131415161718"])");
  EXPECT_EQ(cellOf(b.linksTraceState, 0), R"(["x=y"])");
  EXPECT_EQ(cellOf(b.linksAttributes, 0), "[{}]");
  EXPECT_EQ(b.spanKind.at(1), "");    // not a SpanKind
  EXPECT_EQ(b.statusCode.at(1), "");  // not a StatusCode
  EXPECT_EQ(b.duration.at(1), 2000u);
  EXPECT_EQ(b.spanId.at(1), "");
  EXPECT_EQ(cellOf(b.eventsName, 1), "[]");
}

TEST(Handwritten, MetricMapping) {
  const std::string json = R"({"resourceMetrics":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"db"}}]},"schemaUrl":"r",
    "scopeMetrics":[{"scope":{"name":"meter","version":"v","droppedAttributesCount":3},"schemaUrl":"s",
      "metrics":[
      {"name":"g","unit":"1","gauge":{"dataPoints":[{"asInt":"-7","timeUnixNano":"5","flags":1,
        "attributes":[{"key":"k","value":{"stringValue":"v"}}],
        "exemplars":[{"timeUnixNano":"4","asInt":"3","spanId":"0102030405060708",
          "traceId":"0102030405060708090a0b0c0d0e0f10",
          "filteredAttributes":[{"key":"f","value":{"boolValue":true}}]}]}]}},
      {"name":"s","description":"d","sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE",
        "isMonotonic":true,"dataPoints":[{"asDouble":2.5,"startTimeUnixNano":"1"}]}},
      {"name":"h","histogram":{"aggregationTemporality":1,"dataPoints":[{"count":"3","sum":6,
        "bucketCounts":["1","2",0],"explicitBounds":[1.5,"Infinity"],"max":4}]}},
      {"name":"e","exponentialHistogram":{"dataPoints":[{"count":"4","scale":-2,"zeroCount":"1",
        "positive":{"offset":-3,"bucketCounts":["1","2"]},"min":-1}]}},
      {"name":"q","summary":{"dataPoints":[{"count":"2","sum":3,"quantileValues":[
        {"quantile":0.5,"value":1},{"quantile":1,"value":2}]}]}},
      {"name":"nodata"}]}]}]})";
  telemetry::MetricBatch m;
  DecodeStats stats;
  const Status st = decodeMetrics(bytesOf(json), Encoding::kJson, m, stats);
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_EQ(stats.accepted, 5u);
  ASSERT_EQ(m.gauge.rows(), 1u);
  const auto& g = m.gauge;
  EXPECT_EQ(g.common.metricName.at(0), "g");
  EXPECT_EQ(g.common.metricUnit.at(0), "1");
  EXPECT_EQ(g.common.serviceName.at(0), "db");
  EXPECT_EQ(g.common.resourceSchemaUrl.at(0), "r");
  EXPECT_EQ(g.common.scopeSchemaUrl.at(0), "s");
  EXPECT_EQ(g.common.scopeName.at(0), "meter");
  EXPECT_EQ(g.common.scopeVersion.at(0), "v");
  EXPECT_EQ(g.common.scopeDroppedAttrCount.at(0), 3u);
  EXPECT_EQ(cellOf(g.common.attributes, 0), R"({"k": "v"})");
  EXPECT_EQ(g.common.timeUnix.at(0), 5);
  EXPECT_EQ(g.common.flags.at(0), 1u);
  EXPECT_EQ(g.value.at(0), -7.0);
  EXPECT_EQ(cellOf(g.exemplars.filteredAttributes, 0), R"([{"f": "true"}])");
  EXPECT_EQ(cellOf(g.exemplars.timeUnix, 0), "[4]");
  EXPECT_EQ(g.exemplars.value.child().at(0), 3.0);
  EXPECT_EQ(cellOf(g.exemplars.spanId, 0), R"(["0102030405060708"])");
  EXPECT_EQ(cellOf(g.exemplars.traceId, 0), R"(["0102030405060708090a0b0c0d0e0f10"])");
  ASSERT_EQ(m.sum.rows(), 1u);
  EXPECT_EQ(m.sum.value.at(0), 2.5);
  EXPECT_EQ(m.sum.aggregationTemporality.at(0), 2);
  EXPECT_EQ(m.sum.isMonotonic.at(0), 1);
  EXPECT_EQ(m.sum.common.metricDescription.at(0), "d");
  EXPECT_EQ(m.sum.common.startTimeUnix.at(0), 1);
  ASSERT_EQ(m.histogram.rows(), 1u);
  EXPECT_EQ(m.histogram.count.at(0), 3u);
  EXPECT_EQ(m.histogram.sum.at(0), 6.0);
  EXPECT_EQ(cellOf(m.histogram.bucketCounts, 0), "[1, 2, 0]");
  EXPECT_EQ(m.histogram.explicitBounds.child().at(1), INFINITY);
  EXPECT_EQ(m.histogram.min.at(0), 0.0);  // absent
  EXPECT_EQ(m.histogram.max.at(0), 4.0);
  EXPECT_EQ(m.histogram.aggregationTemporality.at(0), 1);
  EXPECT_EQ(cellOf(m.histogram.exemplars.value, 0), "[]");
  ASSERT_EQ(m.expHistogram.rows(), 1u);
  EXPECT_EQ(m.expHistogram.scale.at(0), -2);
  EXPECT_EQ(m.expHistogram.zeroCount.at(0), 1u);
  EXPECT_EQ(m.expHistogram.positiveOffset.at(0), -3);
  EXPECT_EQ(cellOf(m.expHistogram.positiveBucketCounts, 0), "[1, 2]");
  EXPECT_EQ(m.expHistogram.negativeOffset.at(0), 0);
  EXPECT_EQ(cellOf(m.expHistogram.negativeBucketCounts, 0), "[]");
  EXPECT_EQ(m.expHistogram.min.at(0), -1.0);
  EXPECT_EQ(m.expHistogram.aggregationTemporality.at(0), 0);
  ASSERT_EQ(m.summary.rows(), 1u);
  EXPECT_EQ(m.summary.count.at(0), 2u);
  EXPECT_EQ(cellOf(m.summary.quantile, 0), cellOf(m.summary.quantile, 0));
  EXPECT_EQ(m.summary.quantile.child().at(0), 0.5);
  EXPECT_EQ(m.summary.quantileValue.child().at(1), 2.0);
}

TEST(Handwritten, FreeFunctionsAndDecoderObjectAgree) {
  const std::string json =
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]})";
  Decoder decoder;
  telemetry::LogBatch a;
  telemetry::LogBatch b;
  DecodeStats stats;
  ASSERT_TRUE(decoder.decodeLogs(bytesOf(json), Encoding::kJson, a, stats).isOk());
  ASSERT_TRUE(decodeLogs(bytesOf(json), Encoding::kJson, b, stats).isOk());
  EXPECT_EQ(testing::dumpRows(a), testing::dumpRows(b));
  EXPECT_EQ(stats.accepted, 2u);
}

}  // namespace
}  // namespace stackhouse::otlp
