#include "web/search_routes.h"

#include "common/metrics.h"
#include "common/thread_name.h"

namespace stackhouse::web {

namespace {

Counter& apiOutcome(std::string_view endpoint, int status) {
  return metrics().counter("stackhouse_api_requests_total", "API requests by outcome.",
                           {{"endpoint", std::string(endpoint)},
                            {"outcome", status == 200   ? "ok"
                                        : status == 429 ? "busy"
                                                        : "error"}});
}

}  // namespace

http::Response toResponse(std::string_view endpoint, query::SqlApiReply reply) {
  apiOutcome(endpoint, reply.httpStatus).inc();
  http::Response r = http::jsonResponse(reply.httpStatus, std::move(reply.json));
  if (reply.httpStatus == 429) r.headers.emplace_back("Retry-After", "1");
  return r;
}

query::QueryService::ClientGone goneOf(const http::Request& request) {
  auto gone = request.clientGoneFlag;
  if (!gone) return {};
  return [gone] { return gone->load(); };
}

namespace {

// A poll's answer with no rows and its cursor unchanged.
query::SqlApiReply emptyAnswer(const query::PreparedTail& prepared) {
  bool ignored = false;
  return query::shapeTailReply(prepared, query::SqlApiReply{200, R"({"columns":[],"rows":[]})"},
                               &ignored);
}

// Runs the search's windows newest first, one at a time, and answers with the first full page
// (query/search_api.h). A window whose answer may lack rows tied with the page's last runs again
// in its WITH TIES form.
void runSearchWindow(query::QueryService& queries, std::shared_ptr<query::PreparedSearch> p,
                     size_t window, bool tied, query::QueryService::ClientGone gone,
                     http::Respond respond) {
  query::SqlRequest sql = tied ? p->tiedWindows[window] : p->windows[window];
  queries.submit(std::move(sql), gone,
                 [&queries, p, window, tied, gone,
                  respond = std::move(respond)](query::SqlApiReply reply) mutable {
                   const query::SearchStep next = gone && gone()
                                                      ? query::SearchStep::kAnswer
                                                      : query::searchStep(*p, window, tied, reply);
                   if (next == query::SearchStep::kTied) {
                     runSearchWindow(queries, p, window, true, gone, std::move(respond));
                   } else if (next == query::SearchStep::kNextWindow) {
                     runSearchWindow(queries, p, window + 1, false, gone, std::move(respond));
                   } else {
                     respond(toResponse("search", query::shapeSearchReply(*p, std::move(reply))));
                   }
                 });
}

}  // namespace

int64_t systemNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Route searchRoute(query::QueryService& queries, NowNs now) {
  return [&queries, now](http::Request&& request, http::Respond respond) {
    auto prepared = query::prepareSearch(request.body, now());
    if (auto* e = std::get_if<query::SqlApiReply>(&prepared)) {
      respond(toResponse("search", std::move(*e)));
      return;
    }
    auto p = std::make_shared<query::PreparedSearch>(std::move(std::get<0>(prepared)));
    runSearchWindow(queries, std::move(p), 0, false, goneOf(request), std::move(respond));
  };
}

Route histogramRoute(query::QueryService& queries, NowNs now) {
  return [&queries, now](http::Request&& request, http::Respond respond) {
    auto prepared = query::prepareHistogram(request.body, now());
    if (auto* e = std::get_if<query::SqlApiReply>(&prepared)) {
      respond(toResponse("search_histogram", std::move(*e)));
      return;
    }
    auto p = std::make_shared<query::PreparedHistogram>(std::move(std::get<0>(prepared)));
    query::SqlRequest sql = p->sql;
    queries.submit(
        std::move(sql), goneOf(request),
        [p, respond = std::move(respond)](query::SqlApiReply reply) {
          respond(toResponse("search_histogram", query::shapeHistogramReply(*p, std::move(reply))));
        });
  };
}

TailPoller::TailPoller(query::QueryService& queries, NowNs now, size_t maxHeld,
                       std::chrono::milliseconds interval)
    : queries_(queries), now_(std::move(now)), maxHeld_(maxHeld), interval_(interval) {
  thread_ = std::thread([this] { loop(); });
}

TailPoller::~TailPoller() { stop(); }

Route TailPoller::route() {
  return [this](http::Request&& request, http::Respond respond) {
    auto prepared = query::prepareTail(request.body, now_());
    if (auto* e = std::get_if<query::SqlApiReply>(&prepared)) {
      respond(toResponse("search_tail", std::move(*e)));
      return;
    }
    auto poll = std::make_shared<Poll>();
    poll->prepared = std::move(std::get<0>(prepared));
    poll->clientGone = request.clientGoneFlag;
    poll->respond = std::move(respond);
    const auto t = std::chrono::steady_clock::now();
    poll->deadline = t + std::chrono::milliseconds(poll->prepared.timeoutMs);
    poll->next = t;
    {
      std::lock_guard lock(mu_);
      if (stopping_ || active_ >= maxHeld_) {
        query::SqlApiReply busy = query::errorReply(429, 0, "TOO_MANY_TAILS",
                                                    "too many live tails are open; retry shortly");
        http::Respond r = std::move(poll->respond);
        r(toResponse("search_tail", std::move(busy)));
        return;
      }
      ++active_;
    }
    run(std::move(poll));
  };
}

void TailPoller::run(std::shared_ptr<Poll> poll) {
  auto gone = poll->clientGone;
  if (!poll->prepared.startSql.sql.empty()) {
    // A first poll: the newest block stored so far, then the poll itself.
    query::SqlRequest start = poll->prepared.startSql;
    queries_.submit(
        std::move(start),
        gone ? query::QueryService::ClientGone([gone] { return gone->load(); })
             : query::QueryService::ClientGone(),
        [this, poll](query::SqlApiReply reply) {
          if (reply.httpStatus == 429) {
            const bool left = poll->clientGone && poll->clientGone->load();
            if (!left && std::chrono::steady_clock::now() < poll->deadline && hold(poll)) {
              return;
            }
            finish(poll, emptyAnswer(poll->prepared));
            return;
          }
          if (!query::setTailStart(poll->prepared, reply)) {
            finish(poll, reply.httpStatus == 200
                             ? query::errorReply(500, 0, "INTERNAL",
                                                 "the store returned an answer of an "
                                                 "unexpected shape")
                             : std::move(reply));
            return;
          }
          run(poll);
        });
    return;
  }
  query::SqlRequest sql = poll->prepared.sql;
  queries_.submit(std::move(sql),
                  gone ? query::QueryService::ClientGone([gone] { return gone->load(); })
                       : query::QueryService::ClientGone(),
                  [this, poll](query::SqlApiReply reply) {
                    bool empty = false;
                    const bool busy = reply.httpStatus == 429;
                    query::SqlApiReply shaped =
                        query::shapeTailReply(poll->prepared, std::move(reply), &empty);
                    const auto t = std::chrono::steady_clock::now();
                    const bool left = poll->clientGone && poll->clientGone->load();
                    if (!left && (busy || empty) && t < poll->deadline && hold(poll)) return;
                    // The deadline passed while every slot was busy: an empty answer, not an error.
                    if (busy) shaped = emptyAnswer(poll->prepared);
                    finish(poll, std::move(shaped));
                  });
}

bool TailPoller::hold(const std::shared_ptr<Poll>& poll) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  poll->next = std::chrono::steady_clock::now() + interval_;
  held_.push_back(poll);
  cv_.notify_one();
  return true;
}

void TailPoller::finish(const std::shared_ptr<Poll>& poll, query::SqlApiReply reply) {
  poll->respond(toResponse("search_tail", std::move(reply)));
  std::lock_guard lock(mu_);
  --active_;
  cv_.notify_all();
}

void TailPoller::loop() {
  setThreadName("search-tail");
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_) return;
    auto wake = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (const auto& p : held_) wake = std::min(wake, p->next);
    cv_.wait_until(lock, wake);
    if (stopping_) return;
    const auto t = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<Poll>> due;
    for (size_t i = 0; i < held_.size();) {
      if (held_[i]->next <= t) {
        due.push_back(std::move(held_[i]));
        held_[i] = std::move(held_.back());
        held_.pop_back();
      } else {
        ++i;
      }
    }
    lock.unlock();
    for (auto& p : due) run(std::move(p));
    lock.lock();
  }
}

void TailPoller::stop() {
  std::vector<std::shared_ptr<Poll>> left;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    left.swap(held_);
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  for (auto& p : left) {
    p->respond(toResponse("search_tail", emptyAnswer(p->prepared)));
    std::lock_guard lock(mu_);
    --active_;
  }
  // Polls whose query is running are answered by their done callback (QueryService::stop runs
  // after this and answers or finishes them); wait for them so `this` outlives the callbacks.
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(35), [this] { return active_ == 0; });
}

}  // namespace stackhouse::web
