#include "app/run_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "app/library_services.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "http/server.h"
#include "pipeline/memory_limiter.h"
#include "pipeline/pipeline.h"
#include "processors/redaction/redaction_config.h"
#include "processors/redaction/redactor.h"
#include "query/query_service.h"
#include "receivers/otlp/grpc_receiver.h"
#include "receivers/otlp/http_receiver.h"
#include "receivers/prometheus/scrape_receiver.h"
#include "sinks/sink_factory.h"
#include "stackdump/stackdump.h"
#include "store/chdb_store.h"
#include "store/disk_budget.h"
#include "web/admin_handler.h"
#include "web/api_handler.h"
#include "web/auth/auth_service.h"
#include "web/auth/auth_store.h"
#include "web/auth/secrets.h"
#include "web/metrics_routes.h"
#include "web/search_routes.h"
#include "web/trace_routes.h"
#include "web/static_assets.h"

namespace stackhouse::app {

namespace {

double residentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

http::ServerOptions serverOptions(std::string name, const config::Endpoint& endpoint, int threads) {
  http::ServerOptions o;
  o.name = std::move(name);
  o.host = endpoint.host == "localhost" ? "127.0.0.1" : endpoint.host;
  o.port = endpoint.port;
  o.threads = threads;
  return o;
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

// A mounted secret: <secretsDir>/<name>/<key>, without a trailing newline.
Result<std::string> readSecret(const config::Config& config, const std::string& name,
                               const std::string& key, std::string_view what) {
  const std::string path = config.clickstack.secretsDir + "/" + name + "/" + key;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return invalidArgument(std::string(what) + ": cannot read " + path + ": " +
                           std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  if (value.empty()) return invalidArgument(std::string(what) + ": " + path + " is empty");
  return value;
}

// Writes `content` to `path` readable by this user only, replacing any earlier file.
Status writePrivateFile(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return unavailable("cannot write " + tmp + ": " + std::strerror(errno));
  const bool written =
      ::fchmod(fd, 0600) == 0 &&
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return unavailable("cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::ok();
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
std::vector<telemetry::Source> routedSources(const config::Config& config, config::Sink sink) {
  std::vector<telemetry::Source> sources;
  for (telemetry::Source source : telemetry::kAllSources) {
    const auto sinks = config::routedSinks(config, telemetry::sourceName(source));
    if (std::find(sinks.begin(), sinks.end(), sink) != sinks.end()) sources.push_back(source);
  }
  return sources;
}

int waitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

}  // namespace

int runStack(const config::Config& config) {
  metrics().gaugeFunction("stackhouse_process_resident_memory_bytes", "Resident memory.",
                          residentBytes);
  const int64_t startedAt = static_cast<int64_t>(time(nullptr));
  metrics().gaugeFunction("stackhouse_process_start_time_seconds", "Start time (Unix seconds).",
                          [startedAt] { return static_cast<double>(startedAt); });

  // Admin first, so that /healthz answers and /readyz says "not ready" while the store opens.
  web::AdminHandler admin;
  auto adminServer =
      http::Server::start(serverOptions("admin", config.otelConfig.admin.endpoint, 1),
                          [&admin](http::Request&& r, http::Respond respond) {
                            admin.handle(std::move(r), std::move(respond));
                          });
  if (!adminServer) {
    log::error(
        "cannot start",
        log::Fields().add("component", "admin").add("error", adminServer.status().message()));
    return 1;
  }

  if (!config.clickstack.enabled || !config.otelConfig.exporters.clickhouse.enabled) {
    log::error(
        "cannot start: this build routes only to the embedded store, which the configuration "
        "disables",
        log::Fields().add("key", "clickstack.enabled / otelConfig.exporters.clickhouse.enabled"));
    return 2;
  }

  const auto ttlSeconds = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(config.otelConfig.exporters.clickhouse.ttl)
          .count());
  const int64_t openStart = monoNanos();
  const uint64_t engineMemoryBytes =
      uint64_t{config.otelConfig.processors.memoryLimiter.engineLimitMiB} << 20;
  const config::QueryConfig& queryConfig = config.clickstack.hyperdx.query;
  store::QueryBounds queryBounds;
  queryBounds.maxExecutionSeconds = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(queryConfig.maxExecutionTime).count());
  queryBounds.maxMemoryBytes = queryConfig.maxMemoryUsage;
  auto store = store::ChdbStore::open(
      {config.clickstack.dataDir + "/clickhouse", ttlSeconds, engineMemoryBytes, queryBounds});
  if (!store) {
    log::error("cannot open the store", log::Fields().add("error", store.status().message()));
    return 1;
  }
  // The engine installs signal handlers of its own when it opens; keep SIGUSR2 ours.
  if (!stackdump::handlerIsOurs()) stackdump::reinstall();
  log::info("store opened", log::Fields()
                                .add("engine", "chdb")
                                .add("ttl_seconds", ttlSeconds)
                                .add("open_ms", (monoNanos() - openStart) / 1'000'000));
  auto diskBudget = store::DiskBudget::create(
      *store.value(), {.maxBytes = config.clickstack.persistence.dataSize}, &metrics());
  if (!diskBudget) {
    log::error("cannot start the disk budget",
               log::Fields().add("error", diskBudget.status().message()));
    return 1;
  }
  diskBudget.value()->start();

  auto ledger = pipeline::RequestLedger::open({config.clickstack.dataDir + "/request-ledger"});
  if (!ledger) {
    log::error("cannot open the request ledger",
               log::Fields().add("error", ledger.status().message()));
    return 1;
  }
  pipeline::PipelineOptions pipelineOptions;
  pipelineOptions.ledger = ledger.value().get();
  pipelineOptions.queueDir = config.clickstack.dataDir + "/queue";
  // Every enabled sink, from its factory (sinks/registry.cc), with its queue and the sources
  // routed to it. Declared before the pipeline, which borrows them.
  std::vector<std::unique_ptr<pipeline::Sink>> sinkObjects;
  std::vector<pipeline::PipelineSink> pipelineSinks;
  for (const sinks::SinkFactory& factory : sinks::sinkFactories()) {
    if (!config::sinkEnabled(config, factory.kind)) continue;
    const std::string name(config::sinkName(factory.kind));
    auto created = factory.create({config, store.value().get()});
    if (!created) {
      log::error("cannot create a sink",
                 log::Fields().add("sink", name).add("error", created.status().message()));
      return 1;
    }
    // Inserts as large as otelConfig.processors.batch says, whatever the number of requests in
    // flight.
    const auto& batch = config.otelConfig.processors.batch;
    pipeline::PipelineSink bound;
    bound.sink = created.value().get();
    bound.queue = queueOptions(name, factory.queue(config));
    bound.worker.maxRows = batch.sendBatchSize;
    bound.worker.maxBytes = batch.sendBatchMaxBytes;
    bound.worker.maxAge = std::chrono::duration_cast<std::chrono::milliseconds>(batch.timeout);
    bound.sources = routedSources(config, factory.kind);
    sinkObjects.push_back(std::move(created.value()));
    pipelineSinks.push_back(std::move(bound));
  }
  // Telemetry controls: every batch is redacted on its receiver's thread before it is queued.
  // Declared before the pipeline, so it outlives every submit.
  std::unique_ptr<redaction::Redactor> redactor;
  const auto& redactionConfig = config.otelConfig.processors.redaction;
  if (redactionConfig.enabled) {
    auto hmacKey = redaction::resolveHmacKey(redactionConfig, config.clickstack.dataDir);
    if (!hmacKey.isOk()) {
      log::error("cannot start redaction", log::Fields().add("error", hmacKey.status().message()));
      return 1;
    }
    redactor = std::make_unique<redaction::Redactor>(
        redaction::policyFromConfig(redactionConfig, std::move(hmacKey.value())));
    pipelineOptions.stage = redactor.get();
  } else {
    log::warn("redaction is disabled: telemetry is stored as received",
              log::Fields().add("key", "otelConfig.processors.redaction.enabled"));
  }
  // The memory limit (by bytes held: request bodies in flight plus the pipeline's pending bytes);
  // the pipeline's own bound is the hard limit, a backstop behind the limiter's soft limit.
  pipeline::MemoryLimiterOptions memoryLimit = pipeline::defaultMemoryLimiterOptions();
  const config::MemoryLimiterConfig& limiterConfig = config.otelConfig.processors.memoryLimiter;
  if (limiterConfig.limitMiB != 0) {
    memoryLimit.limitBytes = uint64_t{limiterConfig.limitMiB} << 20;
    memoryLimit.spikeLimitBytes = memoryLimit.limitBytes / 5;
  }
  if (limiterConfig.spikeLimitMiB != 0) {
    if ((uint64_t{limiterConfig.spikeLimitMiB} << 20) < memoryLimit.limitBytes) {
      memoryLimit.spikeLimitBytes = uint64_t{limiterConfig.spikeLimitMiB} << 20;
    } else {
      // Only possible with the limit from the machine (the config check catches an explicit one).
      log::warn(
          "memoryLimiter.spikeLimitMiB is not below the limit derived from this machine; using 20% "
          "of it",
          log::Fields().add("limit_bytes", memoryLimit.limitBytes));
    }
  }
  pipeline::Pipeline pipeline(pipelineOptions, std::move(pipelineSinks));
  if (const Status opened = pipeline.open(); !opened.isOk()) {
    log::error("cannot open the queues", log::Fields().add("error", opened.message()));
    return 1;
  }
  pipeline.start();
  pipeline::MemoryLimiter memoryLimiter(memoryLimit,
                                        [&pipeline] { return pipeline.pendingBytes(); });
  memoryLimiter.exportGauges();
  log::info("memory limit", log::Fields()
                                .add("limit_bytes", memoryLimit.limitBytes)
                                .add("soft_limit_bytes", memoryLimiter.softLimitBytes()));

  query::QueryServiceOptions queryOptions;
  queryOptions.maxConcurrent = static_cast<int>(queryConfig.maxConcurrent);
  queryOptions.bounds = queryBounds;
  auto queries = query::QueryService::start(*store.value(), queryOptions);
  if (!queries) {
    log::error("cannot start the query workers",
               log::Fields().add("error", queries.status().message()));
    return 1;
  }
  // Users, sessions and API keys: every /api/ route but the login needs one.
  const config::HyperdxConfig& hyperdx = config.clickstack.hyperdx;
  if (!web::auth::initCrypto()) {
    log::error("cannot start: libsodium cannot initialise (no entropy source?)");
    return 1;
  }
  auto authStore = web::auth::AuthStore::open(config.clickstack.dataDir + "/app.sqlite");
  if (!authStore) {
    log::error("cannot open the app database",
               log::Fields().add("error", authStore.status().message()));
    return 1;
  }
  web::auth::AuthOptions authOptions;
  // Cookies are Secure (and __Host-) whenever a browser reaches the UI other than on loopback.
  authOptions.secureCookies = hyperdx.ingress.enabled || hyperdx.tls.enabled() ||
                              !config::isLoopbackHost(hyperdx.listen.host);
  web::auth::AuthService auth(*authStore.value(), authOptions);
  {
    std::string seedPassword = hyperdx.seedUser.password;
    if (seedPassword.empty() && !hyperdx.seedUser.existingSecret.empty() &&
        authStore.value()->userCount() == 0) {
      auto secret = readSecret(config, hyperdx.seedUser.existingSecret, hyperdx.seedUser.secretKey,
                               "clickstack.hyperdx.seedUser.existingSecret");
      if (!secret) {
        log::error("cannot create the seed user",
                   log::Fields().add("error", secret.status().message()));
        return 1;
      }
      seedPassword = std::move(secret.value());
    }
    auto generated = auth.seedAdmin(hyperdx.seedUser.email, seedPassword);
    if (!generated) {
      log::error("cannot create the seed user",
                 log::Fields().add("error", generated.status().message()));
      return 1;
    }
    if (!generated.value().empty()) {
      // Once, to the terminal of whoever started us; never into the JSON logs.
      std::fprintf(stderr,
                   "stackhouse: created the UI user %s with the generated password %s\n"
                   "stackhouse: it is shown only this once and must be changed at first login.\n",
                   hyperdx.seedUser.email.c_str(), generated.value().c_str());
      std::fflush(stderr);
    }
  }
  // The CLI (stackhouse sql, audit) reads this key to query the running server; anyone who can
  // read the data directory can read the data itself anyway.
  {
    auto cliKey = auth.issueCliKey();
    Status written = cliKey.isOk() ? writePrivateFile(config.clickstack.dataDir + "/cli-api-key",
                                                      cliKey.value() + "\n")
                                   : cliKey.status();
    if (!written.isOk()) {
      log::error("cannot write the CLI's API key", log::Fields().add("error", written.message()));
      return 1;
    }
  }
  web::ApiOptions apiOptions;
  apiOptions.listenHost = hyperdx.listen.host;
  apiOptions.publicHost = hyperdx.ingress.host;
  web::ApiHandler api(apiOptions);
  api.setGuard(auth.guard());
  auth.addRoutes(api);
  api.add("POST", "/api/v1/sql", web::sqlRoute(*queries.value()));
  api.add("POST", "/api/v1/search", web::searchRoute(*queries.value()));
  api.add("POST", "/api/v1/search/histogram", web::histogramRoute(*queries.value()));
  web::TailPoller tails(*queries.value());
  api.add("POST", "/api/v1/search/tail", tails.route());
  web::addTraceRoutes(api, *queries.value());
  web::addMetricRoutes(api, *queries.value());
  // Prometheus scraping (prometheusScrape); its targets' state is an API route.
  auto scrapes =
      receivers::prometheus::ScrapeReceiver::create(config, pipeline, adminServer.value()->port());
  if (!scrapes) {
    log::error("cannot start Prometheus scraping",
               log::Fields().add("error", scrapes.status().message()));
    return 1;
  }
  api.add("GET", "/api/v1/scrape/targets", [&scrapes](http::Request&&, http::Respond respond) {
    respond(http::Response{200, "application/json", scrapes.value()->targetsJson(), {}});
  });
  api.setFallback(web::staticRoute(web::uiAssets()));
  // Saved searches, dashboards, alerts.
  auto library = LibraryServices::create(config.clickstack.dataDir, api, auth, *queries.value());
  if (!library) {
    log::error("cannot open the saved searches, dashboards and alerts",
               log::Fields().add("error", library.status().message()));
    return 1;
  }
  auto apiServerOptions = serverOptions("api", config.clickstack.hyperdx.listen, 1);
  apiServerOptions.watchClientClose = true;  // a query whose client left is cancelled
  apiServerOptions.maxConnections = 1024;
  apiServerOptions.tls = {hyperdx.tls.certFile, hyperdx.tls.keyFile};
  auto apiServer =
      http::Server::start(apiServerOptions, [&api](http::Request&& r, http::Respond respond) {
        api.handle(std::move(r), std::move(respond));
      });
  if (!apiServer) {
    log::error("cannot start",
               log::Fields().add("component", "api").add("error", apiServer.status().message()));
    return 1;
  }

  std::string ingestionKey;
  if (const auto& otlpAuth = config.otelConfig.receivers.otlp.auth;
      !otlpAuth.existingSecret.empty()) {
    auto key = readSecret(config, otlpAuth.existingSecret, otlpAuth.secretKey,
                          "otelConfig.receivers.otlp.auth.existingSecret");
    if (!key) {
      log::error("cannot start the OTLP receivers",
                 log::Fields().add("error", key.status().message()));
      return 1;
    }
    ingestionKey = std::move(key.value());
  }
  receivers::OtlpHttpOptions otlpOptions;
  otlpOptions.ingestionKey = ingestionKey;
  otlpOptions.maxBodyBytes = config.otelConfig.receivers.otlp.http.maxRequestBodySize;
  otlpOptions.limits = decodeLimits(config.otelConfig.receivers.otlp.limits,
                                    config.otelConfig.exporters.clickhouse.ttl);
  otlpOptions.memoryLimiter = &memoryLimiter;
  receivers::OtlpHttpReceiver otlpReceiver(otlpOptions, pipeline);
  auto httpOptions = serverOptions("otlp-http", config.otelConfig.receivers.otlp.http.endpoint, 2);
  httpOptions.maxBodyBytes = otlpOptions.maxBodyBytes;
  // Over the memory limit a request is refused from its header, before its body is read.
  httpOptions.admit = [&otlpReceiver](const http::RequestHead& head) {
    return otlpReceiver.admit(head);
  };
  auto otlpServer =
      http::Server::start(httpOptions, [&otlpReceiver](http::Request&& r, http::Respond respond) {
        otlpReceiver.handle(std::move(r), std::move(respond));
      });
  if (!otlpServer) {
    log::error(
        "cannot start",
        log::Fields().add("component", "otlp-http").add("error", otlpServer.status().message()));
    return 1;
  }

  receivers::OtlpGrpcOptions grpcOptions;
  const config::Endpoint& grpcEndpoint = config.otelConfig.receivers.otlp.grpc.endpoint;
  grpcOptions.host = grpcEndpoint.host == "localhost" ? "127.0.0.1" : grpcEndpoint.host;
  grpcOptions.port = grpcEndpoint.port;
  const config::OtlpGrpcConfig& grpcConfig = config.otelConfig.receivers.otlp.grpc;
  grpcOptions.maxMessageBytes = grpcConfig.maxRecvMsgSizeMiB != 0
                                    ? uint64_t{grpcConfig.maxRecvMsgSizeMiB} << 20
                                    : otlpOptions.maxBodyBytes;
  grpcOptions.maxConcurrentStreams = grpcConfig.maxConcurrentStreams;
  grpcOptions.limits = otlpOptions.limits;
  grpcOptions.memoryLimiter = &memoryLimiter;
  grpcOptions.ingestionKey = ingestionKey;
  auto otlpGrpc = receivers::OtlpGrpcReceiver::start(grpcOptions, pipeline);
  if (!otlpGrpc) {
    log::error(
        "cannot start",
        log::Fields().add("component", "otlp-grpc").add("error", otlpGrpc.status().message()));
    return 1;
  }

  library.value()->start((hyperdx.ingress.enabled && !hyperdx.ingress.host.empty())
                             ? "https://" + hyperdx.ingress.host
                             : "http://" + hyperdx.listen.host + ":" +
                                   std::to_string(apiServer.value()->port()));
  if (Status started = scrapes.value()->start(); !started.isOk()) {
    log::error("cannot start Prometheus scraping", log::Fields().add("error", started.message()));
    return 1;
  }

  admin.setReady(true);
  // Every thread is up: read the symbols a stack dump needs now, not when an operator asks.
  stackdump::warmUp();
  log::info("ready", log::Fields()
                         .add("otlp_grpc",
                              grpcEndpoint.host + ":" + std::to_string(otlpGrpc.value()->port()))
                         .add("otlp_http", config.otelConfig.receivers.otlp.http.endpoint.host +
                                               ":" + std::to_string(otlpServer.value()->port()))
                         .add("api", config.clickstack.hyperdx.listen.host + ":" +
                                         std::to_string(apiServer.value()->port()))
                         .add("api_tls", hyperdx.tls.enabled())
                         .add("admin", config.otelConfig.admin.endpoint.host + ":" +
                                           std::to_string(adminServer.value()->port())));

  const int sig = waitForStopSignal();
  log::info("stopping", log::Fields().add("signal", sig == SIGINT ? "SIGINT" : "SIGTERM"));
  admin.setReady(false);
  // Reverse order of start: stop the pipeline first (every appended request is answered, each
  // sink's worker inserts what it holds once, the rest stays queued; requests arriving meanwhile
  // get a retryable 503), give the answers a moment to be written, then close the receivers, the
  // API and the store.
  scrapes.value()->stop();
  pipeline.stop();
  otlpGrpc.value()->stop(std::chrono::milliseconds(500));
  otlpServer.value()->stop(std::chrono::milliseconds(500));
  tails.stop();  // held live tails answered (empty) while the API can still send
  // Alert evaluation ends before the query service does.
  library.value()->stop();
  apiServer.value()->stop();
  queries.value()->stop();
  diskBudget.value()->stop();
  store.value().reset();
  adminServer.value()->stop();
  log::info("stopped");
  return 0;
}

}  // namespace stackhouse::app
