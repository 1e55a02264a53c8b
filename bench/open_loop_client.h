// An open-loop HTTP/1.1 load generator on one thread, for the overload phase of ingest_bench.
//
// `connections` non-blocking connections to 127.0.0.1:`port` share `requestsPerSecond`: connection
// c sends its k-th request at (k + c / connections) * connections / requestsPerSecond seconds,
// whatever became of the one before (a connection still waiting for an answer when its next slot
// comes sends at once when it gets it). With `expectContinue`, each request sends its header with
// `Expect: 100-continue` and its body only after `100 Continue`; a final answer before that closes
// the connection (its body unsent), and the next request opens a new one.
//
// One thread and epoll instead of a thread per connection: 4,000 threads pacing and waiting took
// 0.4 of a 2-core machine from the server they load, and no priority setting gives that back when
// thousands of them are runnable.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace stackhouse::bench {

struct OpenLoopOptions {
  uint16_t port = 0;
  std::string target = "/v1/logs";
  std::string contentType = "application/x-protobuf";
  int connections = 100;
  double requestsPerSecond = 100;
  double seconds = 10;  // no request is sent from then on, nor once `stop` is true
  const std::atomic<bool>* stop = nullptr;
  // Answers are in OpenLoopResult::counted while this is true (always when null).
  const std::atomic<bool>* counting = nullptr;
  bool expectContinue = true;
  // The body of a connection's n-th request.
  std::function<std::string(int connection, uint64_t n)> body;
};

struct OpenLoopCounts {
  uint64_t ok = 0;
  uint64_t refused = 0;  // 503 or 429 with Retry-After
  uint64_t failed = 0;   // anything else, a connection lost included
};

struct OpenLoopResult {
  OpenLoopCounts all;      // every answer, those after the load stopped included
  OpenLoopCounts counted;  // the answers that came while `counting`, before the load stopped
};

// Runs the load, then waits (at most 60 s) for the answers still owed. Throws
// std::runtime_error when epoll cannot be set up.
OpenLoopResult runOpenLoop(const OpenLoopOptions& options);

}  // namespace stackhouse::bench
