#include "query/checked_query_cache.h"

namespace stackhouse::query {

CheckedQueryCache::CheckedQueryCache(size_t maxEntries, size_t maxBytes)
    : maxEntries_(maxEntries), maxBytes_(maxBytes) {}

bool CheckedQueryCache::keepable(std::string_view formatted) {
  // The engine formats a parameter as `{name:Type}`; spaces are dropped here all the same, and a
  // literal that merely looks like one only costs a cache entry.
  constexpr std::string_view kNamed = ":identifier}";
  size_t matched = 0;
  for (char c : formatted) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower == kNamed[matched]) {
      if (++matched == kNamed.size()) return false;
    } else {
      matched = lower == kNamed[0] ? 1 : 0;
    }
  }
  return true;
}

std::string CheckedQueryCache::keyOf(std::string_view database, std::string_view sql) {
  // A database name is a validated identifier: it holds no NUL, so the key is unambiguous.
  std::string key;
  key.reserve(database.size() + 1 + sql.size());
  key.append(database).push_back('\0');
  key.append(sql);
  return key;
}

std::optional<std::string> CheckedQueryCache::find(std::string_view database,
                                                   std::string_view sql) {
  const std::string key = keyOf(database, sql);
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->checked;
}

void CheckedQueryCache::insert(std::string_view database, std::string_view sql,
                               std::string checked) {
  std::string key = keyOf(database, sql);
  const size_t cost = key.size() + checked.size();
  if (maxEntries_ == 0 || cost > maxBytes_ / 16) return;
  std::lock_guard lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{std::move(key), std::move(checked)});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += cost;
  evictLocked();
}

void CheckedQueryCache::evictLocked() {
  while (!lru_.empty() && (lru_.size() > maxEntries_ || bytes_ > maxBytes_)) {
    Entry& last = lru_.back();
    bytes_ -= last.key.size() + last.checked.size();
    index_.erase(last.key);
    lru_.pop_back();
  }
}

size_t CheckedQueryCache::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

size_t CheckedQueryCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace stackhouse::query
