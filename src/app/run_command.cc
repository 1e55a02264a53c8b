#include "app/run_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "app/collector_command.h"
#include "app/ingest_stack.h"
#include "app/library_services.h"
#include "app/remote_query.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "config/secret.h"
#include "http/server.h"
#include "query/query_service.h"
#include "stackdump/stackdump.h"
#include "store/chdb_store.h"
#include "store/disk_budget.h"
#include "store/metric_rollup.h"
#include "web/admin_handler.h"
#include "web/api_handler.h"
#include "web/auth/auth_service.h"
#include "web/auth/auth_store.h"
#include "web/auth/secrets.h"
#include "web/metrics_routes.h"
#include "web/search_routes.h"
#include "web/static_assets.h"
#include "web/trace_routes.h"

namespace stackhouse::app {

namespace {

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

}  // namespace

int runStack(const config::Config& config) {
  // Without the embedded store the process is a collector (clickstack.enabled: false).
  if (!config.clickstack.enabled) return runCollector(config);

  // Admin first, so that /healthz answers and /readyz says "not ready" while the store opens.
  web::AdminHandler admin;
  auto adminServer = startAdmin(config, admin);
  if (!adminServer) return failedStart(adminServer.status());

  const auto ttlSeconds = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(config.otelConfig.exporters.clickhouse.ttl)
          .count());
  const int64_t openStart = monoNanos();
  const uint64_t engineMemoryBytes =
      uint64_t{config.otelConfig.processors.memoryLimiter.engineLimitMiB} << 20;
  const config::QueryConfig& queryConfig = config.clickstack.hyperdx.query;
  const store::QueryBounds queryBounds = queryBoundsOf(config);
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
  // Charts over days read 5-minute rollups of the metric points; the embedded store keeps them
  // when it is where metrics are written (not with a remote ClickHouse).
  std::unique_ptr<store::MetricRollup> rollup;
  if (!config.otelConfig.exporters.clickhouse.remote()) {
    auto opened = store::MetricRollup::open(*store.value(), {}, &metrics());
    if (!opened) {
      log::error("cannot start the metric rollup",
                 log::Fields().add("error", opened.status().message()));
      return 1;
    }
    rollup = std::move(opened.value());
    store.value()->setRollup(rollup.get());
    rollup->start();
  }

  // Receivers, redaction, router, queues and sink workers (ingest_stack.h).
  auto ingest = IngestStack::open(config, store.value().get(), adminServer.value()->port());
  if (!ingest) return failedStart(ingest.status());

  query::QueryServiceOptions queryOptions;
  queryOptions.maxConcurrent = static_cast<int>(queryConfig.maxConcurrent);
  queryOptions.bounds = queryBounds;
  if (rollup) queryOptions.metricRollupMs = [r = rollup.get()] { return r->rolledMs(); };
  // With a remote ClickHouse, user queries are still parsed and checked on the embedded engine,
  // and run on the remote one, where the sink writes.
  query::QueryService::RemoteExecutors remoteQueries;
  if (config.otelConfig.exporters.clickhouse.remote()) {
    auto remote = remoteQueryExecutors(config, queryBounds);
    if (!remote) return failedStart(remote.status());
    remoteQueries = std::move(remote.value());
    queryOptions.database = config.otelConfig.exporters.clickhouse.database;
    log::info("the query API reads the remote ClickHouse",
              log::Fields().add("database", config.otelConfig.exporters.clickhouse.database));
  }
  auto queries = query::QueryService::start(*store.value(), queryOptions, remoteQueries);
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
      auto secret = config::readSecret(config.clickstack.secretsDir,
                                       hyperdx.seedUser.existingSecret, hyperdx.seedUser.secretKey,
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
  // The receivers' state (Prometheus scraping's targets).
  for (const IngestStack::StateRoute& route : ingest.value()->stateRoutes()) {
    api.add("GET", std::string(route.path),
            [receiver = route.receiver](http::Request&&, http::Respond respond) {
              respond(http::Response{200, "application/json", receiver->stateJson(), {}});
            });
  }
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

  if (Status started = ingest.value()->startReceivers(); !started.isOk()) {
    return failedStart(started);
  }
  library.value()->start((hyperdx.ingress.enabled && !hyperdx.ingress.host.empty())
                             ? "https://" + hyperdx.ingress.host
                             : "http://" + hyperdx.listen.host + ":" +
                                   std::to_string(apiServer.value()->port()));

  admin.setReady(true);
  // Every thread is up: read the symbols a stack dump needs now, not when an operator asks.
  stackdump::warmUp();
  log::Fields ready;
  ingest.value()->addListeners(ready);
  ready.add("api", hyperdx.listen.host + ":" + std::to_string(apiServer.value()->port()))
      .add("api_tls", hyperdx.tls.enabled())
      .add("admin", config.otelConfig.admin.endpoint.host + ":" +
                        std::to_string(adminServer.value()->port()));
  log::info("ready", ready);

  awaitStop(admin);
  // Reverse order of start: the ingest side first (scrapes, pipeline, OTLP listeners), then the
  // API and the store.
  ingest.value()->stop();
  tails.stop();  // held live tails answered (empty) while the API can still send
  // Alert evaluation ends before the query service does.
  library.value()->stop();
  apiServer.value()->stop();
  queries.value()->stop();
  diskBudget.value()->stop();
  if (rollup) rollup->stop();  // after the ingest side: the late points it was told of rolled
  store.value()->setRollup(nullptr);
  store.value().reset();
  adminServer.value()->stop();
  log::info("stopped");
  return 0;
}

}  // namespace stackhouse::app
