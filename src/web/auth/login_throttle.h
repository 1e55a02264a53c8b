// Slows password guessing without letting an attacker lock the real user out.
//
// Failures are counted per (account, client address) pair and, more loosely, per client address.
// Past a few free failures each further attempt must wait twice as long as the last (capped), and
// is answered 429 + Retry-After without the password being checked. Nothing is counted per
// account alone: the real user, from an address with no failures, always gets in, however hard
// others hammer the account. A success clears its pair. Entries expire an hour after their last
// failure; the tables are bounded.
//
// Thread-safe. Time comes from the injected clock (Unix milliseconds), so tests need not sleep.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace stackhouse::web::auth {

struct LoginThrottleOptions {
  int freePairFailures = 5;      // wrong passwords per (account, address) before any delay
  int freeAddressFailures = 30;  // per address, across accounts
  int64_t maxDelayMs = 15 * 60 * 1000;
  int64_t forgetAfterMs = 60 * 60 * 1000;
  size_t maxEntries = 100'000;     // per table; the oldest is dropped beyond it
  std::function<int64_t()> nowMs;  // default: the system clock
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleOptions options);

  // 0 when a login for `account` from `address` may be tried now; else the seconds to wait.
  int64_t retryAfterSeconds(std::string_view account, std::string_view address);
  void recordFailure(std::string_view account, std::string_view address);
  void recordSuccess(std::string_view account, std::string_view address);

 private:
  struct Entry {
    int failures = 0;
    int64_t lastFailureMs = 0;
  };
  using Table = std::map<std::string, Entry, std::less<>>;

  int64_t waitMs(const Table& table, const std::string& key, int free, int64_t now) const;
  void fail(Table& table, std::string key, int64_t now);

  LoginThrottleOptions options_;
  std::mutex mutex_;
  Table pairs_;      // guarded by mutex_
  Table addresses_;  // guarded by mutex_
};

}  // namespace stackhouse::web::auth
