// Protobuf walkers: ExportLogs/Trace/MetricsServiceRequest bytes into batches, in place.
// Internal to stackhouse_otlp; the public entry points are in decode.h.
#pragma once

#include <vector>

#include "otlp/decode_context.h"
#include "otlp/value_renderer.h"
#include "otlp/wire_reader.h"
#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::otlp::detail {

// Scratch state a protobuf decode reuses between calls.
struct ProtoScratch {
  std::vector<KvEntry<Bytes>> entries;
  ResourceRow resource;
  ScopeRow scope;
  MetricRow metric;
};

// Each returns false when the call fails (the error is in `ctx`); the caller rolls back.
bool decodeLogsProto(DecodeContext& ctx, ProtoScratch& scratch, Bytes body,
                     telemetry::LogBatch& out);
bool decodeSpansProto(DecodeContext& ctx, ProtoScratch& scratch, Bytes body,
                      telemetry::SpanBatch& out);
bool decodeMetricsProto(DecodeContext& ctx, ProtoScratch& scratch, Bytes body,
                        telemetry::MetricBatch& out);

}  // namespace stackhouse::otlp::detail
