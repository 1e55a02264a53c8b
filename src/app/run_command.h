// `stackhouse run`: receivers, pipeline and the embedded store in one process.
#pragma once

#include "config/config.h"

namespace stackhouse::app {

// Starts everything, serves until SIGINT or SIGTERM, then stops in reverse order (receivers stop
// accepting, the pipeline drains and acknowledges, the store closes). Returns the exit code.
// With clickstack.enabled false it is runCollector (collector_command.h): no embedded store, no
// UI. The caller must have blocked SIGINT and SIGTERM in every thread (main does, first thing).
int runStack(const config::Config& config);

}  // namespace stackhouse::app
