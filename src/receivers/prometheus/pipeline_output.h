// The one place the scrape receiver hands its batches to the pipeline.
#pragma once

#include "pipeline/pipeline.h"
#include "receivers/prometheus/scrape_manager.h"

namespace stackhouse::receivers::prometheus {

// Submits each scrape's batch to the pipeline as a request of its own, without a ledger key
// (a scrape is never retried by a client). The batch's source is prometheusScrape
// (telemetry::Source::kPrometheusScrape): the routing key otelConfig.routing.prometheusScrape.
class PipelineOutput : public ScrapeOutput {
 public:
  explicit PipelineOutput(pipeline::Pipeline& pipeline);
  pipeline::PooledBatch<telemetry::MetricBatch> acquire() override;
  Status submit(pipeline::PooledBatch<telemetry::MetricBatch> batch) override;

 private:
  pipeline::Pipeline& pipeline_;
  Counter& failed_;
};

}  // namespace stackhouse::receivers::prometheus
