// The remote ClickHouse sink's requests on the wire, against a plain HTTP server that checks them
// (no engine here, so this runs in every build, AddressSanitizer's included): the URL's query and
// settings, the user headers, the compression, and the Native block itself; and the sink's
// reading of ClickHouse's error answers.
#include <gtest/gtest.h>

#include <cstring>
#include <mutex>

#include "http/server.h"
#include "sinks/clickhouse/clickhouse_http_sink.h"
#include "sinks/clickhouse/native_encoder.h"
#include "sinks/http/compression.h"
#include "support/log_rows.h"

namespace stackhouse::sinks::clickhouse {
namespace {

using pipeline::Attempt;
namespace srv = stackhouse::http;

std::string decodeUrl(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

uint64_t readVarUInt(std::string_view& in) {
  uint64_t v = 0;
  for (int shift = 0; !in.empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) break;
  }
  return v;
}

std::string readString(std::string_view& in) {
  const uint64_t n = readVarUInt(in);
  std::string s(in.substr(0, n));
  in.remove_prefix(std::min<size_t>(n, in.size()));
  return s;
}

struct Seen {
  std::string target, user, key, encoding, body;
};

class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    srv::ServerOptions o;
    o.name = "fake-ch";
    auto s = srv::Server::start(o, [this](srv::Request&& r, srv::Respond respond) {
      std::lock_guard lock(mu_);
      seen_.push_back({r.target, std::string(r.header("x-clickhouse-user")),
                       std::string(r.header("x-clickhouse-key")),
                       std::string(r.header("content-encoding")), r.body});
      respond(answer_);
    });
    ASSERT_TRUE(s.isOk());
    server_ = std::move(s.value());
  }
  void TearDown() override { server_->stop(); }
  std::unique_ptr<ClickhouseHttpSink> sink(http::Compression c = http::Compression::kZstd) {
    HttpSinkOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(server_->port()) + "/";
    o.database = "db1";
    o.username = "writer";
    o.password = "pw";
    o.compression = c;
    o.createSchema = false;
    auto s = ClickhouseHttpSink::create(o);
    EXPECT_TRUE(s.isOk());
    return std::move(s.value());
  }

  std::unique_ptr<srv::Server> server_;
  std::mutex mu_;
  std::vector<Seen> seen_;
  srv::Response answer_ = srv::textResponse(200, "");
};

TEST_F(WireTest, AnInsertOnTheWire) {
  telemetry::LogBatch b;
  for (int i = 0; i < 3; ++i) {
    stackhouse::testing::appendLogRow(b, {.timestamp = 1000 + i, .body = "x"});
  }
  const telemetry::LogBatch* parts[] = {&b};
  auto s = sink();
  ASSERT_TRUE(s->writeLogs(parts, "tok-1", Attempt::kFirst).isOk());
  ASSERT_EQ(seen_.size(), 1u);
  const Seen& r = seen_[0];
  EXPECT_EQ(r.user, "writer");
  EXPECT_EQ(r.key, "pw");
  EXPECT_EQ(r.encoding, "zstd");
  const std::string target = decodeUrl(r.target);
  EXPECT_NE(target.find("query=INSERT INTO db1.otel_logs (`Timestamp`, `TraceId`"),
            std::string::npos)
      << target;
  EXPECT_NE(target.find(") FORMAT Native&"), std::string::npos) << target;
  for (std::string_view setting :
       {"insert_deduplication_token=tok-1", "insert_deduplicate=1", "async_insert=0",
        "query_id=stackhouse-tok-1", "replace_running_query=1"}) {
    EXPECT_NE(target.find(setting), std::string::npos) << setting << " in " << target;
  }
  std::string native;
  ASSERT_TRUE(http::decompress(http::Compression::kZstd, r.body, 1 << 20, native).isOk());
  std::string_view in = native;
  EXPECT_EQ(readVarUInt(in), 16u) << "columns";
  EXPECT_EQ(readVarUInt(in), 3u) << "rows";
  EXPECT_EQ(readString(in), "Timestamp");
  EXPECT_EQ(readString(in), "DateTime64(9)");
  int64_t first = 0;
  std::memcpy(&first, in.data(), 8);
  EXPECT_EQ(first, 1000);

  // A retry compares rows: no token, the rows through input().
  ASSERT_TRUE(s->writeLogs(parts, "tok-1", Attempt::kRetry).isOk());
  const std::string retry = decodeUrl(seen_[1].target);
  EXPECT_NE(retry.find("FROM input('`Timestamp` DateTime64(9), `TraceId` String"),
            std::string::npos)
      << retry;
  EXPECT_NE(retry.find("NOT IN (SELECT sipHash128("), std::string::npos);
  EXPECT_NE(retry.find("TimestampTime BETWEEN toDateTime(0) AND toDateTime(0)"), std::string::npos);
  EXPECT_NE(retry.find("insert_deduplicate=0"), std::string::npos);
  EXPECT_EQ(retry.find("insert_deduplication_token"), std::string::npos);

  // An empty group sends nothing.
  telemetry::LogBatch empty;
  const telemetry::LogBatch* none[] = {&empty};
  ASSERT_TRUE(s->writeLogs(none, "tok-2", Attempt::kFirst).isOk());
  EXPECT_EQ(seen_.size(), 2u);
}

TEST_F(WireTest, ReadsClickHouseErrors) {
  telemetry::LogBatch b;
  stackhouse::testing::appendLogRow(b, {.timestamp = 1, .body = "x"});
  const telemetry::LogBatch* parts[] = {&b};
  auto s = sink(http::Compression::kNone);
  // The code in the header wins; the body gives the name and message.
  answer_ = srv::textResponse(500,
                              "Code: 252. DB::Exception: Too many parts (300). Merges are "
                              "processing significantly slower than inserts. (TOO_MANY_PARTS) "
                              "(version 24.8.1.1)\n");
  answer_.headers.emplace_back("X-ClickHouse-Exception-Code", "252");
  Status st = s->writeLogs(parts, "t", Attempt::kFirst);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(),
            "ClickHouse insert into otel_logs failed: HTTP 500, code 252 (TOO_MANY_PARTS): Too "
            "many parts (300). Merges are processing significantly slower than inserts");
  // No header: the code from the body.
  answer_ = srv::textResponse(400,
                              "Code: 27. DB::Exception: Cannot parse input. "
                              "(CANNOT_PARSE_INPUT_ASSERTION_FAILED) (version 24.8.1.1)\n");
  EXPECT_EQ(s->writeLogs(parts, "t", Attempt::kFirst).code(), StatusCode::kInvalidArgument);
  // A proxy's page: no code, HTTP status decides.
  answer_ = srv::textResponse(502, "<html>bad gateway</html>");
  st = s->writeLogs(parts, "t", Attempt::kFirst);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s->lastError().httpStatus, 502);
  answer_ = srv::textResponse(429, "slow down");
  EXPECT_EQ(s->writeLogs(parts, "t", Attempt::kFirst).code(), StatusCode::kResourceExhausted);
  // Only the first line of a long message, bounded.
  answer_ = srv::textResponse(
      500, "Code: 1000. DB::Exception: " + std::string(5000, 'a') + "\nsecond line");
  st = s->writeLogs(parts, "t", Attempt::kFirst);
  EXPECT_LT(st.message().size(), 500u);
  EXPECT_EQ(st.message().find("second line"), std::string::npos);
  // An unsafe token never reaches the URL.
  answer_ = srv::textResponse(200, "");
  EXPECT_EQ(s->writeLogs(parts, "bad token&x=1", Attempt::kFirst).code(), StatusCode::kInternal);
}

TEST(NativeEncoder, VarUIntAndColumnList) {
  std::string out;
  appendVarUInt(out, 0);
  appendVarUInt(out, 127);
  appendVarUInt(out, 128);
  appendVarUInt(out, 300);
  EXPECT_EQ(out, std::string("\x00\x7f\x80\x01\xac\x02", 6));
  EXPECT_EQ(nativeColumnList<telemetry::SpanBatch>().find("`Events.Timestamp`, `Events.Name`"),
            nativeColumnList<telemetry::SpanBatch>().find("`Events.Timestamp`"));
  EXPECT_NE(nativeStructure<telemetry::SpanBatch>().find(
                "`Events.Attributes` Array(Map(String, String))"),
            std::string::npos);
}

}  // namespace
}  // namespace stackhouse::sinks::clickhouse
