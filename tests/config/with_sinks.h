// The configuration as the stackhouse binary reads it: with the sections of every sink this
// build has (sinks::exporterKinds()), so that the routing defaults, the sink names and the vendor
// sections are the real ones.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"
#include "sinks/datadog/datadog_config.h"
#include "sinks/logfire/logfire_config.h"
#include "sinks/sink_factory.h"
#include "sinks/tinybird/tinybird_config.h"

namespace stackhouse::config::test {

inline Config parseYaml(std::string_view yaml, std::string_view fileName) {
  return parseConfig(yaml, fileName, sinks::exporterKinds());
}

inline Config defaults() { return defaultConfig(sinks::exporterKinds()); }

inline Config loadFile(const std::string& path) { return loadConfig(path, sinks::exporterKinds()); }

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

}  // namespace stackhouse::config::test
