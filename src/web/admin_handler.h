// The admin endpoints, on their own loopback-only port by default:
//   GET /metrics  our metrics in the Prometheus text format
//   GET /healthz  200 while the process runs
//   GET /readyz   200 once the store is open and the receivers listen, 503 before and while
//                 shutting down
#pragma once

#include <atomic>

#include "http/server.h"

namespace stackhouse::web {

class AdminHandler {
 public:
  void handle(http::Request&& request, http::Respond respond);
  void setReady(bool ready) { ready_.store(ready); }

 private:
  std::atomic<bool> ready_{false};
};

}  // namespace stackhouse::web
