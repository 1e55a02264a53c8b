#include "app/ingest_stack.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "common/metrics.h"
#include "config/secret.h"
#include "processors/redaction/redaction_config.h"
#include "sinks/clickhouse/chdb_sink.h"
#include "sinks/sink_factory.h"

namespace stackhouse::app {

namespace {

double residentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

otlp::DecodeLimits decodeLimits(const config::OtlpLimitsConfig& c,
                                std::chrono::nanoseconds retention) {
  otlp::DecodeLimits limits;
  limits.checkTimes = true;
  limits.maxFutureSkewNanos = static_cast<uint64_t>(c.maxFutureSkew.count());
  limits.retentionNanos = static_cast<uint64_t>(retention.count());
  limits.maxResources = c.maxResourcesPerRequest;
  limits.maxRecords = c.maxRecordsPerRequest;
  limits.maxAttributes = c.maxAttributesPerRecord;
  limits.maxKeyBytes = c.maxAttributeKeyLength;
  limits.maxValueBytes = c.maxAttributeValueLength;
  limits.maxDepth = c.maxValueDepth;
  return limits;
}

pipeline::SinkQueueOptions queueOptions(std::string sink, const config::QueueConfig& q) {
  pipeline::SinkQueueOptions o;
  o.sink = std::move(sink);
  o.maxBytes = q.maxSize;
  o.fsync = q.fsync == config::QueueConfig::Fsync::kAlways;
  o.onFull = q.onFull == config::QueueConfig::OnFull::kBackpressure
                 ? pipeline::OnFull::kBackpressure
                 : pipeline::OnFull::kDropOldest;
  return o;
}

// The sources whose data `sink` receives: listed for it in otelConfig.routing and enabled.
std::vector<telemetry::Source> routedSources(const config::Config& config, std::string_view sink) {
  std::vector<telemetry::Source> sources;
  for (telemetry::Source source : telemetry::kAllSources) {
    const auto sinks = config::routedSinks(config, telemetry::sourceName(source));
    if (std::find(sinks.begin(), sinks.end(), sink) != sinks.end()) sources.push_back(source);
  }
  return sources;
}

// The memory limit (by bytes held: request bodies in flight plus the pipeline's pending bytes);
// the pipeline's own bound is the hard limit, a backstop behind the limiter's soft limit.
pipeline::MemoryLimiterOptions memoryLimitOptions(const config::MemoryLimiterConfig& c) {
  pipeline::MemoryLimiterOptions limit = pipeline::defaultMemoryLimiterOptions();
  if (c.limitMiB != 0) {
    limit.limitBytes = uint64_t{c.limitMiB} << 20;
    limit.spikeLimitBytes = limit.limitBytes / 5;
  }
  if (c.spikeLimitMiB != 0) {
    if ((uint64_t{c.spikeLimitMiB} << 20) < limit.limitBytes) {
      limit.spikeLimitBytes = uint64_t{c.spikeLimitMiB} << 20;
    } else {
      // Only possible with the limit from the machine (the config check catches an explicit one).
      log::warn(
          "memoryLimiter.spikeLimitMiB is not below the limit derived from this machine; using 20% "
          "of it",
          log::Fields().add("limit_bytes", limit.limitBytes));
    }
  }
  return limit;
}

Status withContext(std::string_view what, const Status& s) {
  return Status(s.code(), std::string(what) + ": " + s.message());
}

}  // namespace

http::ServerOptions serverOptions(std::string name, const config::Endpoint& endpoint, int threads) {
  http::ServerOptions o;
  o.name = std::move(name);
  o.host = endpoint.host == "localhost" ? "127.0.0.1" : endpoint.host;
  o.port = endpoint.port;
  o.threads = threads;
  return o;
}

Result<std::unique_ptr<http::Server>> startAdmin(const config::Config& config,
                                                 web::AdminHandler& admin) {
  metrics().gaugeFunction("stackhouse_process_resident_memory_bytes", "Resident memory.",
                          residentBytes);
  const int64_t startedAt = static_cast<int64_t>(time(nullptr));
  metrics().gaugeFunction("stackhouse_process_start_time_seconds", "Start time (Unix seconds).",
                          [startedAt] { return static_cast<double>(startedAt); });
  auto server = http::Server::start(serverOptions("admin", config.otelConfig.admin.endpoint, 1),
                                    [&admin](http::Request&& r, http::Respond respond) {
                                      admin.handle(std::move(r), std::move(respond));
                                    });
  if (!server) return withContext("admin", server.status());
  return server;
}

int failedStart(const Status& failed) {
  log::error("cannot start", log::Fields().add("error", failed.message()));
  return failed.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

void awaitStop(web::AdminHandler& admin) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  log::info("stopping", log::Fields().add("signal", sig == SIGINT ? "SIGINT" : "SIGTERM"));
  admin.setReady(false);
}

Result<std::unique_ptr<IngestStack>> IngestStack::open(const config::Config& config,
                                                       store::ChdbStore* embeddedStore,
                                                       uint16_t adminPort) {
  std::unique_ptr<IngestStack> stack(new IngestStack(config));
  if (Status s = stack->openPipeline(embeddedStore); !s.isOk()) return s;
  if (Status s = stack->openReceivers(adminPort); !s.isOk()) return s;
  return stack;
}

IngestStack::~IngestStack() { stop(); }

Status IngestStack::openPipeline(store::ChdbStore* embeddedStore) {
  const config::Config& config = config_;
  // Every enabled sink, from its factory, with its queue and the sources routed to it.
  std::vector<pipeline::PipelineSink> bound;
  sinks::SinkContext context{config, {}, nullptr};
  if (embeddedStore != nullptr) {
    context.embeddedSink = [embeddedStore] {
      return std::unique_ptr<pipeline::Sink>(std::make_unique<sinks::ChdbSink>(*embeddedStore));
    };
  }
  for (const sinks::SinkFactory& factory : sinks::sinkFactories()) {
    if (!config::sinkEnabled(config, factory.name)) continue;
    const std::string name(factory.name);
    context.name = factory.name;
    auto created = factory.create(context);
    if (!created) return withContext("cannot create the sink " + name, created.status());
    // Sends as large as otelConfig.processors.batch says, whatever the number of requests in
    // flight.
    const auto& batch = config.otelConfig.processors.batch;
    pipeline::PipelineSink sink;
    sink.sink = created.value().get();
    sink.queue = queueOptions(name, config::sinkQueue(config, name));
    sink.worker.maxRows = batch.sendBatchSize;
    sink.worker.maxBytes = batch.sendBatchMaxBytes;
    sink.worker.maxAge = std::chrono::duration_cast<std::chrono::milliseconds>(batch.timeout);
    sink.worker.sendTimeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(config::sinkTimeout(config, name));
    sink.sources = routedSources(config, name);
    sinks_.push_back(std::move(created.value()));
    bound.push_back(std::move(sink));
  }
  if (sinks_.empty()) {
    return invalidArgument("nothing to send to: " +
                           config::nothingToSendTo(config, embeddedStore != nullptr));
  }
  // The queues and the ledger live in the data directory (the embedded store, when there is one,
  // has made it already).
  std::error_code ec;
  std::filesystem::create_directories(config.clickstack.dataDir, ec);
  if (ec) {
    return unavailable("cannot create the data directory " + config.clickstack.dataDir + ": " +
                       ec.message());
  }
  auto ledger = pipeline::RequestLedger::open({config.clickstack.dataDir + "/request-ledger"});
  if (!ledger) return withContext("cannot open the request ledger", ledger.status());
  ledger_ = std::move(ledger.value());
  pipeline::PipelineOptions options;
  options.ledger = ledger_.get();
  options.queueDir = config.clickstack.dataDir + "/queue";
  // Telemetry controls: every batch is redacted on its receiver's thread before it is queued.
  const auto& redactionConfig = config.otelConfig.processors.redaction;
  if (redactionConfig.enabled) {
    auto hmacKey = redaction::resolveHmacKey(redactionConfig, config.clickstack.dataDir);
    if (!hmacKey) return withContext("cannot start redaction", hmacKey.status());
    redactor_ = std::make_unique<redaction::Redactor>(
        redaction::policyFromConfig(redactionConfig, std::move(hmacKey.value())));
    options.stage = redactor_.get();
  } else {
    log::warn("redaction is disabled: telemetry is stored as received",
              log::Fields().add("key", "otelConfig.processors.redaction.enabled"));
  }
  const pipeline::MemoryLimiterOptions memoryLimit =
      memoryLimitOptions(config.otelConfig.processors.memoryLimiter);
  pipeline_ = std::make_unique<pipeline::Pipeline>(options, std::move(bound));
  if (Status opened = pipeline_->open(); !opened.isOk()) {
    return withContext("cannot open the queues", opened);
  }
  pipeline_->start();
  memoryLimiter_ = std::make_unique<pipeline::MemoryLimiter>(
      memoryLimit, [pipeline = pipeline_.get()] { return pipeline->pendingBytes(); });
  memoryLimiter_->exportGauges();
  log::info("memory limit", log::Fields()
                                .add("limit_bytes", memoryLimit.limitBytes)
                                .add("soft_limit_bytes", memoryLimiter_->softLimitBytes()));
  return Status::ok();
}

Status IngestStack::openReceivers(uint16_t adminPort) {
  const config::Config& config = config_;
  for (const receivers::ReceiverFactory& factory : receivers::receiverFactories()) {
    const config::Section* section = config.receivers.find(factory.name);
    const std::string what = "cannot start the receiver " + std::string(factory.name);
    if (section == nullptr) {
      return withContext(what, invalidArgument("the configuration was read without its section"));
    }
    auto made = factory.create({config, *section, *pipeline_, *memoryLimiter_, adminPort});
    if (!made) return withContext(what, made.status());
    receivers_.push_back({&factory, std::move(made.value())});
  }

  const config::OtlpReceiverConfig& otlp = config.otelConfig.receivers.otlp;
  if (!otlp.auth.existingSecret.empty()) {
    auto key =
        config::readSecret(config.clickstack.secretsDir, otlp.auth.existingSecret,
                           otlp.auth.secretKey, "otelConfig.receivers.otlp.auth.existingSecret");
    if (!key) return withContext("cannot start the OTLP receivers", key.status());
    otlpOptions_.ingestionKey = std::move(key.value());
  }
  otlpOptions_.maxBodyBytes = otlp.http.maxRequestBodySize;
  otlpOptions_.limits = decodeLimits(otlp.limits, config.otelConfig.exporters.clickhouse.ttl);
  otlpOptions_.memoryLimiter = memoryLimiter_.get();
  otlpReceiver_ = std::make_unique<receivers::OtlpHttpReceiver>(otlpOptions_, *pipeline_);
  return Status::ok();
}

Status IngestStack::startReceivers() {
  const config::OtlpReceiverConfig& otlp = config_.otelConfig.receivers.otlp;
  auto httpOptions = serverOptions("otlp-http", otlp.http.endpoint, 2);
  httpOptions.maxBodyBytes = otlpOptions_.maxBodyBytes;
  // Over the memory limit a request is refused from its header, before its body is read.
  httpOptions.admit = [receiver = otlpReceiver_.get()](const http::RequestHead& head) {
    return receiver->admit(head);
  };
  auto otlpServer = http::Server::start(
      httpOptions, [receiver = otlpReceiver_.get()](http::Request&& r, http::Respond respond) {
        receiver->handle(std::move(r), std::move(respond));
      });
  if (!otlpServer) return withContext("cannot start otlp-http", otlpServer.status());
  otlpServer_ = std::move(otlpServer.value());

  receivers::OtlpGrpcOptions grpcOptions;
  grpcOptions.host = otlp.grpc.endpoint.host == "localhost" ? "127.0.0.1" : otlp.grpc.endpoint.host;
  grpcOptions.port = otlp.grpc.endpoint.port;
  grpcOptions.maxMessageBytes = otlp.grpc.maxRecvMsgSizeMiB != 0
                                    ? uint64_t{otlp.grpc.maxRecvMsgSizeMiB} << 20
                                    : otlpOptions_.maxBodyBytes;
  grpcOptions.maxConcurrentStreams = otlp.grpc.maxConcurrentStreams;
  grpcOptions.limits = otlpOptions_.limits;
  grpcOptions.memoryLimiter = memoryLimiter_.get();
  grpcOptions.ingestionKey = otlpOptions_.ingestionKey;
  auto otlpGrpc = receivers::OtlpGrpcReceiver::start(grpcOptions, *pipeline_);
  if (!otlpGrpc) return withContext("cannot start otlp-grpc", otlpGrpc.status());
  otlpGrpc_ = std::move(otlpGrpc.value());

  for (const OwnReceiver& own : receivers_) {
    if (Status started = own.receiver->start(); !started.isOk()) {
      return withContext("cannot start the receiver " + std::string(own.factory->name), started);
    }
  }
  return Status::ok();
}

void IngestStack::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (const OwnReceiver& own : receivers_) own.receiver->stop();
  if (pipeline_) pipeline_->stop();
  if (otlpGrpc_) otlpGrpc_->stop(std::chrono::milliseconds(500));
  if (otlpServer_) otlpServer_->stop(std::chrono::milliseconds(500));
}

std::vector<IngestStack::StateRoute> IngestStack::stateRoutes() const {
  std::vector<StateRoute> routes;
  for (const OwnReceiver& own : receivers_) {
    if (!own.factory->statePath.empty()) {
      routes.push_back({own.factory->statePath, own.receiver.get()});
    }
  }
  return routes;
}

void IngestStack::addListeners(log::Fields& fields) const {
  const config::OtlpReceiverConfig& otlp = config_.otelConfig.receivers.otlp;
  fields.add("otlp_grpc", otlp.grpc.endpoint.host + ":" + std::to_string(otlpGrpcPort()));
  fields.add("otlp_http", otlp.http.endpoint.host + ":" + std::to_string(otlpHttpPort()));
}

}  // namespace stackhouse::app
