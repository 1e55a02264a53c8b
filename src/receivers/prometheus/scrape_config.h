// prometheusScrape: the scrape jobs, as operators paste them from the deployment docs, plus what
// Prometheus users expect per job. The receiver's own section of the file (config/section.h):
// read and checked here, with the same file:line:column errors as every other key; the settings
// table is in this folder's README.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/section.h"

namespace stackhouse::receivers::prometheus {

struct ScrapeBasicAuthConfig {
  std::string username;               // empty: no basic auth
  config::CredentialConfig password;  // passwordFile, or existingSecret + secretKey

  bool operator==(const ScrapeBasicAuthConfig&) const = default;
};

struct ScrapeTlsConfig {
  std::string caFile;    // empty: the system's CAs
  std::string certFile;  // client certificate, with keyFile
  std::string keyFile;
  std::string serverName;  // empty: the target's host
  bool insecureSkipVerify = false;

  bool operator==(const ScrapeTlsConfig&) const = default;
};

struct ScrapeJobConfig {
  std::string jobName;
  std::chrono::nanoseconds scrapeInterval{0};  // 0: prometheusScrape.scrapeInterval
  // 0: prometheusScrape.scrapeTimeout, at most the interval
  std::chrono::nanoseconds scrapeTimeout{0};
  std::string metricsPath = "/metrics";
  std::string scheme = "http";                                           // or https
  std::vector<std::pair<std::string, std::vector<std::string>>> params;  // URL query parameters
  bool honorLabels = false;
  bool honorTimestamps = true;
  std::vector<std::string> targets;                         // host:port
  std::vector<std::pair<std::string, std::string>> labels;  // static labels of every sample
  uint32_t sampleLimit = 0;                                 // 0: none
  uint32_t labelLimit = 0;                                  // labels per sample; 0: 1024
  uint32_t labelNameLengthLimit = 0;                        // bytes; 0: none
  uint32_t labelValueLengthLimit = 0;                       // bytes; 0: none
  uint64_t bodySizeLimit = 0;  // bytes after decompression; 0: prometheusScrape.bodySizeLimit
  ScrapeBasicAuthConfig basicAuth;
  config::CredentialConfig bearerToken;  // bearerToken.file, or existingSecret + secretKey
  ScrapeTlsConfig tls;

  bool operator==(const ScrapeJobConfig&) const = default;
};

struct PrometheusScrapeConfig final : config::SectionOf<PrometheusScrapeConfig> {
  bool enabled = false;
  bool self = true;  // also scrape stackhouse's own admin /metrics (only when enabled)
  std::chrono::nanoseconds scrapeInterval = std::chrono::minutes(1);  // jobs' default
  std::chrono::nanoseconds scrapeTimeout = std::chrono::seconds(10);  // jobs' default
  uint64_t bodySizeLimit = 64ull << 20;                               // jobs' default
  uint32_t maxConcurrentScrapes = 64;                                 // 1..4096
  std::vector<ScrapeJobConfig> scrapeJobs;

  void read(config::SectionReader& in) override;
  void describe(config::SectionWriter& out) const override;
  bool operator==(const PrometheusScrapeConfig&) const = default;
};

// The section's top-level key.
inline constexpr std::string_view kPrometheusScrape = "prometheusScrape";
extern const config::ReceiverKind kPrometheusScrapeKind;

}  // namespace stackhouse::receivers::prometheus
