// ClickhouseHttpExecutor: runs checked statements on a remote ClickHouse over its HTTP interface,
// for the query API of `stackhouse run` when otelConfig.exporters.clickhouse.endpoint is set.
//
// It never sees unchecked text: the query side parses and checks every user text on the embedded
// engine first (query/user_query.h) and hands over only the text that engine printed. Each
// statement is one POST to `<endpoint>/` with the statement as the body and, as URL parameters:
//   database           the telemetry database (otelConfig.exporters.clickhouse.database)
//   default_format     the format asked for (what the embedded path asks the engine for)
//   query_id           the caller's id, when given: killStatement's handle
//   param_<name>       each query parameter, in the engine's escaped text form (never spliced)
//   the bounds         max_execution_time (+ timeout_overflow_mode=throw), max_memory_usage,
//                      max_result_bytes (+ result_overflow_mode=throw), max_query_size
//   result shaping     output_format_json_quote_64bit_integers=1, ..._quote_denormals=1
//   cancel_http_readonly_queries_on_client_close=1, and last readonly=1 (so that the statement
//                      can change no data and no setting)
// The user and password go in X-ClickHouse-User / X-ClickHouse-Key. A control executor
// (Options::control) sends only database, max_execution_time=10 and query_id: it runs our own
// KILL QUERY statements.
//
// Errors: an answer other than 200 is read as ClickHouse's error (X-ClickHouse-Exception-Code and
// the body "Code: N. DB::Exception: ..."), kept in lastError() and mapped by toStatus; no answer
// (refused, timeout, TLS) is kUnavailable with the transport's description (host and port only);
// an answer past maxResponseBytes is kResourceExhausted.
//
// Thread-safety: one statement at a time per executor (a query worker owns one).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/sql_executor.h"

namespace stackhouse::sinks::http {
class Client;
}

namespace stackhouse::store {

struct ClickhouseHttpOptions {
  std::string endpoint;  // http(s)://host[:port], without a trailing slash
  std::string database = "otel";
  std::string username = "default";
  std::string password;  // empty: none sent
  std::string caFile;    // https: trusted CAs instead of the system's
  bool verifyPeer = true;
  QueryBounds bounds;
  uint64_t maxResponseBytes = 64ull << 20;  // larger answers fail (kResourceExhausted)
  bool control = false;                     // runs KILL QUERY: no readonly, no bounds
};

class ClickhouseHttpExecutor final : public SqlExecutor {
 public:
  // Contacts nothing. Fails (kInvalidArgument) when the endpoint is not http(s) or the CA file
  // cannot be read.
  static Result<std::unique_ptr<ClickhouseHttpExecutor>> create(ClickhouseHttpOptions options);
  ~ClickhouseHttpExecutor() override;

  Result<QueryOutput> run(std::string_view sql, std::string_view format, const QueryParams& params,
                          std::string_view queryId) override;
  const EngineError& lastError() const override { return lastError_; }
  std::string killStatement(std::string_view queryId) const override;

 private:
  ClickhouseHttpExecutor(ClickhouseHttpOptions options,
                         std::unique_ptr<sinks::http::Client> client);

  ClickhouseHttpOptions options_;
  std::unique_ptr<sinks::http::Client> client_;
  EngineError lastError_;
};

}  // namespace stackhouse::store
