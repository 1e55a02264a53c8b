// `stackhouse collector` (and `stackhouse run` with clickstack.enabled: false): the receivers, the
// redaction stage, the router and a durable queue and worker per sink, sending to the sinks that
// leave the machine (a remote ClickHouse, Tinybird, Datadog, Logfire) — no embedded store (the
// engine is never started), no query API or UI, no alerts. The admin listener (/metrics,
// /healthz, /readyz) serves as in every role.
#pragma once

#include "config/config.h"

namespace stackhouse::app {

// Runs the collector role with `config`, whatever its clickstack.enabled says, until SIGINT or
// SIGTERM, then stops in reverse order of start. Refuses to start (exit 2, a log line naming the
// keys) when no enabled sink is left to send to. The caller must have blocked SIGINT and SIGTERM
// in every thread (main does, first thing). Returns the exit code.
int runCollector(const config::Config& config);

}  // namespace stackhouse::app
