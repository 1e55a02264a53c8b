#pragma once

#include <string_view>

#include "common/status.h"

namespace stackhouse::store {

// ClickHouse reports errors as "Code: 60. DB::Exception: <message>. (UNKNOWN_TABLE) (version …)".
struct EngineError {
  int code = 0;         // ClickHouse's error code, 0 when the text carried none
  std::string name;     // e.g. "UNKNOWN_TABLE"
  std::string message;  // the message without the "Code: N. DB::Exception: " prefix
};

EngineError parseEngineError(std::string_view text);

// The Status a store error maps to: syntax and semantic errors of a query are the caller's
// (invalid argument), READONLY is permission denied, memory and limits are resource exhausted,
// the rest internal.
Status toStatus(const EngineError& error);

// What an insert's engine error says about the rows, for the sinks that write to ClickHouse
// (embedded and remote), which map it onto the pipeline's failure classes:
//   kData      the rows themselves cannot be stored (parse, type, range errors raised while the
//              insert forms its blocks, before anything is written): permanent;
//   kOverload  the engine is overloaded (memory, too many parts, too many queries, time limit):
//              throttled;
//   kOther     anything else (unknown tables, authentication, network, our own bugs): not proof
//              that the data is bad, so retryable.
enum class InsertFailure : unsigned char { kData, kOverload, kOther };
InsertFailure insertFailureOf(const EngineError& error);

}  // namespace stackhouse::store
