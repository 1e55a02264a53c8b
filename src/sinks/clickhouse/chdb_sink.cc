#include "sinks/clickhouse/chdb_sink.h"

#include <string>
#include <vector>

#include "store/metric_rollup.h"

namespace stackhouse::sinks {

// The one classification of the store's failures (see pipeline/sink.h): permanent
// (kInvalidArgument) when the engine names a problem of the rows, throttled
// (kResourceExhausted) when it is overloaded, and retryable (kUnavailable) for everything else,
// our own failures included: an unknown error is not proof that the data is bad.
Status ChdbSink::classify(Status s) const {
  if (s.isOk()) return s;
  const store::EngineError& e = store_.lastInsertError();
  switch (store::insertFailureOf(e)) {
    case store::InsertFailure::kData: return invalidArgument(s.message());
    case store::InsertFailure::kOverload: return resourceExhausted(s.message());
    case store::InsertFailure::kOther: break;
  }
  return unavailable(s.message());
}

namespace {

store::ChdbStore::Mode modeOf(pipeline::Attempt attempt) {
  switch (attempt) {
    case pipeline::Attempt::kFirst: return store::ChdbStore::Mode::kNew;
    case pipeline::Attempt::kRetry: return store::ChdbStore::Mode::kRetry;
    case pipeline::Attempt::kIsolate: break;
  }
  return store::ChdbStore::Mode::kCompare;
}
}  // namespace

Status ChdbSink::writeLogs(std::span<const telemetry::LogBatch* const> batches,
                           std::string_view batchId, pipeline::Attempt attempt) {
  return classify(store_.insert(batches, batchId, modeOf(attempt)));
}

Status ChdbSink::writeSpans(std::span<const telemetry::SpanBatch* const> batches,
                            std::string_view batchId, pipeline::Attempt attempt) {
  return classify(store_.insert(batches, batchId, modeOf(attempt)));
}

Status ChdbSink::writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                              std::string_view batchId, pipeline::Attempt attempt) {
  // One insert per point kind, each with the group id suffixed by its kind; a retry after a
  // partial failure inserts, table by table, only what is missing.
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
  const store::ChdbStore::Mode mode = modeOf(attempt);
  // Once a table's insert commits, the rollup rolls again the buckets it read before these points
  // arrived (at once: a later table's failure must not leave committed points unreported).
  store::MetricRollup* rollup = store_.rollup();
  STACKHOUSE_RETURN_IF_ERROR(
      classify(store_.insert<telemetry::GaugeBatch>(gauge, id + "-gauge", mode)));
  if (rollup != nullptr) {
    for (const auto* g : gauge) rollup->inserted(telemetry::GaugeBatch::kTable, g->common.timeUnix);
  }
  STACKHOUSE_RETURN_IF_ERROR(classify(store_.insert<telemetry::SumBatch>(sum, id + "-sum", mode)));
  if (rollup != nullptr) {
    for (const auto* s : sum) rollup->inserted(telemetry::SumBatch::kTable, s->common.timeUnix);
  }
  STACKHOUSE_RETURN_IF_ERROR(
      classify(store_.insert<telemetry::HistogramBatch>(histogram, id + "-histogram", mode)));
  STACKHOUSE_RETURN_IF_ERROR(classify(
      store_.insert<telemetry::ExpHistogramBatch>(expHistogram, id + "-exphistogram", mode)));
  return classify(store_.insert<telemetry::SummaryBatch>(summary, id + "-summary", mode));
}

}  // namespace stackhouse::sinks
