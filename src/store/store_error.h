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

}  // namespace stackhouse::store
