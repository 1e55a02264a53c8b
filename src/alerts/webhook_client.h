// One HTTP POST of a JSON body to a webhook, with a timeout: the alerts' only outbound call.
//
// A small libcurl client of our own: alerts may not depend on sinks/ (where the shared HTTP client
// of the sinks lives), so until that client sits in a library both can use, this is the one
// place alerts talk HTTP. Redirects are not followed (a webhook that moves is a configuration
// error, and following one could carry the body elsewhere); only http and https.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace stackhouse::alerts {

struct PostResult {
  int httpStatus = 0;  // 0: no answer (connection refused, timeout, ...)
  std::string error;   // with httpStatus 0: what went wrong, never the URL
  int64_t durationMs = 0;
};

class WebhookClient {
 public:
  virtual ~WebhookClient() = default;
  // Blocks until answered or `timeout`. Called from the notifier's thread only.
  virtual PostResult post(const std::string& url, const std::string& body,
                          std::chrono::milliseconds timeout) = 0;
};

// The libcurl client. curl_global_init runs once, on the first call.
std::unique_ptr<WebhookClient> makeCurlWebhookClient();

}  // namespace stackhouse::alerts
