// `stackhouse audit [--since 24h]`: scans what is stored with the redaction detectors and prints,
// per table, column and rule, how many rows still look like customer content or secrets.
#pragma once

#include <chrono>
#include <cstdint>

#include "config/config.h"

namespace stackhouse::app {

struct AuditOptions {
  std::chrono::nanoseconds since = std::chrono::hours(24);  // rows younger than this
  uint64_t maxRowsPerTable = 1'000'000;                     // newest rows first
};

// Reads through the running stack's API, or, when nothing listens, the embedded store opened
// read-only (openStoreReadOnly: nothing in the data directory changes). Uses the
// configuration's key lists (ignoredKeys and allowedValues included) with every rule on, whether
// or not redaction is enabled. Returns the exit code: 0 nothing found, 1 findings (printed), 2
// error.
int runAuditCommand(const config::Config& config, const AuditOptions& options);

}  // namespace stackhouse::app
