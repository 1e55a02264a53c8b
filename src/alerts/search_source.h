// Search alerts' values: the count of matching logs or spans in a window, per value of the
// group-by field, run on the query service (its read connections, through runUserQuery: parsed by
// the engine, checked against the allowlist, bounded like every user query) — never the ingest
// path. At most kMaxGroups groups, the largest counts first.
//
// Group-by fields: a column of the table (ServiceName, SeverityText, StatusCode, ...), an alias
// (service, level, trace_id, span_id), `LogAttributes.key` / `SpanAttributes.key` /
// `ResourceAttributes.key`, or a bare attribute key (the record's attributes, then its
// resource's).
#pragma once

#include <chrono>

#include "alerts/alert_engine.h"
#include "query/query_service.h"

namespace stackhouse::alerts {

class QuerySearchSource final : public SeriesSource {
 public:
  // `queries` outlives the source. `timeout` bounds the wait for one answer (the query itself is
  // bounded by the read connection's max_execution_time).
  explicit QuerySearchSource(query::QueryService& queries,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60))
      : queries_(queries), timeout_(timeout) {}

  Result<std::vector<GroupValue>> values(const AlertDefinition& def, int64_t fromMs,
                                         int64_t toMs) override;
  Status check(const AlertDefinition& def) override;

  // The statement for a window; exposed for tests.
  static Result<query::SqlRequest> statement(const AlertDefinition& def, int64_t fromMs,
                                             int64_t toMs);

 private:
  query::QueryService& queries_;
  std::chrono::milliseconds timeout_;
};

}  // namespace stackhouse::alerts
