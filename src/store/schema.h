// The tables of the OpenTelemetry Collector's ClickHouse exporter, with their exact column names
// and types, so that tools built for that schema (HyperDX, Grafana's ClickHouse plugin) read what
// stackhouse stores.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stackhouse::store {

inline constexpr std::string_view kDatabase = "otel";

struct TableSpec {
  std::string name;         // without the database
  std::string createSql;    // CREATE TABLE IF NOT EXISTS otel.<name> ... (TTL included)
  std::string ttlExpression;  // "TimestampTime + toIntervalSecond(259200)"; empty for views
};

// Every table and view, in creation order (the trace-id view after both of its tables).
// `ttlSeconds` is the retention (otelConfig.exporters.clickhouse.ttl).
std::vector<TableSpec> schemaTables(uint64_t ttlSeconds);

// Batches older than this many inserts are forgotten by the insert deduplication of a table.
inline constexpr int kDeduplicationWindow = 10000;

}  // namespace stackhouse::store
