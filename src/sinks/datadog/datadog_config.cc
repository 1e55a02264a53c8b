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
      {"enabled", [this](SectionReader& v) { v.boolean(enabled); }},
      {"site", [this](SectionReader& v) { v.oneOf(site, datadogSites(), "a Datadog site"); }},
      {"endpoint", [this](SectionReader& v) { v.url(endpoint, /*optional=*/true); }},
      {"timeout", [this](SectionReader& v) {
         v.duration(timeout, std::chrono::seconds(1), std::chrono::minutes(5));
       }}};
  for (auto& key : SectionReader::credentialKeys(apiKey, "apiKeyFile")) keys.push_back(key);
  keys.push_back({"queue", [this](SectionReader& v) { v.queue(queue); }});
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

const config::ExporterKind kDatadogSection{
    "datadog", [] { return std::unique_ptr<config::ExporterSection>(new DatadogConfig()); }};

}  // namespace stackhouse::sinks::datadog
