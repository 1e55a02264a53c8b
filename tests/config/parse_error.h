// The message parseConfig throws for a YAML text: what the config tests check.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"

namespace stackhouse::config::testing {

// The message parseConfig throws for `yaml` (file name "test.yaml"), or "" when it parses.
inline std::string errorOf(std::string_view yaml) {
  try {
    parseConfig(yaml, "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace stackhouse::config::testing
