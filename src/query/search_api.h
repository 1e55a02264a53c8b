// The search API's statements and answers: POST /api/v1/search, /api/v1/search/histogram and
// /api/v1/search/tail turn a JSON request into one SELECT with query parameters (prepare*), which
// the caller runs through QueryService — so it is parsed by the engine, checked against the
// allowlist and bounded like every user query — and the raw answer into the endpoint's JSON
// (shape*). Everything here is pure computation on any thread; the clock is passed in.
//
// Requests (all bodies JSON objects):
//   source  "logs" | "traces"                       required
//   query   search language (or, with mode "sql", a ClickHouse WHERE expression); default ""
//   mode    "search" (default) | "sql"
//   from,to RFC 3339 text or epoch milliseconds; [from, to); default: the last 15 minutes
// /search adds limit (1..1000, default 100), select (column names), cursor (from a previous
// answer); /histogram adds buckets (1..500, default 60); /tail has after, limit, timeout_ms.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "query/search/search_sql.h"
#include "query/sql_api.h"

namespace stackhouse::query {

// The newest page reads from the newest end of the range: `windows` are the same statement over
// [to - w, to), [to - 4w, to), ... (w = kFirstWindowNs, at most kNarrowWindows of them; `to` the
// cursor's time when paging), the last one the whole range. The caller runs them in order and
// answers with the first whose page is full (searchStep), so a page of the newest rows of a
// day reads the newest granules, not the day. Each is a user query like any other. One narrow
// window, then the whole range: a sparse match (a rare token: the page never fills) pays for
// every window before the whole range (docs/benchmarks.md, 2026-12-06). A query that pins a trace
// or span id (search::SqlFilter::pinsAnId) reads the whole range at once.
inline constexpr int64_t kFirstWindowNs = int64_t{3600} * 1000 * 1000 * 1000;
inline constexpr int kNarrowWindows = 1;

struct PreparedSearch {
  // Newest first, the last the whole range. Each ends `LIMIT limit + 1`: under a plain LIMIT the
  // engine reads the wide columns of the rows it keeps only.
  std::vector<SqlRequest> windows;
  // The same windows ending `LIMIT limit WITH TIES`, for when a window's answer may lack rows
  // tied with the page's last (searchStep); the same window is then run in this form.
  std::vector<SqlRequest> tiedWindows;
  int limit = 100;
  size_t visibleColumns = 0;  // the hidden cursor columns follow these
};

struct PreparedHistogram {
  SqlRequest sql;
  search::Source source = search::Source::kLogs;
  int64_t baseMs = 0;   // start of the first bucket
  int64_t widthMs = 0;  // every bucket's width
  int64_t buckets = 0;  // how many buckets cover [from, to)
};

// A tail follows insert order, not only record time, so that a record that arrives late (older
// than the newest one shown) is still shown once it is stored. Its cursor `after` is
// "<ns>:<block>": the newest record time and the newest insert block (the engine's
// `_block_number`, kept per row across merges, see store/schema.h) shown so far. A poll shows
// the rows stored after that block, or timed after that time, within the tail window (kTailWindow
// before now to an hour past it). A first poll (no `after`, or the time only, as the UI sends
// from the newest row of its search) runs `startSql` first: the newest block in the window then.
inline constexpr int64_t kTailWindowNs = int64_t{3600} * 1000 * 1000 * 1000;

struct PreparedTail {
  SqlRequest sql;       // its {a_block:UInt64} parameter is set once the block is known
  SqlRequest startSql;  // empty when `after` carried the block
  int limit = 100;
  size_t visibleColumns = 0;
  int64_t afterNs = 0;      // rows timed after this ...
  int64_t afterBlock = -1;  // ... or stored in a later block; -1: not known yet (startSql)
  int timeoutMs = 20000;
};

std::variant<PreparedSearch, SqlApiReply> prepareSearch(std::string_view body, int64_t nowNs,
                                                        int64_t firstWindowNs = kFirstWindowNs,
                                                        int narrowWindows = kNarrowWindows);
// What follows `raw`, the answer of windows[window] (`tied`: of tiedWindows[window]):
//   kTied        it came to its LIMIT and its last row has the time of the page's last: rows tied
//                with that one may be missing, so tiedWindows[window] answers instead;
//   kNextWindow  its page is not full and a wider window follows;
//   kAnswer      it is the answer to give (a full page, the last window, or an error).
enum class SearchStep { kAnswer, kTied, kNextWindow };
SearchStep searchStep(const PreparedSearch& prepared, size_t window, bool tied,
                      const SqlApiReply& raw);
// {columns, rows, elapsed_ms, cursor}: the hidden columns cut, cursor null on the last page.
SqlApiReply shapeSearchReply(const PreparedSearch& prepared, SqlApiReply raw);

std::variant<PreparedHistogram, SqlApiReply> prepareHistogram(std::string_view body, int64_t nowNs);
// {buckets: [{start, count, bySeverity|byStatus}], total, width_ms, elapsed_ms}.
SqlApiReply shapeHistogramReply(const PreparedHistogram& prepared, SqlApiReply raw);

std::variant<PreparedTail, SqlApiReply> prepareTail(std::string_view body, int64_t nowNs);
// Reads startSql's answer (the newest block, or none in an empty window) into the statement's
// block; false when the answer is not that.
bool setTailStart(PreparedTail& prepared, const SqlApiReply& startReply);
// {columns, rows, elapsed_ms, after, truncated}; `rows` newest first, `after` the next poll's
// cursor. Sets *empty when no row came, so that a long poll waits on.
SqlApiReply shapeTailReply(const PreparedTail& prepared, SqlApiReply raw, bool* empty);

// RFC 3339 ("2026-12-04T03:20:38.5Z", "...+02:00") or epoch milliseconds as digits, to epoch
// nanoseconds. Exposed for tests.
bool parseTimestamp(std::string_view text, int64_t* ns);

}  // namespace stackhouse::query
