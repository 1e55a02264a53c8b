// A stand-in for a vendor's intake: a local HTTP server (the project's own) that checks every
// request against the vendor's documented wire format with a check function, records what it
// accepted (bodies decompressed), and answers as scripted: success, an error status with headers
// (429 + Retry-After), slowly, or not at all (stopped).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/server.h"

namespace stackhouse::sinks::testing {

struct Received {
  std::string method;
  std::string target;                   // path and query as sent
  ::stackhouse::http::Headers headers;  // names lower-cased
  std::string body;                     // after Content-Encoding was undone
  std::string rawBody;                  // as sent
};

struct Answer {
  int status = 200;
  std::string body;
  ::stackhouse::http::Headers headers;
  std::chrono::milliseconds delay{0};  // answer this much later
  std::string contentType = "application/json";
};

// The check: "" when the request follows the wire format, else what is wrong (the stand-in then
// answers 400 with it and records a violation). Runs on the server's IO thread.
using Check = std::function<std::string(const Received& request)>;

class StandIn {
 public:
  explicit StandIn(Check check, Answer success = {});
  ~StandIn();
  StandIn(const StandIn&) = delete;
  StandIn& operator=(const StandIn&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The next requests (that pass the check) get these answers, in order; then `success` again.
  void script(std::vector<Answer> answers);
  // Every request that passed the check, whatever it was answered.
  std::vector<Received> received() const;
  // Only those answered with a 2xx.
  std::vector<Received> accepted() const;
  std::vector<std::string> violations() const;
  // Closes the port: requests then fail to connect. Idempotent.
  void stop();

 private:
  void handle(::stackhouse::http::Request&& request, ::stackhouse::http::Respond respond);

  Check check_;
  Answer success_;
  std::unique_ptr<::stackhouse::http::Server> server_;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<Answer> script_;  // guarded by mutex_
  std::vector<std::pair<Received, int>> received_;
  std::vector<std::string> violations_;
  std::vector<std::thread> delayed_;
};

// Helpers for checks.
std::string_view headerOf(const Received& r, std::string_view lowerName);
// "" when the header has exactly this value, else a message naming the header.
std::string expectHeader(const Received& r, std::string_view lowerName, std::string_view value);

}  // namespace stackhouse::sinks::testing
