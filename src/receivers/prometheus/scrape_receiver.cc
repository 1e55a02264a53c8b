#include "receivers/prometheus/scrape_receiver.h"

#include "common/log.h"

namespace stackhouse::receivers::prometheus {

Result<std::unique_ptr<ScrapeReceiver>> ScrapeReceiver::create(const config::Config& config,
                                                               pipeline::Pipeline& pipeline,
                                                               uint16_t adminPort) {
  std::unique_ptr<ScrapeReceiver> r(new ScrapeReceiver());
  const config::PrometheusScrapeConfig& scrape = config.prometheusScrape;
  if (!scrape.enabled) return r;
  auto targets = resolveTargets(scrape, config.clickstack.secretsDir, adminPort);
  if (!targets.isOk()) return targets.status();
  r->output_ = std::make_unique<PipelineOutput>(pipeline);
  ScrapeManagerOptions options;
  options.maxConcurrent = scrape.maxConcurrentScrapes;
  r->manager_ = std::make_unique<ScrapeManager>(std::move(targets.value()), options, *r->output_);
  return r;
}

ScrapeReceiver::~ScrapeReceiver() { stop(); }

Status ScrapeReceiver::start() {
  if (!manager_) return Status::ok();
  STACKHOUSE_RETURN_IF_ERROR(manager_->start());
  log::info("scraping", log::Fields()
                            .add("component", "prometheus-scrape")
                            .add("targets", static_cast<uint64_t>(manager_->targetCount())));
  return Status::ok();
}

void ScrapeReceiver::stop() {
  if (manager_) manager_->stop();
}

std::string ScrapeReceiver::targetsJson() const {
  if (!manager_) return R"({"status":"success","data":{"activeTargets":[]}})";
  return manager_->targetsJson();
}

}  // namespace stackhouse::receivers::prometheus
