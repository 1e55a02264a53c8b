// The trace and services API's statements and answers (the routes are web/trace_routes.h):
//
//   GET  /api/v1/traces/<traceId>     one trace: every span, and the logs that carry its id
//   POST /api/v1/services             per service over [from, to): rate, errors, latencies
//   POST /api/v1/services/operations  one service's operations, and its slowest spans
//
// As for the search API, each request becomes SELECTs with query parameters (prepare*), run by
// the caller through QueryService (parsed by the engine, checked against the allowlist, bounded),
// and the raw answers become the endpoint's JSON (shape*). Pure computation, any thread.
//
// A trace is found through otel_traces_trace_id_ts (TraceId -> first and last span second, kept
// by a materialized view): both statements read that small table first, in scalar subqueries, so
// the spans table is read only within the trace's own seconds (its day partitions and the
// TraceId bloom filter do the rest), and the logs table within those seconds +/- a minute.
// An id not in that table reads no rows at all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "query/sql_api.h"

namespace stackhouse::query {

inline constexpr int kMaxTraceSpans = 50000;  // more: this many of them, and "truncated"
inline constexpr int kMaxTraceLogs = 10000;
inline constexpr int64_t kTraceLogMarginS = 60;  // logs this far outside the spans' seconds

struct PreparedTrace {
  std::string traceId;  // lower-case hex
  SqlRequest spans;
  SqlRequest logs;
};

// `traceId`: 32 hex digits, any case; otherwise a 400 that says so.
std::variant<PreparedTrace, SqlApiReply> prepareTrace(std::string_view traceId);
// {traceId, spans: [...] (by start time), logs: [...] (by time), truncated, logsTruncated,
// elapsed_ms}; 404 when the trace has no span.
SqlApiReply shapeTraceReply(const PreparedTrace& prepared, SqlApiReply spans, SqlApiReply logs);

struct PreparedServices {
  SqlRequest sql;
  int64_t fromNs = 0;
  int64_t toNs = 0;
};

// Body {from?, to?} (RFC 3339 or epoch ms, [from, to), default the last 15 minutes).
std::variant<PreparedServices, SqlApiReply> prepareServices(std::string_view body, int64_t nowNs);
// {services: [{service, spans, errors, rate, errorRate, p50Ms, p95Ms, p99Ms}], from, to,
//  elapsed_ms}; rate is spans per second over the range, errorRate errors / spans.
SqlApiReply shapeServicesReply(const PreparedServices& prepared, SqlApiReply raw);

struct PreparedOperations {
  SqlRequest operations;
  SqlRequest slowest;
  std::string service;
  int64_t fromNs = 0;
  int64_t toNs = 0;
};

// Body {service, from?, to?, limit? (1..1000, default 100)}.
std::variant<PreparedOperations, SqlApiReply> prepareOperations(std::string_view body,
                                                                int64_t nowNs);
// {service, operations: [{name, spans, errors, rate, errorRate, p50Ms, p95Ms, p99Ms}],
//  slowest: [{traceId, spanId, name, startUnixNano, durationNano, statusCode}], elapsed_ms}.
SqlApiReply shapeOperationsReply(const PreparedOperations& prepared, SqlApiReply operations,
                                 SqlApiReply slowest);

}  // namespace stackhouse::query
