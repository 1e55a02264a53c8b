#include "web/auth/login_throttle.h"

#include <algorithm>
#include <chrono>

namespace stackhouse::web::auth {

namespace {

std::string pairKey(std::string_view account, std::string_view address) {
  std::string key(account);
  key += '\n';
  key += address;
  return key;
}

}  // namespace

LoginThrottle::LoginThrottle(LoginThrottleOptions options) : options_(std::move(options)) {
  if (!options_.nowMs) {
    options_.nowMs = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

int64_t LoginThrottle::waitMs(const Table& table, const std::string& key, int free,
                              int64_t now) const {
  const auto it = table.find(key);
  if (it == table.end() || it->second.failures < free) return 0;
  if (now - it->second.lastFailureMs > options_.forgetAfterMs) return 0;
  const int excess = std::min(it->second.failures - free, 30);
  const int64_t delay = std::min<int64_t>(int64_t{1000} << excess, options_.maxDelayMs);
  return std::max<int64_t>(0, it->second.lastFailureMs + delay - now);
}

int64_t LoginThrottle::retryAfterSeconds(std::string_view account, std::string_view address) {
  const int64_t now = options_.nowMs();
  std::lock_guard lock(mutex_);
  const int64_t wait =
      std::max(waitMs(pairs_, pairKey(account, address), options_.freePairFailures, now),
               waitMs(addresses_, std::string(address), options_.freeAddressFailures, now));
  return (wait + 999) / 1000;
}

void LoginThrottle::fail(Table& table, std::string key, int64_t now) {
  auto it = table.find(key);
  if (it == table.end()) {
    if (table.size() >= options_.maxEntries) {
      // Expired entries first; else the one whose last failure is oldest.
      std::erase_if(table, [&](const auto& e) {
        return now - e.second.lastFailureMs > options_.forgetAfterMs;
      });
      if (table.size() >= options_.maxEntries) {
        table.erase(std::min_element(table.begin(), table.end(), [](const auto& a, const auto& b) {
          return a.second.lastFailureMs < b.second.lastFailureMs;
        }));
      }
    }
    it = table.emplace(std::move(key), Entry{}).first;
  } else if (now - it->second.lastFailureMs > options_.forgetAfterMs) {
    it->second.failures = 0;
  }
  ++it->second.failures;
  it->second.lastFailureMs = now;
}

void LoginThrottle::recordFailure(std::string_view account, std::string_view address) {
  const int64_t now = options_.nowMs();
  std::lock_guard lock(mutex_);
  fail(pairs_, pairKey(account, address), now);
  fail(addresses_, std::string(address), now);
}

void LoginThrottle::recordSuccess(std::string_view account, std::string_view address) {
  std::lock_guard lock(mutex_);
  pairs_.erase(pairKey(account, address));
}

}  // namespace stackhouse::web::auth
