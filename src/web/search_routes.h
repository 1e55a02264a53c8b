// The search API's routes (query/search_api.h says what each request and answer holds):
//   POST /api/v1/search            a page of matching rows, newest first, with a cursor
//   POST /api/v1/search/histogram  counts per time bucket and severity (logs) or status (spans)
//   POST /api/v1/search/tail       a live tail by long polling
// Each statement runs on the QueryService: bounded, cancelled when its client leaves, and 429
// when every query slot is taken.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "query/query_service.h"
#include "query/search_api.h"
#include "web/api_handler.h"

namespace stackhouse::web {

// What every query route answers with: the reply's JSON (a 429 with Retry-After: 1), counted in
// stackhouse_api_requests_total{endpoint, outcome}. Shared by the search, trace and metrics routes.
http::Response toResponse(std::string_view endpoint, query::SqlApiReply reply);
// The QueryService's check that the request's client has gone (empty when the server cannot tell).
query::QueryService::ClientGone goneOf(const http::Request& request);

// Epoch nanoseconds now; injected so tests can fix it.
using NowNs = std::function<int64_t()>;
int64_t systemNowNs();

Route searchRoute(query::QueryService& queries, NowNs now = systemNowNs);
Route histogramRoute(query::QueryService& queries, NowNs now = systemNowNs);

// Long polls of POST /api/v1/search/tail: a poll (a first one runs the start statement first,
// query/search_api.h) that finds no row newer than its `after` is held, and its query rerun every
// `interval`, until a row comes, its timeout_ms passes (then it is answered with no rows and the
// same `after`: the client asks again), or its client leaves. A query slot is taken only while a
// poll's query runs; when every slot is busy a held poll just waits for its next turn. At most
// `maxHeld` polls are held at once; past that: 429.
//
// One thread ("search-tail") schedules the reruns; routes call hold() from IO threads.
class TailPoller {
 public:
  TailPoller(query::QueryService& queries, NowNs now = systemNowNs, size_t maxHeld = 64,
             std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
  ~TailPoller();
  TailPoller(const TailPoller&) = delete;
  TailPoller& operator=(const TailPoller&) = delete;

  Route route();
  // Answers every held poll (empty) and joins the thread. Idempotent.
  void stop();

 private:
  struct Poll {
    query::PreparedTail prepared;
    std::shared_ptr<const std::atomic<bool>> clientGone;
    http::Respond respond;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::steady_clock::time_point next;
  };
  void run(std::shared_ptr<Poll> poll);
  // Queues a poll for its next rerun; false when stopping.
  bool hold(const std::shared_ptr<Poll>& poll);
  // Answers a poll and lets go of its place.
  void finish(const std::shared_ptr<Poll>& poll, query::SqlApiReply reply);
  void loop();

  query::QueryService& queries_;
  NowNs now_;
  size_t maxHeld_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Poll>> held_;  // guarded by mu_; shared with a running query's done
  size_t active_ = 0;                        // held + running; guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::thread thread_;
};

}  // namespace stackhouse::web
