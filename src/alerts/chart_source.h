// Chart alerts' values through the metrics query: the request POST /api/v1/metrics/query takes,
// {metric, aggregation?, where?, groupBy?, from, to, step}, with the window as both range and
// step, and its answer {series: [{labels: {...}, points: [[unixMillis, value], ...]}]} reduced to
// one value per series (the last point inside the window). A series' group is its labels,
// "k=v, k2=v2" in key order.
//
// The query itself is a function, so that the alerts library does not depend on the metrics
// engine: the app passes the engine's entry point; tests pass a fake.
#pragma once

#include <functional>
#include <string>

#include "alerts/alert_engine.h"

namespace stackhouse::alerts {

class MetricsQuerySource final : public SeriesSource {
 public:
  // Runs one metrics query request (JSON) and returns its answer (JSON), blocking, bounded.
  using Query = std::function<Result<std::string>(const std::string& requestJson)>;
  explicit MetricsQuerySource(Query query) : query_(std::move(query)) {}

  Result<std::vector<GroupValue>> values(const AlertDefinition& def, int64_t fromMs,
                                         int64_t toMs) override;
  Status check(const AlertDefinition& def) override;

  // The request for a window; exposed for tests.
  static std::string requestJson(const AlertDefinition& def, int64_t fromMs, int64_t toMs);
  // The answer reduced to a value per series; exposed for tests.
  static Result<std::vector<GroupValue>> reduce(std::string_view answer, int64_t fromMs,
                                                int64_t toMs);

 private:
  Query query_;
};

}  // namespace stackhouse::alerts
