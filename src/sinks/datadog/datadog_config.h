// otelConfig.exporters.datadog: logs intake v2, series v2, OTLP traces intake (README.md has
// every key with its default).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/section.h"

namespace stackhouse::sinks::datadog {

struct DatadogConfig final : config::ExporterSectionOf<DatadogConfig> {
  std::string site = "datadoghq.com";  // datadoghq.eu, us3.datadoghq.com, ddog-gov.com, ...
  config::CredentialConfig apiKey;     // existingSecret, secretKey, apiKeyFile
  // (stackhouse) one base URL for every intake instead of the site's hosts: a proxy, a test.
  std::string endpoint;

  void read(config::SectionReader& in) override;
  void describe(config::SectionWriter& out) const override;
  bool operator==(const DatadogConfig&) const = default;
};

// The Datadog sites (the `site` values Datadog documents).
const std::vector<std::string_view>& datadogSites();

// The section's kind, for the sink registry.
extern const config::ExporterKind kDatadogSection;

}  // namespace stackhouse::sinks::datadog
