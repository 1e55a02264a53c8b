#include "store/schema.h"

namespace stackhouse::store {

namespace {

std::string qualified(std::string_view table) {
  return std::string(kDatabase) + "." + std::string(table);
}

// ttl 0 means no retention (as in the Collector's exporter): no TTL at all.
std::string ttlFor(std::string_view timeExpr, uint64_t ttlSeconds) {
  if (ttlSeconds == 0) return {};
  return std::string(timeExpr) + " + toIntervalSecond(" + std::to_string(ttlSeconds) + ")";
}

std::string ttlClause(const std::string& ttlExpression) {
  return ttlExpression.empty() ? std::string() : "TTL " + ttlExpression + "\n";
}

std::string settings(const std::vector<std::string>& added = {}) {
  std::string sql =
      "SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, "
      "non_replicated_deduplication_window = " +
      std::to_string(kDeduplicationWindow);
  for (std::string_view setting : kPartSettings) sql.append(", ").append(setting);
  for (const std::string& setting : added) sql.append(", ").append(setting);
  return sql + "\n";
}

}  // namespace

std::string_view timeColumnOf(std::string_view table) {
  if (table == "otel_logs") return "TimestampTime";
  if (table == "otel_traces") return "Timestamp";
  if (table.starts_with("otel_metrics_")) return "TimeUnix";
  return {};
}

namespace {

// Free-text search folds case (hasTokenCaseInsensitive's meaning), which the exporter's idx_body
// over Body as written cannot serve; the search builder writes hasToken(lower(Body), token), which
// this index over the lower-cased body serves. Its ingest cost is in docs/benchmarks.md.
constexpr std::string_view kLowerBodyIndex =
    "idx_body_lower lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8";

TableSpec logsTable(uint64_t ttl) {
  TableSpec t{"otel_logs", "", ttlFor("TimestampTime", ttl)};
  t.addedIndexes.emplace_back(kLowerBodyIndex);
  t.addedSettings.emplace_back(kInsertOrderSetting);
  t.createSql = "CREATE TABLE IF NOT EXISTS " + qualified(t.name) + R"( (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    EventName String CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8,
    INDEX )" + std::string(kLowerBodyIndex) +
                R"(
) ENGINE = MergeTree
PARTITION BY toDate(TimestampTime)
PRIMARY KEY (ServiceName, TimestampTime)
ORDER BY (ServiceName, TimestampTime, Timestamp)
)" + ttlClause(t.ttlExpression) +
                settings(t.addedSettings);
  return t;
}

TableSpec tracesTable(uint64_t ttl) {
  TableSpec t{"otel_traces", "", ttlFor("toDateTime(Timestamp)", ttl)};
  t.addedSettings.emplace_back(kInsertOrderSetting);
  t.createSql = "CREATE TABLE IF NOT EXISTS " + qualified(t.name) + R"( (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
)" + ttlClause(t.ttlExpression) +
                settings(t.addedSettings);
  return t;
}

TableSpec traceIdTable(uint64_t ttl) {
  TableSpec t{"otel_traces_trace_id_ts", "", ttlFor("toDateTime(Start)", ttl)};
  t.createSql = "CREATE TABLE IF NOT EXISTS " + qualified(t.name) + R"( (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
)" + ttlClause(t.ttlExpression) +
                settings();
  return t;
}

TableSpec traceIdView() {
  TableSpec t{"otel_traces_trace_id_ts_mv", "", "", /*view=*/true};
  t.createSql = "CREATE MATERIALIZED VIEW IF NOT EXISTS " + qualified(t.name) + " TO " +
                qualified("otel_traces_trace_id_ts") + R"(
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM )" + qualified("otel_traces") +
                R"(
WHERE TraceId != ''
GROUP BY TraceId
)";
  return t;
}

std::string metricCommonColumns() {
  return R"(
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName String CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),)";
}

std::string exemplarColumns() {
  return R"(
    Exemplars Nested (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),)";
}

TableSpec metricTable(std::string_view name, const std::string& kindColumns, uint64_t ttl) {
  TableSpec t{std::string(name), "", ttlFor("toDateTime(TimeUnix)", ttl)};
  t.createSql = "CREATE TABLE IF NOT EXISTS " + qualified(t.name) + " (" + metricCommonColumns() +
                kindColumns + R"(
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))
)" + ttlClause(t.ttlExpression) +
                settings();
  return t;
}

}  // namespace

std::vector<TableSpec> schemaTables(uint64_t ttlSeconds) {
  std::vector<TableSpec> tables;
  tables.push_back(logsTable(ttlSeconds));
  tables.push_back(tracesTable(ttlSeconds));
  tables.push_back(traceIdTable(ttlSeconds));
  tables.push_back(traceIdView());
  tables.push_back(metricTable("otel_metrics_gauge", R"(
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),)" + exemplarColumns(),
                               ttlSeconds));
  tables.push_back(metricTable("otel_metrics_sum",
                               R"(
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),)" +
                                   exemplarColumns() + R"(
    AggregationTemporality Int32 CODEC(ZSTD(1)),
    IsMonotonic Boolean CODEC(Delta, ZSTD(1)),)",
                               ttlSeconds));
  tables.push_back(metricTable("otel_metrics_histogram",
                               R"(
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    BucketCounts Array(UInt64) CODEC(ZSTD(1)),
    ExplicitBounds Array(Float64) CODEC(ZSTD(1)),)" +
                                   exemplarColumns() + R"(
    Flags UInt32 CODEC(ZSTD(1)),
    Min Float64 CODEC(ZSTD(1)),
    Max Float64 CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),)",
                               ttlSeconds));
  tables.push_back(metricTable("otel_metrics_exponential_histogram",
                               R"(
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    Scale Int32 CODEC(ZSTD(1)),
    ZeroCount UInt64 CODEC(ZSTD(1)),
    PositiveOffset Int32 CODEC(ZSTD(1)),
    PositiveBucketCounts Array(UInt64) CODEC(ZSTD(1)),
    NegativeOffset Int32 CODEC(ZSTD(1)),
    NegativeBucketCounts Array(UInt64) CODEC(ZSTD(1)),)" +
                                   exemplarColumns() + R"(
    Flags UInt32 CODEC(ZSTD(1)),
    Min Float64 CODEC(ZSTD(1)),
    Max Float64 CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),)",
                               ttlSeconds));
  tables.push_back(metricTable("otel_metrics_summary", R"(
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    ValueAtQuantiles Nested (
        Quantile Float64,
        Value Float64
    ) CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),)",
                               ttlSeconds));
  return tables;
}

}  // namespace stackhouse::store
