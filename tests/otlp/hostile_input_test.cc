// Hostile and malformed input, table by table: every case either decodes to a defined result or
// fails with a Status that names the problem, leaves the batch and the stats as they were, and
// never echoes payload content. Nothing may crash or recurse without bound.
#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "otlp/decode.h"
#include "otlp_test_support.h"

namespace stackhouse::otlp {
namespace {

using testing::dumpRows;

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A protobuf writer for hand-made (and broken) messages.
struct Pb {
  std::string s;

  Pb& varint(uint64_t v) {
    while (v >= 0x80) {
      s += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    s += static_cast<char>(v);
    return *this;
  }
  Pb& tag(uint32_t field, uint32_t wire) { return varint(uint64_t{field} << 3 | wire); }
  Pb& u64(uint32_t field, uint64_t v) { return tag(field, 0).varint(v); }
  Pb& bytes(uint32_t field, std::string_view b) {
    tag(field, 2).varint(b.size());
    s.append(b);
    return *this;
  }
  Pb& msg(uint32_t field, const Pb& m) { return bytes(field, m.s); }
  Pb& fixed64(uint32_t field, uint64_t v) {
    tag(field, 1);
    for (int i = 0; i < 8; ++i) s += static_cast<char>(v >> (8 * i));
    return *this;
  }
  Pb& raw(std::string_view b) {
    s.append(b);
    return *this;
  }
};

Pb stringValue(std::string_view v) { return Pb{}.bytes(1, v); }
Pb keyValue(std::string_view key, const Pb& value) { return Pb{}.bytes(1, key).msg(2, value); }

// ExportLogsServiceRequest { resource_logs { scope_logs { log_records: record } } }
std::string logsRequest(const Pb& record, const Pb& resource = {}) {
  Pb scopeLogs;
  scopeLogs.msg(2, record);
  Pb resourceLogs;
  resourceLogs.msg(1, resource).msg(2, scopeLogs);
  return Pb{}.msg(1, resourceLogs).s;
}

// An AnyValue nested `depth` levels deep: kvlists down to a string ("x" at level `depth`), built
// without recursion. Lengths are computed inside out, then the bytes are written outside in.
std::string deepKvlist(size_t depth) {
  auto varintSize = [](uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  };
  // sizes[i]: bytes of the AnyValue at level i+1 from the bottom (sizes[0] is the string leaf)
  std::vector<uint64_t> sizes(depth);
  sizes[0] = 3;  // 0a 01 'x'
  for (size_t i = 1; i < depth; ++i) {
    const uint64_t kv = 3 + 1 + varintSize(sizes[i - 1]) + sizes[i - 1];  // key "k", value
    const uint64_t list = 1 + varintSize(kv) + kv;                        // KeyValueList.values
    sizes[i] = 1 + varintSize(list) + list;                               // AnyValue.kvlist_value
  }
  Pb out;
  for (size_t i = depth - 1; i >= 1; --i) {
    const uint64_t kv = 3 + 1 + varintSize(sizes[i - 1]) + sizes[i - 1];
    const uint64_t list = 1 + varintSize(kv) + kv;
    out.tag(6, 2).varint(list);  // AnyValue.kvlist_value
    out.tag(1, 2).varint(kv);    // KeyValueList.values
    out.raw(std::string("\x0a\x01k", 3));
    out.tag(2, 2).varint(sizes[i - 1]);  // KeyValue.value
  }
  out.raw(std::string("\x0a\x01x", 3));
  return out.s;
}

std::string deepJsonKvlist(size_t depth) {
  std::string s;
  for (size_t i = 1; i < depth; ++i) s += R"({"kvlistValue":{"values":[{"key":"k","value":)";
  s += R"({"stringValue":"x"})";
  for (size_t i = 1; i < depth; ++i) s += "}]}}";
  return s;
}

std::string jsonLogs(std::string_view record) {
  return R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)" + std::string(record) + "]}]}]}";
}

// One request decoded into a batch that already holds a row: a failure must leave that row, and
// the stats, exactly as they were.
struct Outcome {
  Status status;
  telemetry::LogBatch batch;
  DecodeStats stats;
};

Outcome decodeOnTopOfARow(const std::string& body, Encoding encoding,
                          const DecodeLimits& limits = {}) {
  Outcome o;
  const std::string seed = jsonLogs(R"({"body":{"stringValue":"kept"},"spanId":"ff"})");
  EXPECT_TRUE(decodeLogs(bytesOf(seed), Encoding::kJson, o.batch, o.stats).isOk());
  EXPECT_EQ(o.batch.rows(), 0u);  // rejected: a 1-byte span id; sets firstRejection
  const std::string good = jsonLogs(R"({"body":{"stringValue":"kept"}})");
  EXPECT_TRUE(decodeLogs(bytesOf(good), Encoding::kJson, o.batch, o.stats).isOk());
  const auto before = dumpRows(o.batch);
  const DecodeStats statsBefore = o.stats;
  o.status = decodeLogs(bytesOf(body), encoding, o.batch, o.stats, limits);
  if (!o.status.isOk()) {
    EXPECT_EQ(dumpRows(o.batch), before);
    EXPECT_TRUE(testing::columnsConsistent(o.batch));
    EXPECT_EQ(o.stats.accepted, statsBefore.accepted);
    EXPECT_EQ(o.stats.rejected, statsBefore.rejected);
    EXPECT_EQ(o.stats.invalidUtf8, statsBefore.invalidUtf8);
    EXPECT_EQ(o.stats.firstRejection, statsBefore.firstRejection);
    EXPECT_EQ(o.stats.droppedAttributes, statsBefore.droppedAttributes);
    EXPECT_EQ(o.stats.truncatedKeys, statsBefore.truncatedKeys);
    EXPECT_EQ(o.stats.truncatedValues, statsBefore.truncatedValues);
  }
  return o;
}

struct BadCase {
  const char* name;
  std::string body;
  StatusCode code;
  const char* message;  // a substring the error message must contain
};

void runBadCases(const std::vector<BadCase>& cases, Encoding encoding) {
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Outcome o = decodeOnTopOfARow(c.body, encoding);
    ASSERT_FALSE(o.status.isOk());
    EXPECT_EQ(o.status.code(), c.code) << o.status.toString();
    EXPECT_NE(o.status.message().find(c.message), std::string::npos) << o.status.message();
    EXPECT_EQ(o.status.message().find("SECRET"), std::string::npos) << o.status.message();
  }
}

TEST(HostileProtobuf, MalformedFramingFailsTheRequest) {
  const Pb secretRecord = Pb{}.bytes(3, "SECRET").msg(5, stringValue("SECRET body"));
  std::vector<BadCase> cases = {
      {"truncated tag varint", "\x80", StatusCode::kInvalidArgument,
       "protobuf: truncated varint in a field tag at offset 0 (in ExportLogsServiceRequest)"},
      {"truncated length prefix", "\x0a\x80", StatusCode::kInvalidArgument,
       "truncated varint in a length prefix at offset 1"},
      {"over-long varint (11 bytes)", "\x0a" + std::string(10, '\xff') + "\x01",
       StatusCode::kInvalidArgument, "varint longer than 10 bytes or 64 bits in a length prefix"},
      {"varint past 64 bits", "\x0a" + std::string(9, '\xff') + "\x7f",
       StatusCode::kInvalidArgument, "varint longer than 10 bytes or 64 bits"},
      {"length past the buffer", Pb{}.tag(1, 2).varint(4000).raw(std::string(12, 'x')).s,
       StatusCode::kInvalidArgument,
       "protobuf: field 1 (resource_logs) of ExportLogsServiceRequest has length 4000, past the "
       "remaining 12 bytes, at offset 0"},
      {"nested length past its message", Pb{}.msg(1, Pb{}.tag(2, 2).varint(50).raw("SECRET")).s,
       StatusCode::kInvalidArgument,
       "field 2 (scope_logs) of ResourceLogs has length 50, past the remaining 6 bytes, at "
       "offset 2"},
      {"2^31 repeated elements claimed", Pb{}.tag(1, 2).varint(uint64_t{1} << 31).s,
       StatusCode::kInvalidArgument, "has length 2147483648, past the remaining 0 bytes"},
      {"wrong wire type at the top", "\x08\x01", StatusCode::kInvalidArgument,
       "field 1 (resource_logs) of ExportLogsServiceRequest has wire type 0 (varint), expected 2 "
       "(length-delimited), at offset 0"},
      {"wrong wire type in a record", logsRequest(Pb{}.bytes(3, "SECRET").u64(1, 5)),
       StatusCode::kInvalidArgument,
       "field 1 (time_unix_nano) of LogRecord has wire type 0 (varint), expected 1 (64-bit)"},
      {"trace_id as a varint", logsRequest(Pb{}.u64(9, 1)), StatusCode::kInvalidArgument,
       "field 9 (trace_id) of LogRecord has wire type 0 (varint)"},
      {"truncated fixed64", logsRequest(Pb{}.tag(1, 1).raw("abc")), StatusCode::kInvalidArgument,
       "field 1 (time_unix_nano) of LogRecord needs 8 bytes, 3 left"},
      {"group wire type", Pb{}.tag(7, 3).s, StatusCode::kInvalidArgument,
       "field 7 of ExportLogsServiceRequest uses the group wire type"},
      {"invalid wire type", Pb{}.tag(7, 7).s, StatusCode::kInvalidArgument,
       "has the invalid wire type 7"},
      {"field number 0", "\x02\x00", StatusCode::kInvalidArgument, "invalid field number 0"},
      {"malformed AnyValue in an attribute",
       logsRequest(Pb{}.msg(6, keyValue("k", Pb{}.tag(1, 2).varint(9).raw("SECRET")))),
       StatusCode::kInvalidArgument, "field 1 (string_value) of AnyValue has length 9"},
      {"malformed resource attribute", logsRequest(secretRecord, Pb{}.msg(1, Pb{}.u64(1, 3))),
       StatusCode::kInvalidArgument, "field 1 (key) of KeyValue has wire type 0"},
      {"malformed record after good ones",
       logsRequest(secretRecord) + logsRequest(Pb{}.tag(5, 2).varint(3)),
       StatusCode::kInvalidArgument, "field 5 (body) of LogRecord has length 3"},
  };
  runBadCases(cases, Encoding::kProtobuf);
}

TEST(HostileProtobuf, PackedFieldsAreChecked) {
  telemetry::MetricBatch batch;
  DecodeStats stats;
  auto histogramRequest = [](const Pb& point) {
    Pb metric;
    metric.bytes(1, "m").msg(9, Pb{}.msg(1, point));
    return Pb{}.msg(1, Pb{}.msg(2, Pb{}.msg(2, metric))).s;
  };
  // bucket_counts packed with 12 bytes: not a whole number of fixed64s
  std::string body = histogramRequest(Pb{}.bytes(6, std::string(12, '\x01')));
  Status st = decodeMetrics(bytesOf(body), Encoding::kProtobuf, batch, stats);
  EXPECT_NE(st.message().find("packed field HistogramDataPoint.bucket_counts has 12 bytes"),
            std::string::npos)
      << st.message();
  // 2^31 fixed64 elements claimed
  body = histogramRequest(Pb{}.tag(6, 2).varint(uint64_t{8} << 31));
  st = decodeMetrics(bytesOf(body), Encoding::kProtobuf, batch, stats);
  EXPECT_NE(st.message().find("field 6 (bucket_counts) of HistogramDataPoint has length "
                              "17179869184, past the remaining 0 bytes"),
            std::string::npos)
      << st.message();
  // packed varints that run off the end
  Pb buckets;
  buckets.bytes(2, "\x01\x02\x80");
  Pb expPoint;
  expPoint.msg(8, buckets);
  Pb metric;
  metric.msg(10, Pb{}.msg(1, expPoint));
  body = Pb{}.msg(1, Pb{}.msg(2, Pb{}.msg(2, metric))).s;
  st = decodeMetrics(bytesOf(body), Encoding::kProtobuf, batch, stats);
  EXPECT_NE(st.message().find("packed field Buckets.bucket_counts has a truncated or over-long "
                              "varint"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(batch.rows(), 0u);
  // Packed and unpacked elements of one field concatenate, as in protobuf.
  body = histogramRequest(Pb{}.fixed64(6, 1).bytes(6, std::string("\x02\0\0\0\0\0\0\0", 8)));
  ASSERT_TRUE(decodeMetrics(bytesOf(body), Encoding::kProtobuf, batch, stats).isOk());
  ASSERT_EQ(batch.histogram.rows(), 1u);
  EXPECT_EQ(testing::cellOf(batch.histogram.bucketCounts, 0), "[1, 2]");
}

TEST(HostileProtobuf, EmptyBodyAndUnknownFields) {
  telemetry::LogBatch batch;
  DecodeStats stats;
  EXPECT_TRUE(decodeLogs({}, Encoding::kProtobuf, batch, stats).isOk());
  EXPECT_EQ(batch.rows(), 0u);
  // Unknown fields of every wire type, at every level, are skipped.
  Pb unknown;
  unknown.u64(100, 7).fixed64(101, 9).bytes(102, "SECRET").tag(103, 5).raw("abcd");
  Pb record = unknown;
  record.msg(5, Pb{stringValue("b").s + unknown.s});
  Pb scopeLogs = unknown;
  scopeLogs.msg(2, record);
  Pb resourceLogs = unknown;
  resourceLogs.msg(2, scopeLogs);
  const std::string body = unknown.s + Pb{}.msg(1, resourceLogs).s;
  ASSERT_TRUE(decodeLogs(bytesOf(body), Encoding::kProtobuf, batch, stats).isOk());
  ASSERT_EQ(batch.rows(), 1u);
  EXPECT_EQ(batch.body.at(0), "b");
}

TEST(HostileProtobuf, DeepNestingFailsWithoutRecursingPastTheLimit) {
  for (size_t depth : {size_t{33}, size_t{1000}, size_t{100000}}) {
    SCOPED_TRACE(depth);
    const std::string deep = deepKvlist(depth);
    // as an attribute value and as a body
    for (const Pb& record : {Pb{}.msg(6, Pb{}.bytes(1, "a").bytes(2, deep)), Pb{}.bytes(5, deep)}) {
      const Outcome o = decodeOnTopOfARow(logsRequest(record), Encoding::kProtobuf);
      EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(o.status.message(),
                "protobuf: AnyValue nesting deeper than 32 levels (limit "
                "otelConfig.receivers.otlp.limits.maxValueDepth)");
    }
  }
}

TEST(HostileProtobuf, NestingLimitBoundaries) {
  telemetry::LogBatch batch;
  DecodeStats stats;
  auto decodeDepth = [&](size_t depth, const DecodeLimits& limits) {
    return decodeLogs(bytesOf(logsRequest(Pb{}.bytes(5, deepKvlist(depth)))), Encoding::kProtobuf,
                      batch, stats, limits);
  };
  EXPECT_TRUE(decodeDepth(32, {}).isOk());
  EXPECT_FALSE(decodeDepth(33, {}).isOk());
  DecodeLimits small;
  small.maxDepth = 2;
  EXPECT_TRUE(decodeDepth(2, small).isOk());
  EXPECT_EQ(batch.body.at(batch.rows() - 1), R"({"k":"x"})");
  EXPECT_FALSE(decodeDepth(3, small).isOk());
  DecodeLimits huge;
  huge.maxDepth = 1'000'000;  // capped at kMaxDepthCap
  EXPECT_TRUE(decodeDepth(DecodeLimits::kMaxDepthCap, huge).isOk());
  const Status st = decodeDepth(DecodeLimits::kMaxDepthCap + 1, huge);
  EXPECT_EQ(st.message(),
            "protobuf: AnyValue nesting deeper than 256 levels "
            "(limit otelConfig.receivers.otlp.limits.maxValueDepth)");
}

TEST(HostileProtobuf, InvalidUtf8IsReplacedAndCounted) {
  Pb record;
  record
      .bytes(3, "ok\xff")                                           // severity_text
      .msg(5, stringValue("b\xc3"))                                 // body: truncated é
      .msg(6, keyValue("k\xfe\xfe", stringValue("v\xed\xa0\x80")))  // surrogate: 3 bytes
      .msg(6, keyValue("nested", Pb{}.msg(6, Pb{}.msg(1, keyValue("\xff", stringValue("\xff"))))));
  const std::string body =
      logsRequest(record, Pb{}.msg(1, keyValue("service.name", stringValue("s\x80"))));
  telemetry::LogBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeLogs(bytesOf(body), Encoding::kProtobuf, batch, stats).isOk());
  ASSERT_EQ(batch.rows(), 1u);
  EXPECT_EQ(batch.severityText.at(0), "ok\uFFFD");
  EXPECT_EQ(batch.body.at(0), "b\uFFFD");
  EXPECT_EQ(batch.serviceName.at(0), "s\uFFFD");
  EXPECT_EQ(batch.logAttributes.keys().at(0), "k\uFFFD\uFFFD");
  EXPECT_EQ(batch.logAttributes.values().at(0), "v\uFFFD\uFFFD\uFFFD");
  // Inside JSON renderings the replacement is the escape \ufffd, as Go's encoding/json writes.
  EXPECT_EQ(batch.logAttributes.values().at(1), R"({"\ufffd":"\ufffd"})");
  EXPECT_EQ(stats.invalidUtf8, 1u + 1u + 1u + 2u + 3u + 2u);
}

TEST(HostileProtobuf, AmplificationIsBounded) {
  // 64 KiB of resource attributes repeated on 100k two-byte records would be 6.5 GB of rows.
  Pb resource;
  resource.msg(1, keyValue("big", stringValue(std::string(64 << 10, 'r'))));
  Pb scopeLogs;
  for (int i = 0; i < 100000; ++i) scopeLogs.msg(2, Pb{});
  const std::string body = Pb{}.msg(1, Pb{}.msg(1, resource).msg(2, scopeLogs)).s;
  const Outcome o = decodeOnTopOfARow(body, Encoding::kProtobuf);
  EXPECT_EQ(o.status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(o.status.message().find("DecodeLimits::maxBatchGrowth"), std::string::npos);

  DecodeLimits small;
  small.maxBatchGrowth = 1000;
  const Outcome o2 = decodeOnTopOfARow(
      logsRequest(Pb{}.msg(5, stringValue(std::string(2000, 'x')))), Encoding::kProtobuf, small);
  EXPECT_EQ(o2.status.code(), StatusCode::kResourceExhausted);
}

TEST(HostileProtobuf, BadIdsRejectTheRecordOnly) {
  const std::string good16(16, '\x11');
  Pb scopeLogs;
  scopeLogs.msg(2, Pb{}.bytes(9, good16).bytes(3, "first"))
      .msg(2, Pb{}.bytes(9, std::string(15, '\x11')).msg(6, keyValue("SECRET", stringValue("x"))))
      .msg(2, Pb{}.bytes(10, std::string(9, '\x22')))
      .msg(2, Pb{}.bytes(9, std::string(16, '\0')).bytes(3, "zero id"));
  const std::string body = Pb{}.msg(1, Pb{}.msg(2, scopeLogs)).s;
  telemetry::LogBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeLogs(bytesOf(body), Encoding::kProtobuf, batch, stats).isOk());
  ASSERT_EQ(batch.rows(), 2u);
  EXPECT_TRUE(testing::columnsConsistent(batch));
  EXPECT_EQ(batch.traceId.at(0), "11111111111111111111111111111111");
  EXPECT_EQ(batch.traceId.at(1), "");                // all zero: empty, like the exporter
  EXPECT_EQ(batch.logAttributes.keys().size(), 0u);  // the rejected record's attribute is gone
  EXPECT_EQ(stats.accepted, 2u);
  EXPECT_EQ(stats.rejected, 2u);
  EXPECT_EQ(stats.firstRejection, "log record 1: trace_id has 15 bytes, expected 16");
}

TEST(HostileJson, MalformedInputFailsTheRequest) {
  const std::vector<BadCase> cases = {
      {"unterminated", R"({"resourceLogs":[)", StatusCode::kInvalidArgument,
       "json: malformed JSON"},
      {"not an object", "[]", StatusCode::kInvalidArgument, "json: a request must be an object"},
      {"trailing garbage", "{} x", StatusCode::kInvalidArgument, "json: malformed JSON"},
      {"resourceLogs not an array", R"({"resourceLogs":5})", StatusCode::kInvalidArgument,
       "json: request.resourceLogs must be an array"},
      {"number past double range", jsonLogs(R"({"timeUnixNano":1e400,"body":"SECRET"})"),
       StatusCode::kInvalidArgument, "json: malformed JSON"},
      {"integer past 64 bits", jsonLogs(R"({"timeUnixNano":18446744073709551616})"),
       StatusCode::kInvalidArgument,
       "json: LogRecord.timeUnixNano must be an unsigned 64-bit integer"},
      {"intValue as a word", jsonLogs(R"({"body":{"intValue":"SECRET"}})"),
       StatusCode::kInvalidArgument, "AnyValue.intValue must be an integer"},
      {"intValue as a boolean", jsonLogs(R"({"body":{"intValue":true}})"),
       StatusCode::kInvalidArgument, "AnyValue.intValue must be an integer"},
      {"malformed number", jsonLogs(R"({"timeUnixNano":01})"), StatusCode::kInvalidArgument,
       "json: malformed JSON"},
      {"decimal string past 64 bits", jsonLogs(R"({"timeUnixNano":"123456789012345678901"})"),
       StatusCode::kInvalidArgument,
       "json: LogRecord.timeUnixNano must be an unsigned 64-bit integer"},
      {"negative timestamp", jsonLogs(R"({"timeUnixNano":-5})"), StatusCode::kInvalidArgument,
       "LogRecord.timeUnixNano must be an unsigned 64-bit integer"},
      {"fractional timestamp", jsonLogs(R"({"timeUnixNano":1.5})"), StatusCode::kInvalidArgument,
       "LogRecord.timeUnixNano must be"},
      {"timestamp as a word", jsonLogs(R"({"timeUnixNano":"SECRET"})"),
       StatusCode::kInvalidArgument, "LogRecord.timeUnixNano must be"},
      {"unknown enum name", jsonLogs(R"({"severityNumber":"SEVERITY_NUMBER_SECRET"})"),
       StatusCode::kInvalidArgument, "LogRecord.severityNumber must be a known enum name"},
      {"enum past int32", jsonLogs(R"({"severityNumber":4294967296})"),
       StatusCode::kInvalidArgument, "LogRecord.severityNumber must be a signed 32-bit integer"},
      {"string field as a number", jsonLogs(R"({"severityText":5})"), StatusCode::kInvalidArgument,
       "LogRecord.severityText must be a string"},
      {"id as a number", jsonLogs(R"({"traceId":5})"), StatusCode::kInvalidArgument,
       "LogRecord.traceId must be a string"},
      {"AnyValue not an object", jsonLogs(R"({"body":"SECRET"})"), StatusCode::kInvalidArgument,
       "json: an AnyValue must be an object"},
      {"doubleValue as a word", jsonLogs(R"({"body":{"doubleValue":"SECRET"}})"),
       StatusCode::kInvalidArgument, "AnyValue.doubleValue must be a double"},
      {"bad base64", jsonLogs(R"({"body":{"bytesValue":"SECRET!"}})"), StatusCode::kInvalidArgument,
       "AnyValue.bytesValue must be base64"},
      {"kvlist values not an array", jsonLogs(R"({"body":{"kvlistValue":{"values":{}}}})"),
       StatusCode::kInvalidArgument, "KeyValueList.values must be an array"},
      {"attribute not an object", jsonLogs(R"({"attributes":["SECRET"]})"),
       StatusCode::kInvalidArgument, "json: a KeyValue must be an object"},
      {"key not a string", jsonLogs(R"({"attributes":[{"key":1}]})"), StatusCode::kInvalidArgument,
       "KeyValue.key must be a string"},
      {"lone surrogate escape", jsonLogs(R"({"severityText":"\udc00"})"),
       StatusCode::kInvalidArgument, "json: malformed JSON"},
      {"invalid UTF-8 outside strings", "{\"resourceLogs\":[]\xff}", StatusCode::kInvalidArgument,
       "json: malformed JSON"},
  };
  runBadCases(cases, Encoding::kJson);
}

TEST(HostileJson, DeepNestingFails) {
  // Past simdjson's own depth limit the parser refuses the document, without recursion.
  Outcome o =
      decodeOnTopOfARow(jsonLogs(R"({"body":)" + deepJsonKvlist(100000) + "}"), Encoding::kJson);
  EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(o.status.message().find("json: malformed JSON"), std::string::npos);
  // Within it, our limit applies.
  o = decodeOnTopOfARow(jsonLogs(R"({"body":)" + deepJsonKvlist(33) + "}"), Encoding::kJson);
  EXPECT_EQ(o.status.message(),
            "json: AnyValue nesting deeper than 32 levels (limit "
            "otelConfig.receivers.otlp.limits.maxValueDepth)");
  o = decodeOnTopOfARow(
      jsonLogs(R"({"attributes":[{"key":"a","value":)" + deepJsonKvlist(200) + "}]}"),
      Encoding::kJson);
  EXPECT_EQ(o.status.message(),
            "json: AnyValue nesting deeper than 32 levels (limit "
            "otelConfig.receivers.otlp.limits.maxValueDepth)");
  telemetry::LogBatch batch;
  DecodeStats stats;
  const std::string ok = jsonLogs(R"({"body":)" + deepJsonKvlist(32) + "}");
  EXPECT_TRUE(decodeLogs(bytesOf(ok), Encoding::kJson, batch, stats).isOk());
  DecodeLimits huge;
  huge.maxDepth = 1000;
  const std::string atCap =
      jsonLogs(R"({"body":)" + deepJsonKvlist(DecodeLimits::kMaxDepthCap) + "}");
  EXPECT_TRUE(decodeLogs(bytesOf(atCap), Encoding::kJson, batch, stats, huge).isOk());
}

TEST(HostileJson, EmptyBodiesAndNulls) {
  telemetry::LogBatch batch;
  DecodeStats stats;
  EXPECT_TRUE(decodeLogs({}, Encoding::kJson, batch, stats).isOk());
  const std::string empty = "{}";
  EXPECT_TRUE(decodeLogs(bytesOf(empty), Encoding::kJson, batch, stats).isOk());
  const std::string nulls = jsonLogs(
      R"({"timeUnixNano":null,"body":null,"attributes":null,"traceId":null,"severityText":null})");
  ASSERT_TRUE(decodeLogs(bytesOf(nulls), Encoding::kJson, batch, stats).isOk());
  ASSERT_EQ(batch.rows(), 1u);
  EXPECT_EQ(batch.body.at(0), "");
  EXPECT_EQ(stats.accepted, 1u);
}

TEST(HostileJson, DuplicateKeysLastOneWins) {
  const std::string body =
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityText":"first"}]}]}],)"
      R"("resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityText":"a","severityText":"b",)"
      R"("body":{"stringValue":"x","intValue":"7"},"attributes":[{"key":"k","value":{"boolValue":true}}],)"
      R"("attributes":[{"key":"k2","key":"k3"}]}]}]}]})";
  telemetry::LogBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeLogs(bytesOf(body), Encoding::kJson, batch, stats).isOk());
  ASSERT_EQ(batch.rows(), 1u);
  EXPECT_EQ(batch.severityText.at(0), "b");
  EXPECT_EQ(batch.body.at(0), "7");  // a malformed oneof: the last member wins
  EXPECT_EQ(testing::cellOf(batch.logAttributes, 0), R"({"k3": ""})");
}

TEST(HostileJson, HugeAndOddNumbers) {
  const std::string body =
      jsonLogs(R"({"timeUnixNano":1e3,"observedTimeUnixNano":"18446744073709551615",)"
               R"("flags":4294967295,"body":{"doubleValue":"1e308"}},)"
               R"({"timeUnixNano":18446744073709551615,"body":{"intValue":-9223372036854775808}},)"
               R"({"body":{"doubleValue":"-Infinity"}},{"body":{"doubleValue":1E-7}})");
  telemetry::LogBatch batch;
  DecodeStats stats;
  const Status st = decodeLogs(bytesOf(body), Encoding::kJson, batch, stats);
  ASSERT_TRUE(st.isOk()) << st.toString();
  ASSERT_EQ(batch.rows(), 4u);
  EXPECT_EQ(batch.timestamp.at(0), 1000);
  EXPECT_EQ(batch.traceFlags.at(0), 0xff);
  EXPECT_EQ(batch.body.at(0), "1e+308");
  EXPECT_EQ(batch.timestamp.at(1), -1);  // 2^64-1 ns: stored as the same 64 bits
  EXPECT_EQ(batch.body.at(1), "-9223372036854775808");
  EXPECT_EQ(batch.body.at(2), "-Inf");
  EXPECT_EQ(batch.body.at(3), "1e-7");
}

TEST(HostileJson, IntegersPast64BitsAreDoubles) {
  // JavaScript's JSON.stringify writes 1e20 as 100000000000000000000; simdjson's DOM refuses
  // integer literals past 64 bits, so the decoder parses them as doubles on a second pass.
  const std::string body = jsonLogs(
      R"({"body":{"doubleValue":100000000000000000000},"x":123456789012345678901234567890,)"
      R"("severityText":"12345678901234567890123 in a string stays"},)"
      R"({"body":{"doubleValue":-99999999999999999999},"timeUnixNano":18446744073709551615})");
  telemetry::LogBatch batch;
  DecodeStats stats;
  const Status st = decodeLogs(bytesOf(body), Encoding::kJson, batch, stats);
  ASSERT_TRUE(st.isOk()) << st.toString();
  ASSERT_EQ(batch.rows(), 2u);
  EXPECT_EQ(batch.body.at(0), "100000000000000000000");
  EXPECT_EQ(batch.severityText.at(0), "12345678901234567890123 in a string stays");
  EXPECT_EQ(batch.body.at(1), "-100000000000000000000");
  EXPECT_EQ(batch.timestamp.at(1), -1);
}

TEST(HostileJson, InvalidUtf8IsReplacedAndCounted) {
  const std::string body =
      jsonLogs("{\"severityText\":\"a\xff\xfe\",\"body\":{\"stringValue\":\"\xc3\"}}");
  telemetry::LogBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeLogs(bytesOf(body), Encoding::kJson, batch, stats).isOk());
  ASSERT_EQ(batch.rows(), 1u);
  EXPECT_EQ(batch.severityText.at(0), "a\uFFFD\uFFFD");
  EXPECT_EQ(batch.body.at(0), "\uFFFD");
  EXPECT_EQ(stats.invalidUtf8, 3u);
}

TEST(HostileJson, BadIdsRejectTheRecordOnly) {
  const std::string body =
      jsonLogs(R"({"traceId":"5B8EFFF798038103D269B633813FC60C","severityText":"upper case hex"},)"
               R"({"traceId":"zz8efff798038103d269b633813fc60c"},)"
               R"({"spanId":"eee19b7ec3c1b17"},)"
               R"({"spanId":"eee19b7ec3c1b1"},)"
               R"({"traceId":"5b8efff798038103d269b633813fc60c00"},)"
               R"({"traceId":""})");
  telemetry::LogBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeLogs(bytesOf(body), Encoding::kJson, batch, stats).isOk());
  ASSERT_EQ(batch.rows(), 2u);
  EXPECT_EQ(batch.traceId.at(0), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(batch.traceId.at(1), "");
  EXPECT_EQ(stats.rejected, 4u);
  EXPECT_EQ(stats.firstRejection, "log record 1: trace_id is not a hex string");
}

TEST(HostileMetrics, BadExemplarIdRejectsThePoint) {
  const std::string body = R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m",)"
                           R"("gauge":{"dataPoints":[{"asInt":"1","exemplars":[{"spanId":"01"}]},)"
                           R"({"asInt":"2","exemplars":[{"asDouble":0.5}]}]}}]}]}]})";
  telemetry::MetricBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeMetrics(bytesOf(body), Encoding::kJson, batch, stats).isOk());
  ASSERT_EQ(batch.gauge.rows(), 1u);
  EXPECT_TRUE(testing::columnsConsistent(batch.gauge));
  EXPECT_EQ(batch.gauge.value.at(0), 2.0);
  EXPECT_EQ(testing::cellOf(batch.gauge.exemplars.spanId, 0), R"(["0000000000000000"])");
  EXPECT_EQ(stats.firstRejection, "data point 0: exemplars.span_id has 1 bytes, expected 8");
}

// ---- per-request limits: refused as a whole, naming the limit and its configuration key

TEST(HostileLimits, TooManyResourcesFailTheRequest) {
  DecodeLimits limits;
  limits.maxResources = 3;
  const Pb resourceLogs = Pb{}.msg(2, Pb{}.msg(2, Pb{}.bytes(3, "x")));
  Pb atLimit;
  for (int i = 0; i < 3; ++i) atLimit.msg(1, resourceLogs);
  Pb overLimit = atLimit;
  overLimit.msg(1, Pb{});  // even an empty one counts
  std::string json3 = R"({"resourceLogs":[)";
  for (int i = 0; i < 3; ++i)
    json3 += std::string(i ? "," : "") + R"({"scopeLogs":[{"logRecords":[{}]}]})";
  const std::string json4 = json3 + ",{}]}";
  json3 += "]}";
  const struct {
    Encoding encoding;
    std::string ok;
    std::string over;
  } cases[] = {{Encoding::kProtobuf, atLimit.s, overLimit.s}, {Encoding::kJson, json3, json4}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.ok);
    Outcome o = decodeOnTopOfARow(c.ok, c.encoding, limits);
    ASSERT_TRUE(o.status.isOk()) << o.status.toString();
    EXPECT_EQ(o.batch.rows(), 1u + 3u);
    o = decodeOnTopOfARow(c.over, c.encoding, limits);
    EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(o.status.message().find("the request holds more than 3 resources (limit "
                                      "otelConfig.receivers.otlp.limits.maxResourcesPerRequest)"),
              std::string::npos)
        << o.status.message();
  }
  // The default is 10000.
  Pb many;
  for (int i = 0; i < 10001; ++i) many.msg(1, Pb{});
  EXPECT_EQ(decodeOnTopOfARow(many.s, Encoding::kProtobuf).status.code(),
            StatusCode::kInvalidArgument);
}

TEST(HostileLimits, TooManyRecordsFailTheRequest) {
  DecodeLimits limits;
  limits.maxRecords = 5;
  auto logs = [](int n, bool badId) {
    Pb scopeLogs;
    for (int i = 0; i < n; ++i) {
      // rejected records count too
      scopeLogs.msg(2, badId && i == 0 ? Pb{}.bytes(9, "short") : Pb{}.bytes(3, "x"));
    }
    return Pb{}.msg(1, Pb{}.msg(2, scopeLogs)).s;
  };
  for (bool badId : {false, true}) {
    SCOPED_TRACE(badId);
    Outcome o = decodeOnTopOfARow(logs(5, badId), Encoding::kProtobuf, limits);
    ASSERT_TRUE(o.status.isOk());
    o = decodeOnTopOfARow(logs(6, badId), Encoding::kProtobuf, limits);
    EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(o.status.message(),
              "protobuf: the request holds more than 5 records (limit "
              "otelConfig.receivers.otlp.limits.maxRecordsPerRequest)");
  }
  // Spread over resources and scopes, JSON.
  const std::string scope = R"({"scopeLogs":[{"logRecords":[{},{}]},{"logRecords":[{}]}]})";
  Outcome o = decodeOnTopOfARow(R"({"resourceLogs":[)" + scope + "," + scope + "]}",
                                Encoding::kJson, limits);
  EXPECT_EQ(o.status.message(),
            "json: the request holds more than 5 records (limit "
            "otelConfig.receivers.otlp.limits.maxRecordsPerRequest)");

  // Spans and metric data points (across metrics and kinds).
  telemetry::SpanBatch spans;
  DecodeStats stats;
  const std::string sixSpans =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{},{},{},{},{},{}]}]}]})";
  Status st = decodeSpans(bytesOf(sixSpans), Encoding::kJson, spans, stats, limits);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(spans.rows(), 0u);
  telemetry::MetricBatch metrics;
  const std::string sixPoints = R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[)"
                                R"({"name":"g","gauge":{"dataPoints":[{},{},{}]}},)"
                                R"({"name":"s","sum":{"dataPoints":[{},{}]}},)"
                                R"({"name":"h","histogram":{"dataPoints":[{}]}}]}]}]})";
  st = decodeMetrics(bytesOf(sixPoints), Encoding::kJson, metrics, stats, limits);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("maxRecordsPerRequest"), std::string::npos);
  EXPECT_EQ(metrics.gauge.rows() + metrics.sum.rows() + metrics.histogram.rows(), 0u);
  limits.maxRecords = 6;
  EXPECT_TRUE(decodeMetrics(bytesOf(sixPoints), Encoding::kJson, metrics, stats, limits).isOk());
}

// ---- per-record limits: cut, counted, and the request succeeds

Pb manyAttributes(uint32_t field, int n, std::string_view prefix) {
  Pb m;
  for (int i = 0; i < n; ++i) {
    m.msg(field, keyValue(std::string(prefix) + std::to_string(i), stringValue("v")));
  }
  return m;
}

TEST(HostileLimits, AttributesPastTheLimitAreDropped) {
  // 200 attributes on the resource, the scope and the record: 128 kept in each, in order.
  const Pb record = manyAttributes(6, 200, "r").bytes(3, "INFO");
  const Pb resource = manyAttributes(1, 200, "res");
  Pb scopeLogs;
  scopeLogs.msg(1, manyAttributes(3, 200, "s")).msg(2, record).msg(2, record);
  const std::string body = Pb{}.msg(1, Pb{}.msg(1, resource).msg(2, scopeLogs)).s;
  telemetry::LogBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeLogs(bytesOf(body), Encoding::kProtobuf, batch, stats).isOk());
  ASSERT_EQ(batch.rows(), 2u);
  EXPECT_TRUE(testing::columnsConsistent(batch));
  for (size_t row = 0; row < 2; ++row) {
    EXPECT_EQ(batch.logAttributes.offset(row + 1) - batch.logAttributes.offset(row), 128);
    EXPECT_EQ(batch.resourceAttributes.offset(row + 1) - batch.resourceAttributes.offset(row), 128);
    EXPECT_EQ(batch.scopeAttributes.offset(row + 1) - batch.scopeAttributes.offset(row), 128);
  }
  EXPECT_EQ(batch.logAttributes.keys().at(127), "r127");
  EXPECT_EQ(batch.severityText.at(1), "INFO");
  // resource and scope once each, records twice
  EXPECT_EQ(stats.droppedAttributes, 72u * 4);
  EXPECT_EQ(stats.accepted, 2u);
  EXPECT_EQ(stats.rejected, 0u);

  // service.name past the limit is dropped like any other attribute.
  DecodeLimits limits;
  limits.maxAttributes = 1;
  Pb late;
  late.msg(1, keyValue("a", stringValue("1"))).msg(1, keyValue("service.name", stringValue("svc")));
  const Outcome o = decodeOnTopOfARow(logsRequest(Pb{}, late), Encoding::kProtobuf, limits);
  ASSERT_TRUE(o.status.isOk());
  EXPECT_EQ(o.batch.serviceName.at(1), "");
  EXPECT_EQ(o.stats.droppedAttributes, 1u);
}

TEST(HostileLimits, SpanEventLinkAndExemplarAttributesAreLimited) {
  DecodeLimits limits;
  limits.maxAttributes = 2;
  std::string attrs = "[";
  for (int i = 0; i < 5; ++i) {
    attrs += std::string(i ? "," : "") + R"({"key":"k)" + std::to_string(i) +
             R"(","value":{"intValue":"1"}})";
  }
  attrs += "]";
  const std::string spans = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":)" + attrs +
                            R"(,"events":[{"attributes":)" + attrs +
                            R"(}],"links":[{"attributes":)" + attrs + "}]}]}]}]}";
  telemetry::SpanBatch sb;
  DecodeStats stats;
  ASSERT_TRUE(decodeSpans(bytesOf(spans), Encoding::kJson, sb, stats, limits).isOk());
  ASSERT_EQ(sb.rows(), 1u);
  EXPECT_EQ(sb.spanAttributes.keys().size(), 2u);
  EXPECT_EQ(sb.eventsAttributes.child().keys().size(), 2u);
  EXPECT_EQ(sb.linksAttributes.child().keys().size(), 2u);
  EXPECT_EQ(stats.droppedAttributes, 9u);

  const std::string metrics =
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[)"
      R"({"asInt":"1","attributes":)" +
      attrs + R"(,"exemplars":[{"asDouble":1,"filteredAttributes":)" + attrs + "}]}]}}]}]}]}";
  telemetry::MetricBatch mb;
  DecodeStats mstats;
  ASSERT_TRUE(decodeMetrics(bytesOf(metrics), Encoding::kJson, mb, mstats, limits).isOk());
  ASSERT_EQ(mb.gauge.rows(), 1u);
  EXPECT_EQ(mb.gauge.common.attributes.keys().size(), 2u);
  EXPECT_EQ(mb.gauge.exemplars.filteredAttributes.child().keys().size(), 2u);
  EXPECT_EQ(mstats.droppedAttributes, 6u);
}

TEST(HostileLimits, LongKeysAndValuesAreCutAtACharacterBoundary) {
  DecodeLimits limits;
  limits.maxKeyBytes = 8;
  limits.maxValueBytes = 10;
  const std::string euro = "\xE2\x82\xAC";  // 3 bytes
  Pb record;
  record
      .msg(6, keyValue("kkkkkkkkkkkk", stringValue("short")))  // key cut to 8 bytes
      .msg(6, keyValue("e" + euro + euro + euro, stringValue("aaaaaaaaa" + euro)))  // both cut
      .msg(6, keyValue("bad", stringValue("\xff\xff\xff\xff")))  // 12 bytes once replaced
      .msg(6, keyValue("int", Pb{}.u64(3, 12345678901234)))      // rendered, then cut
      .msg(6, keyValue("list", Pb{}.msg(5, Pb{}.msg(1, stringValue("abcdefghij")))))
      .msg(6, keyValue("exact", stringValue("0123456789")))  // at the limit: kept
      .msg(5, stringValue(std::string(100, 'b')));           // the body: no limit
  telemetry::LogBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(
      decodeLogs(bytesOf(logsRequest(record)), Encoding::kProtobuf, batch, stats, limits).isOk());
  ASSERT_EQ(batch.rows(), 1u);
  EXPECT_TRUE(testing::columnsConsistent(batch));
  const telemetry::MapColumn& a = batch.logAttributes;
  EXPECT_EQ(a.keys().at(0), "kkkkkkkk");
  EXPECT_EQ(a.values().at(0), "short");
  EXPECT_EQ(a.keys().at(1), "e" + euro + euro);  // 7 bytes: the third euro would split
  EXPECT_EQ(a.values().at(1), "aaaaaaaaa");
  EXPECT_EQ(a.values().at(2), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(a.values().at(3), "1234567890");
  EXPECT_EQ(a.values().at(4), R"(["abcdefgh)");  // a cut rendering is not JSON
  EXPECT_EQ(a.values().at(5), "0123456789");
  EXPECT_EQ(batch.body.at(0), std::string(100, 'b'));
  EXPECT_EQ(stats.truncatedKeys, 2u);
  EXPECT_EQ(stats.truncatedValues, 4u);
  EXPECT_EQ(stats.invalidUtf8, 4u);

  // The same in JSON, and on resource attributes.
  const std::string json =
      R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name.is.long",)"
      R"("value":{"stringValue":"checkout-service"}}]},"scopeLogs":[{"logRecords":[{"attributes":[)"
      R"({"key":"k","value":{"stringValue":"aaaaaaaaa)" +
      euro + R"("}}]}]}]}]})";
  telemetry::LogBatch jb;
  DecodeStats js;
  ASSERT_TRUE(decodeLogs(bytesOf(json), Encoding::kJson, jb, js, limits).isOk());
  ASSERT_EQ(jb.rows(), 1u);
  EXPECT_EQ(jb.resourceAttributes.keys().at(0), "service.");
  EXPECT_EQ(jb.resourceAttributes.values().at(0), "checkout-s");
  EXPECT_EQ(jb.logAttributes.values().at(0), "aaaaaaaaa");
  EXPECT_EQ(js.truncatedKeys, 1u);
  EXPECT_EQ(js.truncatedValues, 2u);
}

TEST(HostileLimits, DefaultLengthLimits) {
  Pb record;
  record.msg(6, keyValue(std::string(5000, 'k'), stringValue(std::string(100000, 'v'))));
  telemetry::LogBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeLogs(bytesOf(logsRequest(record)), Encoding::kProtobuf, batch, stats).isOk());
  EXPECT_EQ(batch.logAttributes.keys().at(0).size(), 1024u);
  EXPECT_EQ(batch.logAttributes.values().at(0).size(), 65536u);
  EXPECT_EQ(stats.truncatedKeys, 1u);
  EXPECT_EQ(stats.truncatedValues, 1u);
}

TEST(HostileLimits, AFailedCallRollsBackTheLimitCounters) {
  DecodeLimits limits;
  limits.maxAttributes = 1;
  limits.maxRecords = 1;
  Pb scopeLogs;
  scopeLogs.msg(2, manyAttributes(6, 3, "a")).msg(2, manyAttributes(6, 3, "b"));
  const Outcome o =
      decodeOnTopOfARow(Pb{}.msg(1, Pb{}.msg(2, scopeLogs)).s, Encoding::kProtobuf, limits);
  EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument);  // the counters checked as well
}

}  // namespace
}  // namespace stackhouse::otlp
