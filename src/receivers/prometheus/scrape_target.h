// The scrape receiver's targets: prometheusScrape (scrape_config.h) resolved into the targets to
// scrape, credentials read, URLs built, limits and defaults applied.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "receivers/prometheus/scrape_config.h"
#include "receivers/prometheus/scrape_mapper.h"

namespace stackhouse::receivers::prometheus {

struct ScrapeTarget {
  TargetIdentity identity;
  std::string url;         // scheme://host:port/path?params
  std::string urlNoQuery;  // for the API and logs: query parameters can carry secrets
  std::string connectTo;   // curl CONNECT_TO when tls.serverName names another host; or empty
  std::chrono::nanoseconds interval{0};
  std::chrono::nanoseconds timeout{0};
  ScrapeLimits limits;
  uint64_t bodySizeLimit = 0;
  std::string bearerToken;
  std::string basicUsername;
  std::string basicPassword;
  ScrapeTlsConfig tls;
};

// The targets of every job, and when `selfPort` is not 0 and config.self is on, stackhouse's own
// admin /metrics (job "stackhouse", instance 127.0.0.1:<selfPort>). Reads the credentials
// (files, or <secretsDir>/<existingSecret>/<secretKey>); a credential that cannot be read is an
// error naming the job and the key, never its content.
Result<std::vector<ScrapeTarget>> resolveTargets(const PrometheusScrapeConfig& config,
                                                 const std::string& secretsDir, uint16_t selfPort);

// Prometheus's stable spread of a target over its interval: the offset of its scrapes within
// each interval, from a hash of the target (job and URL), so restarts keep the same phase.
std::chrono::nanoseconds scrapeOffset(const ScrapeTarget& target);

}  // namespace stackhouse::receivers::prometheus
