// The configuration as the stackhouse binary reads it: with the sections of every sink and
// receiver this build has (sinks::exporterKinds(), receivers::receiverKinds()), so that the
// routing defaults, the sink names, the vendor sections and prometheusScrape are the real ones.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"
#include "receivers/prometheus/scrape_config.h"
#include "receivers/receiver_factory.h"
#include "sinks/datadog/datadog_config.h"
#include "sinks/logfire/logfire_config.h"
#include "sinks/sink_factory.h"
#include "sinks/tinybird/tinybird_config.h"

namespace stackhouse::config::test {

inline SectionKinds kinds() { return receivers::sectionKinds(sinks::exporterKinds()); }

inline Config parseYaml(std::string_view yaml, std::string_view fileName) {
  return parseConfig(yaml, fileName, kinds());
}

inline Config defaults() { return defaultConfig(kinds()); }

inline Config loadFile(const std::string& path) { return loadConfig(path, kinds()); }

inline const std::string kClickhouse = "clickhouse";
inline const std::string kTinybird = "tinybird";
inline const std::string kDatadog = "datadog";
inline const std::string kLogfire = "logfire";

// A vendor sink's section of a configuration read with them (const or not, as `e` is).
inline auto& tinybird(auto& e) {
  return *e.vendors.template get<sinks::tinybird::TinybirdConfig>("tinybird");
}
inline auto& datadog(auto& e) {
  return *e.vendors.template get<sinks::datadog::DatadogConfig>("datadog");
}
inline auto& logfire(auto& e) {
  return *e.vendors.template get<sinks::logfire::LogfireConfig>("logfire");
}

// The prometheusScrape section of a configuration read with it (const or not, as `c` is).
inline auto& scrape(auto& c) {
  return *c.receivers.template get<receivers::prometheus::PrometheusScrapeConfig>(
      receivers::prometheus::kPrometheusScrape);
}

}  // namespace stackhouse::config::test
