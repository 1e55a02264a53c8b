#include "store/schema.h"

namespace stackhouse::store {

namespace {

// The tables are written once; these name them for the database, the cluster and the engine
// of one SchemaOptions (the embedded store's: `otel`, no cluster, MergeTree).
struct Naming {
  const SchemaOptions& o;
  bool replicated() const { return !o.cluster.empty(); }
  // The table that holds the rows: `<name>_local` on a cluster.
  std::string local(std::string_view table) const {
    return replicated() ? std::string(table) + "_local" : std::string(table);
  }
  std::string qualified(std::string_view table) const { return o.database + "." + local(table); }
  // A cluster name that is not a plain identifier (my-cluster) is back-quoted.
  std::string quotedCluster() const {
    bool plain = !o.cluster.empty() && !(o.cluster[0] >= '0' && o.cluster[0] <= '9');
    for (char c : o.cluster) {
      plain = plain && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '_');
    }
    return plain ? o.cluster : "`" + o.cluster + "`";
  }
  std::string onCluster() const { return replicated() ? " ON CLUSTER " + quotedCluster() : ""; }
  std::string createTable(std::string_view table) const {
    return "CREATE TABLE IF NOT EXISTS " + qualified(table) + onCluster();
  }
  std::string engine() const { return replicated() ? "ReplicatedMergeTree" : "MergeTree"; }
};

// ttl 0 means no retention (as in the Collector's exporter): no TTL at all.
std::string ttlFor(std::string_view timeExpr, uint64_t ttlSeconds) {
  if (ttlSeconds == 0) return {};
  return std::string(timeExpr) + " + toIntervalSecond(" + std::to_string(ttlSeconds) + ")";
}

std::string ttlClause(const std::string& ttlExpression) {
  return ttlExpression.empty() ? std::string() : "TTL " + ttlExpression + "\n";
}

std::string settings(const Naming& n, const std::vector<std::string>& added = {},
                     int granularity = 8192) {
  std::string sql = "SETTINGS index_granularity = " + std::to_string(granularity) +
                    ", ttl_only_drop_parts = 1, " +
                    (n.replicated() ? "replicated_deduplication_window = "
                                    : "non_replicated_deduplication_window = ") +
                    std::to_string(kDeduplicationWindow);
  for (std::string_view setting : kPartSettings) sql.append(", ").append(setting);
  for (const std::string& setting : added) sql.append(", ").append(setting);
  return sql + "\n";
}

}  // namespace

std::string_view timeColumnOf(std::string_view table) {
  if (table == "otel_logs") return "TimestampTime";
  if (table == "otel_traces") return "Timestamp";
  if (table.ends_with("_5m")) return "Bucket";  // the embedded store's rollups
  if (table.starts_with("otel_metrics_")) return "TimeUnix";
  return {};
}

namespace {

// The exporter's token bloom filter over Body as written. It serves case-sensitive hasToken(Body,
// t) and Body LIKE, which the search never writes; in the embedded store the text index over
// lower(Body) serves free text instead, and this one is left out: it was more than half of the
// engine's skip-index work on a log row, at the insert and again at every merge (14-18 % of the
// logs insert rate; docs/benchmarks.md, "The exporter's Body index in the embedded store").
constexpr std::string_view kExporterBodyIndex =
    "INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8,\n    ";

// Free-text search folds case (hasTokenCaseInsensitive's meaning), which the exporter's idx_body
// over Body as written cannot serve; the search builder writes hasToken(lower(Body), token) and
// lower(Body) LIKE '%text%', which an index over the lower-cased body serves. Its ingest cost is
// in docs/benchmarks.md. On a remote server, a token bloom filter (any version has it).
constexpr std::string_view kLowerBodyIndex =
    "idx_body_lower lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8";
// In the embedded engine, an inverted index: its postings name the granules that hold a token
// exactly (the bloom filter kept 51 of 246 granules for a token in 2 rows of 2M logs), and its
// dictionary serves LIKE '%text%' (a substring search read every Body before). On 2M logs over
// 24 h, engine time: a rare token 9-10 against 20 ms, a substring 17-20 against 82 ms.
constexpr std::string_view kLowerBodyTextIndex =
    "idx_body_text lower(Body) TYPE text(tokenizer = splitByNonAlpha)";
// Any-case attribute equality (job.id:ABC) is lower(LogAttributes[k]) = 'abc', which the
// exporter's idx_log_attr_value over the values as written cannot serve; the search builder adds
// has(arrayMap(v -> lower(v), mapValues(LogAttributes)), 'abc'), which this index serves.
constexpr std::string_view kLowerLogAttrIndex =
    "idx_log_attr_value_lower arrayMap(v -> lower(v), mapValues(LogAttributes)) TYPE "
    "bloom_filter(0.01) GRANULARITY 1";
// The same for a bare key's resource-attribute half and ResourceAttributes.k:v.
constexpr std::string_view kLowerResAttrIndex =
    "idx_res_attr_value_lower arrayMap(v -> lower(v), mapValues(ResourceAttributes)) TYPE "
    "bloom_filter(0.01) GRANULARITY 1";

// A search reads whole granules: the rows a filter keeps are in a few granules each (an attribute
// value in 10 rows of 2M logs: 10 granules), and the engine reads and decompresses every row of
// those granules' columns to check the filter and show the page. Granules of 2048 rows instead of
// 8192, on 2M logs over 24 h (engine time, one part a day): an attribute lookup 33 against 44 ms,
// the newest page of the last hour 27 against 43 ms, the histogram 39 against 37 ms; an
// INSERT ... SELECT of the 2M rows 7.6-8.1 against 8.4-8.6 s, 4 % more on disk. Only a table
// made with it has it (the engine cannot change a table's granularity).
constexpr int kEmbeddedLogsGranularity = 2048;

// Each part also keeps its rows counted by minute and severity, which the histogram with no
// filter reads instead of the rows (query/search_api.cc, prepareHistogram): on 2M logs over 24 h,
// 5 against 36 ms of engine time. Building it at every insert and merge costs little: 170 ms to
// add it to the 2M rows' parts.
constexpr std::string_view kLogsHistogramProjection =
    "p_histogram (SELECT toStartOfMinute(TimestampTime), SeverityText, count() GROUP BY "
    "toStartOfMinute(TimestampTime), SeverityText)";

TableSpec logsTable(const Naming& n, uint64_t ttl) {
  TableSpec t{"otel_logs", "", ttlFor("TimestampTime", ttl)};
  const std::string_view bodyIndex = n.o.embedded ? kLowerBodyTextIndex : kLowerBodyIndex;
  t.addedIndexes.emplace_back(bodyIndex);
  if (n.o.embedded) {
    t.droppedIndexes.emplace_back("idx_body_lower");
    t.droppedIndexes.emplace_back("idx_body");
  }
  t.addedIndexes.emplace_back(kLowerLogAttrIndex);
  t.addedIndexes.emplace_back(kLowerResAttrIndex);
  t.addedSettings.emplace_back(kInsertOrderSetting);
  if (n.o.embedded) {
    t.addedProjections.emplace_back(kLogsHistogramProjection);
    // A lightweight DELETE (an operator removing rows) rebuilds the parts' projection instead of
    // failing, which is what the engine does by default on a table with one.
    t.addedSettings.emplace_back("lightweight_mutation_projection_mode = 'rebuild'");
  }
  t.createSql = n.createTable(t.name) + R"( (
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
    )" + std::string(n.o.embedded ? "" : kExporterBodyIndex) +
                "INDEX " + std::string(bodyIndex) + ",\n    INDEX " +
                std::string(kLowerLogAttrIndex) + ",\n    INDEX " +
                std::string(kLowerResAttrIndex) +
                (n.o.embedded ? ",\n    PROJECTION " + std::string(kLogsHistogramProjection) : "") +
                R"(
) ENGINE = )" + n.engine() +
                R"(
PARTITION BY toDate(TimestampTime)
PRIMARY KEY (ServiceName, TimestampTime)
ORDER BY (ServiceName, TimestampTime, Timestamp)
)" + ttlClause(t.ttlExpression) +
                settings(n, t.addedSettings, n.o.embedded ? kEmbeddedLogsGranularity : 8192);
  return t;
}

TableSpec tracesTable(const Naming& n, uint64_t ttl) {
  TableSpec t{"otel_traces", "", ttlFor("toDateTime(Timestamp)", ttl)};
  t.addedSettings.emplace_back(kInsertOrderSetting);
  t.createSql = n.createTable(t.name) + R"( (
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
) ENGINE = )" + n.engine() +
                R"(
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
)" + ttlClause(t.ttlExpression) +
                settings(n, t.addedSettings);
  return t;
}

TableSpec traceIdTable(const Naming& n, uint64_t ttl) {
  TableSpec t{"otel_traces_trace_id_ts", "", ttlFor("toDateTime(Start)", ttl)};
  t.createSql = n.createTable(t.name) + R"( (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = )" + n.engine() +
                R"(
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
)" + ttlClause(t.ttlExpression) +
                settings(n);
  return t;
}

TableSpec traceIdView(const Naming& n) {
  TableSpec t{"otel_traces_trace_id_ts_mv", "", "", /*view=*/true};
  // On a cluster the view is on every node, from the local traces into the local trace-id table.
  t.createSql = "CREATE MATERIALIZED VIEW IF NOT EXISTS " + n.o.database + "." + t.name +
                n.onCluster() + " TO " + n.qualified("otel_traces_trace_id_ts") + R"(
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM )" + n.qualified("otel_traces") +
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

// A metric point's series (its attributes and its resource's) as one number, computed once at
// insert: a chart groups millions of points by series, and reading and hashing both maps of every
// point cost about six times the scan of the values (docs/benchmarks.md). Not in the exporter's
// schema; MATERIALIZED, so `SELECT *` and the exporter's inserts do not see it.
constexpr std::string_view kSeriesIdColumn =
    "SeriesId UInt64 MATERIALIZED cityHash64(Attributes, ResourceAttributes) CODEC(ZSTD(1))";

TableSpec metricTable(const Naming& n, std::string_view name, const std::string& kindColumns,
                      uint64_t ttl) {
  TableSpec t{std::string(name), "", ttlFor("toDateTime(TimeUnix)", ttl)};
  t.addedColumns.emplace_back(kSeriesIdColumn);
  t.createSql = n.createTable(t.name) + " (" + metricCommonColumns() + kindColumns + "\n    " +
                std::string(kSeriesIdColumn) + "," + R"(
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = )" + n.engine() +
                R"(
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))
)" + ttlClause(t.ttlExpression) +
                settings(n);
  return t;
}

// The embedded store's 5-minute rollup of a metric table (store/metric_rollup.h): one row per
// metric, bucket and series with its start time (Sid = cityHash64(SeriesId, StartTimeUnix)), the
// columns a chart's filter and group-by read, and what a chart's aggregations need of the bucket's
// points. Written only by the rollup pass, never by inserts. LZ4, as the embedded store's metric
// tables (ChdbStore::useEmbeddedMetricCodecs).
TableSpec rollupTable(const Naming& n, std::string_view name, uint64_t ttl) {
  TableSpec t{std::string(name), "", ttlFor("Bucket", ttl)};
  t.createSql = n.createTable(t.name) + R"( (
    MetricName LowCardinality(String) CODEC(LZ4),
    Bucket DateTime CODEC(Delta, LZ4),
    Sid UInt64 CODEC(LZ4),
    SeriesId UInt64 CODEC(LZ4),
    ServiceName LowCardinality(String) CODEC(LZ4),
    ScopeName String CODEC(LZ4),
    ScopeVersion String CODEC(LZ4),
    ResourceSchemaUrl String CODEC(LZ4),
    ScopeSchemaUrl String CODEC(LZ4),
    MetricUnit String CODEC(LZ4),
    MetricDescription String CODEC(LZ4),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(LZ4),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(LZ4),
    Attributes Map(LowCardinality(String), String) CODEC(LZ4),
    First Float64 CODEC(LZ4),
    Last Float64 CODEC(LZ4),
    LastTime Int64 CODEC(LZ4),
    Within Float64 CODEC(LZ4),
    Min Float64 CODEC(LZ4),
    Max Float64 CODEC(LZ4),
    Sum Float64 CODEC(LZ4),
    Count UInt64 CODEC(LZ4),
    Version UInt64 CODEC(LZ4)
) ENGINE = MergeTree
PARTITION BY toDate(Bucket)
ORDER BY (MetricName, Bucket, Sid)
)" + ttlClause(t.ttlExpression) +
                settings(n);
  return t;
}

}  // namespace

std::vector<TableSpec> schemaTables(uint64_t ttlSeconds) {
  return schemaTables(SchemaOptions{
      .database = std::string(kDatabase), .ttlSeconds = ttlSeconds, .embedded = true});
}

std::string_view shardingKeyOf(std::string_view table) {
  if (table == "otel_traces" || table == "otel_traces_trace_id_ts") return "cityHash64(TraceId)";
  if (table == "otel_logs") return "cityHash64(ServiceName, Timestamp)";
  // Metric points: a series (service, name, attributes) stays on one shard.
  return "cityHash64(ServiceName, MetricName, Attributes)";
}

std::string storageTableOf(const SchemaOptions& options, std::string_view table) {
  return Naming{options}.local(table);
}

std::string createDatabaseSql(const SchemaOptions& options) {
  return "CREATE DATABASE IF NOT EXISTS " + options.database + Naming{options}.onCluster() +
         " ENGINE = Atomic";
}

std::vector<std::string> schemaViewsSql(const SchemaOptions& options,
                                        std::string_view databaseFilter) {
  const std::string meta(kMetaDatabase);
  const std::string onCluster = Naming{options}.onCluster();
  const std::string filter(databaseFilter);
  return {
      "CREATE DATABASE IF NOT EXISTS " + meta + onCluster + " ENGINE = Atomic",
      "CREATE OR REPLACE VIEW " + meta + ".tables" + onCluster +
          " AS SELECT name, engine, engine_full, create_table_query, partition_key, sorting_key, "
          "primary_key, total_rows, total_bytes FROM system.tables WHERE database = " +
          filter,
      "CREATE OR REPLACE VIEW " + meta + ".columns" + onCluster +
          " AS SELECT table, name, type, position, comment FROM system.columns WHERE database = " +
          filter,
  };
}

std::vector<TableSpec> schemaTables(const SchemaOptions& options) {
  const Naming n{options};
  const uint64_t ttlSeconds = options.ttlSeconds;
  std::vector<TableSpec> tables;
  // With a cluster, a Distributed table in front of each local table, made right after it.
  auto add = [&](TableSpec t) {
    const std::string name = t.name;
    const bool view = t.view;
    tables.push_back(std::move(t));
    if (!n.replicated() || view) return;
    TableSpec d{name, "", ""};
    d.distributed = true;
    d.createSql = "CREATE TABLE IF NOT EXISTS " + options.database + "." + name + n.onCluster() +
                  " AS " + n.qualified(name) + "\nENGINE = Distributed(" + n.quotedCluster() +
                  ", " + options.database + ", " + n.local(name) + ", " +
                  std::string(shardingKeyOf(name)) + ")\n";
    tables.push_back(std::move(d));
  };
  add(logsTable(n, ttlSeconds));
  add(tracesTable(n, ttlSeconds));
  add(traceIdTable(n, ttlSeconds));
  add(traceIdView(n));
  add(metricTable(n, "otel_metrics_gauge", R"(
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),)" + exemplarColumns(),
                  ttlSeconds));
  add(metricTable(n, "otel_metrics_sum",
                  R"(
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),)" +
                      exemplarColumns() + R"(
    AggregationTemporality Int32 CODEC(ZSTD(1)),
    IsMonotonic Boolean CODEC(Delta, ZSTD(1)),)",
                  ttlSeconds));
  add(metricTable(n, "otel_metrics_histogram",
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
  add(metricTable(n, "otel_metrics_exponential_histogram",
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
  add(metricTable(n, "otel_metrics_summary", R"(
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

std::vector<TableSpec> rollupTableSpecs(uint64_t ttlSeconds) {
  const SchemaOptions options{.ttlSeconds = ttlSeconds, .embedded = true};
  const Naming n{options};
  std::vector<TableSpec> tables;
  for (const RollupTable& t : kRollupTables) tables.push_back(rollupTable(n, t.rollup, ttlSeconds));
  return tables;
}

}  // namespace stackhouse::store
