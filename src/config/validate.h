// `stackhouse validate --config FILE`: checks a configuration file the way `stackhouse run` reads
// it at start-up, without starting anything (as `otelcol validate` does).
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"

namespace stackhouse::config {

struct Validation {
  bool valid = false;
  // Valid: one summary line (summarizeConfig). Invalid: every error, one a line, as
  // `file:line:column: key.path: problem` (or `file: cannot open: ...`), as loadConfig reports
  // them; or, for a file that parses but enables no sink (start-up refuses it),
  // `file: nothing to send to: ...`.
  std::string text;
};

// Reads and parses the file at `path` knowing the sections of `kinds` (loadConfig). Never throws
// for a bad file: the errors are the result.
Validation validateConfigFile(const std::string& path, const SectionKinds& kinds = {});

// One line naming what the configuration would run: `path: valid; OTLP/gRPC 127.0.0.1:4317,
// OTLP/HTTP 127.0.0.1:4318, API 127.0.0.1:8080, admin 127.0.0.1:8888; sinks clickhouse (ttl 72h);
// redaction on`.
std::string summarizeConfig(const Config& config, std::string_view path);

}  // namespace stackhouse::config
