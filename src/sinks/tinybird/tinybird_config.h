// otelConfig.exporters.tinybird: the Events API, NDJSON (README.md has every key with its
// default).
#pragma once

#include <string>

#include "config/section.h"

namespace stackhouse::sinks::tinybird {

// The Tinybird data source each table's rows go to.
struct TinybirdDatasources {
  std::string logs = "otel_logs";
  std::string traces = "otel_traces";
  std::string gauge = "otel_metrics_gauge";
  std::string sum = "otel_metrics_sum";
  std::string histogram = "otel_metrics_histogram";
  std::string exponentialHistogram = "otel_metrics_exponential_histogram";
  std::string summary = "otel_metrics_summary";

  bool operator==(const TinybirdDatasources&) const = default;
};

struct TinybirdConfig final : config::ExporterSectionOf<TinybirdConfig> {
  std::string endpoint = "https://api.tinybird.co";  // the workspace's region host
  config::CredentialConfig
      token;  // a DATASOURCE:APPEND token (existingSecret, secretKey, tokenFile)
  TinybirdDatasources datasources;
  bool wait = true;  // wait=true: a request succeeds once the write is acknowledged
  uint64_t maxRequestSize =
      10 * config::kMiB;  // the Events API's per-request limit; larger is split

  void read(config::SectionReader& in) override;
  void describe(config::SectionWriter& out) const override;
  bool operator==(const TinybirdConfig&) const = default;
};

// The section's kind, for the sink registry.
extern const config::ExporterKind kTinybirdSection;

}  // namespace stackhouse::sinks::tinybird
