#include "receivers/otlp/grpc_receiver.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <climits>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/metrics.h"
#include "common/thread_name.h"
#include "otlp/encode.h"
#include "receivers/otlp/ingest_core.h"
#include "receivers/otlp/ingestion_key.h"

namespace stackhouse::receivers {

namespace {

constexpr std::string_view kLogsMethod =
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
constexpr std::string_view kTraceMethod =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
constexpr std::string_view kMetricsMethod =
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

grpc::StatusCode grpcCode(StatusCode code) {
  return static_cast<grpc::StatusCode>(grpcStatusCode(code));
}

class GrpcReceiverImpl;

// One Export call. grpc owns it from CreateReactor until OnDone. It is finished exactly once:
// at once (unknown method, no message, queue full), by a decoding thread (bad data, pipeline
// refused, nothing to store), or by the pipeline's completion on its queue-sync thread.
class ExportCall final : public grpc::ServerGenericBidiReactor {
 public:
  // Unauthenticated calls (a missing or wrong ingestion key) are answered UNAUTHENTICATED at once.
  ExportCall(GrpcReceiverImpl& receiver, std::optional<otlp::Signal> signal, bool authenticated);

  void OnReadDone(bool ok) override;
  void OnDone() override { delete this; }

  otlp::Signal signal() const { return *signal_; }
  grpc::ByteBuffer& request() { return request_; }
  // The request's memory reservation, for the decoding thread to hold until the batch is handed
  // over (the call itself may be gone by then).
  pipeline::MemoryLimiter::Reservation takeReservation() { return std::move(held_); }
  // The room its message reserved in the routed queues, for the decoding thread to hand over.
  pipeline::Admission takeAdmission() { return std::move(admission_); }

  void finishOk(otlp::Signal signal, uint64_t rejected, const std::string& message) {
    const std::string body =
        otlp::encodeExportResponse(signal, otlp::Encoding::kProtobuf, rejected, message);
    grpc::Slice slice(body);
    response_ = grpc::ByteBuffer(&slice, 1);
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }
  void finishError(grpc::StatusCode code, const std::string& message) {
    Finish(grpc::Status(code, message));
  }
  // UNAVAILABLE with a RetryInfo in the status details, so that clients back off.
  void finishRetry(const std::string& message);

 private:
  GrpcReceiverImpl& receiver_;
  std::optional<otlp::Signal> signal_;  // empty: not an OTLP Export method
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  pipeline::MemoryLimiter::Reservation held_;
  pipeline::Admission admission_;
};

class ExportService final : public grpc::CallbackGenericService {
 public:
  explicit ExportService(GrpcReceiverImpl& receiver) : receiver_(receiver) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  GrpcReceiverImpl& receiver_;
};

class GrpcReceiverImpl final : public OtlpGrpcReceiver {
 public:
  GrpcReceiverImpl(const OtlpGrpcOptions& options, pipeline::Pipeline& pipeline)
      : options_(options),
        service_(*this),
        core_("otlp-grpc", "grpc", pipeline, options.limits),
        busy_(metrics().counter(
            "stackhouse_receiver_grpc_busy_total",
            "OTLP/gRPC calls refused because every decoding thread was busy and the queue full.")),
        unknownMethod_(
            metrics().counter("stackhouse_receiver_grpc_unimplemented_total",
                              "gRPC calls to methods other than the OTLP Export methods.")) {}

  ~GrpcReceiverImpl() override { stop(); }

  Status listen() {
    const std::string host =
        options_.host.find(':') != std::string::npos ? "[" + options_.host + "]" : options_.host;
    const std::string address = host + ":" + std::to_string(options_.port);
    int boundPort = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &boundPort);
    builder.RegisterCallbackGenericService(&service_);
    builder.SetMaxReceiveMessageSize(
        static_cast<int>(std::min<uint64_t>(options_.maxMessageBytes, INT_MAX)));
    // Clients may compress their messages with gzip; grpc inflates them (within the size limit)
    // before we see them.
    builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, true);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                               static_cast<int>(std::min<uint32_t>(
                                   std::max<uint32_t>(options_.maxConcurrentStreams, 1), INT_MAX)));
    // grpc sets SO_REUSEPORT by default, which would let a second process bind the same port
    // silently; a clash must fail at start-up as it does for the HTTP listeners.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    server_ = builder.BuildAndStart();
    if (!server_ || boundPort == 0) {
      server_.reset();
      return unavailable("cannot listen on " + address +
                         " (in use, or not an address of this host)");
    }
    port_ = static_cast<uint16_t>(boundPort);
    const int threads = std::max(1, options_.threads);
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i] { work(i); });
    log::info("listening", log::Fields()
                               .add("component", "otlp-grpc")
                               .add("endpoint", options_.host + ":" + std::to_string(port_)));
    return Status::ok();
  }

  uint16_t port() const override { return port_; }

  void stop(std::chrono::milliseconds grace) override {
    {
      std::lock_guard lock(stopMu_);
      if (stopped_) return;
      stopped_ = true;
    }
    // grpc refuses new calls, waits for those in flight (cancelling them after `grace`) until
    // each is finished; the decoding threads keep running meanwhile, so queued calls are
    // answered (the pipeline refuses them once it has stopped).
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + grace);
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    server_.reset();
  }
  void stop() { stop(std::chrono::milliseconds(0)); }

  ExportCall* createCall(grpc::GenericCallbackServerContext* ctx) {
    const std::string& name = ctx->method();
    std::optional<otlp::Signal> signal;
    if (name == kLogsMethod) signal = otlp::Signal::kLogs;
    if (name == kTraceMethod) signal = otlp::Signal::kTraces;
    if (name == kMetricsMethod) signal = otlp::Signal::kMetrics;
    if (!signal) unknownMethod_.inc();
    if (!options_.ingestionKey.empty()) {
      const auto& metadata = ctx->client_metadata();
      const auto found = metadata.find("authorization");
      const std::string_view authorization =
          found == metadata.end() ? std::string_view()
                                  : std::string_view(found->second.data(), found->second.size());
      if (!ingestionKeyAccepted(options_.ingestionKey, authorization)) {
        core_.countUnauthenticated();
        return new ExportCall(*this, signal, /*authenticated=*/false);
      }
    }
    return new ExportCall(*this, signal, /*authenticated=*/true);
  }

  pipeline::MemoryLimiter* memoryLimiter() const { return options_.memoryLimiter; }
  uint32_t retryDelayMillis() const { return options_.retryDelayMillis; }
  OtlpIngestCore& core() { return core_; }

  // Queues a call whose request message has arrived; false when the queue is full or stopping
  // (the caller answers UNAVAILABLE). Called on grpc's threads.
  bool post(ExportCall* call) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || queue_.size() >= options_.maxQueuedCalls) {
        busy_.inc();
        return false;
      }
      queue_.push_back(call);
    }
    cv_.notify_one();
    return true;
  }

 private:
  void work(int index) {
    setThreadName("otlp-grpc-" + std::to_string(index));
    while (true) {
      ExportCall* call = nullptr;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left to answer
        call = queue_.front();
        queue_.pop_front();
      }
      process(*call);
    }
  }

  void process(ExportCall& call) {
    const pipeline::MemoryLimiter::Reservation held = call.takeReservation();
    pipeline::Admission admission = call.takeAdmission();
    const otlp::Signal signal = call.signal();
    // One contiguous view of the message: grpc's own slice when it is one (the usual case for
    // small and inflated messages), else one copy.
    grpc::Slice slice;
    if (!call.request().TrySingleSlice(&slice).ok() &&
        !call.request().DumpToSingleSlice(&slice).ok()) {
      core_.countInvalid(signal);
      call.finishError(grpc::StatusCode::INTERNAL, "cannot read the request message");
      return;
    }
    call.request().Clear();
    const std::span<const uint8_t> bytes(slice.begin(), slice.size());
    core_.ingest(
        signal, otlp::Encoding::kProtobuf, bytes,
        [&call, signal](ExportResult result) {
          if (result.status.isOk()) {
            call.finishOk(signal, result.rejected, result.message);
          } else if (result.status.code() == StatusCode::kUnavailable) {
            call.finishRetry(result.status.message());
          } else {
            call.finishError(grpcCode(result.status.code()), result.status.message());
          }
        },
        std::move(admission));
  }

  OtlpGrpcOptions options_;
  ExportService service_;
  OtlpIngestCore core_;
  Counter& busy_;
  Counter& unknownMethod_;
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ExportCall*> queue_;  // guarded by mu_
  bool stopping_ = false;          // guarded by mu_
  std::vector<std::thread> threads_;

  std::mutex stopMu_;
  bool stopped_ = false;  // guarded by stopMu_
};

ExportCall::ExportCall(GrpcReceiverImpl& receiver, std::optional<otlp::Signal> signal,
                       bool authenticated)
    : receiver_(receiver), signal_(signal) {
  if (!authenticated) {
    Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "this receiver requires the ingestion key: send the metadata "
                        "authorization: Bearer <key>"));
    return;
  }
  if (!signal_) {
    // Our own text, not the client's method name: that could carry anything.
    Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "unknown method: OTLP/gRPC serves the Export methods of "
                        "opentelemetry.proto.collector.{logs,trace,metrics}.v1"));
    return;
  }
  StartRead(&request_);
}

void ExportCall::OnReadDone(bool ok) {
  if (!ok) {
    // The client half-closed (or the call was cancelled) before sending its request message.
    receiver_.core().countInvalid(*signal_);
    finishError(grpc::StatusCode::INVALID_ARGUMENT, "the call carried no request message");
    return;
  }
  if (auto* limiter = receiver_.memoryLimiter(); limiter != nullptr) {
    auto admitted = limiter->admit(request_.Length(), receiver_.core().memoryRefused());
    if (!admitted.isOk()) {
      receiver_.core().countRefused(*signal_);
      finishRetry(admitted.status().message());
      return;
    }
    held_ = std::move(admitted.value());
  }
  // A full queue: refused before a decoding thread spends anything on it.
  auto queued = receiver_.core().admit(*signal_, request_.Length());
  if (!queued.isOk()) {
    finishRetry(queued.status().message());
    return;
  }
  admission_ = std::move(queued.value());
  if (!receiver_.post(this)) {
    receiver_.core().countRefused(*signal_);
    finishRetry("the receiver is busy; retry later");
  }
}

void ExportCall::finishRetry(const std::string& message) {
  Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, message,
                      otlp::encodeRetryStatus(grpc::StatusCode::UNAVAILABLE, message,
                                              receiver_.retryDelayMillis())));
}

grpc::ServerGenericBidiReactor* ExportService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  return receiver_.createCall(ctx);
}

}  // namespace

Result<std::unique_ptr<OtlpGrpcReceiver>> OtlpGrpcReceiver::start(const OtlpGrpcOptions& options,
                                                                  pipeline::Pipeline& pipeline) {
  auto receiver = std::make_unique<GrpcReceiverImpl>(options, pipeline);
  STACKHOUSE_RETURN_IF_ERROR(receiver->listen());
  return std::unique_ptr<OtlpGrpcReceiver>(std::move(receiver));
}

}  // namespace stackhouse::receivers
