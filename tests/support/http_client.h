// A blocking HTTP/1.1 client for tests and benchmarks: one keep-alive connection to 127.0.0.1.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stackhouse::testing {

struct HttpReply {
  int status = 0;                                            // 0: the connection failed
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string header(std::string_view lowerName) const;
};

class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request on the kept-alive connection (reconnecting when needed).
  HttpReply request(std::string_view method, std::string_view target, std::string_view body = {},
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpReply post(std::string_view target, std::string_view contentType, std::string_view body) {
    return request("POST", target, body, {{"Content-Type", std::string(contentType)}});
  }
  HttpReply get(std::string_view target) { return request("GET", target); }
  // A POST with `Expect: 100-continue`: the body is sent only once the server answers 100
  // Continue; a server that answers at once (a refusal) never receives it.
  HttpReply postExpectingContinue(std::string_view target, std::string_view contentType,
                                  std::string_view body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stackhouse::testing
