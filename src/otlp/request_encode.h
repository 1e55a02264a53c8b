// OTLP export requests (ExportLogsServiceRequest, ExportTraceServiceRequest,
// ExportMetricsServiceRequest) in protobuf, built from the columnar batches: what the sinks that
// speak OTLP/HTTP send (Logfire; Datadog's OTLP traces intake).
//
// The batches hold the ClickHouse tables' columns, so the requests carry what those columns
// keep (see README "Encoding requests"): attribute values are the stored text (string_value),
// consecutive rows that share a resource and scope are grouped under one ResourceX/ScopeX, and
// consecutive metric points of one metric under one Metric.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/row_slice.h"
#include "telemetry/span_batch.h"

namespace stackhouse::otlp {

using telemetry::RowSlice;

// Each appends one whole request message to `out` (not cleared first): every row of every slice,
// in order. Slices with begin == end add nothing; a request with no rows is the empty message.
// Pure functions of their input; thread-safe.
void encodeLogsRequest(std::span<const RowSlice<telemetry::LogBatch>> slices, std::string& out);
void encodeTraceRequest(std::span<const RowSlice<telemetry::SpanBatch>> slices, std::string& out);
void encodeMetricsRequest(std::span<const RowSlice<telemetry::MetricBatch>> slices,
                          std::string& out);

}  // namespace stackhouse::otlp
