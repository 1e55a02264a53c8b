// The scrape receiver as the ingest stack wires it: prometheusScrape (scrape_config.h) resolved
// into targets, a ScrapeManager feeding the pipeline, and the targets' state for the API route
// GET /api/v1/scrape/targets. Made by prometheusFactory(), the registry's line for this folder.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "pipeline/pipeline.h"
#include "receivers/prometheus/pipeline_output.h"
#include "receivers/prometheus/scrape_config.h"
#include "receivers/prometheus/scrape_manager.h"
#include "receivers/receiver_factory.h"

namespace stackhouse::receivers::prometheus {

class ScrapeReceiver final : public Receiver {
 public:
  // Reads the credentials (under `secretsDir`) and builds the targets; scrapes nothing yet. With
  // prometheusScrape.enabled false the receiver has no targets and start() does nothing.
  // `adminPort` is the admin listener's port, scraped as job "stackhouse" when self is on.
  static Result<std::unique_ptr<ScrapeReceiver>> create(const PrometheusScrapeConfig& config,
                                                        const std::string& secretsDir,
                                                        pipeline::Pipeline& pipeline,
                                                        uint16_t adminPort);
  ScrapeReceiver(const ScrapeReceiver&) = delete;
  ScrapeReceiver& operator=(const ScrapeReceiver&) = delete;
  ~ScrapeReceiver() override;

  // Call after the pipeline started. Logs the targets it scrapes.
  Status start() override;
  // Stops scraping (transfers in flight are cancelled). Idempotent; call before the pipeline
  // stops.
  void stop() override;
  // The answer of GET /api/v1/scrape/targets (ScrapeManager::targetsJson). Thread-safe.
  std::string stateJson() const override;
  size_t targetCount() const { return manager_ ? manager_->targetCount() : 0; }

 private:
  ScrapeReceiver() = default;
  std::unique_ptr<PipelineOutput> output_;
  std::unique_ptr<ScrapeManager> manager_;
};

// The factory of the section prometheusScrape, with GET /api/v1/scrape/targets.
ReceiverFactory prometheusFactory();

}  // namespace stackhouse::receivers::prometheus
