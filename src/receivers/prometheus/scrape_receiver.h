// The scrape receiver as `stackhouse run` wires it: prometheusScrape resolved into targets (the
// factory), a ScrapeManager feeding the pipeline, and the targets' state for the API route
// GET /api/v1/scrape/targets.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "config/config.h"
#include "pipeline/pipeline.h"
#include "receivers/prometheus/pipeline_output.h"
#include "receivers/prometheus/scrape_manager.h"

namespace stackhouse::receivers::prometheus {

class ScrapeReceiver {
 public:
  // Reads the credentials and builds the targets; scrapes nothing yet. With
  // prometheusScrape.enabled false the receiver has no targets and start() does nothing.
  // `adminPort` is the admin listener's port, scraped as job "stackhouse" when self is on.
  static Result<std::unique_ptr<ScrapeReceiver>> create(const config::Config& config,
                                                        pipeline::Pipeline& pipeline,
                                                        uint16_t adminPort);
  ScrapeReceiver(const ScrapeReceiver&) = delete;
  ScrapeReceiver& operator=(const ScrapeReceiver&) = delete;
  ~ScrapeReceiver();

  // Call after the pipeline started. Logs the targets it scrapes.
  Status start();
  // Stops scraping (transfers in flight are cancelled). Idempotent; call before the pipeline
  // stops.
  void stop();
  // The answer of GET /api/v1/scrape/targets (ScrapeManager::targetsJson). Thread-safe.
  std::string targetsJson() const;
  size_t targetCount() const { return manager_ ? manager_->targetCount() : 0; }

 private:
  ScrapeReceiver() = default;
  std::unique_ptr<PipelineOutput> output_;
  std::unique_ptr<ScrapeManager> manager_;
};

}  // namespace stackhouse::receivers::prometheus
