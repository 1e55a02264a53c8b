// The OTLP/gRPC receiver over a real grpc server and pipeline, driven by a grpc generic stub
// that sends raw request bytes (built with libprotobuf's test messages); the sink records what
// reaches it.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "common/metrics.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "receivers/otlp/grpc_receiver.h"
#include "support/counting_sink.h"

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

namespace collogs = opentelemetry::proto::collector::logs::v1;
namespace coltrace = opentelemetry::proto::collector::trace::v1;
namespace colmetrics = opentelemetry::proto::collector::metrics::v1;

const std::string kLogs = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
const std::string kTrace = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const std::string kMetrics = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

using stackhouse::testing::CountingSink;

// The retry delay of the google.rpc.RetryInfo in a status's details (grpc-status-details-bin),
// in milliseconds; -1 when there is none.
int64_t retryDelayMillis(const grpc::Status& status) {
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) return -1;
  EXPECT_EQ(details.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(details.message(), status.error_message());
  for (const auto& any : details.details()) {
    google::rpc::RetryInfo info;
    if (any.UnpackTo(&info))
      return info.retry_delay().seconds() * 1000 + info.retry_delay().nanos() / 1'000'000;
  }
  return -1;
}

collogs::ExportLogsServiceRequest logsRequest(int records, std::string_view body = "hello") {
  collogs::ExportLogsServiceRequest r;
  auto* rl = r.add_resource_logs();
  auto* attr = rl->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value("svc");
  auto* sl = rl->add_scope_logs();
  for (int i = 0; i < records; ++i) {
    auto* lr = sl->add_log_records();
    lr->set_time_unix_nano(static_cast<uint64_t>(i + 1));
    lr->mutable_body()->set_string_value(std::string(body));
  }
  return r;
}

struct CallResult {
  grpc::Status status;
  std::string body;
};

class GrpcReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pipeline_ = stackhouse::testing::startedPipeline(sink_);
    OtlpGrpcOptions ro;
    ro.maxMessageBytes = 1 << 20;
    ro.limits.maxResources = 2;
    ro.limits.maxRecords = 200;
    ro.limits.maxAttributes = 3;
    ro.limits.maxKeyBytes = 12;  // service.name fits
    ro.limits.maxValueBytes = 16;
    auto receiver = OtlpGrpcReceiver::start(ro, *pipeline_);
    ASSERT_TRUE(receiver.isOk()) << receiver.status().message();
    receiver_ = std::move(receiver.value());
    ASSERT_NE(receiver_->port(), 0);
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(-1);
    channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(receiver_->port()),
                                         grpc::InsecureChannelCredentials(), args);
    stub_ = std::make_unique<grpc::GenericStub>(channel_);
  }
  void TearDown() override {
    pipeline_->stop();
    if (receiver_) receiver_->stop();
  }

  CallResult call(const std::string& method, const std::string& bytes, bool gzip = false) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (gzip) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub_->UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                     [&done](grpc::Status s) { done.set_value(std::move(s)); });
    CallResult result{done.get_future().get(), {}};
    if (result.status.ok()) {
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(response.Dump(&slices).ok());
      for (const auto& s : slices)
        result.body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return result;
  }

  CountingSink sink_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<OtlpGrpcReceiver> receiver_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

TEST_F(GrpcReceiverTest, LogsAreAcknowledgedAfterTheSinkTookThem) {
  auto r = call(kLogs, logsRequest(3).SerializeAsString());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.body, "");  // the empty ExportLogsServiceResponse: full success
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 3u);
  std::lock_guard lock(sink_.mu);
  settle(*pipeline_);
  EXPECT_EQ(sink_.bodies, (std::vector<std::string>{"hello", "hello", "hello"}));
}

TEST_F(GrpcReceiverTest, SpansAndMetricPoints) {
  coltrace::ExportTraceServiceRequest traces;
  auto* span = traces.add_resource_spans()->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x01'));
  span->set_span_id(std::string(8, '\x02'));
  span->set_name("GET /");
  auto t = call(kTrace, traces.SerializeAsString());
  ASSERT_TRUE(t.status.ok()) << t.status.error_message();
  settle(*pipeline_);
  EXPECT_EQ(sink_.spans.load(), 1u);

  colmetrics::ExportMetricsServiceRequest metrics;
  auto* metric = metrics.add_resource_metrics()->add_scope_metrics()->add_metrics();
  metric->set_name("requests");
  for (int i = 0; i < 2; ++i) metric->mutable_gauge()->add_data_points()->set_as_int(i);
  auto m = call(kMetrics, metrics.SerializeAsString());
  ASSERT_TRUE(m.status.ok()) << m.status.error_message();
  settle(*pipeline_);
  EXPECT_EQ(sink_.points.load(), 2u);
}

TEST_F(GrpcReceiverTest, GzipCompressedMessages) {
  auto r = call(kLogs, logsRequest(5, std::string(2000, 'z')).SerializeAsString(), /*gzip=*/true);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 5u);
  std::lock_guard lock(sink_.mu);
  settle(*pipeline_);
  ASSERT_EQ(sink_.bodies.size(), 5u);
  EXPECT_EQ(sink_.bodies[4], std::string(2000, 'z'));
}

TEST_F(GrpcReceiverTest, PartialSuccessNamesTheRejectedRecord) {
  auto request = logsRequest(2);
  request.mutable_resource_logs(0)->mutable_scope_logs(0)->mutable_log_records(1)->set_trace_id(
      std::string(15, '\x01'));
  auto r = call(kLogs, request.SerializeAsString());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  collogs::ExportLogsServiceResponse response;
  ASSERT_TRUE(response.ParseFromString(r.body));
  EXPECT_EQ(response.partial_success().rejected_log_records(), 1);
  EXPECT_NE(response.partial_success().error_message().find("trace_id"), std::string::npos)
      << response.partial_success().error_message();
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 1u);
}

TEST_F(GrpcReceiverTest, EveryRecordRejectedIsStillOkWithPartialSuccess) {
  coltrace::ExportTraceServiceRequest traces;
  traces.add_resource_spans()->add_scope_spans()->add_spans()->set_trace_id("short");
  auto r = call(kTrace, traces.SerializeAsString());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  coltrace::ExportTraceServiceResponse response;
  ASSERT_TRUE(response.ParseFromString(r.body));
  EXPECT_EQ(response.partial_success().rejected_spans(), 1);
  settle(*pipeline_);
  EXPECT_EQ(sink_.spans.load(), 0u);
}

TEST_F(GrpcReceiverTest, AnEmptyRequestIsOk) {
  auto r = call(kMetrics, "");
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.body, "");
}

TEST_F(GrpcReceiverTest, MalformedDataIsInvalidArgument) {
  auto r = call(kTrace, std::string("\x0a\xff\xff\xff\xff\x0f", 6));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(r.status.error_message().empty());
  auto g = call(kLogs, std::string("\x0a\x05\x0a\x03", 4), /*gzip=*/true);  // length past the end
  EXPECT_EQ(g.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load() + sink_.spans.load(), 0u);
}

TEST_F(GrpcReceiverTest, UnknownMethodsAreUnimplemented) {
  auto r = call("/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export", "");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  auto s = call("/opentelemetry.proto.collector.logs.v1.LogsService/Exports", "");
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GrpcReceiverTest, MessagesPastTheLimitAreRefusedCompressedOrNot) {
  const std::string big = logsRequest(1, std::string(2u << 20, 'a')).SerializeAsString();
  auto r = call(kLogs, big);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << r.status.error_message();
  // About 2 KiB on the wire, 2 MiB once inflated: the limit applies to the inflated size.
  auto g = call(kLogs, big, /*gzip=*/true);
  EXPECT_EQ(g.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << g.status.error_message();
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 0u);
  // The receiver still serves afterwards.
  EXPECT_TRUE(call(kLogs, logsRequest(1).SerializeAsString()).status.ok());
}

TEST_F(GrpcReceiverTest, AFullQueueIsUnavailableWithRetryInfo) {
  CountingSink down;
  const auto fullPipeline = stackhouse::testing::fullQueuePipeline(down, "full-grpc");
  pipeline::Pipeline& full = *fullPipeline;
  auto receiver = OtlpGrpcReceiver::start({}, full);
  ASSERT_TRUE(receiver.isOk());
  grpc::GenericStub stub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(receiver.value()->port()), grpc::InsecureChannelCredentials()));
  grpc::Status last;
  for (int i = 0; i < 50 && last.ok(); ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Slice slice(logsRequest(1).SerializeAsString());
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, kLogs, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    last = done.get_future().get();
  }
  EXPECT_EQ(last.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(last.error_message().find("queue is full"), std::string::npos) << last.error_message();
  EXPECT_EQ(retryDelayMillis(last), 1000);
  receiver.value()->stop();
  full.stop();
}

TEST_F(GrpcReceiverTest, RowsTheStoreRefusesLaterAreDroppedAndCountedNotAnsweredAgain) {
  // Acknowledged once queued: a refusal by the store comes after the answer, so it is dropped
  // there, counted and logged (pipeline/sink_worker.h); what the receiver itself finds wrong
  // is still answered with an error (the limits tests above).
  auto& refused =
      metrics().counter("stackhouse_queue_dropped_records_total", "",
                        {{"sink", "clickhouse"}, {"signal", "logs"}, {"reason", "refused"}});
  const uint64_t before = refused.value();
  sink_.refuse = true;
  auto r = call(kLogs, logsRequest(1).SerializeAsString());
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  settle(*pipeline_);
  EXPECT_EQ(refused.value() - before, 1u);
}

TEST_F(GrpcReceiverTest, AStoppedPipelineIsUnavailableWithRetryInfo) {
  pipeline_->stop();
  auto r = call(kLogs, logsRequest(1).SerializeAsString());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(retryDelayMillis(r.status), 1000);
}

TEST_F(GrpcReceiverTest, ErrorsThatAreNotRetryableCarryNoRetryInfo) {
  auto r = call(kTrace, std::string("\x0a\xff\xff\xff\xff\x0f", 6));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(retryDelayMillis(r.status), -1);
}

TEST(GrpcReceiverMemoryLimit, RefusalsCarryRetryInfo) {
  CountingSink sink;
  pipeline::Pipeline pipeline({}, sink);
  pipeline.start();
  std::atomic<uint64_t> backlog{0};
  pipeline::MemoryLimiter limiter({1 << 20, 1 << 18}, [&backlog] { return backlog.load(); });
  OtlpGrpcOptions o;
  o.memoryLimiter = &limiter;
  o.retryDelayMillis = 2500;
  auto receiver = OtlpGrpcReceiver::start(o, pipeline);
  ASSERT_TRUE(receiver.isOk());
  grpc::GenericStub stub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(receiver.value()->port()), grpc::InsecureChannelCredentials()));
  auto send = [&stub] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Slice slice(logsRequest(1).SerializeAsString());
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, kLogs, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
  };
  EXPECT_TRUE(send().ok());
  backlog = 1 << 20;  // past the soft limit
  const grpc::Status refused = send();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(refused.error_message().find("memory limit"), std::string::npos)
      << refused.error_message();
  EXPECT_EQ(retryDelayMillis(refused), 2500);
  settle(pipeline);
  EXPECT_EQ(sink.logs.load(), 1u);
  pipeline.stop();
  receiver.value()->stop();
}

TEST(GrpcReceiverIngestionKey, CallsWithoutTheKeyAreUnauthenticated) {
  CountingSink sink;
  pipeline::Pipeline pipeline({}, sink);
  pipeline.start();
  OtlpGrpcOptions o;
  o.ingestionKey = "ingest-key-42";
  auto receiver = OtlpGrpcReceiver::start(o, pipeline);
  ASSERT_TRUE(receiver.isOk());
  grpc::GenericStub stub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(receiver.value()->port()), grpc::InsecureChannelCredentials()));
  auto send = [&stub](const char* authorization) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (authorization != nullptr) ctx.AddMetadata("authorization", authorization);
    grpc::Slice slice(logsRequest(1).SerializeAsString());
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, kLogs, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
  };
  EXPECT_EQ(send(nullptr).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(send("Bearer ingest-key-4").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(send("Bearer ingest-key-42").ok());
  EXPECT_TRUE(send("ingest-key-42").ok()) << "HyperDX's bare form";
  settle(pipeline);
  EXPECT_EQ(sink.logs.load(), 2u);
  pipeline.stop();
  receiver.value()->stop();
}

// ---- per-request and per-record limits

TEST_F(GrpcReceiverTest, TooManyResourcesOrRecordsAreInvalidArgumentNamingTheLimit) {
  auto request = logsRequest(1);
  for (int i = 0; i < 2; ++i) *request.add_resource_logs() = request.resource_logs(0);
  auto r = call(kLogs, request.SerializeAsString());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.status.error_message(),
            "protobuf: the request holds more than 2 resources (limit "
            "otelConfig.receivers.otlp.limits.maxResourcesPerRequest)");
  r = call(kLogs, logsRequest(201).SerializeAsString());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.status.error_message(),
            "protobuf: the request holds more than 200 records (limit "
            "otelConfig.receivers.otlp.limits.maxRecordsPerRequest)");
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 0u);
  EXPECT_TRUE(call(kLogs, logsRequest(200).SerializeAsString()).status.ok());
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 200u);
}

TEST_F(GrpcReceiverTest, AttributesPastTheLimitsAreCutWithAPartialSuccessWarning) {
  Counter& dropped = metrics().counter("stackhouse_receiver_attributes_dropped_total", "",
                                       {{"receiver", "otlp-grpc"}});
  const uint64_t droppedBefore = dropped.value();
  auto request = logsRequest(1);
  auto* record = request.mutable_resource_logs(0)->mutable_scope_logs(0)->mutable_log_records(0);
  auto add = [record](std::string key, std::string value) {
    auto* kv = record->add_attributes();
    kv->set_key(std::move(key));
    kv->mutable_value()->set_string_value(std::move(value));
  };
  add("a", "0123456789abcdef\xE2\x82\xAC");  // the euro sign would be split: cut before it
  add("a.very.long.key", "1");
  add("c", "3");
  add("d", "4");
  auto r = call(kLogs, request.SerializeAsString());
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  collogs::ExportLogsServiceResponse response;
  ASSERT_TRUE(response.ParseFromString(r.body));
  EXPECT_EQ(response.partial_success().rejected_log_records(), 0);
  EXPECT_EQ(response.partial_success().error_message(),
            "attributes dropped past 3 in one record: 1 (limit "
            "otelConfig.receivers.otlp.limits.maxAttributesPerRecord); attribute keys cut to 12 "
            "bytes: 1 (limit otelConfig.receivers.otlp.limits.maxAttributeKeyLength); attribute "
            "values cut to 16 bytes: 1 (limit "
            "otelConfig.receivers.otlp.limits.maxAttributeValueLength)");
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 1u);
  std::lock_guard lock(sink_.mu);
  settle(*pipeline_);
  EXPECT_EQ(sink_.attributes, (std::vector<std::pair<std::string, std::string>>{
                                  {"a", "0123456789abcdef"}, {"a.very.long.", "1"}, {"c", "3"}}));
  EXPECT_EQ(dropped.value() - droppedBefore, 1u);
}

TEST(GrpcReceiverStreams, ACallPastMaxConcurrentStreamsWaitsForTheClient) {
  // A stage holds the first call on its decoding thread until released; with one stream per
  // connection a second call on the same channel cannot reach the server meanwhile (it never
  // enters the stage on the other decoding thread), with the default it does.
  for (uint32_t streams : {1u, 100u}) {
    SCOPED_TRACE(streams);
    class BlockingStage : public pipeline::Stage {
     public:
      void process(telemetry::LogBatch&) override {
        std::unique_lock lock(gate);
        ++entered;
        cv.notify_all();
        cv.wait(lock, [this] { return open; });
      }
      void process(telemetry::SpanBatch&) override {}
      void process(telemetry::MetricBatch&) override {}
      std::mutex gate;
      std::condition_variable cv;
      int entered = 0;    // guarded by gate
      bool open = false;  // guarded by gate
    } stage;
    CountingSink sink;
    pipeline::PipelineOptions po;
    po.timeout = std::chrono::milliseconds(1);
    po.stage = &stage;
    pipeline::Pipeline pipeline(po, sink);
    pipeline.start();
    OtlpGrpcOptions o;
    o.maxConcurrentStreams = streams;
    o.threads = 2;
    auto receiver = OtlpGrpcReceiver::start(o, pipeline);
    ASSERT_TRUE(receiver.isOk());
    grpc::GenericStub stub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(receiver.value()->port()),
                            grpc::InsecureChannelCredentials()));
    auto send = [&stub](std::promise<grpc::Status>& done, grpc::ClientContext& ctx) {
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      grpc::Slice slice(logsRequest(1).SerializeAsString());
      grpc::ByteBuffer request(&slice, 1);
      auto response = std::make_shared<grpc::ByteBuffer>();
      stub.UnaryCall(&ctx, kLogs, grpc::StubOptions(), &request, response.get(),
                     [&done, response](grpc::Status s) { done.set_value(std::move(s)); });
    };
    std::promise<grpc::Status> first, second;
    grpc::ClientContext firstCtx, secondCtx;
    send(first, firstCtx);
    {
      std::unique_lock lock(stage.gate);
      ASSERT_TRUE(
          stage.cv.wait_for(lock, std::chrono::seconds(10), [&] { return stage.entered == 1; }));
    }
    // The second call reaches the stage only if it got a stream. Its absence can only be
    // observed over a while.
    send(second, secondCtx);
    int entered = 1;
    {
      std::unique_lock lock(stage.gate);
      stage.cv.wait_for(lock, std::chrono::milliseconds(1500), [&] { return stage.entered == 2; });
      entered = stage.entered;
      stage.open = true;
    }
    stage.cv.notify_all();
    EXPECT_TRUE(first.get_future().get().ok());
    EXPECT_TRUE(second.get_future().get().ok());
    EXPECT_EQ(entered, streams == 1 ? 1 : 2);
    settle(pipeline);
    EXPECT_EQ(sink.logs.load(), 2u);
    pipeline.stop();
    receiver.value()->stop();
  }
}

TEST_F(GrpcReceiverTest, ConcurrentCallsAreAllAnswered) {
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (call(kLogs, logsRequest(10).SerializeAsString()).status.ok()) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 100);
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 1000u);
}

TEST(GrpcReceiverLifecycle, StartStopAndStopAgain) {
  CountingSink sink;
  pipeline::Pipeline pipeline({}, sink);
  auto receiver = OtlpGrpcReceiver::start({}, pipeline);
  ASSERT_TRUE(receiver.isOk()) << receiver.status().message();
  receiver.value()->stop();
  receiver.value()->stop();
}

TEST(GrpcReceiverLifecycle, APortInUseFailsAtStart) {
  CountingSink sink;
  pipeline::Pipeline pipeline({}, sink);
  auto first = OtlpGrpcReceiver::start({}, pipeline);
  ASSERT_TRUE(first.isOk());
  OtlpGrpcOptions o;
  o.port = first.value()->port();
  auto second = OtlpGrpcReceiver::start(o, pipeline);
  EXPECT_FALSE(second.isOk());
}

}  // namespace
}  // namespace stackhouse::receivers
