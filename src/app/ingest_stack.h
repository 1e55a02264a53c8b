// IngestStack: what every role that takes telemetry in runs, and nothing else — the receivers
// (OTLP/HTTP, OTLP/gRPC, Prometheus scraping), the memory limit, the redaction stage, and the
// router with a durable queue and a worker per enabled sink (each sink made by its factory,
// sinks/registry.cc). `stackhouse run` puts the embedded store, the query API and the UI beside it
// (run_command.h); `stackhouse collector` runs it alone (collector_command.h).
//
// Order, on the main thread: open() → startReceivers() → ... → stop() → destructor.
//
//   auto admin = startAdmin(config, adminHandler);
//   auto ingest = IngestStack::open(config, /*embeddedStore=*/nullptr, admin.value()->port());
//   if (Status s = ingest.value()->startReceivers(); !s.isOk()) ...
//   awaitStop(adminHandler);
//   ingest.value()->stop();
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/status.h"
#include "config/config.h"
#include "http/server.h"
#include "pipeline/memory_limiter.h"
#include "pipeline/pipeline.h"
#include "pipeline/request_ledger.h"
#include "processors/redaction/redactor.h"
#include "receivers/otlp/grpc_receiver.h"
#include "receivers/otlp/http_receiver.h"
#include "receivers/receiver_factory.h"
#include "web/admin_handler.h"

namespace stackhouse::store {
class ChdbStore;
}

namespace stackhouse::app {

// The options of a listener at `endpoint` ("localhost" bound as 127.0.0.1).
http::ServerOptions serverOptions(std::string name, const config::Endpoint& endpoint, int threads);

// Exports the process's own gauges (resident memory, start time) and starts the admin listener
// (/metrics, /healthz, /readyz): first thing in every role, so that /healthz answers and /readyz
// says "not ready" while the rest starts. Start-up only; the error names the admin listener.
Result<std::unique_ptr<http::Server>> startAdmin(const config::Config& config,
                                                 web::AdminHandler& admin);

// Logs a failed start ("cannot start" and the error) and returns the exit code: 2 when the
// configuration cannot run (kInvalidArgument), else 1.
int failedStart(const Status& failed);

// Blocks until SIGINT or SIGTERM (blocked in every thread by main) arrives, logs "stopping", and
// has /readyz say "not ready" from then on.
void awaitStop(web::AdminHandler& admin);

class IngestStack {
 public:
  // Opens the request ledger and every enabled sink's queue under clickstack.dataDir, makes each
  // enabled sink from its factory, and starts the pipeline (its sync thread and one worker per
  // sink); creates the receivers' state but receives nothing yet. `embeddedStore` (borrowed, it
  // must outlive the stack) is null in a role without one: the clickhouse sink then needs a remote
  // endpoint. `adminPort` is the admin listener's, scraped as the job "stackhouse" with
  // prometheusScrape.self. Start-up only, on the main thread. Fails naming what could not start,
  // in one line; kInvalidArgument when the configuration leaves no enabled sink to send to.
  static Result<std::unique_ptr<IngestStack>> open(const config::Config& config,
                                                   store::ChdbStore* embeddedStore,
                                                   uint16_t adminPort);
  IngestStack(const IngestStack&) = delete;
  IngestStack& operator=(const IngestStack&) = delete;
  ~IngestStack();

  // Starts the OTLP/HTTP and OTLP/gRPC listeners and the registry's receivers (Prometheus
  // scraping). Once, after open().
  Status startReceivers();

  // Reverse order of start: the registry's receivers stop, then the pipeline (every appended
  // request is answered, each worker sends what it holds once, the rest stays queued; requests
  // arriving meanwhile get a retryable 503), then the OTLP listeners after a moment to write their
  // answers. Idempotent.
  void stop();

  // The registry's receivers (receivers/receiver_factory.h): each one's state route, for a role
  // that serves the API (GET /api/v1/scrape/targets).
  struct StateRoute {
    std::string_view path;
    const receivers::Receiver* receiver;
  };
  std::vector<StateRoute> stateRoutes() const;
  // The bound OTLP ports (the chosen ones for port 0); 0 before startReceivers().
  uint16_t otlpHttpPort() const { return otlpServer_ ? otlpServer_->port() : 0; }
  uint16_t otlpGrpcPort() const { return otlpGrpc_ ? otlpGrpc_->port() : 0; }
  // Adds otlp_grpc and otlp_http (host:port) for the "ready" line. After startReceivers().
  void addListeners(log::Fields& fields) const;

 private:
  explicit IngestStack(const config::Config& config) : config_(config) {}
  Status openPipeline(store::ChdbStore* embeddedStore);
  Status openReceivers(uint16_t adminPort);

  const config::Config& config_;
  // Declared in the order they are borrowed: the pipeline borrows the ledger, the sinks and the
  // redactor; the receivers borrow the pipeline and the memory limiter.
  std::unique_ptr<pipeline::RequestLedger> ledger_;
  std::vector<std::unique_ptr<pipeline::Sink>> sinks_;
  std::unique_ptr<redaction::Redactor> redactor_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<pipeline::MemoryLimiter> memoryLimiter_;
  struct OwnReceiver {
    const receivers::ReceiverFactory* factory;
    std::unique_ptr<receivers::Receiver> receiver;
  };
  std::vector<OwnReceiver> receivers_;
  receivers::OtlpHttpOptions otlpOptions_;
  std::unique_ptr<receivers::OtlpHttpReceiver> otlpReceiver_;
  std::unique_ptr<http::Server> otlpServer_;
  std::unique_ptr<receivers::OtlpGrpcReceiver> otlpGrpc_;
  bool stopped_ = false;
};

}  // namespace stackhouse::app
