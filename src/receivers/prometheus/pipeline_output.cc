#include "receivers/prometheus/pipeline_output.h"

#include "telemetry/source.h"

namespace stackhouse::receivers::prometheus {

PipelineOutput::PipelineOutput(pipeline::Pipeline& pipeline)
    : pipeline_(pipeline),
      failed_(metrics().counter("stackhouse_scrape_store_failures_total",
                                "Scraped batches the pipeline accepted but could not queue.")) {}

pipeline::PooledBatch<telemetry::MetricBatch> PipelineOutput::acquire() {
  return pipeline_.metricPool().acquire();
}

Status PipelineOutput::submit(pipeline::PooledBatch<telemetry::MetricBatch> batch) {
  if (batch->rows() == 0) return Status::ok();
  // Routed as otelConfig.routing.prometheusScrape says ([clickhouse] by default).
  return pipeline_.submit(std::move(batch), telemetry::Source::kPrometheusScrape,
                          pipeline::RequestKey{}, [this](const Status& s) {
    if (!s.isOk()) failed_.inc();
  });
}

}  // namespace stackhouse::receivers::prometheus
