#include "alerts/webhook_client.h"

#include <curl/curl.h>

#include <mutex>

namespace stackhouse::alerts {

namespace {

// The answer's body is not needed; reading at most this much keeps a chatty server harmless.
constexpr size_t kMaxAnswerBytes = 64 << 10;

size_t discard(char* /*data*/, size_t size, size_t n, void* user) {
  auto* total = static_cast<size_t*>(user);
  *total += size * n;
  return *total > kMaxAnswerBytes ? 0 : size * n;
}

class CurlWebhookClient final : public WebhookClient {
 public:
  CurlWebhookClient() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  PostResult post(const std::string& url, const std::string& body,
                  std::chrono::milliseconds timeout) override {
    PostResult r;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
      r.error = "cannot create an HTTP client";
      return r;
    }
    struct curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "User-Agent: stackhouse-alerts");
    size_t received = 0;
    char errorBuffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errorBuffer);
    const auto start = std::chrono::steady_clock::now();
    const CURLcode code = curl_easy_perform(curl);
    r.durationMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    r.httpStatus = static_cast<int>(status);
    if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && status > 0)) {
      r.httpStatus = 0;
      // curl's own words name the failure (refused, timed out, TLS); its error buffer can hold
      // the host name but not the path, where a webhook's secret is. The code's text holds none.
      r.error = curl_easy_strerror(code);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return r;
  }
};

}  // namespace

std::unique_ptr<WebhookClient> makeCurlWebhookClient() {
  return std::make_unique<CurlWebhookClient>();
}

}  // namespace stackhouse::alerts
