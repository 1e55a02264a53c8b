// The message parseConfig throws for a YAML text (every sink's section known), and what `stackhouse
// validate` reports for it: what the config tests check.
#pragma once

#include <fstream>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/validate.h"
#include "config/with_sections.h"
#include "support/temp_dir.h"

namespace stackhouse::config::testing {

// The message parseConfig throws for `yaml` (file name "test.yaml"), or "" when it parses.
inline std::string errorOf(std::string_view yaml) {
  try {
    test::parseYaml(yaml, "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// validateConfigFile for `yaml` saved as a file, with the file's path written "test.yaml" in the
// text, so that it reads as errorOf's messages do.
inline Validation validationOf(std::string_view yaml) {
  const stackhouse::testing::TempDir dir;
  const std::string path = dir.path() + "/test.yaml";
  std::ofstream(path, std::ios::binary) << yaml;
  Validation v = validateConfigFile(path, test::kinds());
  for (size_t at = v.text.find(path); at != std::string::npos; at = v.text.find(path, at)) {
    v.text.replace(at, path.size(), "test.yaml");
  }
  return v;
}

}  // namespace stackhouse::config::testing
