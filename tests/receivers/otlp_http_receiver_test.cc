// The OTLP/HTTP receiver over a real HTTP server and pipeline; the sink records what reaches it.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/metrics.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "receivers/gzip_util.h"
#include "receivers/otlp/http_receiver.h"
#include "support/counting_sink.h"
#include "support/http_client.h"

namespace {
// Waits until the pipeline's sinks hold everything it acknowledged (acknowledgement comes when
// a request is in the queue; the sink gets it a moment later).
[[maybe_unused]] void settle(stackhouse::pipeline::Pipeline& p) {
  for (int i = 0; i < 5000 && !p.idle(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}
}  // namespace

namespace stackhouse::receivers {
namespace {

using stackhouse::testing::HttpClient;

using stackhouse::testing::CountingSink;

const std::string kLogsJson =
    R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","body":{"stringValue":"one"}},{"timeUnixNano":"2","body":{"stringValue":"two"}}]}]}]})";
const std::string kBadIdJson =
    R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"ok"}},{"traceId":"abcd","body":{"stringValue":"bad"}}]}]}]})";

class ReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pipeline_ = stackhouse::testing::startedPipeline(sink_);
    OtlpHttpOptions ro;
    ro.maxBodyBytes = 1 << 20;
    ro.limits.maxResources = 2;
    ro.limits.maxRecords = 100;
    ro.limits.maxAttributes = 3;
    ro.limits.maxKeyBytes = 12;  // service.name fits
    ro.limits.maxValueBytes = 16;
    receiver_ = std::make_unique<OtlpHttpReceiver>(ro, *pipeline_);
    http::ServerOptions so;
    so.name = "otlp-http-test";
    so.maxBodyBytes = 1 << 20;
    auto server = http::Server::start(so, [this](http::Request&& r, http::Respond respond) {
      receiver_->handle(std::move(r), std::move(respond));
    });
    ASSERT_TRUE(server.isOk());
    server_ = std::move(server.value());
    client_ = std::make_unique<HttpClient>(server_->port());
  }
  void TearDown() override {
    pipeline_->stop();
    server_->stop();
  }

  CountingSink sink_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<OtlpHttpReceiver> receiver_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ReceiverTest, JsonLogsAreAcknowledgedAfterTheSinkTookThem) {
  auto r = client_->post("/v1/logs", "application/json", kLogsJson);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body, "{}");
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 2u);
}

TEST_F(ReceiverTest, WithAnIngestionKeyRequestsWithoutItAre401) {
  OtlpHttpOptions ro;
  ro.ingestionKey = "ingest-key-42";
  receiver_ = std::make_unique<OtlpHttpReceiver>(ro, *pipeline_);  // no request is in flight
  auto post = [this](std::string authorization) {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "application/json"}};
    if (!authorization.empty()) headers.emplace_back("Authorization", std::move(authorization));
    return client_->request("POST", "/v1/logs", kLogsJson, headers);
  };
  auto r = post("");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("www-authenticate"), "Bearer");
  EXPECT_NE(r.body.find("ingestion key"), std::string::npos) << r.body;
  EXPECT_EQ(post("Bearer ingest-key-41").status, 401);
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 0u);
  EXPECT_EQ(post("Bearer ingest-key-42").status, 200);
  EXPECT_EQ(post("ingest-key-42").status, 200) << "HyperDX's bare form";
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 4u);
}

TEST_F(ReceiverTest, GzipBodies) {
  auto r = client_->request(
      "POST", "/v1/logs", stackhouse::testing::gzip(kLogsJson),
      {{"Content-Type", "application/json; charset=utf-8"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 200) << r.body;
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 2u);
}

TEST_F(ReceiverTest, PartialSuccessNamesTheRejectedRecord) {
  auto r = client_->post("/v1/logs", "application/json", kBadIdJson);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("partialSuccess")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("rejectedLogRecords":"1")"), std::string::npos) << r.body;
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 1u);
}

TEST_F(ReceiverTest, MalformedDataIs400WithAStatusBody) {
  auto r = client_->post("/v1/traces", "application/json", "{\"resourceSpans\": [}");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"code\":3"), std::string::npos) << r.body;
  auto p = client_->post("/v1/traces", "application/x-protobuf",
                         std::string("\x0a\xff\xff\xff\xff\x0f", 6));
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.header("content-type"), "application/x-protobuf");
}

TEST_F(ReceiverTest, MediaTypesEncodingsPathsAndMethods) {
  EXPECT_EQ(client_->post("/v1/logs", "text/plain", kLogsJson).status, 415);
  EXPECT_EQ(client_
                ->request("POST", "/v1/logs", kLogsJson,
                          {{"Content-Type", "application/json"}, {"Content-Encoding", "br"}})
                .status,
            415);
  EXPECT_EQ(client_->post("/v2/logs", "application/json", kLogsJson).status, 404);
  auto get = client_->get("/v1/logs");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.header("allow"), "POST");
}

TEST_F(ReceiverTest, AGzipBombIs413AndNothingIsStored) {
  auto r =
      client_->request("POST", "/v1/logs", stackhouse::testing::gzipZeros(64u << 20),
                       {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 413);
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 0u);
}

TEST_F(ReceiverTest, AFullQueueIsRetryable503) {
  CountingSink down;
  const auto fullPipeline = stackhouse::testing::fullQueuePipeline(down, "full-http");
  pipeline::Pipeline& full = *fullPipeline;
  receiver_ = std::make_unique<OtlpHttpReceiver>(OtlpHttpOptions{}, full);
  stackhouse::testing::HttpReply r;
  r.status = 200;
  for (int i = 0; i < 50 && r.status == 200; ++i) {
    r = client_->post("/v1/logs", "application/json", kLogsJson);
  }
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_NE(r.body.find("queue is full"), std::string::npos) << r.body;
  // While it is full, the server's admission hook refuses the next request from its header: its
  // body is neither read nor decoded (nor sent, by a client that waits for 100 Continue).
  const http::RequestHead head{"POST", "/v1/logs", "application/json", 1024};
  http::AdmitResult early = receiver_->admit(head);
  ASSERT_TRUE(std::holds_alternative<http::Response>(early));
  EXPECT_EQ(std::get<http::Response>(early).status, 503);
  // Other paths and methods are left to the handler.
  EXPECT_TRUE(std::holds_alternative<std::unique_ptr<http::Admission>>(
      receiver_->admit({"GET", "/v1/logs", "", std::nullopt})));
  full.stop();
}

// A request admitted from its header holds room in the queue until its records are queued (or it
// is dropped): room promised to one is refused to the next, and nothing stays promised after
// requests went through the server, accepted or refused.
TEST_F(ReceiverTest, AdmittedRequestsHoldTheirRoomInTheQueueUntilQueued) {
  CountingSink down;
  down.fail = true;  // nothing leaves the queue
  constexpr uint64_t kQueueBytes = 64 << 10;
  std::vector<pipeline::PipelineSink> sinks(1);
  sinks[0].sink = &down;
  sinks[0].queue.sink = "held-http";
  sinks[0].queue.maxBytes = kQueueBytes;
  sinks[0].sources = {telemetry::Source::kLogs};
  pipeline::Pipeline queued(pipeline::PipelineOptions{}, std::move(sinks));
  queued.start();
  receiver_ = std::make_unique<OtlpHttpReceiver>(OtlpHttpOptions{}, queued);
  http::ServerOptions so;
  so.name = "otlp-http-held";
  so.admit = [this](const http::RequestHead& head) { return receiver_->admit(head); };
  auto server = http::Server::start(so, [this](http::Request&& r, http::Respond respond) {
    receiver_->handle(std::move(r), std::move(respond));
  });
  ASSERT_TRUE(server.isOk());
  HttpClient client((*server)->port());
  const Gauge& queueBytes = metrics().gauge("stackhouse_queue_bytes", "", {{"sink", "held-http"}});
  auto head = [](uint64_t bytes) {
    return http::RequestHead{"POST", "/v1/logs", "application/json", bytes};
  };
  auto refused = [](const http::AdmitResult& r) {
    return std::holds_alternative<http::Response>(r) && std::get<http::Response>(r).status == 503;
  };

  // Requests through the server, each admitted from its header: accepted, and one whose header
  // asks for more room than the queue has, refused before its body is read.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(client.post("/v1/logs", "application/json", kLogsJson).status, 200) << i;
  }
  EXPECT_EQ(
      client
          .postExpectingContinue("/v1/logs", "application/json", std::string(4 * kQueueBytes, ' '))
          .status,
      503);
  // Nothing stays promised: exactly the room the queue does not hold can be reserved. (A request
  // reserves what the requests before it took in the queue per byte their headers announced.)
  auto announcedFor = [&](uint64_t room) {
    return room * (1 << 20) / queued.reservationFor(telemetry::Source::kLogs, 1 << 20);
  };
  const uint64_t free = kQueueBytes - static_cast<uint64_t>(queueBytes.value());
  ASSERT_GT(free, 16u << 10);
  EXPECT_TRUE(refused(receiver_->admit(head(announcedFor(free + 64)))));
  http::AdmitResult first = receiver_->admit(head(announcedFor(free - (8 << 10))));
  ASSERT_FALSE(refused(first));
  // What the first holds is not the next one's...
  EXPECT_TRUE(refused(receiver_->admit(head(announcedFor(16 << 10)))));
  EXPECT_FALSE(refused(receiver_->admit(head(announcedFor(4 << 10)))));
  // ...until it is gone (a request that failed before its records were queued).
  first = http::AdmitResult{};
  EXPECT_FALSE(refused(receiver_->admit(head(announcedFor(16 << 10)))));
  (*server)->stop();
  queued.stop();
}

TEST_F(ReceiverTest, AStoreFailureDoesNotReachTheClient) {
  // Acknowledged once queued: the sink's worker retries until the store takes the rows.
  sink_.fail = true;
  auto r = client_->post("/v1/logs", "application/json", kLogsJson);
  EXPECT_EQ(r.status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(pipeline_->idle());
  sink_.fail = false;
  settle(*pipeline_);
  EXPECT_TRUE(pipeline_->idle());
}

TEST_F(ReceiverTest, RowsTheStoreRefusesLaterAreDroppedAndCounted) {
  auto& refused =
      metrics().counter("stackhouse_queue_dropped_records_total", "",
                        {{"sink", "clickhouse"}, {"signal", "logs"}, {"reason", "refused"}});
  const uint64_t before = refused.value();
  sink_.refuse = true;
  auto r = client_->post("/v1/logs", "application/json", kLogsJson);
  EXPECT_EQ(r.status, 200);
  settle(*pipeline_);
  EXPECT_EQ(refused.value() - before, 1u);
}

TEST_F(ReceiverTest, EmptyRequestIsAcknowledged) {
  auto r = client_->post("/v1/metrics", "application/x-protobuf", "");
  EXPECT_EQ(r.status, 200);
  settle(*pipeline_);
  EXPECT_EQ(sink_.points.load(), 0u);
}

// ---- per-request and per-record limits

std::string jsonToProtobuf(const std::string& json) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest request;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &request).ok());
  return request.SerializeAsString();
}

std::string jsonRecords(int resources, int recordsEach) {
  std::string out = R"({"resourceLogs":[)";
  for (int r = 0; r < resources; ++r) {
    out += r ? "," : "";
    out += R"({"scopeLogs":[{"logRecords":[)";
    for (int i = 0; i < recordsEach; ++i)
      out += std::string(i ? "," : "") + R"({"body":{"stringValue":"x"}})";
    out += "]}]}";
  }
  return out + "]}";
}

TEST_F(ReceiverTest, TooManyResourcesOrRecordsAre400NamingTheLimit) {
  auto r = client_->post("/v1/logs", "application/json", jsonRecords(3, 1));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("code":3)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("more than 2 resources (limit "
                        "otelConfig.receivers.otlp.limits.maxResourcesPerRequest)"),
            std::string::npos)
      << r.body;
  r = client_->post("/v1/logs", "application/json", jsonRecords(2, 51));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("more than 100 records (limit "
                        "otelConfig.receivers.otlp.limits.maxRecordsPerRequest)"),
            std::string::npos)
      << r.body;
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 0u);
  // At the limits: accepted.
  r = client_->post("/v1/logs", "application/json", jsonRecords(2, 50));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 100u);
}

TEST_F(ReceiverTest, AttributesPastTheLimitsAreCutWithAPartialSuccessWarning) {
  Counter& dropped = metrics().counter("stackhouse_receiver_attributes_dropped_total", "",
                                       {{"receiver", "otlp-http"}});
  Counter& valuesCut = metrics().counter("stackhouse_receiver_attributes_truncated_total", "",
                                         {{"receiver", "otlp-http"}, {"part", "value"}});
  Counter& keysCut = metrics().counter("stackhouse_receiver_attributes_truncated_total", "",
                                       {{"receiver", "otlp-http"}, {"part", "key"}});
  const uint64_t droppedBefore = dropped.value();
  const uint64_t valuesBefore = valuesCut.value();
  const uint64_t keysBefore = keysCut.value();
  const std::string body =
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"b"},"attributes":[)"
      R"({"key":"a","value":{"stringValue":"0123456789abcdefXYZ"}},)"
      R"({"key":"a.very.long.key","value":{"intValue":"1"}},)"
      R"({"key":"c","value":{"stringValue":"3"}},)"
      R"({"key":"d","value":{"stringValue":"4"}},{"key":"e","value":{"stringValue":"5"}}]}]}]}]})";
  for (const char* contentType : {"application/json", "application/x-protobuf"}) {
    SCOPED_TRACE(contentType);
    auto r = std::string(contentType) == "application/json"
                 ? client_->post("/v1/logs", contentType, body)
                 : client_->post("/v1/logs", contentType, jsonToProtobuf(body));
    EXPECT_EQ(r.status, 200) << r.body;
    if (std::string(contentType) == "application/json") {
      EXPECT_EQ(
          r.body,
          R"x({"partialSuccess":{"errorMessage":"attributes dropped past 3 in one record: 2 )x"
          R"x((limit otelConfig.receivers.otlp.limits.maxAttributesPerRecord); attribute keys )x"
          R"x(cut to 12 bytes: 1 (limit otelConfig.receivers.otlp.limits.maxAttributeKeyLength); )x"
          R"x(attribute values cut to 16 bytes: 1 (limit )x"
          R"x(otelConfig.receivers.otlp.limits.maxAttributeValueLength)"}})x");
    } else {
      EXPECT_NE(r.body.find("maxAttributesPerRecord"), std::string::npos);
    }
  }
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 2u);
  ASSERT_EQ(sink_.attributes.size(), 6u);
  EXPECT_EQ(sink_.attributes[0], (std::pair<std::string, std::string>{"a", "0123456789abcdef"}));
  EXPECT_EQ(sink_.attributes[1], (std::pair<std::string, std::string>{"a.very.long.", "1"}));
  EXPECT_EQ(sink_.attributes[2], (std::pair<std::string, std::string>{"c", "3"}));
  EXPECT_EQ(dropped.value() - droppedBefore, 4u);
  EXPECT_EQ(keysCut.value() - keysBefore, 2u);
  EXPECT_EQ(valuesCut.value() - valuesBefore, 2u);
}

}  // namespace
}  // namespace stackhouse::receivers
