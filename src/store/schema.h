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
// Views of the telemetry database's tables and columns (stackhouse.tables, stackhouse.columns),
// the only schema information user queries may read.
inline constexpr std::string_view kMetaDatabase = "stackhouse";

struct TableSpec {
  std::string name;       // without the database
  std::string createSql;  // CREATE TABLE IF NOT EXISTS otel.<name> ... (TTL included)
  // "TimestampTime + toIntervalSecond(259200)"; empty for views and when the TTL is 0 (none).
  std::string ttlExpression;
  bool view = false;  // a materialized view: no parts, settings or TTL of its own
  // Skip indexes beyond the exporter's (in createSql too), added to a table made before them
  // (ALTER TABLE ADD INDEX IF NOT EXISTS: new parts get them; old parts are not rewritten).
  std::vector<std::string> addedIndexes;
  // Columns beyond the exporter's (in createSql too), added to a table made before them (ALTER
  // TABLE ADD COLUMN IF NOT EXISTS: old parts compute a MATERIALIZED one when read).
  std::vector<std::string> addedColumns;
  // A Distributed table in front of a cluster's local tables (SchemaOptions::cluster): no parts
  // of its own either.
  bool distributed = false;
  // Table settings beyond kPartSettings (in createSql too), set on a table made before them.
  std::vector<std::string> addedSettings;
  // Skip indexes an earlier version added that this one replaced: dropped from a table made
  // before (ALTER TABLE DROP INDEX IF EXISTS).
  std::vector<std::string> droppedIndexes;
  // Projections (in createSql too), added to a table made before them (ALTER TABLE ADD
  // PROJECTION IF NOT EXISTS: new parts and merged ones get them; a query reads the others' rows).
  std::vector<std::string> addedProjections;
};

// The live tail follows insert order (query/search_api.h): each row keeps the number of the insert
// block it came in (`_block_number`) across merges, instead of taking its merged part's. Set on
// otel_logs and otel_traces, the tables a tail reads.
inline constexpr std::string_view kInsertOrderSetting = "enable_block_number_column = 1";

// The metric tables the embedded store rolls up into 5-minute buckets (store/metric_rollup.h), and
// their rollup tables.
struct RollupTable {
  std::string_view source;
  std::string_view rollup;
};
inline constexpr RollupTable kRollupTables[] = {
    {"otel_metrics_gauge", "otel_metrics_gauge_5m"},
    {"otel_metrics_sum", "otel_metrics_sum_5m"},
};
inline constexpr int64_t kRollupBucketMs = 5 * 60 * 1000;

// The SQL the rollups and the metrics charts share, so that a chart answered from the rollups
// computes exactly what it computes from the points:
// - a series with its start time (a cumulative series restarts under a new one);
inline constexpr std::string_view kSeriesWithStartSql = "cityHash64(SeriesId, StartTimeUnix)";
// - a group's values in time order (ties by value), as `vs`: two arrays of plain numbers, which
//   the engine gathers on a fast path (an array of (time, value) tuples cost 2.5 times as much);
inline constexpr std::string_view kValuesInTimeOrderSql =
    "arraySort((v, t) -> (t, v), groupArray(Value), groupArray(toUnixTimestamp64Nano(TimeUnix)))";
// - the reset-aware increase over `vs`: each rise, and after a drop (the counter restarted from
//   0) the whole value, as Prometheus's rate reads it.
inline constexpr std::string_view kIncreaseWithinSql =
    "arraySum(arrayMap((d, x) -> if(d >= 0, d, x), arrayPopFront(arrayDifference(vs)), "
    "arrayPopFront(vs)))";

// The column of a table's rows' time that its partitions follow ("TimestampTime" for otel_logs):
// the column to narrow a search for a group's rows by. Empty for a table not in the schema.
std::string_view timeColumnOf(std::string_view table);

// Every table and view, in creation order (the trace-id view after both of its tables).
// `ttlSeconds` is the retention (otelConfig.exporters.clickhouse.ttl); 0: none.
std::vector<TableSpec> schemaTables(uint64_t ttlSeconds);

// Where and how the tables are made: the embedded store uses the defaults; a remote ClickHouse
// names its database, and a cluster its name.
struct SchemaOptions {
  std::string database = std::string(kDatabase);
  uint64_t ttlSeconds = 72 * 3600;
  // Not empty: every statement runs ON CLUSTER; each table becomes a ReplicatedMergeTree table
  // `<name>_local` on every node with a Distributed table `<name>` in front of it (the name that
  // inserts and queries use), as the OpenTelemetry Collector's exporter does with cluster_name and
  // a Replicated table_engine. The server needs the {shard} and {replica} macros.
  std::string cluster;
  // The embedded engine's own choices for search (store/schema.cc, logsTable): the index over
  // lower(Body) as an inverted text index (ClickHouse 26.2 and later) instead of a token bloom
  // filter, and otel_logs in granules of 2048 rows instead of the exporter's 8192. A remote
  // server gets the exporter's table.
  bool embedded = false;
};

// The embedded store's rollup tables (kRollupTables; store/metric_rollup.h), beside the exporter's:
// created by the embedded store only, written by the rollup only.
std::vector<TableSpec> rollupTableSpecs(uint64_t ttlSeconds);

// The statements that create the database (CREATE DATABASE IF NOT EXISTS, ON CLUSTER with one).
std::string createDatabaseSql(const SchemaOptions& options);
// The tables of `options`, in creation order (with a cluster: each local table, then its
// Distributed table; the view reads and writes the local tables).
std::vector<TableSpec> schemaTables(const SchemaOptions& options);

// The schema views user queries may read instead of the system tables (which show other
// databases, host paths and other sessions' queries): the database kMetaDatabase and its views
// `tables` and `columns` over system.tables / system.columns, cut to the rows whose database is
// `databaseFilter` (an SQL expression: the embedded store's 'otel'; on a remote ClickHouse
// currentDatabase(), the database each statement runs in, so that one pair of views serves every
// stackhouse reading that server, whatever its database). ON CLUSTER with a cluster.
std::vector<std::string> schemaViewsSql(const SchemaOptions& options,
                                        std::string_view databaseFilter);

// The table that holds a table's rows: `<table>_local` on a cluster, else `table` itself.
std::string storageTableOf(const SchemaOptions& options, std::string_view table);

// The Distributed table's sharding key of a table: deterministic per row (never rand()), so that
// a retried insert splits over the shards exactly as the first one did and each shard's
// deduplication sees the same blocks. Traces (and the trace-id table) by TraceId: a trace lives
// on one shard, where the trace-id view's min/max is whole.
std::string_view shardingKeyOf(std::string_view table);

// Batches older than this many inserts are forgotten by the insert deduplication of a table.
inline constexpr int kDeduplicationWindow = 10000;

// How the engine writes and merges a table's parts. Inserts here hold the rows of the requests in
// flight (often under 10k rows), so with the engine's defaults its merges took more CPU per row
// than the inserts themselves, and a part crossing 10 MiB was written wide (a file per column and
// Map key/value stream) instead of compact (one file):
//  - merge_selector_base 20 (default 5): a range of parts is merged once it is about 20 times its
//    largest part, so a row is rewritten about log20 instead of log5 times, for a few tens more
//    parts per day partition;
//  - min_bytes_for_wide_part 64 MiB (default 10 MiB): parts stay compact until 64 MiB
//    uncompressed, the size of a few merges of inserts.
// Together, in `make bench`: server CPU per million rows 25 -> 19-23 s for logs, 32 -> 16 s for
// spans (docs/benchmarks.md). Set at creation and on every start, so tables made before keep up.
inline constexpr std::string_view kPartSettings[] = {"merge_selector_base = 20",
                                                     "min_bytes_for_wide_part = 67108864"};

}  // namespace stackhouse::store
