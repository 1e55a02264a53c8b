// Response bodies for OTLP export calls, in protobuf or OTLP/JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/decode.h"

namespace stackhouse::otlp {

// An Export{Logs,Trace,Metrics}ServiceResponse. With `rejected` = 0 and an empty `message` it is
// the empty message (a zero-byte protobuf body, "{}" in JSON), meaning full success. Otherwise it
// carries partial_success {rejected_log_records | rejected_spans | rejected_data_points,
// error_message}; OTLP reads a message with nothing rejected as a warning. Ill-formed UTF-8 in
// `message` is replaced with U+FFFD.
std::string encodeExportResponse(Signal signal, Encoding encoding, uint64_t rejected,
                                 std::string_view message);

// The partial-success error_message for a decoded request: the first rejection (when records
// were rejected) and a warning for each per-record limit that cut attributes, naming the limit,
// its value and its configuration key. Empty when nothing was rejected or cut.
std::string partialSuccessMessage(const DecodeStats& stats, const DecodeLimits& limits);

// A google.rpc.Status {code = 1 (int32), message = 2 (string)}: the body of an OTLP/HTTP error
// response. `code` is a gRPC status code.
std::string encodeStatus(Encoding encoding, int code, std::string_view message);

// A protobuf google.rpc.Status {code, message, details = [Any(google.rpc.RetryInfo
// {retry_delay})]}: the grpc-status-details-bin trailer of a gRPC answer that the client should
// retry after `retryDelayMillis` (the OTLP way to throttle clients with UNAVAILABLE or
// RESOURCE_EXHAUSTED). `code` is a gRPC status code and must match the call's status.
std::string encodeRetryStatus(int code, std::string_view message, uint64_t retryDelayMillis);

}  // namespace stackhouse::otlp
