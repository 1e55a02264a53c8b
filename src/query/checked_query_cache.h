// CheckedQueryCache: the statements that passed the engine-parsed check (user_query.h), by their
// text, so that a statement asked again runs at once instead of being formatted and parsed by the
// engine twice more first.
//
// Why this is sound: the check reads the engine's parse tree of the statement with its query
// parameters substituted, and a parameter of a value type becomes a literal there (`_CAST(<value>,
// '<type>')`), which the check never decides on: the same text with other values has the same
// tree but for literals, and the same answer. A parameter of type Identifier is different: it
// becomes a name (a table, a column, a database), so the answer depends on its value; a statement
// with one is never kept (`keepable`), and is checked again each time it is asked.
// SqlApiTest.ParametersReachTheTreeAsLiteralsButIdentifiers holds the engine to both facts. The key
// is the text as sent plus the telemetry database it is checked against; the value is the text
// the check passed (formatted by the engine and, for another database, mapped to it), exactly
// what runs. Refusals are not kept: they are answered from the engine each time.
//
// The searches, charts and alerts the UI and the alert engine ask are a few statement shapes whose
// values are all parameters, so they hit; text typed into the SQL API mostly does not, and costs
// an entry. Bounded by entries and by bytes; least recently used goes first. Thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace stackhouse::query {

class CheckedQueryCache {
 public:
  // A statement longer than maxBytes / 16 is never kept (a few large texts must not evict all).
  explicit CheckedQueryCache(size_t maxEntries = 1024, size_t maxBytes = 16u << 20);
  CheckedQueryCache(const CheckedQueryCache&) = delete;
  CheckedQueryCache& operator=(const CheckedQueryCache&) = delete;

  // Whether a statement that passed may be kept: false when its engine-formatted text has a
  // parameter of type Identifier (`{name:Identifier}`, in any case).
  static bool keepable(std::string_view formatted);

  // The checked text of `sql` for `database`, if it passed before.
  std::optional<std::string> find(std::string_view database, std::string_view sql);
  void insert(std::string_view database, std::string_view sql, std::string checked);

  size_t size() const;
  size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    std::string checked;
  };
  static std::string keyOf(std::string_view database, std::string_view sql);
  void evictLocked();

  const size_t maxEntries_;
  const size_t maxBytes_;
  mutable std::mutex mu_;
  // Most recently used first. `index_` views the entries' keys. All three guarded by mu_.
  std::list<Entry> lru_;
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace stackhouse::query
