// The CPU cost of evaluating alerts: 100 search alerts with 1-minute windows over a store of
// logs, evaluated by the real engine on the real query service for a few minutes of wall time,
// against the same process idle for as long (the engine's background threads, the query
// workers). Prints one JSON line:
//   {"alerts", "seconds", "windows", "idle_cpu_s", "eval_cpu_s", "core_percent",
//   "cpu_ms_per_window"}
// core_percent = (eval_cpu_s - idle_cpu_s) / seconds * 100: the share of one core that evaluating
// 100 alerts a minute costs. See docs/benchmarks.md.
//
// usage: alert_eval_bench [--seconds 180] [--alerts 100] [--rows 1000000]
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "alerts/alert_engine.h"
#include "alerts/alert_store.h"
#include "alerts/chart_source.h"
#include "alerts/notifier.h"
#include "alerts/search_source.h"
#include "query/query_service.h"
#include "store/chdb_store.h"

namespace {

using namespace stackhouse;

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Counts messages instead of sending them: the cost measured is evaluation, not the network.
class CountingWebhook final : public alerts::WebhookClient {
 public:
  alerts::PostResult post(const std::string&, const std::string&,
                          std::chrono::milliseconds) override {
    ++sent;
    return {200, "", 0};
  }
  std::atomic<int> sent{0};
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "alert_eval_bench: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 180;
  int alertCount = 100;
  long long rows = 1'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--seconds") {
      seconds = std::atoi(argv[i + 1]);
    } else if (k == "--alerts") {
      alertCount = std::atoi(argv[i + 1]);
    } else if (k == "--rows") {
      rows = std::atoll(argv[i + 1]);
    } else {
      fail("unknown option " + k);
    }
  }
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("alert-bench-" + std::to_string(getpid())))
          .string();
  std::filesystem::create_directories(dir);

  auto store = store::ChdbStore::open({dir + "/clickhouse", 72 * 3600});
  if (!store) fail(store.status().toString());
  // An hour of logs, 50 minutes back to 10 minutes ahead, so that every window evaluated during
  // the measurement holds rows (about 16,700 a minute): 20 services, 4 severities, bodies with a
  // few recurring words.
  const long long endNs = (nowMs() + 10 * 60'000) * 1'000'000LL;
  const long long spanNs = 3600LL * 1'000'000'000LL;
  const std::string load = R"(INSERT INTO otel.otel_logs
    (Timestamp, SeverityText, SeverityNumber, ServiceName, Body, ResourceAttributes, LogAttributes)
    SELECT fromUnixTimestamp64Nano(toInt64()" +
                           std::to_string(endNs - spanNs) + ") + toInt64(number) * " +
                           std::to_string(spanNs / rows) + R"(),
      multiIf(number % 100 < 70, 'INFO', number % 100 < 85, 'DEBUG', number % 100 < 97, 'WARN', 'ERROR') AS sev,
      multiIf(sev = 'INFO', 9, sev = 'DEBUG', 5, sev = 'WARN', 13, 17),
      ['checkout', 'cart', 'payment', 'shipping', 'email', 'frontend', 'ad', 'recommendation',
       'currency', 'quote', 'accounting', 'fraud-detection', 'inventory', 'auth', 'search',
       'notification', 'gateway', 'billing', 'catalog', 'reviews'][number % 20 + 1] AS svc,
      concat(['GET /api/v1/orders/', 'connection reset by peer ', 'payment processed for order ',
              'cache miss for key product:', 'slow query took ', 'retrying request attempt '][number % 6 + 1],
             toString(cityHash64(number) % 100000)),
      map('service.name', svc, 'host.name', 'node-' || toString(number % 16)),
      map('http.status_code', toString([200, 200, 200, 201, 404, 500][number % 6 + 1]),
          'user.id', toString(number % 5000))
    FROM numbers()" + std::to_string(rows) +
                           ")";
  if (auto r = store.value()->execute(load); !r) fail(r.status().toString());

  query::QueryServiceOptions qo;
  auto queries = query::QueryService::start(*store.value(), qo);
  if (!queries) fail(queries.status().toString());
  auto alertStore = alerts::AlertStore::open(dir + "/app.sqlite");
  if (!alertStore) fail(alertStore.status().toString());

  const char* queriesText[] = {"level:error",          "level:error service:checkout",
                               "\"connection reset\"", "service:payment -level:debug",
                               "http.status_code:500", "slow"};
  const char* groupBys[] = {"", "service", "", "http.status_code", "", "level"};
  alerts::EngineOptions eo;
  const int64_t start = nowMs();
  for (int i = 0; i < alertCount; ++i) {
    alerts::StoredAlert a;
    a.def.name = "bench alert " + std::to_string(i);
    a.def.kind = alerts::AlertKind::kSearch;
    a.def.source = "logs";
    a.def.query = queriesText[i % 6];
    a.def.groupBy = groupBys[i % 6];
    a.def.windowMs = 60'000;
    // Half of them breach now and then, so that messages are part of the cost.
    a.def.threshold = {alerts::ThresholdOp::kAbove, i % 2 == 0 ? 100.0 : 1e9, 0};
    a.def.channel.url = "http://127.0.0.1:9/bench";
    // As if the last complete window had been evaluated: from now on, 100 windows a minute.
    a.runtime.lastWindowEndMs = (start - eo.delayMs) / 60'000 * 60'000;
    a.createdAtMs = a.updatedAtMs = start;
    if (auto id = alertStore.value()->add(a); !id) fail(id.status().toString());
  }

  // Idle: everything open, nothing evaluated.
  const double idle0 = cpuSeconds();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const double idle = cpuSeconds() - idle0;

  alerts::QuerySearchSource searchSource(*queries.value());
  alerts::MetricsQuerySource chartSource(
      [](const std::string&) -> Result<std::string> { return unavailable("not measured"); });
  CountingWebhook webhook;
  alerts::Notifier notifier(*alertStore.value(), webhook, {});
  alerts::AlertEngine engine(*alertStore.value(), searchSource, chartSource, &notifier, eo);
  // Alerts due while idle are moved to now, so the measured period holds only its own windows.
  const int64_t windowEndBefore = (nowMs() - eo.delayMs) / 60'000 * 60'000;
  for (auto& a : alertStore.value()->list()) {
    a.runtime.lastWindowEndMs = windowEndBefore;
    (void)alertStore.value()->replace(a);
  }
  const double eval0 = cpuSeconds();
  notifier.start();
  engine.start();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  engine.stop();
  notifier.stop();
  const double eval = cpuSeconds() - eval0;
  // Windows evaluated: how far each alert's last window moved.
  int64_t windows = 0;
  for (const auto& a : alertStore.value()->list()) {
    windows += (a.runtime.lastWindowEndMs - windowEndBefore) / 60'000;
  }
  std::printf(
      "{\"alerts\":%d,\"rows\":%lld,\"seconds\":%d,\"idle_cpu_s\":%.3f,\"eval_cpu_s\":%.3f,"
      "\"core_percent\":%.3f,\"windows\":%lld,\"cpu_ms_per_window\":%.2f,\"messages\":%d}\n",
      alertCount, rows, seconds, idle, eval, (eval - idle) / seconds * 100.0,
      static_cast<long long>(windows), windows > 0 ? (eval - idle) * 1000.0 / windows : 0.0,
      webhook.sent.load());
  std::fflush(stdout);
  queries.value()->stop();
  std::filesystem::remove_all(dir);
  _exit(0);
}
