// Stage: a transformation every decoded batch goes through before the pipeline queues it
// (telemetry controls such as redaction). Receivers know nothing of stages: the pipeline runs
// its stage inside submit().
#pragma once

#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::pipeline {

// Called on the submitting receiver's thread, concurrently from several receiver threads, once
// per request, before the request is queued. The batch is the caller's; the stage rewrites it in
// place and keeps no reference to it afterwards. A stage never fails: it has no error to report
// to the sender, so it must turn anything it cannot handle into a safe result itself.
class Stage {
 public:
  virtual ~Stage() = default;
  virtual void process(telemetry::LogBatch& batch) = 0;
  virtual void process(telemetry::SpanBatch& batch) = 0;
  virtual void process(telemetry::MetricBatch& batch) = 0;
};

}  // namespace stackhouse::pipeline
