// RequestLedger: the requests whose rows are committed, by content, so that a client's retry of
// a request whose answer it never received (a timeout, a lost connection, a restart after
// kill -9) is answered at once instead of storing its rows a second time.
//
// A request is identified by a keyed 128-bit hash of its signal and decompressed body (the SDKs
// resend the same bytes when they retry). After each round of requests synced to the queues, the
// pipeline appends their keys to an append-only file in the data directory (one write(2), so
// they survive the process being killed) and keeps them in memory; at start the file is read
// back. Keys are kept for `window` and at most `maxKeys` of them (oldest forgotten first); the file
// is rewritten with the live keys when it grows past a bound.
//
// A process killed after a request was appended to the queues but before its key was recorded is
// covered by the queues: at the next start the pipeline records here the keys of every record
// its queues still hold, before any receiver listens (Pipeline::open).
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_set>

#include "common/status.h"

namespace stackhouse::pipeline {

struct RequestKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool empty() const { return hi == 0 && lo == 0; }
  bool operator==(const RequestKey&) const = default;
};

struct RequestKeyHash {
  size_t operator()(const RequestKey& k) const { return static_cast<size_t>(k.lo ^ (k.hi >> 1)); }
};

class RequestLedger {
 public:
  struct Options {
    std::string path;  // the ledger file; created if missing
    std::chrono::seconds window{3600};
    size_t maxKeys = 2'000'000;
    uint64_t maxFileBytes = 64ull << 20;
  };

  // Opens (or creates) the file and loads the keys still inside the window. A record cut short
  // by a crash at the end of the file is ignored. Start-up only.
  static Result<std::unique_ptr<RequestLedger>> open(const Options& options);
  ~RequestLedger();
  RequestLedger(const RequestLedger&) = delete;
  RequestLedger& operator=(const RequestLedger&) = delete;

  // The key of one request: `signal` (0 logs, 1 traces, 2 metrics) and its decompressed body,
  // hashed with this ledger's secret seed (so keys cannot be precomputed to collide).
  RequestKey keyOf(uint8_t signal, std::span<const uint8_t> body) const;

  bool isCommitted(const RequestKey& key) const;

  // Records the keys of requests now in the queues. Called by the pipeline's queue-sync thread
  // (and by Pipeline::open for the keys its queues hold).
  Status recordCommitted(std::span<const RequestKey> keys);

  size_t size() const;

 private:
  explicit RequestLedger(const Options& options) : options_(options) {}
  Status load();
  Status rewrite();                 // requires mu_
  void expire(int64_t nowSeconds);  // requires mu_

  Options options_;
  uint64_t seed_[2] = {0, 0};
  mutable std::mutex mu_;
  int fd_ = -1;                                          // guarded by mu_
  uint64_t fileBytes_ = 0;                               // guarded by mu_
  std::unordered_set<RequestKey, RequestKeyHash> keys_;  // guarded by mu_
  struct Stamped {
    RequestKey key;
    int64_t seconds;
  };
  std::deque<Stamped> order_;  // guarded by mu_; oldest first
};

}  // namespace stackhouse::pipeline
