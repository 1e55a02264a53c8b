// The seam between a vendor sink and the HTTP client: one POST, its answer. The sinks build the
// request (URL, headers, compressed body) and read the answer's status; the shared libcurl client
// (src/sinks/http) carries it. Tests put a stand-in server behind the same seam.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace stackhouse::sinks {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpPost {
  std::string url;     // https://host/path?query
  HeaderList headers;  // Content-Type, Content-Encoding and the vendor's credential
  std::string body;    // as sent (compressed when Content-Encoding says so)
  std::chrono::milliseconds timeout{30'000};
};

struct HttpAnswer {
  int status = 0;          // the HTTP status code
  std::string retryAfter;  // the Retry-After header's value, empty when absent
  std::string body;        // the answer's body, at most a few KiB kept (for partial success)
};

// Sends one request and returns the server's answer, whatever its status. A transport failure
// (no connection, TLS, timeout, reset) is a kUnavailable Status whose message never carries the
// URL's query, a header value or the body.
//
// Called on the sink worker's thread, one call at a time per sink; implementations may be
// shared by several sinks when they are thread-safe.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpAnswer> post(const HttpPost& request) = 0;
};

}  // namespace stackhouse::sinks
