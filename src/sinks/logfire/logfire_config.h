// otelConfig.exporters.logfire: OTLP/HTTP protobuf to Logfire (README.md has every key with its
// default).
#pragma once

#include <string>

#include "config/section.h"

namespace stackhouse::sinks::logfire {

struct LogfireConfig final : config::ExporterSectionOf<LogfireConfig> {
  std::string region = "us";       // us: https://logfire-us.pydantic.dev, eu: logfire-eu
  std::string endpoint;            // http(s)://host[:port][/path]: overrides region
  config::CredentialConfig token;  // the write token (keys existingSecret, secretKey, tokenFile)
  uint64_t maxRequestSize = 4 * config::kMiB;  // bytes of one request before gzip; larger is split

  void read(config::SectionReader& in) override;
  void describe(config::SectionWriter& out) const override;
  bool operator==(const LogfireConfig&) const = default;
};

// The section's kind, for the sink registry.
extern const config::ExporterKind kLogfireSection;

}  // namespace stackhouse::sinks::logfire
