#include "sinks/datadog/datadog_config.h"

namespace stackhouse::sinks::datadog {

const std::vector<std::string_view>& datadogSites() {
  static const std::vector<std::string_view> sites = {
      "datadoghq.com",     "us3.datadoghq.com", "us5.datadoghq.com",
      "datadoghq.eu",      "ap1.datadoghq.com", "ap2.datadoghq.com",
      "uk1.datadoghq.com", "ddog-gov.com",      "us2.ddog-gov.com"};
  return sites;
}

void DatadogConfig::read(config::SectionReader& in) {
  using config::SectionReader;
  std::vector<config::SectionKey> keys{
      enabledKey(),
      {"site", [this](SectionReader& v) { v.oneOf(site, datadogSites(), "a Datadog site"); }},
      {"endpoint", [this](SectionReader& v) { v.url(endpoint, /*optional=*/true); }},
      timeoutKey()};
  SectionReader::addCredentialKeys(keys, apiKey, "apiKeyFile");
  keys.push_back(queueKey());
  in.map(keys);
  in.checkCredential(enabled, apiKey, "apiKeyFile");
}

void DatadogConfig::describe(config::SectionWriter& out) const {
  out.boolean("enabled", enabled);
  out.string("site", site);
  out.credential(apiKey, "apiKeyFile");
  out.string("endpoint", endpoint);
  out.duration("timeout", timeout);
  out.queue(queue);
}

const config::ExporterKind kDatadogSection = config::exporterKind<DatadogConfig>("datadog");

}  // namespace stackhouse::sinks::datadog
