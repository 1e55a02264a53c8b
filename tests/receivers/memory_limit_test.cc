// The memory limiter on its own, and both OTLP receivers refusing the OTLP way above its soft
// limit: HTTP 503 + Retry-After, gRPC UNAVAILABLE; nothing reaches the sink meanwhile.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "pipeline/memory_limiter.h"
#include "receivers/otlp/grpc_receiver.h"
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

using pipeline::MemoryLimiter;

TEST(MemoryLimiter, AdmitsUnderTheSoftLimitAndCountsWhatItAdmitted) {
  std::atomic<uint64_t> pending{0};
  MemoryLimiter limiter({1000, 200}, [&] { return pending.load(); });
  Counter& refused = MemoryLimiter::refusedCounter("test");
  const uint64_t refusedBefore = refused.value();
  EXPECT_EQ(limiter.softLimitBytes(), 800u);
  auto a = limiter.admit(500, refused);
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ(limiter.heldBytes(), 500u);
  a.value().grow(100);
  EXPECT_EQ(limiter.heldBytes(), 600u);
  auto b = limiter.admit(300, refused);  // 600 held < 800: admitted (the spike allowance covers it)
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(limiter.heldBytes(), 900u);
  auto c = limiter.admit(1, refused);  // 900 held >= 800
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  b.value().reset();
  a = Result<MemoryLimiter::Reservation>(unavailable("x"));  // destroys the first reservation
  EXPECT_EQ(limiter.heldBytes(), 0u);
  pending = 800;  // the pipeline's pending bytes count too
  EXPECT_FALSE(limiter.admit(1, refused).isOk());
  pending = 799;
  EXPECT_TRUE(limiter.admit(1, refused).isOk());
  EXPECT_EQ(limiter.heldBytes(), 799u);  // that reservation is gone already
  EXPECT_EQ(refused.value() - refusedBefore, 2u);
}

TEST(MemoryLimiter, DefaultsComeFromTheMachine) {
  const auto o = pipeline::defaultMemoryLimiterOptions();
  EXPECT_GT(o.limitBytes, 0u);
  EXPECT_LE(o.limitBytes, 2ull << 30);
  EXPECT_EQ(o.spikeLimitBytes, o.limitBytes / 5);
}

std::string logsRequest() {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest r;
  r.add_resource_logs()->add_scope_logs()->add_log_records()->mutable_body()->set_string_value("x");
  return r.SerializeAsString();
}

class OverLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pipeline_ = stackhouse::testing::startedPipeline(sink_);
    // The pipeline's real pending bytes plus a pretend backlog the test controls.
    limiter_ = std::make_unique<MemoryLimiter>(
        pipeline::MemoryLimiterOptions{1 << 20, 1 << 18},
        [this] { return pipeline_->pendingBytes() + backlog_.load(); });
    OtlpHttpOptions ho;
    ho.memoryLimiter = limiter_.get();
    http_ = std::make_unique<OtlpHttpReceiver>(ho, *pipeline_);
    // As `stackhouse run` serves it: admitted (or refused) from the header, before the body.
    http::ServerOptions so;
    so.admit = [this](const http::RequestHead& head) { return http_->admit(head); };
    auto server = http::Server::start(so, [this](http::Request&& r, http::Respond respond) {
      http_->handle(std::move(r), std::move(respond));
    });
    ASSERT_TRUE(server.isOk());
    server_ = std::move(server.value());
    OtlpGrpcOptions go;
    go.memoryLimiter = limiter_.get();
    auto grpcReceiver = OtlpGrpcReceiver::start(go, *pipeline_);
    ASSERT_TRUE(grpcReceiver.isOk());
    grpc_ = std::move(grpcReceiver.value());
    stub_ = std::make_unique<grpc::GenericStub>(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(grpc_->port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    pipeline_->stop();
    grpc_->stop();
    server_->stop();
  }

  grpc::Status grpcCall(const std::string& bytes) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub_->UnaryCall(&ctx, "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
                     grpc::StubOptions(), &request, &response,
                     [&done](grpc::Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
  }

  stackhouse::testing::CountingSink sink_;
  std::atomic<uint64_t> backlog_{0};
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<MemoryLimiter> limiter_;
  std::unique_ptr<OtlpHttpReceiver> http_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<OtlpGrpcReceiver> grpc_;
  std::unique_ptr<grpc::GenericStub> stub_;
};

TEST_F(OverLimitTest, BothReceiversRefuseAboveTheSoftLimitAndAcceptAgainBelowIt) {
  stackhouse::testing::HttpClient client(server_->port());
  EXPECT_EQ(client.post("/v1/logs", "application/x-protobuf", logsRequest()).status, 200);
  EXPECT_TRUE(grpcCall(logsRequest()).ok());
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 2u);

  backlog_ = 1 << 20;  // past the soft limit (768 KiB)
  auto refused = client.post("/v1/logs", "application/x-protobuf", logsRequest());
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.header("retry-after"), "1");
  EXPECT_EQ(refused.header("content-type"), "application/x-protobuf");
  EXPECT_NE(refused.body.find("memory limit"), std::string::npos);  // a google.rpc.Status
  auto refusedJson = client.post("/v1/logs", "application/json", "{}");
  EXPECT_EQ(refusedJson.status, 503);
  EXPECT_NE(refusedJson.body.find(R"("code":14)"), std::string::npos) << refusedJson.body;
  const grpc::Status status = grpcCall(logsRequest());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("memory limit"), std::string::npos)
      << status.error_message();
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 2u);

  backlog_ = 0;
  EXPECT_EQ(client.post("/v1/logs", "application/x-protobuf", logsRequest()).status, 200);
  EXPECT_TRUE(grpcCall(logsRequest()).ok());
  settle(*pipeline_);
  EXPECT_EQ(sink_.logs.load(), 4u);
  // Every reservation was released (the pipeline's pending bytes may lag its answer a moment).
  for (int i = 0; i < 100 && limiter_->heldBytes() != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(limiter_->heldBytes(), 0u);
}

}  // namespace
}  // namespace stackhouse::receivers
