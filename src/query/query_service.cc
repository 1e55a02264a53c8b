#include "query/query_service.h"

#include <chrono>

#include "common/log.h"
#include "common/thread_name.h"

namespace stackhouse::query {

QueryService::QueryService(const QueryServiceOptions& options)
    : options_(options),
      refusedBusy_(metrics().counter("stackhouse_query_refused_total",
                                     "User queries refused with 429: every slot was taken.")),
      cancelled_(metrics().counter("stackhouse_query_cancelled_total",
                                   "User queries cancelled because their client went away.")),
      running_(metrics().gauge("stackhouse_query_running", "User queries running now.")) {}

Result<std::unique_ptr<QueryService>> QueryService::start(store::ChdbStore& store,
                                                          const QueryServiceOptions& options,
                                                          const RemoteExecutors& remote) {
  std::unique_ptr<QueryService> service(new QueryService(options));
  if (remote) {
    auto control = remote(true);
    if (!control) return control.status();
    service->control_ = std::move(control.value());
  } else {
    auto control = store.openControlConnection();
    if (!control) return control.status();
    service->control_ = std::move(control.value());
  }
  const int n = options.maxConcurrent < 1 ? 1 : options.maxConcurrent;
  for (int i = 0; i < n; ++i) {
    auto connection = store.openQueryConnection(options.bounds);
    if (!connection) return connection.status();
    auto worker = std::make_unique<Worker>();
    worker->connection = std::move(connection.value());
    if (remote) {
      auto executor = remote(false);
      if (!executor) return executor.status();
      worker->remote = std::move(executor.value());
    }
    service->workers_.push_back(std::move(worker));
  }
  for (size_t i = 0; i < service->workers_.size(); ++i) {
    service->workers_[i]->thread = std::thread([s = service.get(), i] { s->work(i); });
  }
  service->watcher_ = std::thread([s = service.get()] { s->watch(); });
  return service;
}

QueryService::~QueryService() { stop(); }

void QueryService::submit(SqlRequest request, ClientGone clientGone, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && accepted_ < static_cast<int>(workers_.size())) {
      ++accepted_;
      queue_.push_back(Job{std::move(request), std::move(clientGone), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  refusedBusy_.inc();
  done(errorReply(
      429, 0, "TOO_MANY_QUERIES",
      "every query slot (" + std::to_string(workers_.size()) + ") is busy; retry shortly"));
}

void QueryService::work(size_t index) {
  setThreadName("query-" + std::to_string(index));
  Worker& worker = *workers_[index];
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      worker.running = &job;
      worker.tag = "stackhouse-query-" + std::to_string(++seq_);
      worker.killed = false;
      watchCv_.notify_one();
    }
    running_.add(1);
    UserQueryOptions options;
    options.maxAnswerBytes = options_.maxAnswerBytes;
    options.tag = worker.tag;
    options.database = options_.database;
    options.checked = &checked_;
    store::SqlExecutor& executor =
        worker.remote ? *worker.remote : static_cast<store::SqlExecutor&>(*worker.connection);
    SqlApiReply reply =
        runUserQuery(*worker.connection, executor, job.request.sql, job.request.params, options);
    running_.add(-1);
    bool killed = false;
    {
      std::lock_guard lock(mu_);
      worker.running = nullptr;
      killed = worker.killed;
      --accepted_;
    }
    if (killed) {
      reply = errorReply(499, 394, "QUERY_WAS_CANCELLED",
                         "the query was cancelled: its client went away");
    }
    job.done(std::move(reply));
  }
}

void QueryService::watch() {
  setThreadName("query-watch");
  std::unique_lock lock(mu_);
  for (;;) {
    watchCv_.wait_for(lock, std::chrono::milliseconds(100));
    if (stopping_ && accepted_ == 0) return;
    std::vector<std::string> toKill;
    for (auto& w : workers_) {
      if (w->running == nullptr || w->killed || !w->running->clientGone) continue;
      if (w->running->clientGone()) {
        w->killed = true;
        toKill.push_back(w->tag);
      }
    }
    if (toKill.empty()) continue;
    lock.unlock();
    for (const std::string& tag : toKill) {
      auto r = control_->run(control_->killStatement(tag), "TSV", {}, {});
      cancelled_.inc();
      if (!r) log::warn("cannot cancel a query", log::Fields().add("error", r.status().message()));
    }
    lock.lock();
  }
}

void QueryService::stop() {
  std::deque<Job> left;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    left.swap(queue_);
    accepted_ -= static_cast<int>(left.size());
    cv_.notify_all();
    watchCv_.notify_all();
  }
  for (Job& job : left) job.done(errorReply(503, 0, "STOPPING", "the server is stopping"));
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace stackhouse::query
