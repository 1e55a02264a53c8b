// Status and Result: the error type of every hot path.
//
// A Status is a code from a small canonical set plus a message for humans. The code decides how a
// failure is reported to a client (HTTP and gRPC status, see status_mapping.h); the message names
// the problem and never carries customer content. Exceptions are kept for start-up and
// configuration, where failing fast is right.
#pragma once

#include <cassert>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace stackhouse {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidArgument,    // the input is malformed; retrying it will not help
  kNotFound,           // the thing asked for does not exist
  kResourceExhausted,  // a limit was exceeded (size, count, memory); may succeed later or smaller
  kUnavailable,        // transient: the service cannot take this now, retry with backoff
  kPermissionDenied,   // the caller may not do this (e.g. a write through the read-only API)
  kUnsupported,        // a media type, method or feature we do not serve
  kInternal,           // a bug or an unexpected failure of a dependency
};

std::string_view statusCodeName(StatusCode code);

// The gRPC status code (as numbered by gRPC and google.rpc.Code) a StatusCode is reported as:
// kInvalidArgument 3, kResourceExhausted 8, kUnavailable 14, kUnsupported 12 (UNIMPLEMENTED),
// kNotFound 5, kPermissionDenied 7, anything else 13 (INTERNAL). The one mapping used for gRPC
// answers and for the google.rpc.Status bodies of OTLP/HTTP errors.
int grpcStatusCode(StatusCode code);
// The HTTP status a StatusCode is answered with: kOk 200, kInvalidArgument 400,
// kPermissionDenied 403, kNotFound 404, kResourceExhausted 413, kUnsupported 415, kInternal 500,
// kUnavailable 503 (sent with Retry-After where the client is to retry). The one mapping for
// HTTP answers (the OTLP receiver, the query API); answers the table cannot express (401 for a
// missing credential) are made where they are decided.
int httpStatusCode(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }

  bool isOk() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return isOk(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>"
  std::string toString() const;

  // How long the service that failed asked us to wait before trying again (an HTTP Retry-After,
  // a gRPC RetryInfo); zero when it did not say. Meaningful on kResourceExhausted and
  // kUnavailable: a sink's throttled-until.
  std::chrono::milliseconds retryAfter() const { return retryAfter_; }
  Status&& withRetryAfter(std::chrono::milliseconds delay) && {
    retryAfter_ = delay;
    return std::move(*this);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::chrono::milliseconds retryAfter_{0};
};

inline Status invalidArgument(std::string message) {
  return {StatusCode::kInvalidArgument, std::move(message)};
}
inline Status resourceExhausted(std::string message) {
  return {StatusCode::kResourceExhausted, std::move(message)};
}
inline Status unavailable(std::string message) {
  return {StatusCode::kUnavailable, std::move(message)};
}
inline Status internalError(std::string message) {
  return {StatusCode::kInternal, std::move(message)};
}

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.isOk());
  }

  bool isOk() const { return value_.has_value(); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace stackhouse

// Returns early from the enclosing function when the expression yields a non-OK Status.
#define STACKHOUSE_RETURN_IF_ERROR(expr)                       \
  do {                                                         \
    ::stackhouse::Status stackhouse_status_ = (expr);          \
    if (!stackhouse_status_.isOk()) return stackhouse_status_; \
  } while (false)
