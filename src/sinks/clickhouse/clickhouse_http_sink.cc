#include "sinks/clickhouse/clickhouse_http_sink.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "common/log.h"
#include "sinks/clickhouse/native_encoder.h"
#include "store/schema.h"
#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::sinks::clickhouse {
namespace {

constexpr size_t kMaxMessageBytes = 300;
// Distributed DDL waits for every host (the server's distributed_ddl_task_timeout is 180 s).
constexpr std::chrono::milliseconds kMinDdlTimeout{200'000};

bool isSafeToken(std::string_view token) {
  if (token.empty() || token.size() > 128) return false;
  for (char c : token) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// The time column a batch type's rows carry (Timestamp, or TimeUnix for metric points).
template <typename B>
const telemetry::TimestampColumn& timesOf(const B& batch) {
  if constexpr (requires { batch.common.timeUnix; }) {
    return batch.common.timeUnix;
  } else {
    return batch.timestamp;
  }
}

// The rows of the table within [minNs, maxNs], narrowed by the column its partitions and primary
// key follow (store::timeColumnOf).
std::string timeFilter(std::string_view table, int64_t minNs, int64_t maxNs) {
  const std::string column(store::timeColumnOf(table));
  if (column == "TimestampTime") {
    // A DateTime: the second of each bound (toDateTime of an integer is zone-free).
    auto seconds = [](int64_t ns) {
      return std::to_string(ns >= 0 ? ns / 1'000'000'000 : (ns - 999'999'999) / 1'000'000'000);
    };
    return column + " BETWEEN toDateTime(" + seconds(minNs) + ") AND toDateTime(" + seconds(maxNs) +
           ")";
  }
  return column + " BETWEEN fromUnixTimestamp64Nano(toInt64(" + std::to_string(minNs) +
         ")) AND fromUnixTimestamp64Nano(toInt64(" + std::to_string(maxNs) + "))";
}

// First line, bounded: the engine's message, never more than a line of it in ours.
std::string cutMessage(std::string_view text) {
  if (size_t nl = text.find('\n'); nl != std::string_view::npos) text = text.substr(0, nl);
  if (text.size() > kMaxMessageBytes) text = text.substr(0, kMaxMessageBytes);
  return std::string(text);
}

}  // namespace

// gzip at level 1: on 50k log rows level 6 took ~3x the CPU of level 1 (726 against 235 ms) for
// output 5% smaller (178 against 188 bytes a row); zstd at its default (3) is faster than either
// and smaller (174 bytes a row, 107-127 ms) (tests/sinks/clickhouse/clickhouse_sink_bench.cc).
int compressionLevel(http::Compression c) { return c == http::Compression::kGzip ? 1 : 0; }

Result<std::unique_ptr<ClickhouseHttpSink>> ClickhouseHttpSink::create(HttpSinkOptions options,
                                                                       MetricsRegistry* metrics) {
  if (!options.endpoint.starts_with("http://") && !options.endpoint.starts_with("https://")) {
    return invalidArgument("the ClickHouse endpoint must be an http(s) URL");
  }
  while (options.endpoint.ends_with("/")) options.endpoint.pop_back();
  http::ClientOptions clientOptions;
  clientOptions.caFile = options.caFile;
  clientOptions.verifyPeer = options.verifyPeer;
  auto client = http::Client::create(clientOptions);
  if (!client) return client.status();
  return std::unique_ptr<ClickhouseHttpSink>(
      new ClickhouseHttpSink(std::move(options), std::move(client.value()), metrics));
}

ClickhouseHttpSink::ClickhouseHttpSink(HttpSinkOptions options,
                                       std::unique_ptr<http::Client> client,
                                       MetricsRegistry* metrics)
    : options_(std::move(options)), client_(std::move(client)) {
  if (metrics != nullptr) {
    inserts_ = &metrics->counter("stackhouse_sink_clickhouse_remote_inserts_total",
                                 "Inserts a remote ClickHouse stored");
    rows_ = &metrics->counter("stackhouse_sink_clickhouse_remote_rows_total",
                              "Rows sent in inserts a remote ClickHouse stored");
    compareInserts_ = &metrics->counter("stackhouse_sink_clickhouse_remote_compare_inserts_total",
                                        "Retried inserts that compared rows with the table first");
    const char* classes[] = {"retryable", "throttled", "permanent"};
    for (int i = 0; i < 3; ++i) {
      failures_[i] = &metrics->counter("stackhouse_sink_clickhouse_remote_failures_total",
                                       "Failed statements to a remote ClickHouse, by class",
                                       {{"class", classes[i]}});
    }
  }
}

ClickhouseHttpSink::~ClickhouseHttpSink() = default;

void ClickhouseHttpSink::cancel() { client_->cancel(); }

std::vector<std::pair<std::string, std::string>> ClickhouseHttpSink::insertSettings() const {
  // Inserts are batched by the worker: a synchronous insert, committed when the answer comes.
  std::vector<std::pair<std::string, std::string>> s{{"async_insert", "0"}};
  // As the embedded store: the receivers refuse rows dated more than 31 days ahead and drop rows
  // past the retention, so a valid insert spans at most ttl/day + 2 + 31 day partitions; with no
  // retention any past day is valid and the limit is off.
  constexpr uint64_t kDay = 86400;
  const uint64_t ttl = options_.ttlSeconds;
  const uint64_t limit = ttl == 0 ? 0 : std::max<uint64_t>(100, (ttl + kDay - 1) / kDay + 2 + 31);
  s.emplace_back("max_partitions_per_insert_block", std::to_string(limit));
  // On a cluster the insert goes through the Distributed table: answered once the shards have
  // the rows, not once they are queued on this node.
  if (!options_.cluster.empty()) s.emplace_back("insert_distributed_sync", "1");
  return s;
}

Status ClickhouseHttpSink::run(const Statement& st, std::string_view what) {
  http::Request request;
  std::string url = options_.endpoint + "/?";
  bool first = true;
  auto param = [&](std::string_view key, std::string_view value) {
    if (!first) url += '&';
    first = false;
    url.append(key).append("=").append(http::urlEncode(value));
  };
  if (!st.data.empty()) param("query", st.sql);
  if (!st.queryId.empty()) {
    param("query_id", st.queryId);
    param("replace_running_query", "1");
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout).count();
  param("max_execution_time", std::to_string(std::max<int64_t>(1, seconds)));
  for (const auto& [key, value] : st.settings) param(key, value);
  request.url = std::move(url);
  request.headers.emplace_back("X-ClickHouse-User", options_.username);
  if (!options_.password.empty()) {
    request.headers.emplace_back("X-ClickHouse-Key", options_.password);
  }
  request.timeout = options_.timeout;
  bool ddl = false;
  if (st.data.empty()) {
    request.body = st.sql;
    request.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    if (st.sql.starts_with("CREATE") || st.sql.starts_with("ALTER")) {
      request.timeout = std::max(options_.timeout, kMinDdlTimeout);
      ddl = true;
    }
  } else if (options_.compression == http::Compression::kNone) {
    request.body = st.data;
    request.headers.emplace_back("Content-Type", "application/octet-stream");
  } else {
    STACKHOUSE_RETURN_IF_ERROR(http::compress(options_.compression, st.data, compressed_,
                                              compressionLevel(options_.compression)));
    request.body = compressed_;
    request.headers.emplace_back("Content-Type", "application/octet-stream");
    request.headers.emplace_back("Content-Encoding",
                                 std::string(http::compressionName(options_.compression)));
  }
  // Within the call's deadline (pipeline/sink.h); the schema's statements keep their longer
  // bound (ON CLUSTER DDL waits for every node), once per start.
  if (!ddl) {
    request.timeout = timeLeft(request.timeout);
    if (request.timeout.count() <= 0) {
      return unavailable("ClickHouse " + std::string(what) +
                         ": the send timeout passed before the request");
    }
  }
  const http::Response response = client_->send(request);
  return classify(response, what);
}

// The one classification of a remote ClickHouse's failures (see the header).
Status ClickhouseHttpSink::classify(const http::Response& response, std::string_view what) {
  if (response.answered() && response.status == 200) return Status::ok();
  lastError_ = {};
  auto failed = [&](int cls, Status s) {
    if (failures_[cls] != nullptr) failures_[cls]->inc();
    return s;
  };
  if (!response.answered()) {
    lastError_.transport = response.transportError;
    return failed(0, unavailable("ClickHouse " + std::string(what) + " failed: " +
                                 std::string(http::transportErrorName(response.transportError)) +
                                 ": " + cutMessage(response.transportMessage)));
  }
  lastError_.httpStatus = response.status;
  store::EngineError e = store::parseEngineError(cutMessage(response.body));
  if (std::string_view code = response.header("x-clickhouse-exception-code"); !code.empty()) {
    int value = 0;
    auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
    if (ec == std::errc() && end == code.data() + code.size()) e.code = value;
  }
  lastError_.engine = e;
  std::string message =
      "ClickHouse " + std::string(what) + " failed: HTTP " + std::to_string(response.status);
  if (e.code != 0) {
    message += ", code " + std::to_string(e.code) + (e.name.empty() ? "" : " (" + e.name + ")");
  }
  if (!e.message.empty()) message += ": " + e.message;
  if (e.code != 0) {
    switch (store::insertFailureOf(e)) {
      case store::InsertFailure::kData: return failed(2, invalidArgument(std::move(message)));
      case store::InsertFailure::kOverload: return failed(1, resourceExhausted(std::move(message)));
      case store::InsertFailure::kOther: break;
    }
  } else if (response.status == 429 || response.status == 503) {
    return failed(1, resourceExhausted(std::move(message)));
  }
  // Authentication, unknown tables, server errors: not proof that the rows are bad.
  return failed(0, unavailable(std::move(message)));
}

Status ClickhouseHttpSink::ensureSchema() {
  if (schemaReady_ || !options_.createSchema) {
    schemaReady_ = true;
    return Status::ok();
  }
  const store::SchemaOptions schema{options_.database, options_.ttlSeconds, options_.cluster};
  const std::string onCluster =
      options_.cluster.empty() ? "" : " ON CLUSTER `" + options_.cluster + "`";
  STACKHOUSE_RETURN_IF_ERROR(
      run({store::createDatabaseSql(schema), {}, {}, {}}, "create database"));
  for (const store::TableSpec& t : store::schemaTables(schema)) {
    STACKHOUSE_RETURN_IF_ERROR(run({t.createSql, {}, {}, {}}, "create table " + t.name));
    if (t.view || t.distributed) continue;
    for (const std::string& index : t.addedIndexes) {
      STACKHOUSE_RETURN_IF_ERROR(
          run({"ALTER TABLE " + options_.database + "." + store::storageTableOf(schema, t.name) +
                   onCluster + " ADD INDEX IF NOT EXISTS " + index,
               {},
               {},
               {}},
              "alter table " + t.name));
    }
  }
  // The schema views the query API reads (store/schema.h), cut to the database each statement
  // runs in. Not needed to store rows: a user allowed its database only still gets its inserts.
  for (const std::string& sql : store::schemaViewsSql(schema, "currentDatabase()")) {
    if (const Status made = run({sql, {}, {}, {}}, "create schema view"); !made.isOk()) {
      log::warn(
          "the remote ClickHouse's schema views (stackhouse.tables, stackhouse.columns) "
          "could not be made",
          log::Fields().add("error", made.message()));
      break;
    }
  }
  log::info("remote ClickHouse schema ready",
            log::Fields().add("database", options_.database).add("cluster", options_.cluster));
  schemaReady_ = true;
  return Status::ok();
}

template <typename B>
Status ClickhouseHttpSink::insert(std::span<const B* const> parts, std::string_view token,
                                  pipeline::Attempt attempt) {
  encoded_.clear();
  uint64_t rows = 0;
  int64_t minNs = std::numeric_limits<int64_t>::max();
  int64_t maxNs = std::numeric_limits<int64_t>::min();
  for (const B* part : parts) {
    const size_t n = part->rows();
    if (n == 0) continue;
    appendNativeBlock(encoded_, *part);
    rows += n;
    const telemetry::TimestampColumn& times = timesOf(*part);
    for (size_t i = 0; i < n; ++i) {
      minNs = std::min(minNs, times.at(i));
      maxNs = std::max(maxNs, times.at(i));
    }
  }
  if (rows == 0) return Status::ok();
  if (!isSafeToken(token)) return internalError("invalid deduplication token");
  STACKHOUSE_RETURN_IF_ERROR(ensureSchema());

  const std::string table = options_.database + "." + std::string(B::kTable);
  const std::string columns = nativeColumnList<B>();
  Statement st;
  st.data = encoded_;
  st.queryId = "stackhouse-" + std::string(token);
  st.settings = insertSettings();
  if (attempt == pipeline::Attempt::kFirst) {
    st.sql = "INSERT INTO " + table + " (" + columns + ") FORMAT Native";
    st.settings.emplace_back("insert_deduplicate", "1");
    st.settings.emplace_back("insert_deduplication_token", std::string(token));
    st.settings.emplace_back("deduplicate_blocks_in_dependent_materialized_views", "1");
  } else {
    // The rows the table lacks within the group's time range, in the types the block declares
    // (hashing is the same for LowCardinality and plain strings), with deduplication off: the
    // rows decide, not a recorded token.
    const std::string hash = "sipHash128(" + columns + ")";
    st.sql = "INSERT INTO " + table + " (" + columns + ") SELECT " + columns + " FROM input('" +
             nativeStructure<B>() + "') WHERE " + hash + " NOT IN (SELECT " + hash + " FROM " +
             table + " WHERE " + timeFilter(B::kTable, minNs, maxNs) + ") FORMAT Native";
    st.settings.emplace_back("insert_deduplicate", "0");
    if (compareInserts_ != nullptr) compareInserts_->inc();
  }
  STACKHOUSE_RETURN_IF_ERROR(run(st, "insert into " + std::string(B::kTable)));
  if (inserts_ != nullptr) inserts_->inc();
  if (rows_ != nullptr) rows_->inc(rows);
  return Status::ok();
}

Status ClickhouseHttpSink::writeLogs(std::span<const telemetry::LogBatch* const> batches,
                                     std::string_view batchId, pipeline::Attempt attempt) {
  return insert(batches, batchId, attempt);
}

Status ClickhouseHttpSink::writeSpans(std::span<const telemetry::SpanBatch* const> batches,
                                      std::string_view batchId, pipeline::Attempt attempt) {
  return insert(batches, batchId, attempt);
}

Status ClickhouseHttpSink::writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                                        std::string_view batchId, pipeline::Attempt attempt) {
  // One insert per point kind, each with the group id suffixed by its kind (as ChdbSink): a
  // retry after a partial failure stores, table by table, only what is missing.
  std::vector<const telemetry::GaugeBatch*> gauge;
  std::vector<const telemetry::SumBatch*> sum;
  std::vector<const telemetry::HistogramBatch*> histogram;
  std::vector<const telemetry::ExpHistogramBatch*> expHistogram;
  std::vector<const telemetry::SummaryBatch*> summary;
  for (const auto* m : batches) {
    gauge.push_back(&m->gauge);
    sum.push_back(&m->sum);
    histogram.push_back(&m->histogram);
    expHistogram.push_back(&m->expHistogram);
    summary.push_back(&m->summary);
  }
  const std::string id(batchId);
  STACKHOUSE_RETURN_IF_ERROR(insert<telemetry::GaugeBatch>(gauge, id + "-gauge", attempt));
  STACKHOUSE_RETURN_IF_ERROR(insert<telemetry::SumBatch>(sum, id + "-sum", attempt));
  STACKHOUSE_RETURN_IF_ERROR(
      insert<telemetry::HistogramBatch>(histogram, id + "-histogram", attempt));
  STACKHOUSE_RETURN_IF_ERROR(
      insert<telemetry::ExpHistogramBatch>(expHistogram, id + "-exphistogram", attempt));
  return insert<telemetry::SummaryBatch>(summary, id + "-summary", attempt);
}

}  // namespace stackhouse::sinks::clickhouse
