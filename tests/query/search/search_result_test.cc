// The search language against the real engine: a fixture of logs and spans, each query's count
// through the search API's statements (prepare -> runUserQuery -> shape, as the routes run them)
// compared with a count by hand-written SQL.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "query/search_api.h"
#include "support/temp_dir.h"

namespace stackhouse::query {
namespace {

// 2026-01-01T00:00:00Z; the fixture spans the hour after it.
constexpr int64_t kStartMs = 1767225600000;
constexpr const char* kRange = R"("from": 1767225600000, "to": "2026-01-01T01:00:00Z")";

class SearchResultTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new stackhouse::testing::TempDir();
    // A fixed date long ago: a retention of ten years keeps it.
    auto s = store::ChdbStore::open({dir_->path() + "/db", 10ull * 365 * 24 * 3600});
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = s.value().release();
    auto logs = store_->execute(R"(INSERT INTO otel.otel_logs
      (Timestamp, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName, Body,
       ResourceAttributes, LogAttributes)
      SELECT toDateTime64('2026-01-01 00:00:00', 9, 'UTC') + toIntervalMillisecond(number * 1800),
        lower(hex(cityHash64(intDiv(number, 4)))), lower(hex(cityHash64(number))),
        ['INFO', 'WARN', 'ERROR', 'DEBUG', 'info'][number % 5 + 1], [9, 13, 17, 5, 9][number % 5 + 1],
        ['checkout', 'cart', 'web-checkout', 'Checkout'][number % 4 + 1],
        ['connection reset by peer', 'Connection RESET by peer on priority-3',
         'GET /v1/parse 200', 'user alice logged in', 'timeout after 30s', 'disk full: /var/log',
         'reconnection resetting', 'order 42 paid', 'café ouvert', 'priority_3 queued'][number % 10 + 1]
          || ' #' || toString(number % 97),
        map('service.name', ['checkout', 'cart', 'web-checkout', 'Checkout'][number % 4 + 1],
            'k8s.pod.name', 'api-' || toString(number % 3), 'job.id', 'RES-' || toString(number % 5)),
        mapFilter((k, v) -> v != '', map('job.id', if(number % 2 = 0, 'JOB-' || toString(number % 50), ''),
            'http.status_code', toString(200 + (number % 4) * 100),
            'retries', if(number % 3 = 0, toString(number % 7), '')))
      FROM numbers(2000))");
    ASSERT_TRUE(logs.isOk()) << logs.status().toString();
    auto spans = store_->execute(R"(INSERT INTO otel.otel_traces
      (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, Duration,
       StatusCode, SpanAttributes, ResourceAttributes)
      SELECT toDateTime64('2026-01-01 00:00:00', 9, 'UTC') + toIntervalMillisecond(number * 3600),
        lower(hex(cityHash64(intDiv(number, 5)))), lower(hex(cityHash64(number))),
        if(number % 5 = 0, '', lower(hex(cityHash64(number - 1)))),
        ['GET /api/orders', 'POST /api/orders', 'db.query', 'checkout.pay'][number % 4 + 1],
        ['Server', 'Client', 'Internal'][number % 3 + 1], ['api', 'db', 'pay'][number % 3 + 1],
        (number % 300) * 1000000, ['Unset', 'Ok', 'Error'][number % 3 + 1],
        map('http.method', ['GET', 'POST', 'get'][number % 3 + 1],
            'http.status_code', toString(200 + (number % 4) * 100)),
        map('service.name', ['api', 'db', 'pay'][number % 3 + 1], 'region', ['eu', 'us'][number % 2 + 1])
      FROM numbers(1000))");
    ASSERT_TRUE(spans.isOk()) << spans.status().toString();
    auto c = store_->openQueryConnection(store::QueryBounds{});
    ASSERT_TRUE(c.isOk()) << c.status().toString();
    reader_ = c.value().release();
  }

  static std::string body(std::string_view source, std::string_view query, std::string extra = "") {
    std::string out = "{\"source\": \"" + std::string(source) + "\", \"query\": ";
    std::string q;
    for (char ch : query) {
      if (ch == '"' || ch == '\\') q += '\\';
      q += ch;
    }
    return out + "\"" + q + "\", " + kRange + extra + "}";
  }

  // The total of a histogram, or -1 with the error in `why`.
  static int64_t searchCount(std::string_view source, std::string_view query, std::string* why,
                             std::string extra = "") {
    auto prepared = prepareHistogram(body(source, query, extra), kStartMs * 1000000);
    if (auto* e = std::get_if<SqlApiReply>(&prepared)) {
      *why = e->json;
      return -1;
    }
    const auto& p = std::get<PreparedHistogram>(prepared);
    SqlApiReply raw = runUserQuery(*reader_, p.sql.sql, p.sql.params, UserQueryOptions{});
    SqlApiReply shaped = shapeHistogramReply(p, std::move(raw));
    if (shaped.httpStatus != 200) {
      *why = shaped.json + "\n" + p.sql.sql;
      return -1;
    }
    const auto at = shaped.json.find("\"total\":");
    return std::stoll(shaped.json.substr(at + 8));
  }

  static int64_t sqlCount(std::string_view table, std::string_view where) {
    auto r = store_->execute("SELECT count() FROM otel." + std::string(table) + " WHERE " +
                             std::string(where));
    EXPECT_TRUE(r.isOk()) << where << ": " << r.status().toString();
    return r.isOk() ? std::stoll(r.value().data) : -2;
  }

  // Runs a prepared search as web/search_routes.cc does: the windows newest first until one
  // answers, each in its WITH TIES form when its capped answer may lack tied rows. `onTied` sees
  // each WITH TIES answer that replaced a capped one.
  template <typename OnTied>
  static SqlApiReply runAsTheRoute(const PreparedSearch& p, OnTied&& onTied) {
    auto run = [](const SqlRequest& s) {
      return runUserQuery(*reader_, s.sql, s.params, UserQueryOptions{});
    };
    for (size_t at = 0;; ++at) {
      SqlApiReply raw = run(p.windows[at]);
      SearchStep next = searchStep(p, at, false, raw);
      if (next == SearchStep::kTied) {
        raw = run(p.tiedWindows[at]);
        onTied(raw);
        next = searchStep(p, at, true, raw);
      }
      if (next == SearchStep::kAnswer) return raw;
    }
  }
  static SqlApiReply runAsTheRoute(const PreparedSearch& p) {
    return runAsTheRoute(p, [](const SqlApiReply&) {});
  }

  static stackhouse::testing::TempDir* dir_;
  static store::ChdbStore* store_;
  static store::ChdbConnection* reader_;
};
stackhouse::testing::TempDir* SearchResultTest::dir_ = nullptr;
store::ChdbStore* SearchResultTest::store_ = nullptr;
store::ChdbConnection* SearchResultTest::reader_ = nullptr;

struct Case {
  const char* query;
  const char* where;  // hand-written, independent of the builder's SQL
};

TEST_F(SearchResultTest, LogCountsMatchHandWrittenSql) {
  const Case cases[] = {
      {"", "1"},
      {"reset", "hasToken(lower(Body), 'reset')"},
      {"RESET", "hasToken(lower(Body), 'reset')"},
      // Not "reconnection resetting": the phrase's words are whole tokens.
      {"\"connection reset\"",
       "hasToken(lower(Body), 'connection') AND hasToken(lower(Body), 'reset') AND "
       "position(lower(Body), 'connection reset') > 0"},
      {"\"reset by\"",
       "hasToken(lower(Body), 'reset') AND hasToken(lower(Body), 'by') AND "
       "position(lower(Body), 'reset by') > 0"},
      {"priority-3", "position(lower(Body), 'priority-3') > 0"},
      {"priority", "hasToken(lower(Body), 'priority')"},
      {"/v1/parse", "position(Body, '/v1/parse') > 0"},
      {"*eset*", "position(lower(Body), 'eset') > 0"},
      // Substrings across token separators, an underscore that is no wildcard (priority-3 and
      // priority_3 are both in the fixture), and case folded for ASCII letters only.
      {"*/v1/p*", "position(lower(Body), '/v1/p') > 0"},
      {"*Y_3*", "position(Body, 'y_3') > 0"},
      {"*RESET BY*", "positionCaseInsensitive(Body, 'reset by') > 0"},
      {"*CAFé*", "positionCaseInsensitive(Body, 'CAFé') > 0"},
      {"reset*", "arrayExists(t -> startsWith(t, 'reset'), splitByNonAlpha(lower(Body)))"},
      {"*tion", "arrayExists(t -> endsWith(t, 'tion'), splitByNonAlpha(lower(Body)))"},
      {"café", "hasToken(Body, 'café')"},
      {"reset OR timeout", "hasToken(lower(Body), 'reset') OR hasToken(lower(Body), 'timeout')"},
      {"reset -peer", "hasToken(lower(Body), 'reset') AND NOT hasToken(lower(Body), 'peer')"},
      {"NOT reset OR order AND paid",
       "NOT hasToken(lower(Body), 'reset') OR (hasToken(lower(Body), 'order') AND "
       "hasToken(lower(Body), 'paid'))"},
      {"service:checkout", "lower(ServiceName) = 'checkout'"},
      {"service:\"Checkout\"", "ServiceName = 'Checkout'"},
      {"service:*checkout", "ServiceName IN ('checkout', 'web-checkout', 'Checkout')"},
      {"service:web*", "ServiceName = 'web-checkout'"},
      {"level:info", "SeverityText IN ('INFO', 'info')"},
      {"level:\"INFO\"", "SeverityText = 'INFO'"},
      {"SeverityNumber:>=13", "SeverityNumber >= 13"},
      {"SeverityNumber:[5 TO 9}", "SeverityNumber >= 5 AND SeverityNumber < 9"},
      {"LogAttributes.job.id:job-4", "LogAttributes['job.id'] = 'JOB-4'"},
      {"LogAttributes.job.id:\"job-4\"", "0"},
      {"LogAttributes.job.id:*", "mapContains(LogAttributes, 'job.id')"},
      {"job.id:res-1",
       "lower(if(mapContains(LogAttributes, 'job.id'), LogAttributes['job.id'], "
       "ResourceAttributes['job.id'])) = 'res-1'"},
      {"job.id:*", "1"},
      {"retries:*", "mapContains(LogAttributes, 'retries')"},
      {"retries:>3", "toUInt32OrZero(LogAttributes['retries']) > 3"},
      {"http.status_code:[300 TO 400]", "LogAttributes['http.status_code'] IN ('300', '400')"},
      {"k8s.pod.name:API-1", "ResourceAttributes['k8s.pod.name'] = 'api-1'"},
      {"service:(cart OR web-checkout) level:error",
       "ServiceName IN ('cart', 'web-checkout') AND SeverityText = 'ERROR'"},
      {"-job.id:job-4 reset",
       "NOT LogAttributes['job.id'] = 'JOB-4' AND hasToken(lower(Body), 'reset')"},
  };
  for (const Case& c : cases) {
    std::string why;
    const int64_t expected = sqlCount("otel_logs", c.where);
    EXPECT_EQ(searchCount("logs", c.query, &why), expected) << c.query << "\n" << why;
  }
  // The fixture makes most cases non-trivial.
  EXPECT_GT(sqlCount("otel_logs", "hasToken(lower(Body), 'reset')"), 0);
  EXPECT_GT(sqlCount("otel_logs", "position(lower(Body), 'priority-3') > 0"), 0);
}

TEST_F(SearchResultTest, SpanCountsMatchHandWrittenSql) {
  const Case cases[] = {
      {"orders", "hasToken(lower(SpanName), 'orders')"},
      {"\"GET /api/orders\"", "SpanName = 'GET /api/orders'"},
      {"duration:>100", "Duration > 100000000"},
      {"duration:[10 TO 20]", "Duration >= 10000000 AND Duration <= 20000000"},
      {"status:error", "StatusCode = 'Error'"},
      {"http.method:get", "lower(SpanAttributes['http.method']) = 'get'"},
      {"http.method:\"GET\"", "SpanAttributes['http.method'] = 'GET'"},
      {"region:eu service:api", "ResourceAttributes['region'] = 'eu' AND ServiceName = 'api'"},
      {"ParentSpanId:*", "ParentSpanId != ''"},
      {"-ParentSpanId:* kind:server", "ParentSpanId = '' AND SpanKind = 'Server'"},
  };
  for (const Case& c : cases) {
    std::string why;
    const int64_t expected = sqlCount("otel_traces", c.where);
    EXPECT_GT(expected, 0) << c.query;
    EXPECT_EQ(searchCount("traces", c.query, &why), expected) << c.query << "\n" << why;
  }
}

TEST_F(SearchResultTest, CursorPagesCoverEveryRowOnce) {
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;;) {
    std::string extra = ", \"limit\": 37, \"select\": [\"Timestamp\", \"Body\", \"SpanId\"]";
    if (!cursor.empty()) extra += ", \"cursor\": \"" + cursor + "\"";
    auto prepared = prepareSearch(body("logs", "reset OR paid", extra), kStartMs * 1000000);
    ASSERT_TRUE(std::holds_alternative<PreparedSearch>(prepared));
    const auto& p = std::get<PreparedSearch>(prepared);
    SqlApiReply reply = shapeSearchReply(p, runAsTheRoute(p));
    ASSERT_EQ(reply.httpStatus, 200) << reply.json;
    // Each row's SpanId is unique in the fixture.
    for (size_t at = reply.json.find("\"rows\":");
         (at = reply.json.find("\",\"", at)) != std::string::npos;) {
      at = reply.json.find("\",\"", at + 3);
      if (at == std::string::npos) break;
      const size_t end = reply.json.find('"', at + 3);
      EXPECT_TRUE(seen.insert(reply.json.substr(at + 3, end - at - 3)).second);
      at = end;
    }
    ++pages;
    const auto c = reply.json.find("\"cursor\":\"");
    if (c == std::string::npos) break;
    cursor = reply.json.substr(c + 10, reply.json.find('"', c + 10) - c - 10);
    ASSERT_LT(pages, 100);
  }
  const int64_t expected =
      sqlCount("otel_logs", "hasToken(lower(Body), 'reset') OR hasToken(lower(Body), 'paid')");
  EXPECT_EQ(static_cast<int64_t>(seen.size()), expected);
  EXPECT_GT(pages, 3);
}

// The narrowing windows (up to four from a first window of a minute over the fixture's hour, and
// the default: one of an hour) give the same pages
// and cursors as the whole range, for the newest rows, a filter and a sparse match.
TEST_F(SearchResultTest, NarrowingWindowsGiveTheWholeRangesPages) {
  for (const char* query : {"", "reset OR paid", "café", "job.id:JOB-7", "zebra"}) {
    std::string cursor;
    int pages = 0;
    size_t mostWindows = 0;
    for (;;) {
      std::string extra = ", \"limit\": 150, \"select\": [\"Timestamp\", \"Body\", \"SpanId\"]";
      if (!cursor.empty()) extra += ", \"cursor\": \"" + cursor + "\"";
      auto windowed = prepareSearch(body("logs", query, extra), kStartMs * 1000000, 60000000000, 4);
      auto whole = prepareSearch(body("logs", query, extra), kStartMs * 1000000, 0);
      ASSERT_TRUE(std::holds_alternative<PreparedSearch>(windowed));
      ASSERT_TRUE(std::holds_alternative<PreparedSearch>(whole));
      const auto& w = std::get<PreparedSearch>(windowed);
      const auto& f = std::get<PreparedSearch>(whole);
      ASSERT_EQ(f.windows.size(), 1u);
      mostWindows = std::max(mostWindows, w.windows.size());
      // The windows as the route runs them against the whole range in the WITH TIES form alone.
      const SqlApiReply a = shapeSearchReply(w, runAsTheRoute(w));
      const SqlApiReply b =
          shapeSearchReply(f, runUserQuery(*reader_, f.tiedWindows[0].sql, f.tiedWindows[0].params,
                                           UserQueryOptions{}));
      ASSERT_EQ(a.httpStatus, 200) << a.json;
      ASSERT_EQ(b.httpStatus, 200) << b.json;
      // elapsed_ms differs; the rows and the cursor must not.
      const auto cut = [](const std::string& json) {
        return json.substr(0, json.find("\"elapsed_ms\"")) + json.substr(json.find("\"cursor\""));
      };
      EXPECT_EQ(cut(a.json), cut(b.json)) << query << " page " << pages;
      ++pages;
      const auto c = a.json.find("\"cursor\":\"");
      if (c == std::string::npos) break;
      cursor = a.json.substr(c + 10, a.json.find('"', c + 10) - c - 10);
      ASSERT_LT(pages, 100);
    }
    EXPECT_GT(mostWindows, 3u) << query;
  }
}

// A query that pins a trace or span id matches one trace's records: no narrowing window (it
// would never fill a page, and costs a statement), the whole range at once.
TEST_F(SearchResultTest, IdLookupsReadTheWholeRangeAtOnce) {
  const std::string id = "5b8efff798038103d269b633813fc60c";
  const struct {
    const char* source;
    std::string query;
    bool whole;
  } cases[] = {
      {"logs", "trace_id:" + id, true},
      {"logs", "TraceId:\"" + id + "\"", true},
      {"logs", "span_id:051581bf3cb55c13", true},
      {"logs", "reset trace_id:" + id, true},
      {"logs", "service:api AND (trace_id:" + id + ")", true},
      {"traces", "parent_span_id:051581bf3cb55c13 status:error", true},
      {"logs", "reset OR trace_id:" + id, false},
      {"logs", "-trace_id:" + id, false},
      {"logs", "trace_id:5b8e*", false},
      {"logs", "trace_id:*", false},
      {"logs", "reset", false},
      {"logs", id, false},
  };
  for (const auto& c : cases) {
    auto prepared = prepareSearch(body(c.source, c.query, ""), kStartMs * 1000000, 60000000000, 4);
    ASSERT_TRUE(std::holds_alternative<PreparedSearch>(prepared)) << c.query;
    const auto& p = std::get<PreparedSearch>(prepared);
    if (c.whole) {
      ASSERT_EQ(p.windows.size(), 1u) << c.query;
      EXPECT_EQ(p.tiedWindows.size(), 1u) << c.query;
    } else {
      EXPECT_GT(p.windows.size(), 1u) << c.query;
    }
  }
}

// Rows that share one timestamp past the capped statement's LIMIT: the capped answer is seen to
// lack tied rows, the WITH TIES form of the same window runs instead (as the search route does),
// and the pages still cover every row once, in (time, tiebreak) order; with and without a filter.
TEST_F(SearchResultTest, TiedRowsPastTheCapAreReadWithTies) {
  auto tied = store_->execute(R"(INSERT INTO otel.otel_logs (Timestamp, ServiceName, Body)
      SELECT toDateTime64('2026-01-01 02:00:00.5', 9, 'UTC') + toIntervalSecond(intDiv(number, 12)),
        'tied', 'tied row ' || toString(number) FROM numbers(15))");
  ASSERT_TRUE(tied.isOk()) << tied.status().toString();
  const std::string range = R"("from": "2026-01-01T02:00:00Z", "to": "2026-01-01T02:01:00Z")";
  for (std::string_view query : {"", "tied"}) {
    std::set<std::string> seen;
    std::string cursor;
    int pages = 0, tiedAnswers = 0;
    for (;;) {
      std::string request = R"({"source": "logs", "query": ")" + std::string(query) +
                            R"(", "limit": 4, )" + range + R"(, "select": ["Timestamp", "Body"])";
      if (!cursor.empty()) request += R"(, "cursor": ")" + cursor + "\"";
      auto prepared = prepareSearch(request + "}", kStartMs * 1000000);
      ASSERT_TRUE(std::holds_alternative<PreparedSearch>(prepared));
      const auto& p = std::get<PreparedSearch>(prepared);
      SqlApiReply raw = runAsTheRoute(p, [&](const SqlApiReply& tiedAnswer) {
        ++tiedAnswers;
        // All the rows from the page's oldest timestamp on: more than the capped form's 5.
        size_t rows = 0;
        for (size_t i = 0; (i = tiedAnswer.json.find("tied row ", i)) != std::string::npos; ++i) {
          ++rows;
        }
        EXPECT_GT(rows, 5u) << tiedAnswer.json;
      });
      const SqlApiReply reply = shapeSearchReply(p, std::move(raw));
      ASSERT_EQ(reply.httpStatus, 200) << reply.json;
      for (size_t at = 0; (at = reply.json.find("tied row ", at)) != std::string::npos; ++at) {
        const size_t end = reply.json.find('"', at);
        EXPECT_TRUE(seen.insert(reply.json.substr(at, end - at)).second) << reply.json;
      }
      ++pages;
      const auto c = reply.json.find("\"cursor\":\"");
      if (c == std::string::npos) break;
      cursor = reply.json.substr(c + 10, reply.json.find('"', c + 10) - c - 10);
      ASSERT_LT(pages, 20);
    }
    EXPECT_EQ(seen.size(), 15u) << query;
    // The first pages reach the twelve rows of one timestamp: more than the capped form holds.
    EXPECT_GT(tiedAnswers, 0) << query;
  }
  // A page of rows that do not tie past the cap is answered by the capped form alone, filtered
  // or not.
  for (std::string_view query : {"", "reset"}) {
    auto newest = prepareSearch(body("logs", query, ", \"limit\": 5"), kStartMs * 1000000);
    ASSERT_TRUE(std::holds_alternative<PreparedSearch>(newest));
    const auto& n = std::get<PreparedSearch>(newest);
    ASSERT_EQ(n.windows.size(), n.tiedWindows.size());
    for (const auto& w : n.windows) EXPECT_NE(w.sql.find("LIMIT 6"), std::string::npos) << w.sql;
    for (const auto& w : n.windows) EXPECT_EQ(w.sql.find("WITH TIES"), std::string::npos);
    for (const auto& w : n.tiedWindows) EXPECT_NE(w.sql.find("WITH TIES"), std::string::npos);
    const SqlApiReply raw =
        runUserQuery(*reader_, n.windows.back().sql, n.windows.back().params, UserQueryOptions{});
    ASSERT_EQ(raw.httpStatus, 200) << raw.json;
    EXPECT_NE(raw.json.find("\"rows\""), std::string::npos);
    EXPECT_NE(searchStep(n, n.windows.size() - 1, false, raw), SearchStep::kTied) << query;
  }
}

// The histogram with no filter counts the range's whole minutes from the table's per-minute
// projection and the rest from the rows: every bucket as the rows alone count it, for ranges
// that start and end on a minute, between minutes (to the nanosecond), around one whole minute,
// and for buckets that are not whole minutes (the rows alone).
TEST_F(SearchResultTest, TheHistogramWithNoFilterCountsWholeMinutesFromTheProjection) {
  const struct {
    const char* from;
    const char* to;
    int buckets;
    bool minutes;  // whole-minute buckets: the projection's statement
  } cases[] = {
      {"2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", 60, true},
      {"2026-01-01T00:00:00.000000001Z", "2026-01-01T00:59:59.999999999Z", 60, true},
      {"2026-01-01T00:03:17.4Z", "2026-01-01T00:51:02.7Z", 7, true},
      {"2026-01-01T00:10:30Z", "2026-01-01T00:12:20Z", 1, true},   // one whole minute
      {"2026-01-01T00:10:30Z", "2026-01-01T00:11:20Z", 1, false},  // none (a 50 s bucket)
      {"2026-01-01T00:03:17.4Z", "2026-01-01T00:13:02.7Z", 60, false},
  };
  for (const auto& c : cases) {
    const std::string request = std::string(R"({"source": "logs", "query": "", "from": ")") +
                                c.from + R"(", "to": ")" + c.to + R"(", "buckets": )" +
                                std::to_string(c.buckets) + "}";
    auto prepared = prepareHistogram(request, kStartMs * 1000000);
    ASSERT_TRUE(std::holds_alternative<PreparedHistogram>(prepared)) << request;
    const auto& p = std::get<PreparedHistogram>(prepared);
    EXPECT_EQ(p.sql.sql.find("UNION ALL") != std::string::npos, c.minutes) << request;
    const SqlApiReply reply =
        shapeHistogramReply(p, runUserQuery(*reader_, p.sql.sql, p.sql.params, UserQueryOptions{}));
    ASSERT_EQ(reply.httpStatus, 200) << reply.json;
    auto rows = store_->execute(
        "SELECT intDiv(toUnixTimestamp64Milli(Timestamp) - " + std::to_string(p.baseMs) + ", " +
        std::to_string(p.widthMs) +
        ") AS b, count() FROM otel.otel_logs WHERE Timestamp >= parseDateTime64BestEffort('" +
        c.from + "', 9, 'UTC') AND Timestamp < parseDateTime64BestEffort('" + c.to +
        "', 9, 'UTC') GROUP BY b ORDER BY b");
    ASSERT_TRUE(rows.isOk()) << rows.status().toString();
    std::string expected, got;
    uint64_t total = 0;
    for (std::string_view data = rows.value().data; !data.empty();) {
      const size_t eol = data.find('\n');
      const std::string_view line = data.substr(0, eol);
      data.remove_prefix(eol + 1);
      const size_t tab = line.find('\t');
      const int64_t b = std::stoll(std::string(line.substr(0, tab)));
      const std::string n(line.substr(tab + 1));
      expected += std::to_string(p.baseMs + b * p.widthMs) + ":" + n + " ";
      total += std::stoull(n);
    }
    // {"start":<ms>,"count":<n>,...} for every bucket; the empty ones are left out here.
    for (size_t at = 0; (at = reply.json.find("{\"start\":", at)) != std::string::npos; ++at) {
      const std::string start = reply.json.substr(at + 9, reply.json.find(',', at) - at - 9);
      const size_t count = reply.json.find("\"count\":", at) + 8;
      const std::string n = reply.json.substr(count, reply.json.find_first_of(",}", count) - count);
      if (n != "0") got += start + ":" + n + " ";
    }
    EXPECT_EQ(got, expected) << request << "\n" << reply.json;
    EXPECT_NE(reply.json.find("\"total\":" + std::to_string(total)), std::string::npos)
        << reply.json;
    EXPECT_GT(total, 0u) << request;
    if (c.minutes && c.buckets == 60) {
      // The whole minutes come from the projection.
      auto plan = store_->query("EXPLAIN " + p.sql.sql, "TSVRaw", p.sql.params);
      ASSERT_TRUE(plan.isOk()) << plan.status().toString();
      EXPECT_NE(plan.value().data.find("ReadFromMergeTree (p_histogram)"), std::string::npos)
          << plan.value().data;
    }
  }
}

TEST_F(SearchResultTest, SqlModeIsCheckedAndKeepsTheTimeRange) {
  std::string why;
  EXPECT_EQ(searchCount("logs", "SeverityNumber = 17", &why, ", \"mode\": \"sql\""),
            sqlCount("otel_logs", "SeverityNumber = 17"))
      << why;
  // A stray parenthesis cannot lift the time range: it is in PREWHERE.
  auto prepared = prepareHistogram(
      "{\"source\": \"logs\", \"query\": \"1) OR (1\", \"mode\": \"sql\", \"from\": "
      "1767225600000, \"to\": 1767225618000}",
      0);
  ASSERT_TRUE(std::holds_alternative<PreparedHistogram>(prepared));
  const auto& p = std::get<PreparedHistogram>(prepared);
  SqlApiReply shaped =
      shapeHistogramReply(p, runUserQuery(*reader_, p.sql.sql, p.sql.params, UserQueryOptions{}));
  ASSERT_EQ(shaped.httpStatus, 200) << shaped.json;
  EXPECT_NE(shaped.json.find("\"total\":10,"), std::string::npos) << shaped.json;
  // The engine's check refuses what any user query may not do.
  EXPECT_EQ(searchCount("logs", "file('/etc/passwd') != ''", &why, ", \"mode\": \"sql\""), -1);
  EXPECT_NE(why.find("REFUSED"), std::string::npos) << why;
  EXPECT_EQ(searchCount("logs", "1 /*", &why, ", \"mode\": \"sql\""), -1);
}

// A tail poll as TailPoller runs it: the start statement when the cursor has no block yet, then
// the poll. Returns the answer's rows' bodies and sets *after.
std::vector<std::string> tailPoll(store::ChdbConnection& reader, std::string_view query,
                                  std::string* after, int64_t nowNs, std::string extra = "") {
  std::string body = "{\"source\": \"logs\", \"query\": \"" + std::string(query) +
                     "\", \"select\": [\"Body\"], \"after\": \"" + *after + "\"" + extra + "}";
  auto prepared = prepareTail(body, nowNs);
  EXPECT_TRUE(std::holds_alternative<PreparedTail>(prepared));
  if (!std::holds_alternative<PreparedTail>(prepared)) return {};
  auto& p = std::get<PreparedTail>(prepared);
  if (!p.startSql.sql.empty()) {
    SqlApiReply start = runUserQuery(reader, p.startSql.sql, p.startSql.params, UserQueryOptions{});
    EXPECT_TRUE(setTailStart(p, start)) << start.json;
  }
  bool empty = false;
  SqlApiReply reply =
      shapeTailReply(p, runUserQuery(reader, p.sql.sql, p.sql.params, UserQueryOptions{}), &empty);
  EXPECT_EQ(reply.httpStatus, 200) << reply.json << "\n" << p.sql.sql;
  std::vector<std::string> bodies;
  for (size_t at = reply.json.find("[\""); at != std::string::npos;
       at = reply.json.find("[\"", at + 2)) {
    bodies.push_back(reply.json.substr(at + 2, reply.json.find('"', at + 2) - at - 2));
  }
  const auto a = reply.json.find("\"after\":\"");
  EXPECT_NE(a, std::string::npos) << reply.json;
  if (a != std::string::npos)
    *after = reply.json.substr(a + 9, reply.json.find('"', a + 9) - a - 9);
  EXPECT_EQ(empty, bodies.empty());
  return bodies;
}

TEST_F(SearchResultTest, TheTailShowsLateRecordsOnceByInsertOrder) {
  const int64_t now = (kStartMs + 3600 * 1000) * 1000000;  // 01:00:00, the fixture's end
  const auto insert = [](std::string_view time, std::string_view body) {
    auto r = store_->execute(
        "INSERT INTO otel.otel_logs (Timestamp, ServiceName, Body) VALUES (toDateTime64('" +
        std::string(time) + "', 9, 'UTC'), 'tail', '" + std::string(body) + "')");
    ASSERT_TRUE(r.isOk()) << r.status().toString();
  };
  // The client's search showed rows up to 00:59:50; one timed after it was stored before the
  // tail started: the first poll shows it (and nothing stored earlier and timed earlier).
  insert("2026-01-01 00:59:55", "tailcase before-start");
  std::string after = std::to_string((kStartMs + 3590 * 1000) * 1000000);
  EXPECT_EQ(tailPoll(*reader_, "tailcase", &after, now),
            std::vector<std::string>{"tailcase before-start"});
  ASSERT_NE(after.find(':'), std::string::npos) << "the cursor now holds the insert block";
  EXPECT_TRUE(tailPoll(*reader_, "tailcase", &after, now).empty());

  // Late: timed 30 minutes before the newest row shown, stored after it. And a current one.
  insert("2026-01-01 00:30:00", "tailcase late");
  insert("2026-01-01 01:00:00.5", "tailcase current");
  const std::string before = after;
  auto rows = tailPoll(*reader_, "tailcase", &after, now);
  EXPECT_EQ(rows, (std::vector<std::string>{"tailcase current", "tailcase late"}));
  EXPECT_NE(after, before);
  // Shown once: the next poll has nothing, also after the parts are merged.
  EXPECT_TRUE(tailPoll(*reader_, "tailcase", &after, now).empty());
  ASSERT_TRUE(store_->execute("OPTIMIZE TABLE otel.otel_logs FINAL").isOk());
  EXPECT_TRUE(tailPoll(*reader_, "tailcase", &after, now).empty());
  insert("2026-01-01 00:10:00", "tailcase after-merge");
  EXPECT_EQ(tailPoll(*reader_, "tailcase", &after, now),
            std::vector<std::string>{"tailcase after-merge"});
  // More than an hour late: outside the window a poll reads.
  insert("2025-12-31 23:50:00", "tailcase too-late");
  EXPECT_TRUE(tailPoll(*reader_, "tailcase", &after, now).empty());
  // SQL mode follows the same cursor.
  insert("2026-01-01 00:40:00", "tailcase sql");
  EXPECT_EQ(tailPoll(*reader_, "Body LIKE 'tailcase%'", &after, now, ", \"mode\": \"sql\""),
            std::vector<std::string>{"tailcase sql"});
  // A cursor that is not one is refused.
  EXPECT_TRUE(std::holds_alternative<SqlApiReply>(
      prepareTail(R"({"source": "logs", "after": "12:x"})", now)));
  EXPECT_TRUE(std::holds_alternative<SqlApiReply>(
      prepareTail(R"({"source": "logs", "after": "12:-3"})", now)));
}

TEST_F(SearchResultTest, ParseErrorsAreBadRequests) {
  std::string why;
  EXPECT_EQ(searchCount("logs", "level:error AND )", &why), -1);
  EXPECT_NE(why.find("unexpected ')' at column 17"), std::string::npos) << why;
}

}  // namespace
}  // namespace stackhouse::query
