#include "store/store_error.h"

#include <charconv>
#include <string>

namespace stackhouse::store {

EngineError parseEngineError(std::string_view text) {
  EngineError e;
  std::string_view rest = text;
  // Trim trailing whitespace.
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.remove_suffix(1);
  if (rest.substr(0, 6) == "Code: ") {
    rest.remove_prefix(6);
    int code = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), code);
    if (ec == std::errc()) {
      e.code = code;
      rest.remove_prefix(static_cast<size_t>(p - rest.data()));
      if (!rest.empty() && rest.front() == '.') rest.remove_prefix(1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    }
  }
  constexpr std::string_view kPrefix = "DB::Exception: ";
  if (rest.substr(0, kPrefix.size()) == kPrefix) rest.remove_prefix(kPrefix.size());
  // Drop " (version 26.5.1.1)" and take the "(NAME)" before it.
  if (auto v = rest.rfind(" (version "); v != std::string_view::npos) rest = rest.substr(0, v);
  if (!rest.empty() && rest.back() == ')') {
    const auto open = rest.rfind('(');
    if (open != std::string_view::npos && open + 1 < rest.size()) {
      std::string_view name = rest.substr(open + 1, rest.size() - open - 2);
      bool upper = !name.empty();
      for (char c : name)
        upper = upper && ((c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9'));
      if (upper) {
        e.name = name;
        rest = rest.substr(0, open);
        while (!rest.empty() && (rest.back() == ' ' || rest.back() == '.')) rest.remove_suffix(1);
      }
    }
  }
  e.message = rest;
  return e;
}

Status toStatus(const EngineError& error) {
  std::string msg = error.message;
  if (error.code != 0) {
    msg = "ClickHouse error " + std::to_string(error.code) +
          (error.name.empty() ? "" : " (" + error.name + ")") + ": " + error.message;
  }
  switch (error.code) {
    case 164:  // READONLY
    case 497:  // ACCESS_DENIED
      return {StatusCode::kPermissionDenied, std::move(msg)};
    case 241:  // MEMORY_LIMIT_EXCEEDED
    case 159:  // TIMEOUT_EXCEEDED
    case 158:  // TOO_MANY_ROWS
    case 396:  // TOO_MANY_ROWS_OR_BYTES
    case 307:  // TOO_MANY_BYTES
      return {StatusCode::kResourceExhausted, std::move(msg)};
    case 0: return {StatusCode::kInternal, std::move(msg)};
    default: return {StatusCode::kInvalidArgument, std::move(msg)};
  }
}

InsertFailure insertFailureOf(const EngineError& e) {
  switch (e.code) {
    case 6:    // CANNOT_PARSE_TEXT
    case 27:   // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    case 41:   // CANNOT_PARSE_DATETIME
    case 53:   // TYPE_MISMATCH
    case 69:   // ARGUMENT_OUT_OF_BOUND
    case 70:   // CANNOT_CONVERT_TYPE
    case 117:  // INCORRECT_DATA
    case 131:  // TOO_LARGE_STRING_SIZE
    case 321:  // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    case 407:  // DECIMAL_OVERFLOW
      return InsertFailure::kData;
    // TOO_MANY_PARTS is two errors under one code: too many partitions in one insert block is
    // the rows' (their times span too many days), too many active parts in a partition is the
    // engine's merges falling behind.
    case 252:
      return e.message.find("partitions for single INSERT block") != std::string::npos
                 ? InsertFailure::kData
                 : InsertFailure::kOverload;
    case 241:  // MEMORY_LIMIT_EXCEEDED
    case 202:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case 159:  // TIMEOUT_EXCEEDED
    case 203:  // NO_FREE_CONNECTION
    case 439:  // CANNOT_SCHEDULE_TASK
      return InsertFailure::kOverload;
    default: return InsertFailure::kOther;
  }
}

}  // namespace stackhouse::store
