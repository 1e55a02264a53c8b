// ChdbSink: the clickhouse sink on the embedded store. A group of batches becomes one insert
// per table, committed before write*() returns; the group's id is the insert's deduplication
// token, so a retried group is not stored twice.
#pragma once

#include "pipeline/sink.h"
#include "store/chdb_store.h"

namespace stackhouse::sinks {

class ChdbSink final : public pipeline::Sink {
 public:
  explicit ChdbSink(store::ChdbStore& store) : store_(store) {}

  Status writeLogs(std::span<const telemetry::LogBatch* const> batches,
                   std::string_view batchId) override;
  Status writeSpans(std::span<const telemetry::SpanBatch* const> batches,
                    std::string_view batchId) override;
  Status writeMetrics(std::span<const telemetry::MetricBatch* const> batches,
                      std::string_view batchId) override;

 private:
  store::ChdbStore& store_;
};

}  // namespace stackhouse::sinks
