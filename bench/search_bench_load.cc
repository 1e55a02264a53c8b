// Loads the search benchmark's data set into a stackhouse data directory's engine (the server
// stopped): `rows` generated logs over the 24 hours before now — 20 services, bodies from a dozen
// realistic templates with numbers in them, 7 log attributes and 4 resource attributes
// (service.name among them), one rare token per million rows. Prints one JSON line: rows, seconds,
// rows_per_s, and a trace id and job id that exist, for the queries.
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "store/chdb_store.h"

using namespace stackhouse;

int main(int argc, char** argv) {
  // --without-lower-body-index, or --without-index=<name> (repeatable): the same load without
  // those skip indexes, for their ingest cost.
  std::vector<std::string> without;
  bool usage = argc < 3;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--without-lower-body-index") {
      without.push_back("idx_body_text");
    } else if (arg.starts_with("--without-index=") && arg.size() > 16) {
      without.push_back(arg.substr(16));
    } else {
      usage = true;
    }
  }
  if (usage) {
    std::fprintf(stderr,
                 "usage: search_bench_load <engine data dir> <rows> [--without-lower-body-index] "
                 "[--without-index=<name>]...\n");
    _exit(2);
  }
  const std::string dir = argv[1];
  const long long rows = std::stoll(argv[2]);
  auto store = store::ChdbStore::open({dir, 72 * 3600});
  if (!store.isOk()) {
    std::fprintf(stderr, "cannot open %s: %s\n", dir.c_str(), store.status().toString().c_str());
    _exit(1);
  }
  // The ingest cost of the indexes we add beyond the exporter's: the same load without them.
  for (const std::string& name : without) {
    bool plain = true;
    for (char c : name) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    auto dropped =
        plain ? store.value()->execute("ALTER TABLE otel.otel_logs DROP INDEX IF EXISTS " + name)
              : store.value()->execute("SELECT throwIf(1, 'not an index name')");
    if (!dropped.isOk()) {
      std::fprintf(stderr, "cannot drop the index: %s\n", dropped.status().toString().c_str());
      _exit(1);
    }
  }
  const long long endNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  const long long stepNs = 86400000000000LL / rows;
  const std::string n = "number";
  const std::string sql = R"(INSERT INTO otel.otel_logs
    (Timestamp, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName, Body, ScopeName,
     ResourceAttributes, LogAttributes)
    SELECT fromUnixTimestamp64Nano(toInt64()" +
                          std::to_string(endNs - 86400000000000LL) + ") + toInt64(number) * " +
                          std::to_string(stepNs) + R"(),
      lower(hex(MD5(toString(intDiv(number, 8))))),
      substring(lower(hex(MD5(toString(number)))), 1, 16),
      multiIf(number % 100 < 70, 'INFO', number % 100 < 85, 'DEBUG', number % 100 < 97, 'WARN', 'ERROR') AS sev,
      multiIf(sev = 'INFO', 9, sev = 'DEBUG', 5, sev = 'WARN', 13, 17),
      ['checkout', 'cart', 'payment', 'shipping', 'email', 'frontend', 'ad', 'recommendation',
       'currency', 'quote', 'accounting', 'fraud-detection', 'inventory', 'auth', 'search',
       'notification', 'gateway', 'billing', 'catalog', 'reviews'][number % 20 + 1] AS svc,
      concat(['GET /api/v1/orders/', 'POST /api/v1/cart/', 'user ', 'payment processed for order ',
              'connection reset by peer while reading response header from upstream ',
              'cache miss for key product:', 'slow query took ', 'retrying request to inventory attempt ',
              'published event order.created id=', 'failed to parse JSON body at offset ',
              'session expired for user ', 'scheduled job finished in '][number % 12 + 1],
             toString(cityHash64(number) % 100000),
             [' 200 OK', ' 201 Created', ' logged in from 10.0.3.17', ' currency=EUR amount=42.10',
              '', ' hit ratio 0.93', 'ms on replica db-2', ' of 3', ' partition 7', ': unexpected token',
              ' after 30m idle', 'ms'][number % 12 + 1],
             if(number % 1000003 = 7, ' zebracorn', '')),
      'io.opentelemetry.' || svc,
      map('service.name', svc, 'host.name', 'node-' || toString(number % 16),
          'k8s.pod.name', svc || '-' || toString(number % 7), 'deployment.environment', 'production'),
      map('job.id', 'job-' || toString(number % 200000), 'http.method', ['GET', 'POST', 'PUT'][number % 3 + 1],
          'http.status_code', toString([200, 200, 200, 201, 404, 500][number % 6 + 1]),
          'user.id', toString(number % 5000), 'request.id', lower(hex(cityHash64(number))),
          'thread.name', 'worker-' || toString(number % 8), 'code.function', 'handle' || toString(number % 40))
    FROM numbers()" + std::to_string(rows) +
                          ")";
  const auto t0 = std::chrono::steady_clock::now();
  auto r = store.value()->execute(sql);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!r.isOk()) {
    std::fprintf(stderr, "insert failed: %s\n", r.status().toString().c_str());
    _exit(1);
  }
  auto trace = store.value()->execute(
      "SELECT TraceId, LogAttributes['job.id'] FROM otel.otel_logs ORDER BY Timestamp DESC "
      "LIMIT 1 OFFSET 12345");
  std::string traceId, jobId;
  if (trace.isOk()) {
    const std::string& line = trace.value().data;
    const auto tab = line.find('\t');
    traceId = line.substr(0, tab);
    jobId = line.substr(tab + 1, line.find('\n') - tab - 1);
  }
  std::printf(
      "{\"rows\":%lld,\"seconds\":%.2f,\"rows_per_s\":%.0f,\"trace_id\":\"%s\",\"job_id\":\"%s\"}"
      "\n",
      rows, seconds, rows / seconds, traceId.c_str(), jobId.c_str());
  std::fflush(stdout);
  _exit(0);
}
