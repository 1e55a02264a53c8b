// ChdbSink: the clickhouse sink on the embedded store. A group of batches becomes one insert
// per table, committed before write*() returns, with the group's id as its deduplication token.
// A retry or a replay (Attempt::kRetry) does not trust the engine when it skips rows as stored
// (ChdbStore::Mode::kRetry), so a retried group is stored once, and whole.
#pragma once

#include "pipeline/sink.h"
#include "store/chdb_store.h"

namespace stackhouse::sinks {

class ChdbSink final : public pipeline::Sink {
 public:
  explicit ChdbSink(store::ChdbStore& store) : store_(store) {}

  Status writeLogs(std::span<const telemetry::LogBatch* const> batches, std::string_view batchId,
                   pipeline::Attempt attempt) override;
  Status writeSpans(std::span<const telemetry::SpanBatch* const> batches, std::string_view batchId,
                    pipeline::Attempt attempt) override;
  Status writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                      std::string_view batchId, pipeline::Attempt attempt) override;

 private:
  // Maps a failed insert's Status to the sink's three failure kinds.
  Status classify(Status s) const;
  store::ChdbStore& store_;
};

}  // namespace stackhouse::sinks
