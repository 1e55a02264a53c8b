// ClickhouseHttpSink: the clickhouse sink on a remote ClickHouse (a server or a cluster), over
// ClickHouse's HTTP interface. A group of batches becomes one INSERT per table, its rows encoded
// once in the Native format (native_encoder.h) straight from the batches' columns, compressed
// (zstd or gzip), with the group's id as the insert's deduplication token.
//
// Thread: the pipeline's worker for this sink calls it, one call at a time (pipeline::Sink);
// cancel() may come from any thread. The sink owns one HTTP client, whose connection it keeps
// alive between inserts, and the buffers the rows are encoded and compressed into (they keep the
// capacity of the largest group sent).
//
// Exactly once over HTTP. The token makes the server skip a block it has already stored, which
// covers the common case: an insert that committed but whose answer was lost, sent again. What it
// does not cover: a server that records the token just before it commits the part (a crash
// between the two leaves a token without rows: the embedded engine does this, measured), a retry
// that arrives after the table's deduplication window has forgotten the token, or tables made
// elsewhere without one. So a retry or a replay (Attempt::kRetry) and an isolating call
// (Attempt::kIsolate) never rely on the token: they compare whole rows with what the table holds
// within the group's time range and insert only what it lacks, in one statement (INSERT ...
// SELECT ... FROM input() WHERE sipHash128(row) NOT IN (...)), as ChdbStore's Mode::kCompare
// does. Every statement of a group and table carries the same query_id with
// replace_running_query=1, so a retry first stops an earlier attempt the server may still be
// running (a client timeout does not stop the server) instead of racing it.
//
// Batch ids must be unique across every process writing to the same ClickHouse, not only stable
// across restarts: they become tokens and query ids on a server other collectors share.
//
// Errors (pipeline/sink.h): classified once, in classify(): the server's code comes from
// X-ClickHouse-Exception-Code (or the "Code: N." of the body), read through
// store::insertFailureOf: kData -> kInvalidArgument (permanent), kOverload -> kResourceExhausted
// (throttled), like HTTP 429 and 503 without a code; every other answer and every transport
// failure (refused, timeout, TLS, DNS, connection lost) -> kUnavailable (retryable). Messages name
// the engine's code, name and message (first line, at most 300 bytes), never the rows.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "pipeline/sink.h"
#include "sinks/http/compression.h"
#include "sinks/http/http_client.h"
#include "store/store_error.h"

namespace stackhouse::sinks::clickhouse {

struct HttpSinkOptions {
  std::string endpoint;  // http(s)://host[:port], without a trailing slash
  std::string database = "otel";
  std::string username = "default";
  std::string password;  // empty: none sent
  std::string cluster;   // not empty: ON CLUSTER schema, inserts through the Distributed tables
  bool createSchema = true;
  uint64_t ttlSeconds = 72 * 3600;  // of the tables it creates; 0: none
  http::Compression compression = http::Compression::kZstd;
  std::string caFile;  // https: trusted CAs instead of the system's
  bool verifyPeer = true;
  std::chrono::milliseconds timeout{30'000};  // one statement, server side too
};

// The last failed statement as the server reported it (for tests and logs).
struct RemoteError {
  int httpStatus = 0;  // 0: no HTTP answer
  http::TransportError transport = http::TransportError::kNone;
  store::EngineError engine;  // code 0 when the answer named none
};

// The compression level the sink uses for each format (0: the format's default).
int compressionLevel(http::Compression compression);

class ClickhouseHttpSink final : public pipeline::Sink {
 public:
  // Start-up: checks the options and makes the client (a CA file it cannot read fails here).
  // Contacts nothing: a server that is down at start delays the first insert, not the start.
  // `metrics` may be null.
  static Result<std::unique_ptr<ClickhouseHttpSink>> create(HttpSinkOptions options,
                                                            MetricsRegistry* metrics = nullptr);
  ~ClickhouseHttpSink() override;
  ClickhouseHttpSink(const ClickhouseHttpSink&) = delete;
  ClickhouseHttpSink& operator=(const ClickhouseHttpSink&) = delete;

  Status writeLogs(std::span<const telemetry::LogBatch* const> batches, std::string_view batchId,
                   pipeline::Attempt attempt) override;
  Status writeSpans(std::span<const telemetry::SpanBatch* const> batches, std::string_view batchId,
                    pipeline::Attempt attempt) override;
  Status writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                      std::string_view batchId, pipeline::Attempt attempt) override;

  // With createSchema: creates the database, tables and view (IF NOT EXISTS; ON CLUSTER with a
  // cluster) and adds the skip indexes newer than the exporter's to tables made before. Every
  // write calls it until it has succeeded once; callers may call it at start to fail early.
  // Same thread as the writes. Errors are classified like an insert's.
  Status ensureSchema();

  // Ends the statement in flight (it fails as retryable) and every later one: for shutdown. Any
  // thread.
  void cancel();

  const RemoteError& lastError() const { return lastError_; }

 private:
  ClickhouseHttpSink(HttpSinkOptions options, std::unique_ptr<http::Client> client,
                     MetricsRegistry* metrics);

  template <typename B>
  Status insert(std::span<const B* const> parts, std::string_view token, pipeline::Attempt attempt);

  struct Statement {
    std::string sql;  // in the URL when there is a body, else the body
    std::vector<std::pair<std::string, std::string>> settings;  // URL parameters
    std::string_view data;                                      // rows, Native (uncompressed)
    std::string queryId;
  };
  // Sends one statement and classifies its outcome.
  Status run(const Statement& statement, std::string_view what);
  Status classify(const http::Response& response, std::string_view what);
  std::vector<std::pair<std::string, std::string>> insertSettings() const;

  HttpSinkOptions options_;
  std::unique_ptr<http::Client> client_;
  bool schemaReady_ = false;
  std::string encoded_;     // the rows of one insert, Native
  std::string compressed_;  // the same, compressed
  RemoteError lastError_;
  Counter* inserts_ = nullptr;         // statements that stored rows
  Counter* rows_ = nullptr;            // rows sent in them
  Counter* compareInserts_ = nullptr;  // of which compared with the table first
  Counter* failures_[3] = {};          // by failure class: retryable, throttled, permanent
};

}  // namespace stackhouse::sinks::clickhouse
