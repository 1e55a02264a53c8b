// The redaction corpus of tests/e2e/redaction.test.mjs (secrets in free text, keyed attributes,
// a file path) in every place a batch carries text: bodies, span names and status messages,
// resource, scope, record, event, link and data-point attributes. Batches are built from OTLP
// requests through the decoder, then passed through the redaction stage (default policy), as the
// pipeline does before anything reaches a sink's queue.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::sinks::testing {

// The parts of the corpus that must never leave the process.
const std::vector<std::string>& redactionNeedles();

struct RedactedBatches {
  telemetry::LogBatch logs;
  telemetry::SpanBatch spans;
  telemetry::MetricBatch metrics;  // a gauge, a sum, a histogram and a summary point
};

// The corpus decoded (with times around now) and redacted with the default policy; with
// `redact` false, as it arrived (the control: a sink's stand-in must then see the needles).
RedactedBatches redactedCorpus(bool redact = true);

// The needles found in `text` (empty when none is there).
std::vector<std::string> needlesIn(std::string_view text);

}  // namespace stackhouse::sinks::testing
