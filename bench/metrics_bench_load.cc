// Loads the metrics benchmark's data set into a stackhouse data directory's engine (the server
// stopped): 1,000 series of a monotonic cumulative counter (`bench.requests`, otel_metrics_sum)
// and 1,000 series of a gauge (`bench.queue.depth`), one point every 10 s over the 24 hours
// before now (8,640 points a series, 8.64 million rows a metric). A series is one of 20 services
// (resource attributes service.name, host.name) x 10 routes x 5 status codes (attributes). Each
// counter restarts once during the day (a new start time, from zero). Prints one JSON line: rows,
// seconds, rows_per_s.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "store/chdb_store.h"

using namespace stackhouse;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: metrics_bench_load <engine data dir>\n");
    _exit(2);
  }
  auto store = store::ChdbStore::open({argv[1], 72 * 3600});
  if (!store.isOk()) {
    std::fprintf(stderr, "cannot open %s: %s\n", argv[1], store.status().toString().c_str());
    _exit(1);
  }
  const long long nowS = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const long long startS = (nowS - 86400) / 10 * 10;
  const std::string start = std::to_string(startS);
  const auto t0 = std::chrono::steady_clock::now();
  long long rows = 0;
  for (const char* which : {"sum", "gauge"}) {
    const bool sum = std::string(which) == "sum";
    const std::string sql =
        std::string("INSERT INTO otel.otel_metrics_") + which +
        " (ServiceName, ResourceAttributes, ScopeName, MetricName, Attributes, TimeUnix, "
        "StartTimeUnix, MetricUnit, MetricDescription, Value" +
        (sum ? ", AggregationTemporality, IsMonotonic)" : ")") + R"(
      SELECT svc, res, 'bench', )" +
        (sum ? "'bench.requests'" : "'bench.queue.depth'") + R"(, attrs, t, st, )" +
        (sum ? "'{request}', 'Requests served'" : "'{item}', 'Items waiting'") + ", " +
        (sum ? "toFloat64((if(p < restart, toInt64(p), toInt64(p) - restart) + 1) * (s % 7 + 1)), "
               "2, true"
             : "toFloat64((s * 13 + p * 7) % 100)") +
        R"(
      FROM (
        SELECT number % 1000 AS s, intDiv(number, 1000) AS p, 3000 + (s * 37) % 2000 AS restart,
          ['checkout', 'cart', 'payment', 'shipping', 'email', 'frontend', 'ad', 'recommendation',
           'currency', 'quote', 'accounting', 'fraud-detection', 'inventory', 'auth', 'search',
           'notification', 'gateway', 'billing', 'catalog', 'reviews'][s % 20 + 1] AS svc,
          map('service.name', svc, 'host.name', 'node-' || toString(s % 16)) AS res,
          map('http.route', '/api/v1/' || ['orders', 'cart', 'users', 'items', 'pay', 'ship',
              'search', 'login', 'logout', 'health'][intDiv(s, 20) % 10 + 1],
              'http.status_code', toString([200, 201, 404, 500, 503][intDiv(s, 200) + 1])) AS attrs,
          fromUnixTimestamp64Nano(toInt64(()" +
        start + R"( + p * 10) * 1000000000)) AS t,
          fromUnixTimestamp64Nano(toInt64(()" +
        start + R"( + if(p < restart, 0, toInt64(restart) * 10)) * 1000000000)) AS st
        FROM numbers(8640000)))";
    auto r = store.value()->execute(sql);
    if (!r.isOk()) {
      std::fprintf(stderr, "insert failed: %s\n", r.status().toString().c_str());
      _exit(1);
    }
    rows += 8640000;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"rows\":%lld,\"seconds\":%.2f,\"rows_per_s\":%.0f}\n", rows, seconds,
              rows / seconds);
  std::fflush(stdout);
  _exit(0);
}
