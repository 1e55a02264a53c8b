#include "sinks/clickhouse/chdb_sink.h"

#include <string>
#include <vector>

namespace stackhouse::sinks {

namespace {
// Insert failures are the store's, not the data's: report them as retryable.
Status retryable(Status s) {
  if (s.isOk() || s.code() == StatusCode::kUnavailable) return s;
  return unavailable(s.message());
}

store::ChdbStore::Mode modeOf(pipeline::Attempt attempt) {
  return attempt == pipeline::Attempt::kFirst ? store::ChdbStore::Mode::kNew
                                              : store::ChdbStore::Mode::kRetry;
}
}  // namespace

Status ChdbSink::writeLogs(std::span<const telemetry::LogBatch* const> batches,
                           std::string_view batchId, pipeline::Attempt attempt) {
  return retryable(store_.insert(batches, batchId, modeOf(attempt)));
}

Status ChdbSink::writeSpans(std::span<const telemetry::SpanBatch* const> batches,
                            std::string_view batchId, pipeline::Attempt attempt) {
  return retryable(store_.insert(batches, batchId, modeOf(attempt)));
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
  STACKHOUSE_RETURN_IF_ERROR(
      retryable(store_.insert<telemetry::GaugeBatch>(gauge, id + "-gauge", mode)));
  STACKHOUSE_RETURN_IF_ERROR(retryable(store_.insert<telemetry::SumBatch>(sum, id + "-sum", mode)));
  STACKHOUSE_RETURN_IF_ERROR(
      retryable(store_.insert<telemetry::HistogramBatch>(histogram, id + "-histogram", mode)));
  STACKHOUSE_RETURN_IF_ERROR(retryable(
      store_.insert<telemetry::ExpHistogramBatch>(expHistogram, id + "-exphistogram", mode)));
  return retryable(store_.insert<telemetry::SummaryBatch>(summary, id + "-summary", mode));
}

}  // namespace stackhouse::sinks
