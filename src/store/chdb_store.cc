#include "store/chdb_store.h"

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "common/log.h"
#include "store/schema.h"

namespace stackhouse::store {

namespace {

// The insert's column list, quoted for the names with dots (Events.Name).
std::string columnList(const telemetry::ArrowExport& e) {
  std::string out;
  for (std::string_view name : e.columnNames()) {
    if (!out.empty()) out += ", ";
    out += '`';
    out += name;
    out += '`';
  }
  return out;
}

bool isSafeToken(std::string_view token) {
  if (token.empty() || token.size() > 128) return false;
  for (char c : token) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

uint64_t uncompressedCacheBytes(uint64_t engineMemoryBytes) {
  constexpr uint64_t kMost = uint64_t{128} << 20;
  return engineMemoryBytes == 0 ? kMost : std::min(kMost, engineMemoryBytes / 8);
}

Result<std::unique_ptr<ChdbStore>> ChdbStore::open(const StoreOptions& options) {
  std::unique_ptr<ChdbStore> store(new ChdbStore());
  store->dataDir_ = options.dataDir;
  store->maxMemoryBytes_ = options.maxMemoryBytes;
  store->readOnly_ = options.mode == OpenMode::kReadOnly;
  if (options.mode == OpenMode::kReadOnly) {
    // Checked before the engine starts, which would create the path and its folders.
    std::error_code ec;
    const std::filesystem::path metadata =
        std::filesystem::path(options.dataDir) / "metadata" / std::string(kDatabase);
    if (!std::filesystem::exists(metadata, ec) &&
        !std::filesystem::exists(metadata.string() + ".sql", ec)) {
      return Status(StatusCode::kNotFound,
                    "no " + std::string(kDatabase) + " database in " + options.dataDir);
    }
    STACKHOUSE_RETURN_IF_ERROR(store->openReader(options));
    STACKHOUSE_RETURN_IF_ERROR(store->findMissingTables());
    return store;
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dataDir, ec);
  if (ec) return unavailable("cannot create the data directory: " + ec.message());
  // The engine pauses a running query of a lower priority (a larger number) while one of a higher
  // priority runs: inserts come first, user queries (priority 2, openQueryConnection) wait.
  // Ingest while four clients search rose from 0.68 to 0.78-0.80 of its rate alone
  // (docs/benchmarks.md).
  auto writer = store->openConnection({"SET priority = 1"});
  if (!writer) return writer.status();
  store->writer_ = std::move(writer.value());
  store->ttlSeconds_ = options.ttlSeconds;
  STACKHOUSE_RETURN_IF_ERROR(store->createSchema(options.ttlSeconds));
  STACKHOUSE_RETURN_IF_ERROR(store->openReader(options));
  return store;
}

Status ChdbStore::openReader(const StoreOptions& options) {
  auto reader = openQueryConnection(options.queryBounds);
  if (!reader) return reader.status();
  reader_ = std::move(reader.value());
  return Status::ok();
}

Result<std::unique_ptr<ChdbConnection>> ChdbStore::openQueryConnection(const QueryBounds& b) {
  std::vector<std::string> setup;
  // Read-only, the engine's configuration already keeps merges from being chosen; stopping
  // them also holds back mutations, which that configuration does not bound. A merge the engine
  // chose in the moment between the open and this statement would still run.
  // Nor may a query spill to the engine's temporary folder, which is in the data path: past its
  // memory it fails instead (by default a sort, aggregation or join spills past half of it).
  if (readOnly_) {
    setup = {"SYSTEM STOP MERGES", "SYSTEM STOP TTL MERGES",
             "SET max_bytes_ratio_before_external_sort = 0",
             "SET max_bytes_ratio_before_external_group_by = 0",
             "SET max_bytes_ratio_before_external_join = 0"};
  }
  // Result shaping and bounds first: once readonly = 1, no setting can change on the connection.
  // The `otel` database is the current one, so that an unqualified name never resolves to the
  // engine's default database (which in the embedded engine reads files of the working
  // directory). Low OS priority for query threads, and a lower query priority than the inserts'
  // (the engine pauses them while an insert runs): ingest keeps the CPU when both want it. User
  // queries read through the engine's cache of decompressed blocks (uncompressedCacheBytes).
  for (std::string sql : {
           std::string("SET output_format_json_quote_64bit_integers = 1"),
           std::string("SET output_format_json_quote_denormals = 1"),
           "SET max_execution_time = " + std::to_string(b.maxExecutionSeconds),
           std::string("SET timeout_overflow_mode = 'throw'"),
           "SET max_memory_usage = " + std::to_string(b.maxMemoryBytes),
           "SET max_result_bytes = " + std::to_string(b.maxResultBytes),
           std::string("SET result_overflow_mode = 'throw'"),
           "SET max_query_size = " + std::to_string(b.maxQueryBytes),
           std::string("SET os_thread_priority = 10"),
           std::string("SET priority = 2"),
           std::string("SET use_uncompressed_cache = 1"),
           "USE " + std::string(kDatabase),
           std::string("SET readonly = 1"),
       }) {
    setup.push_back(std::move(sql));
  }
  return openConnection(std::move(setup));
}

Result<std::unique_ptr<ChdbConnection>> ChdbStore::openControlConnection() {
  return openConnection({"USE " + std::string(kDatabase), "SET max_execution_time = 10"});
}

Result<std::unique_ptr<ChdbConnection>> ChdbStore::openMaintenanceConnection(
    uint64_t maxMemoryBytes) {
  if (readOnly_) return Status(StatusCode::kPermissionDenied, "the store is open read-only");
  return openConnection({"USE " + std::string(kDatabase), "SET max_execution_time = 600",
                         "SET max_memory_usage = " + std::to_string(maxMemoryBytes),
                         "SET os_thread_priority = 10", "SET priority = 2"});
}

// Every connection carries the engine's options: the first open of the process sets them.
Result<std::unique_ptr<ChdbConnection>> ChdbStore::openConnection(
    std::vector<std::string> setup) const {
  return ChdbConnection::open(dataDir_,
                              {.maxMemoryBytes = maxMemoryBytes_,
                               .uncompressedCacheBytes = uncompressedCacheBytes(maxMemoryBytes_),
                               .readOnly = readOnly_,
                               .setup = std::move(setup)});
}

Result<bool> ChdbStore::tableHas(std::string_view catalog, const std::string& table,
                                 const std::string& name) {
  auto n = writer_->query("SELECT count() FROM system." + std::string(catalog) +
                          " WHERE database = '" + std::string(kDatabase) + "' AND table = '" +
                          table + "' AND name = '" + name + "'");
  if (!n) return n.status();
  return !n->data.starts_with("0");
}

Status ChdbStore::findMissingTables() {
  auto present = reader_->query("SELECT name FROM system.tables WHERE database = '" +
                                std::string(kDatabase) + "' ORDER BY name");
  if (!present) return present.status();
  if (present->data.empty()) {
    return Status(StatusCode::kNotFound,
                  "no tables in the " + std::string(kDatabase) + " database");
  }
  const std::string names = "\n" + present->data;  // one name a line, each ending in \n
  for (const TableSpec& t : schemaTables(0)) {
    if (names.find("\n" + t.name + "\n") == std::string::npos) missingTables_.push_back(t.name);
  }
  return Status::ok();
}

ChdbStore::~ChdbStore() = default;

Status ChdbStore::createSchema(uint64_t ttlSeconds) {
  auto r = writer_->query("CREATE DATABASE IF NOT EXISTS " + std::string(kDatabase) +
                          " ENGINE = Atomic");
  if (!r) return r.status();
  // What users may know of the schema, without the system tables (which show other databases,
  // host paths and other sessions' queries): views over system.tables and system.columns cut
  // to the telemetry database, in a database of their own that the query check allows.
  for (const std::string& sql :
       schemaViewsSql(SchemaOptions{}, "'" + std::string(kDatabase) + "'")) {
    auto made = writer_->query(sql);
    if (!made) return made.status();
  }
  std::vector<TableSpec> tables = schemaTables(ttlSeconds);
  for (TableSpec& t : rollupTableSpecs(ttlSeconds)) tables.push_back(std::move(t));
  for (const TableSpec& t : tables) {
    auto created = writer_->query(t.createSql);
    if (!created) return created.status();
    if (t.view) continue;
    // An existing table keeps the TTL it was created with; apply a changed one. Parts are not
    // rewritten (materialize_ttl_after_modify = 0): with ttl_only_drop_parts, whole parts simply
    // expire under the new rule.
    // As written (TSVRaw): a setting's quoted value ('rebuild') is compared with the statement.
    auto current = writer_->query("SELECT engine_full FROM system.tables WHERE database = '" +
                                      std::string(kDatabase) + "' AND name = '" + t.name + "'",
                                  "TSVRaw");
    if (!current) return current.status();
    for (const std::string& column : t.addedColumns) {
      auto added = writer_->query("ALTER TABLE " + std::string(kDatabase) + "." + t.name +
                                  " ADD COLUMN IF NOT EXISTS " + column);
      if (!added) return added.status();
    }
    for (const std::string& index : t.addedIndexes) {
      auto added = writer_->query("ALTER TABLE " + std::string(kDatabase) + "." + t.name +
                                  " ADD INDEX IF NOT EXISTS " + index);
      if (!added) return added.status();
    }
    for (const std::string& projection : t.addedProjections) {
      auto present = tableHas("projections", t.name, projection.substr(0, projection.find(' ')));
      if (!present) return present.status();
      if (present.value()) continue;
      auto added = writer_->query("ALTER TABLE " + std::string(kDatabase) + "." + t.name +
                                  " ADD PROJECTION IF NOT EXISTS " + projection);
      if (!added) return added.status();
    }
    // Only when it is there: run at every start, DROP INDEX IF EXISTS of an index the table never
    // had made the engine store again a replay of the insert before the restart, whose token it
    // had kept otherwise (tests/store/restart_dedup_test.cc). The ALTER that replaces the index
    // runs once, at the first start of this version.
    for (const std::string& index : t.droppedIndexes) {
      auto present = tableHas("data_skipping_indices", t.name, index);
      if (!present) return present.status();
      if (!present.value()) continue;
      auto dropped = writer_->query("ALTER TABLE " + std::string(kDatabase) + "." + t.name +
                                    " DROP INDEX IF EXISTS " + index);
      if (!dropped) return dropped.status();
      log::info("search index replaced", log::Fields().add("table", t.name).add("index", index));
    }
    std::vector<std::string_view> wanted(std::begin(kPartSettings), std::end(kPartSettings));
    wanted.insert(wanted.end(), t.addedSettings.begin(), t.addedSettings.end());
    for (std::string_view setting : wanted) {
      if (current->data.find(setting) != std::string::npos) continue;
      auto altered = writer_->query("ALTER TABLE " + std::string(kDatabase) + "." + t.name +
                                    " MODIFY SETTING " + std::string(setting));
      if (!altered) return altered.status();
    }
    if (t.name.starts_with("otel_metrics_")) {
      STACKHOUSE_RETURN_IF_ERROR(useEmbeddedMetricCodecs(t.name));
    }
    if (t.ttlExpression.empty()) {
      // ttl 0: no retention. A table made with one loses it (nothing is rewritten).
      if (current->data.find(" TTL ") == std::string::npos) continue;
      auto altered = writer_->query("ALTER TABLE " + std::string(kDatabase) + "." + t.name +
                                    " REMOVE TTL SETTINGS materialize_ttl_after_modify = 0");
      if (!altered) return altered.status();
      log::info("retention removed", log::Fields().add("table", t.name));
      continue;
    }
    if (current->data.find("TTL " + t.ttlExpression + " ") == std::string::npos &&
        current->data.find("TTL " + t.ttlExpression + "\n") == std::string::npos) {
      auto altered =
          writer_->query("ALTER TABLE " + std::string(kDatabase) + "." + t.name + " MODIFY TTL " +
                         t.ttlExpression + " SETTINGS materialize_ttl_after_modify = 0");
      if (!altered) return altered.status();
      log::info("retention changed",
                log::Fields().add("table", t.name).add("ttl_seconds", ttlSeconds));
    }
  }
  return Status::ok();
}

// The embedded store's metric tables compress with LZ4 where the exporter's schema says ZSTD(1)
// (Delta stays where it is). Measured on a scrape load (200 node-exporter targets, docs/
// benchmarks.md): merging the parts of 376k gauge points took 2.2 s of CPU with LZ4 against 2.9 s
// with ZSTD(1), and the merged part was 1.8 MB against 3.1 MB (ZSTD(1) found fewer of the long
// repeats in the attribute maps: ResourceAttributes 0.26 MB against 1.10 MB). The columns, their
// types and the ORDER BY stay the exporter's; a codec is invisible to readers. Existing tables
// get it too (metadata only: new parts and merges use it, old parts keep theirs).
Status ChdbStore::useEmbeddedMetricCodecs(const std::string& table) {
  auto columns =
      writer_->query("SELECT name, compression_codec FROM system.columns WHERE database = '" +
                     std::string(kDatabase) + "' AND table = '" + table +
                     "' AND position(compression_codec, 'ZSTD(1)') > 0 ORDER BY position");
  if (!columns) return columns.status();
  std::string alter;
  std::string_view rows = columns->data;
  while (!rows.empty()) {
    const size_t eol = std::min(rows.find('\n'), rows.size());
    const std::string_view line = rows.substr(0, eol);
    rows.remove_prefix(std::min(eol + 1, rows.size()));
    const size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    std::string codec(line.substr(tab + 1));
    for (size_t at; (at = codec.find("ZSTD(1)")) != std::string::npos;) codec.replace(at, 7, "LZ4");
    alter += alter.empty() ? "ALTER TABLE " + std::string(kDatabase) + "." + table + " " : ", ";
    alter += "MODIFY COLUMN `" + std::string(line.substr(0, tab)) + "` " + codec;
  }
  if (alter.empty()) return Status::ok();
  auto altered = writer_->query(alter);
  return altered ? Status::ok() : altered.status();
}

// The receivers refuse rows dated further ahead than their skew (at most 31 days) and drop rows
// already past the retention, so with a retention an insert spans at most ttl/day + 2 day
// partitions plus the skew's days. The engine's limit (max_partitions_per_insert_block, default
// 100) is raised above that for long retentions, so valid rows never hit it. With no retention
// (ttl 0) any past day is valid, so the limit is off (0): each day of a group becomes a part of
// its own, which merges like any other; a group holds at most sendBatchSize rows.
std::string ChdbStore::partitionLimit() const {
  constexpr uint64_t kDay = 86400;
  constexpr uint64_t kSkewDays = 31;
  const uint64_t limit =
      ttlSeconds_ == 0 ? 0
                       : std::max<uint64_t>(100, (ttlSeconds_ + kDay - 1) / kDay + 2 + kSkewDays);
  return "max_partitions_per_insert_block = " + std::to_string(limit);
}

Status ChdbStore::insertFromStream(const std::vector<telemetry::ArrowExport*>& parts,
                                   std::string sql) {
  telemetry::ArrowExportStream stream(parts);
  const std::string name = "stackhouse_insert_" + std::to_string(++streamSeq_);
  STACKHOUSE_RETURN_IF_ERROR(writer_->registerArrow(name, stream.stream()));
  sql.append(" SELECT * FROM arrowstream(").append(name).append(")");
  auto r = writer_->query(sql);
  writer_->unregisterArrow(name);
  if (!r) {
    lastInsertError_ = writer_->lastError();
    return r.status();
  }
  return Status::ok();
}

Status ChdbStore::insertStream(std::string_view table,
                               const std::vector<telemetry::ArrowExport*>& parts,
                               std::string_view dedupToken) {
  if (!isSafeToken(dedupToken)) return internalError("invalid deduplication token");
  std::string sql;
  sql.reserve(1024);
  sql += "INSERT INTO ";
  sql += kDatabase;
  sql += '.';
  sql += table;
  sql += " (";
  sql += columnList(*parts.front());
  sql += ") SETTINGS insert_deduplication_token = '";
  sql += dedupToken;
  sql += "', deduplicate_blocks_in_dependent_materialized_views = 1, ";
  sql += partitionLimit();
  return insertFromStream(parts, std::move(sql));
}

Result<uint64_t> ChdbStore::skippedBlocks() {
  auto r = writer_->query(
      "SELECT sum(value) FROM system.events WHERE event = 'DuplicatedInsertedBlocks'");
  if (!r) return r.status();
  uint64_t n = 0;
  const std::string_view text = r->data;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc()) return internalError("unreadable count of skipped blocks");
  return n;
}

// Only the insert thread inserts, so a change in the engine's count of skipped blocks across the
// insert is this insert's.
Status ChdbStore::retryStream(std::string_view table,
                              const std::vector<telemetry::ArrowExport*>& parts,
                              std::string_view dedupToken) {
  const Result<uint64_t> before = skippedBlocks();
  if (!before) return insertMissing(table, parts);
  STACKHOUSE_RETURN_IF_ERROR(insertStream(table, parts, dedupToken));
  const Result<uint64_t> after = skippedBlocks();
  if (after && after.value() == before.value()) return Status::ok();  // all inserted now
  return insertMissing(table, parts);
}

// The group goes into a temporary table first (an Arrow stream can be read once), then only
// the rows whose whole-row hash the target lacks, within the group's time range, are inserted,
// with the engine's own deduplication off: the rows themselves decide, not a recorded token.
Status ChdbStore::insertMissing(std::string_view table,
                                const std::vector<telemetry::ArrowExport*>& parts) {
  const std::string timeCol(timeColumnOf(table));
  if (timeCol.empty()) return internalError("no time column for " + std::string(table));
  const std::string target = std::string(kDatabase) + "." + std::string(table);
  const std::string columns = columnList(*parts.front());
  const std::string scratch = "stackhouse_retry";
  const auto run = [&](const std::string& sql) -> Status {
    auto r = writer_->query(sql);
    if (!r) lastInsertError_ = writer_->lastError();
    return r ? Status::ok() : r.status();
  };
  STACKHOUSE_RETURN_IF_ERROR(run("DROP TEMPORARY TABLE IF EXISTS " + scratch));
  STACKHOUSE_RETURN_IF_ERROR(
      run("CREATE TEMPORARY TABLE " + scratch + " AS " + target + " ENGINE = Memory"));
  Status status = insertFromStream(parts, "INSERT INTO " + scratch + " (" + columns + ")");
  if (status.isOk()) {
    const std::string rowHash = "sipHash128(" + columns + ")";
    status = run("INSERT INTO " + target + " (" + columns + ") SETTINGS insert_deduplicate = 0, " +
                 partitionLimit() + " SELECT " + columns + " FROM " + scratch + " WHERE " +
                 rowHash + " NOT IN (SELECT " + rowHash + " FROM " + target + " WHERE " + timeCol +
                 " BETWEEN (SELECT min(" + timeCol + ") FROM " + scratch + ") AND (SELECT max(" +
                 timeCol + ") FROM " + scratch + "))");
  }
  const Status dropped = run("DROP TEMPORARY TABLE IF EXISTS " + scratch);
  return status.isOk() ? dropped : status;
}

Result<QueryOutput> ChdbStore::query(std::string_view sql, std::string_view format,
                                     const QueryParams& params, EngineError* error) {
  std::lock_guard lock(readMu_);
  auto r = reader_->query(sql, format, params);
  if (!r.isOk() && error != nullptr) *error = reader_->lastError();
  return r;
}

Result<QueryOutput> ChdbStore::execute(std::string_view sql, std::string_view format) {
  if (!writer_) return Status(StatusCode::kPermissionDenied, "the store is open read-only");
  return writer_->query(sql, format);
}

}  // namespace stackhouse::store
