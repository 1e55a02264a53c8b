#include "receivers/prometheus/scrape_receiver.h"

#include <algorithm>

#include "common/log.h"

namespace stackhouse::receivers::prometheus {

Result<std::unique_ptr<ScrapeReceiver>> ScrapeReceiver::create(const PrometheusScrapeConfig& scrape,
                                                               const std::string& secretsDir,
                                                               pipeline::Pipeline& pipeline,
                                                               uint16_t adminPort) {
  std::unique_ptr<ScrapeReceiver> r(new ScrapeReceiver());
  if (!scrape.enabled) return r;
  auto targets = resolveTargets(scrape, secretsDir, adminPort);
  if (!targets.isOk()) return targets.status();
  r->output_ = std::make_unique<PipelineOutput>(pipeline);
  ScrapeManagerOptions options;
  options.maxConcurrent = scrape.maxConcurrentScrapes;
  // Gather a third of the shortest interval (1 s..5 s) into one batch: a point is stored at most
  // that much later, and 200 targets every 15 s make one insert per table every 5 s.
  auto shortest = std::chrono::nanoseconds::max();
  for (const ScrapeTarget& t : targets.value()) shortest = std::min(shortest, t.interval);
  options.flushInterval =
      std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(shortest / 3),
                 std::chrono::milliseconds(1000), std::chrono::milliseconds(5000));
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

std::string ScrapeReceiver::stateJson() const {
  if (!manager_) return R"({"status":"success","data":{"activeTargets":[]}})";
  return manager_->targetsJson();
}

ReceiverFactory prometheusFactory() {
  return {kPrometheusScrape, &kPrometheusScrapeKind, "/api/v1/scrape/targets",
          [](const ReceiverContext& context) -> Result<std::unique_ptr<Receiver>> {
            const auto* section = dynamic_cast<const PrometheusScrapeConfig*>(&context.section);
            if (section == nullptr) {
              return invalidArgument(std::string(kPrometheusScrape) +
                                     ": the section is not the Prometheus receiver's");
            }
            auto made = ScrapeReceiver::create(*section, context.config.clickstack.secretsDir,
                                               context.pipeline, context.adminPort);
            if (!made) return made.status();
            return std::unique_ptr<Receiver>(std::move(made.value()));
          }};
}

}  // namespace stackhouse::receivers::prometheus
