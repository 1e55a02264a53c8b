#include "store/chdb_store.h"

#include <gtest/gtest.h>

#include <future>

#include "common/clock.h"
#include "common/metrics.h"
#include "pipeline/pipeline.h"
#include "sinks/clickhouse/chdb_sink.h"
#include "store/schema.h"
#include "support/log_rows.h"
#include "support/temp_dir.h"
#include "telemetry/log_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::store {
namespace {

using telemetry::LogBatch;

// Recent times: rows older than the retention would expire at once. Whole seconds plus a
// nanosecond tail, to check DateTime64(9) keeps every digit.
const int64_t kNow = wallNanos() / 1'000'000'000 * 1'000'000'000;
std::string secondsText(int64_t ns) { return std::to_string(ns / 1'000'000'000); }

void addLog(LogBatch& b, int64_t ts, std::string_view service, std::string_view body) {
  stackhouse::testing::appendLogRow(b, {.timestamp = ts,
                                        .body = body,
                                        .service = service,
                                        .traceId = "0102030405060708090a0b0c0d0e0f10",
                                        .spanId = "0102030405060708",
                                        .traceFlags = 1,
                                        .scopeName = "scope",
                                        .scopeVersion = "1.0",
                                        .attributes = {{"k", "v"}, {"n", "42"}},
                                        .resource = {{"service.name", std::string(service)}}});
}

class ChdbStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new stackhouse::testing::TempDir();
    auto s = ChdbStore::open({dir_->path() + "/db", 72 * 3600});
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = s.value().release();
  }
  static std::string q(std::string_view sql) {
    auto r = store_->query(sql, "TSV", {});
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? r->data : "";
  }
  static stackhouse::testing::TempDir* dir_;
  static ChdbStore* store_;
};
stackhouse::testing::TempDir* ChdbStoreTest::dir_ = nullptr;
ChdbStore* ChdbStoreTest::store_ = nullptr;

TEST_F(ChdbStoreTest, CreatesTheExporterSchema) {
  EXPECT_EQ(q("SELECT name FROM system.tables WHERE database = 'otel' ORDER BY name"),
            "otel_logs\notel_metrics_exponential_histogram\notel_metrics_gauge\n"
            "otel_metrics_gauge_5m\notel_metrics_histogram\notel_metrics_sum\n"
            "otel_metrics_sum_5m\notel_metrics_summary\notel_traces\n"
            "otel_traces_trace_id_ts\notel_traces_trace_id_ts_mv\n");
  EXPECT_EQ(q("SELECT type FROM system.columns WHERE database = 'otel' AND table = 'otel_logs' "
              "AND name = 'LogAttributes'"),
            "Map(LowCardinality(String), String)\n");
  EXPECT_EQ(q("SELECT type FROM system.columns WHERE database = 'otel' AND table = "
              "'otel_traces' AND name = 'Events.Attributes'"),
            "Array(Map(LowCardinality(String), String))\n");
  EXPECT_NE(q("SELECT engine_full FROM system.tables WHERE database = 'otel' AND name = "
              "'otel_logs'")
                .find("TTL TimestampTime + toIntervalSecond(259200)"),
            std::string::npos);
}

// otel_logs is made for search in the embedded engine: free text has an inverted index over
// lower(Body) (and not the exporter's token bloom filter over Body as written), granules are 2048
// rows, and counts by minute are kept for the histogram (store/schema.cc). A table made by an
// earlier version, with both token bloom filters and no projection, gets the text index and the
// projection and loses the bloom filters at the next open; its rows stay.
TEST_F(ChdbStoreTest, TheLogsTableIsMadeForSearch) {
  const std::string indexes =
      "SELECT name, type FROM system.data_skipping_indices WHERE database = 'otel' AND table = "
      "'otel_logs' AND name LIKE 'idx_body%' ORDER BY name";
  EXPECT_EQ(q(indexes), "idx_body_text\ttext\n");
  EXPECT_NE(q("SELECT engine_full FROM system.tables WHERE database = 'otel' AND name = "
              "'otel_logs'")
                .find("index_granularity = 2048"),
            std::string::npos);
  LogBatch b;
  addLog(b, kNow + 7, "upgrade-check", "kept across the upgrade");
  const LogBatch* parts[] = {&b};
  ASSERT_TRUE(store_->insert<LogBatch>(parts, "upgrade-1").isOk());
  const std::string projections =
      "SELECT name FROM system.projections WHERE database = 'otel' AND table = 'otel_logs'";
  EXPECT_EQ(q(projections), "p_histogram\n");
  for (std::string_view sql :
       {"ALTER TABLE otel.otel_logs DROP PROJECTION p_histogram",
        "ALTER TABLE otel.otel_logs DROP INDEX idx_body_text",
        "ALTER TABLE otel.otel_logs ADD INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) "
        "GRANULARITY 8",
        "ALTER TABLE otel.otel_logs ADD INDEX idx_body_lower lower(Body) TYPE tokenbf_v1(32768, 3, "
        "0) GRANULARITY 8"}) {
    auto r = store_->execute(sql);
    ASSERT_TRUE(r.isOk()) << r.status().toString();
  }
  EXPECT_EQ(q(indexes), "idx_body\ttokenbf_v1\nidx_body_lower\ttokenbf_v1\n");
  EXPECT_EQ(q(projections), "");
  auto again = ChdbStore::open({dir_->path() + "/db", 72 * 3600});
  ASSERT_TRUE(again.isOk()) << again.status().toString();
  EXPECT_EQ(q(indexes), "idx_body_text\ttext\n");
  EXPECT_EQ(q(projections), "p_histogram\n");
  EXPECT_EQ(q("SELECT count() FROM otel.otel_logs WHERE ServiceName = 'upgrade-check' AND "
              "hasToken(lower(Body), 'upgrade')"),
            "1\n");
}

TEST_F(ChdbStoreTest, MetricTablesCompressWithLz4AndKeepTheExporterSchema) {
  EXPECT_EQ(q("SELECT count() FROM system.columns WHERE database = 'otel' AND table LIKE "
              "'otel_metrics_%' AND position(compression_codec, 'ZSTD') > 0"),
            "0\n");
  EXPECT_EQ(q("SELECT name, compression_codec FROM system.columns WHERE database = 'otel' AND "
              "table = 'otel_metrics_sum' AND name IN ('Attributes', 'TimeUnix', "
              "'Exemplars.FilteredAttributes', 'IsMonotonic') ORDER BY name"),
            "Attributes\tCODEC(LZ4)\nExemplars.FilteredAttributes\tCODEC(LZ4)\n"
            "IsMonotonic\tCODEC(Delta(1), LZ4)\nTimeUnix\tCODEC(Delta(8), LZ4)\n");
  // Types, the materialized series id and the sort order are untouched.
  EXPECT_EQ(q("SELECT type, default_kind, default_expression FROM system.columns WHERE database "
              "= 'otel' AND table = 'otel_metrics_gauge' AND name IN ('Attributes', "
              "'SeriesId') ORDER BY name"),
            "Map(LowCardinality(String), String)\t\t\n"
            "UInt64\tMATERIALIZED\tcityHash64(Attributes, ResourceAttributes)\n");
  EXPECT_EQ(q("SELECT sorting_key FROM system.tables WHERE database = 'otel' AND name = "
              "'otel_metrics_histogram'"),
            "ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix)\n");
  // Logs and traces keep the exporter's codecs.
  EXPECT_EQ(q("SELECT compression_codec FROM system.columns WHERE database = 'otel' AND table = "
              "'otel_logs' AND name = 'Body'"),
            "CODEC(ZSTD(1))\n");
}

TEST_F(ChdbStoreTest, InsertsSeveralPartsAsOneDeduplicatedInsert) {
  LogBatch a, b;
  addLog(a, kNow + 123'456'789, "svc-a", "first");
  addLog(a, kNow + 223'456'789, "svc-a", "second");
  addLog(b, kNow + 323'456'789, "svc-b", "third\nline");
  const LogBatch* parts[] = {&a, &b};
  ASSERT_TRUE(store_->insert<LogBatch>(parts, "batch-1").isOk());
  // A replay of the same batch is deduplicated by its token.
  ASSERT_TRUE(store_->insert<LogBatch>(parts, "batch-1").isOk());
  EXPECT_EQ(q("SELECT count() FROM otel.otel_logs WHERE ServiceName LIKE 'svc-%'"), "3\n");
  const std::string secs = secondsText(kNow);
  EXPECT_EQ(q("SELECT toUnixTimestamp64Nano(Timestamp), ServiceName, Body, LogAttributes['n'], "
              "TraceFlags, SeverityNumber, toUnixTimestamp(TimestampTime) FROM otel.otel_logs "
              "WHERE ServiceName LIKE 'svc-%' ORDER BY Timestamp"),
            secs + "123456789\tsvc-a\tfirst\t42\t1\t9\t" + secs + "\n" + secs +
                "223456789\tsvc-a\tsecond\t42\t1\t9\t" + secs + "\n" + secs +
                "323456789\tsvc-b\tthird\\nline\t42\t1\t9\t" + secs + "\n");
  // A different token inserts again.
  const LogBatch* one[] = {&b};
  ASSERT_TRUE(store_->insert<LogBatch>(one, "batch-2").isOk());
  EXPECT_EQ(q("SELECT count() FROM otel.otel_logs WHERE ServiceName = 'svc-b'"), "2\n");
}

// Rows spread over more days than an insert may span (the receivers drop and refuse such times
// before they get here): the engine's TOO_MANY_PARTS about partitions is the rows' fault, so the
// sink reports it as permanent, and stores nothing of the group.
TEST_F(ChdbStoreTest, TooManyPartitionsInOneInsertIsPermanent) {
  LogBatch b;
  constexpr int64_t kDay = int64_t{86400} * 1'000'000'000;
  for (int i = 0; i < 150; ++i) addLog(b, kNow - i * kDay, "svc-days", "day");
  const LogBatch* parts[] = {&b};
  const Status s = store_->insert<LogBatch>(parts, "batch-days");
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(store_->lastInsertError().code, 252) << s.toString();
  sinks::ChdbSink sink(*store_);
  const Status classified = sink.writeLogs(parts, "batch-days-2", pipeline::Attempt::kFirst);
  EXPECT_EQ(classified.code(), StatusCode::kInvalidArgument) << classified.toString();
  EXPECT_EQ(pipeline::failureClassOf(classified), pipeline::FailureClass::kPermanent);
  EXPECT_EQ(q("SELECT count() FROM otel.otel_logs WHERE ServiceName = 'svc-days'"), "0\n");
  // Within the retention (4 days) the same insert is fine.
  LogBatch recent;
  for (int i = 0; i < 4; ++i) addLog(recent, kNow - i * kDay / 2, "svc-days", "day");
  const LogBatch* ok[] = {&recent};
  EXPECT_TRUE(sink.writeLogs(ok, "batch-days-3", pipeline::Attempt::kFirst).isOk());
}

// The issue this guards against: one request whose rows span 150 days made the whole group's
// insert fail with TOO_MANY_PARTS, retryably, forever. Now the sink worker halves the range
// until the request is alone: the others are stored, it is dropped and counted (every request
// was acknowledged when it reached the queue).
TEST_F(ChdbStoreTest, OneRequestTheEngineRefusesFailsAloneInItsGroup) {
  sinks::ChdbSink sink(*store_);
  pipeline::PipelineOptions options;
  options.sendBatchSize = 1'000'000;
  options.timeout = std::chrono::milliseconds(60'000);
  options.retryBackoff = std::chrono::milliseconds(1);
  pipeline::Pipeline p(options, sink);
  p.start();
  constexpr int kRequests = 6;
  constexpr int kCulprit = 3;
  constexpr int64_t kDay = int64_t{86400} * 1'000'000'000;
  std::vector<std::future<Status>> answers;
  for (int r = 0; r < kRequests; ++r) {
    auto batch = p.logPool().acquire();
    const int rows = r == kCulprit ? 150 : 10;
    for (int i = 0; i < rows; ++i) {
      addLog(*batch, r == kCulprit ? kNow - i * kDay : kNow + r * 1000 + i, "svc-group",
             "r" + std::to_string(r));
    }
    auto answer = std::make_shared<std::promise<Status>>();
    answers.push_back(answer->get_future());
    ASSERT_TRUE(
        p.submit(std::move(batch), {}, [answer](const Status& s) { answer->set_value(s); }).isOk());
  }
  auto& refused =
      metrics().counter("stackhouse_queue_dropped_records_total", "",
                        {{"sink", "clickhouse"}, {"signal", "logs"}, {"reason", "refused"}});
  const uint64_t refusedBefore = refused.value();
  for (int r = 0; r < kRequests; ++r) {
    const Status s = answers[r].get();
    EXPECT_TRUE(s.isOk()) << r << ": " << s.toString();
  }
  p.stop();  // one range, sent as the worker stops
  EXPECT_EQ(refused.value() - refusedBefore, 1u);
  EXPECT_EQ(q("SELECT Body, count() FROM otel.otel_logs WHERE ServiceName = 'svc-group' "
              "GROUP BY Body ORDER BY Body"),
            "r0\t10\nr1\t10\nr2\t10\nr4\t10\nr5\t10\n");
}

// An isolation insert (part of a group whose insert failed, under a new token) always compares:
// rows the failed call had stored are not stored again, the others are.
TEST_F(ChdbStoreTest, ACompareInsertStoresOnlyWhatTheTableLacks) {
  LogBatch stored, more;
  addLog(stored, kNow + 11, "svc-compare", "stored");
  addLog(more, kNow + 12, "svc-compare", "new");
  const LogBatch* first[] = {&stored};
  ASSERT_TRUE(store_->insert<LogBatch>(first, "batch-compare-1").isOk());
  const LogBatch* both[] = {&stored, &more};
  ASSERT_TRUE(
      store_->insert<LogBatch>(both, "batch-compare-1-ia", ChdbStore::Mode::kCompare).isOk());
  EXPECT_EQ(q("SELECT Body FROM otel.otel_logs WHERE ServiceName = 'svc-compare' ORDER BY Body"),
            "new\nstored\n");
}

TEST_F(ChdbStoreTest, ARetryInsertsOnlyTheRowsTheTableLacks) {
  LogBatch a, b;
  addLog(a, kNow + 1'000, "retry-a", "stored");
  addLog(a, kNow + 2'000, "retry-a", "stored too");
  addLog(b, kNow + 3'000, "retry-b", "lost");
  const LogBatch* group[] = {&a, &b};
  ASSERT_TRUE(store_->insert<LogBatch>(group, "retry-1").isOk());
  // The engine keeps the token of rows it no longer holds (here deleted; after a kill, a part
  // never committed): it skips the retry as stored, and the retry then finds and inserts the
  // missing row alone, however often it runs.
  ASSERT_TRUE(store_->execute("DELETE FROM otel.otel_logs WHERE ServiceName = 'retry-b'").isOk());
  for (int i = 0; i < 2; ++i) {
    const Status s = store_->insert<LogBatch>(group, "retry-1", ChdbStore::Mode::kRetry);
    ASSERT_TRUE(s.isOk()) << s.toString();
    EXPECT_EQ(q("SELECT ServiceName, count() FROM otel.otel_logs WHERE ServiceName LIKE "
                "'retry-%' GROUP BY ServiceName ORDER BY ServiceName"),
              "retry-a\t2\nretry-b\t1\n");
  }
  // A retry the engine stores in full (its first insert stored nothing) is a plain insert.
  LogBatch c;
  addLog(c, kNow + 4'000, "retry-c", "new");
  const LogBatch* fresh[] = {&c};
  ASSERT_TRUE(store_->insert<LogBatch>(fresh, "retry-2", ChdbStore::Mode::kRetry).isOk());
  EXPECT_EQ(q("SELECT count() FROM otel.otel_logs WHERE ServiceName = 'retry-c'"), "1\n");
  // The scratch table of the retry is gone, and never was in the otel database.
  EXPECT_EQ(q("SELECT count() FROM system.tables WHERE name LIKE '%retry%'"), "0\n");
}

// A retry compares whole rows by a hash of every column it inserts: the hash must take every
// column type of every table.
TEST_F(ChdbStoreTest, EveryColumnOfEveryTableCanBeHashedForARetry) {
  const std::string tables =
      q("SELECT name FROM system.tables WHERE database = 'otel' AND engine "
        "LIKE '%MergeTree' ORDER BY name");
  size_t checked = 0;
  for (size_t at = 0, nl; (nl = tables.find('\n', at)) != std::string::npos; at = nl + 1) {
    const std::string table = tables.substr(at, nl - at);
    std::string columns =
        q("SELECT arrayStringConcat(groupArray(concat('`', name, '`')), ', ') "
          "FROM system.columns WHERE database = 'otel' AND table = '" +
          table + "'");
    columns.pop_back();
    SCOPED_TRACE(table);
    // q() fails the test when the engine refuses the query.
    EXPECT_NE(q("SELECT count(), any(sipHash128(" + columns + ")) FROM otel." + table), "");
    if (table != "otel_traces_trace_id_ts") {
      EXPECT_FALSE(timeColumnOf(table).empty());
    }
    ++checked;
  }
  EXPECT_EQ(checked, 10u);  // the exporter's 8 and the embedded store's two rollups
}

TEST_F(ChdbStoreTest, SpansFillNestedColumnsAndTheTraceIdView) {
  telemetry::SpanBatch s;
  s.timestamp.append(kNow);
  s.traceId.append("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  s.spanId.append("bbbbbbbbbbbbbbbb");
  s.parentSpanId.append("");
  s.traceState.append("");
  s.spanName.append("GET /");
  s.spanKind.append("Server");
  s.serviceName.append("web");
  s.resourceAttributes.endRow();
  s.scopeName.append("");
  s.scopeVersion.append("");
  s.spanAttributes.add("http.method", "GET");
  s.spanAttributes.endRow();
  s.duration.append(1500);
  s.statusCode.append("Error");
  s.statusMessage.append("boom");
  s.eventsTimestamp.child().append(kNow + 100);
  s.eventsTimestamp.endRow();
  s.eventsName.child().append("exception");
  s.eventsName.endRow();
  s.eventsAttributes.child().add("exception.type", "E");
  s.eventsAttributes.child().endRow();
  s.eventsAttributes.endRow();
  s.linksTraceId.endRow();
  s.linksSpanId.endRow();
  s.linksTraceState.endRow();
  s.linksAttributes.endRow();
  const telemetry::SpanBatch* parts[] = {&s};
  ASSERT_TRUE(store_->insert<telemetry::SpanBatch>(parts, "spans-1").isOk());
  EXPECT_EQ(
      q("SELECT SpanName, Duration, StatusCode, Events.Name, Events.Attributes, Links.TraceId "
        "FROM otel.otel_traces"),
      "GET /\t1500\tError\t['exception']\t[{'exception.type':'E'}]\t[]\n");
  EXPECT_EQ(q("SELECT TraceId, toUnixTimestamp(Start) FROM otel.otel_traces_trace_id_ts"),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\t" + secondsText(kNow) + "\n");
  // A retry of the stored span, nested columns and all, stores nothing more.
  ASSERT_TRUE(
      store_->insert<telemetry::SpanBatch>(parts, "spans-1", ChdbStore::Mode::kRetry).isOk());
  EXPECT_EQ(q("SELECT count() FROM otel.otel_traces"), "1\n");
  EXPECT_EQ(q("SELECT count() FROM otel.otel_traces_trace_id_ts"), "1\n");
}

TEST_F(ChdbStoreTest, ReadConnectionIsReadOnly) {
  for (std::string_view sql :
       {"SELECT * FROM file('/etc/passwd', 'LineAsString')",
        "SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString')", "DROP TABLE otel.otel_logs",
        "INSERT INTO otel.otel_logs (Body) VALUES ('x')", "SET readonly = 0"}) {
    auto r = store_->query(sql, "TSV", {});
    ASSERT_FALSE(r.isOk()) << sql;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied)
        << sql << ": " << r.status().toString();
  }
}

// User queries read through the engine's cache of decompressed blocks: sized at the open, asked
// for on every read connection, and a repeated read is served from it.
TEST_F(ChdbStoreTest, UserQueriesReadThroughTheUncompressedCache) {
  EXPECT_EQ(uncompressedCacheBytes(0), uint64_t{128} << 20);
  EXPECT_EQ(uncompressedCacheBytes(uint64_t{4} << 30), uint64_t{128} << 20);
  EXPECT_EQ(uncompressedCacheBytes(uint64_t{512} << 20), uint64_t{64} << 20);
  EXPECT_EQ(q("SELECT value FROM system.server_settings WHERE name = 'uncompressed_cache_size'"),
            std::to_string(uint64_t{128} << 20) + "\n");
  EXPECT_EQ(q("SELECT getSetting('use_uncompressed_cache')"), "true\n");
  LogBatch b;
  for (int i = 0; i < 100; ++i)
    addLog(b, kNow + i, "svc-cache", "cached body " + std::to_string(i));
  const LogBatch* parts[] = {&b};
  ASSERT_TRUE(store_->insert<LogBatch>(parts, "cache-1").isOk());
  const std::string hits =
      "SELECT sum(value) FROM system.events WHERE event = 'UncompressedCacheHits'";
  const std::string read =
      "SELECT count() FROM otel.otel_logs WHERE ServiceName = 'svc-cache' "
      "AND Body LIKE 'cached body%'";
  EXPECT_EQ(q(read), "100\n");
  const std::string before = q(hits);
  EXPECT_EQ(q(read), "100\n");
  EXPECT_GT(std::stoll("0" + q(hits)), std::stoll("0" + before));
}

TEST_F(ChdbStoreTest, QueryParametersAreBoundNotSpliced) {
  auto r = store_->query("SELECT {s:String} AS s, {n:UInt64} + 1 AS n", "TSV",
                         {{"s", "x'); DROP TABLE otel.otel_logs; --"}, {"n", "41"}});
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->data, "x\\'); DROP TABLE otel.otel_logs; --\t42\n");
}

TEST_F(ChdbStoreTest, ErrorsCarryClickHouseCodes) {
  auto r = store_->query("SELECT nope FROM otel.otel_logs", "TSV", {});
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("ClickHouse error 47"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace stackhouse::store
