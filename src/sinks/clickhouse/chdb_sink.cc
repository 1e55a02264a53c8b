#include "sinks/clickhouse/chdb_sink.h"

#include <string>
#include <vector>

namespace stackhouse::sinks {

namespace {

// Engine errors that name a problem of the rows themselves, raised while the insert forms its
// blocks, before anything is written: the same rows fail the same way on every try.
bool isDataError(const store::EngineError& e) {
  switch (e.code) {
    case 6:    // CANNOT_PARSE_TEXT
    case 27:   // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    case 41:   // CANNOT_PARSE_DATETIME
    case 53:   // TYPE_MISMATCH
    case 69:   // ARGUMENT_OUT_OF_BOUND
    case 70:   // CANNOT_CONVERT_TYPE
    case 117:  // INCORRECT_DATA
    case 131:  // TOO_LARGE_STRING_SIZE
    case 321:  // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    case 407:  // DECIMAL_OVERFLOW
      return true;
    // TOO_MANY_PARTS is two errors under one code: too many partitions in one insert block is
    // the rows' (their times span too many days), too many active parts in a partition is
    // the engine's merges falling behind (throttled, below).
    case 252: return e.message.find("partitions for single INSERT block") != std::string::npos;
    default: return false;
  }
}

bool isOverload(const store::EngineError& e) {
  switch (e.code) {
    case 241:  // MEMORY_LIMIT_EXCEEDED
    case 252:  // TOO_MANY_PARTS (merges behind)
    case 202:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case 159:  // TIMEOUT_EXCEEDED
      return true;
    default: return false;
  }
}

}  // namespace

// The one classification of the store's failures (see pipeline/sink.h): permanent
// (kInvalidArgument) when the engine names a problem of the rows, throttled
// (kResourceExhausted) when it is overloaded, and retryable (kUnavailable) for everything else,
// our own failures included: an unknown error is not proof that the data is bad.
Status ChdbSink::classify(Status s) const {
  if (s.isOk()) return s;
  const store::EngineError& e = store_.lastInsertError();
  if (e.code != 0 && isDataError(e)) return invalidArgument(s.message());
  if (e.code != 0 && isOverload(e)) return resourceExhausted(s.message());
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
  STACKHOUSE_RETURN_IF_ERROR(
      classify(store_.insert<telemetry::GaugeBatch>(gauge, id + "-gauge", mode)));
  STACKHOUSE_RETURN_IF_ERROR(classify(store_.insert<telemetry::SumBatch>(sum, id + "-sum", mode)));
  STACKHOUSE_RETURN_IF_ERROR(
      classify(store_.insert<telemetry::HistogramBatch>(histogram, id + "-histogram", mode)));
  STACKHOUSE_RETURN_IF_ERROR(classify(
      store_.insert<telemetry::ExpHistogramBatch>(expHistogram, id + "-exphistogram", mode)));
  return classify(store_.insert<telemetry::SummaryBatch>(summary, id + "-summary", mode));
}

SinkFactory clickhouseFactory() {
  return {
      config::Sink::kClickhouse,
      [](const config::Config& c) -> const config::QueueConfig& {
        return c.otelConfig.exporters.clickhouse.queue;
      },
      [](const SinkContext& context) -> Result<std::unique_ptr<pipeline::Sink>> {
        if (context.embeddedStore == nullptr) {
          return invalidArgument(
              "otelConfig.exporters.clickhouse: no embedded store to write to "
              "(clickstack.enabled is false)");
        }
        return std::unique_ptr<pipeline::Sink>(std::make_unique<ChdbSink>(*context.embeddedStore));
      }};
}

}  // namespace stackhouse::sinks
