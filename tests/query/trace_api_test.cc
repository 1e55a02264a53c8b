// The trace and services API against the real engine: a fixture of one known trace (nested spans,
// an orphan, events, links, an error, logs inside and outside its time margin) among spans of
// other traces over three days; each answer through the routes' path (prepare -> runUserQuery ->
// shape) compared with the fixture and with hand-written SQL.
#include "query/trace_api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>

#include "support/temp_dir.h"

namespace stackhouse::query {
namespace {

constexpr const char* kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
// 2026-01-02T10:00:00Z
constexpr int64_t kTraceStartNs = 1767348000000000000;

class TraceApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new stackhouse::testing::TempDir();
    auto s = store::ChdbStore::open({dir_->path() + "/db", 10ull * 365 * 24 * 3600});
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = s.value().release();
    // Noise: 3000 spans of 600 other traces over three days, services api/db/pay.
    auto noise = store_->execute(R"(INSERT INTO otel.otel_traces
      (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, Duration,
       StatusCode)
      SELECT toDateTime64('2026-01-01 00:00:00', 9, 'UTC') + toIntervalMillisecond(number * 86400),
        lower(hex(toFixedString(reinterpretAsString(cityHash64(intDiv(number, 5))), 8))) || '0000000000000000',
        lower(hex(cityHash64(number))), '',
        ['GET /api/orders', 'POST /api/orders', 'db.query'][number % 3 + 1], 'Server',
        ['api', 'db', 'pay'][number % 3 + 1], (number % 1000 + 1) * 100000,
        ['Unset', 'Ok', 'Error', 'Unset'][number % 4 + 1]
      FROM numbers(3000))");
    ASSERT_TRUE(noise.isOk()) << noise.status().toString();
    // The trace: root (front) -> child (db, with events and a link) -> grandchild (error);
    // an orphan whose parent was never stored; times with sub-millisecond digits.
    auto trace = store_->execute(
        std::string(R"(INSERT INTO otel.otel_traces
      (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, Duration,
       StatusCode, StatusMessage, SpanAttributes, ResourceAttributes,
       `Events.Timestamp`, `Events.Name`, `Events.Attributes`,
       `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`) VALUES
      ('2026-01-02 10:00:00.000000000', ')") +
        kTrace +
        R"(', '00000000000000a1', '', 'GET /checkout', 'Server', 'front', 50000123, 'Ok', '', {'http.method': 'GET'}, {'service.name': 'front'}, [], [], [], [], [], [], []),
      ('2026-01-02 10:00:00.005250000', ')" +
        kTrace +
        R"(', '00000000000000a2', '00000000000000a1', 'SELECT orders', 'Client', 'db', 20000000, 'Unset', '', {'db.rows': '12'}, {'service.name': 'db'},
        ['2026-01-02 10:00:00.006000001', '2026-01-02 10:00:00.007000002'], ['cache.miss', 'retry'], [{'cache.key': 'user:42'}, {}],
        ['0af7651916cd43dd8448eb211c80319c'], ['b7ad6b7169203331'], ['congo=t61rcWkgMzE'], [{'link.reason': 'caused-by'}]),
      ('2026-01-02 10:00:00.010000000', ')" +
        kTrace +
        R"(', '00000000000000a3', '00000000000000a2', 'charge', 'Internal', 'db', 999, 'Error', 'boom: upstream "db" failed', {}, {'service.name': 'db'}, [], [], [], [], [], [], []),
      ('2026-01-02 10:00:01.500000000', ')" +
        kTrace +
        R"(', '00000000000000a4', '00000000000000ff', 'late work', 'Consumer', 'front', 3000000, 'Unset', '', {}, {'service.name': 'front'}, [], [], [], [], [], [], []))");
    ASSERT_TRUE(trace.isOk()) << trace.status().toString();
    auto logs = store_->execute(
        std::string(R"(INSERT INTO otel.otel_logs
      (Timestamp, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName, Body, LogAttributes) VALUES
      ('2026-01-02 10:00:00.006', ')") +
        kTrace + R"(', '00000000000000a2', 'ERROR', 17, 'db', 'query failed', {'db.rows': '0'}),
      ('2026-01-02 10:00:30', ')" +
        kTrace + R"(', '', 'INFO', 9, 'front', 'retrying later', {}),
      ('2026-01-02 10:05:00', ')" +
        kTrace + R"(', '', 'INFO', 9, 'front', 'far too late', {}),
      ('2026-01-02 10:00:00.006', '0af7651916cd43dd8448eb211c80319c', '', 'INFO', 9, 'front', 'another trace', {}))");
    ASSERT_TRUE(logs.isOk()) << logs.status().toString();
    auto c = store_->openQueryConnection(store::QueryBounds{});
    ASSERT_TRUE(c.isOk()) << c.status().toString();
    reader_ = c.value().release();
  }

  static SqlApiReply run(const SqlRequest& r) {
    return runUserQuery(*reader_, r.sql, r.params, UserQueryOptions{});
  }

  static SqlApiReply trace(std::string_view id) {
    auto prepared = prepareTrace(id);
    if (auto* e = std::get_if<SqlApiReply>(&prepared)) return *e;
    const auto& p = std::get<PreparedTrace>(prepared);
    return shapeTraceReply(p, run(p.spans), run(p.logs));
  }

  static std::string sqlValue(const std::string& sql) {
    auto r = store_->execute(sql);
    EXPECT_TRUE(r.isOk()) << sql << ": " << r.status().toString();
    std::string v = r.isOk() ? r.value().data : "";
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
  }

  static stackhouse::testing::TempDir* dir_;
  static store::ChdbStore* store_;
  static store::ChdbConnection* reader_;
};
stackhouse::testing::TempDir* TraceApiTest::dir_ = nullptr;
store::ChdbStore* TraceApiTest::store_ = nullptr;
store::ChdbConnection* TraceApiTest::reader_ = nullptr;

std::string str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  EXPECT_EQ(e[key].get_string().get(v), simdjson::SUCCESS) << key;
  return std::string(v);
}

TEST_F(TraceApiTest, EverySpanWithEventsLinksAttributesAndTheTracesLogs) {
  const SqlApiReply reply = trace(kTrace);
  ASSERT_EQ(reply.httpStatus, 200) << reply.json;
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(reply.json);
  EXPECT_EQ(str(root, "traceId"), kTrace);
  std::map<std::string, simdjson::dom::element> spans;
  for (simdjson::dom::element s : root["spans"].get_array()) spans[str(s, "spanId")] = s;
  ASSERT_EQ(spans.size(), 4u);
  auto root1 = spans["00000000000000a1"];
  EXPECT_EQ(str(root1, "parentSpanId"), "");
  EXPECT_EQ(str(root1, "name"), "GET /checkout");
  EXPECT_EQ(str(root1, "service"), "front");
  EXPECT_EQ(str(root1, "kind"), "Server");
  EXPECT_EQ(str(root1, "startUnixNano"), std::to_string(kTraceStartNs));
  EXPECT_EQ(str(root1, "durationNano"), "50000123");
  EXPECT_EQ(str(root1["attributes"], "http.method"), "GET");
  EXPECT_EQ(str(root1["resourceAttributes"], "service.name"), "front");

  auto child = spans["00000000000000a2"];
  EXPECT_EQ(str(child, "parentSpanId"), "00000000000000a1");
  EXPECT_EQ(str(child, "startUnixNano"), std::to_string(kTraceStartNs + 5250000));
  simdjson::dom::array events = child["events"].get_array();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(str(events.at(0), "name"), "cache.miss");
  EXPECT_EQ(str(events.at(0), "timeUnixNano"), std::to_string(kTraceStartNs + 6000001));
  EXPECT_EQ(str(events.at(0)["attributes"], "cache.key"), "user:42");
  EXPECT_EQ(str(events.at(1), "name"), "retry");
  simdjson::dom::array links = child["links"].get_array();
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(str(links.at(0), "traceId"), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(str(links.at(0), "spanId"), "b7ad6b7169203331");
  EXPECT_EQ(str(links.at(0), "traceState"), "congo=t61rcWkgMzE");
  EXPECT_EQ(str(links.at(0)["attributes"], "link.reason"), "caused-by");

  auto error = spans["00000000000000a3"];
  EXPECT_EQ(str(error, "statusCode"), "Error");
  EXPECT_EQ(str(error, "statusMessage"), "boom: upstream \"db\" failed");
  EXPECT_EQ(str(error, "durationNano"), "999");
  // The orphan is there, with its missing parent's id.
  EXPECT_EQ(str(spans["00000000000000a4"], "parentSpanId"), "00000000000000ff");

  // Logs: the two within the spans' seconds +/- the margin; not the one 5 minutes later, nor
  // another trace's.
  std::vector<std::string> bodies;
  for (simdjson::dom::element l : root["logs"].get_array()) bodies.push_back(str(l, "body"));
  EXPECT_EQ(bodies, (std::vector<std::string>{"query failed", "retrying later"}));
  simdjson::dom::element first = root["logs"].get_array().at(0);
  EXPECT_EQ(str(first, "spanId"), "00000000000000a2");
  EXPECT_EQ(str(first, "severityText"), "ERROR");
  EXPECT_EQ(int64_t(first["severityNumber"]), 17);
  EXPECT_EQ(bool(root["truncated"]), false);
}

TEST_F(TraceApiTest, IdsOfAnyCaseAreOneTrace) {
  std::string upper = kTrace;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const SqlApiReply reply = trace(upper);
  ASSERT_EQ(reply.httpStatus, 200) << reply.json;
  EXPECT_NE(reply.json.find(std::string("\"traceId\":\"") + kTrace), std::string::npos);
}

TEST_F(TraceApiTest, MalformedIdsAreClearBadRequests) {
  for (std::string_view bad :
       {"", "4bf92f35", "4bf92f3577b34da6a3ce929d0e0e47360", "4bf92f3577b34da6a3ce929d0e0e473g",
        "4bf92f3577b34da6a3ce929d0e0e473'", "../../../../etc/passwd0123456789ab"}) {
    const SqlApiReply reply = trace(bad);
    EXPECT_EQ(reply.httpStatus, 400) << bad;
    EXPECT_NE(reply.json.find("32 hexadecimal digits"), std::string::npos) << reply.json;
  }
}

TEST_F(TraceApiTest, AnUnknownTraceIsNotFound) {
  const SqlApiReply reply = trace("00000000000000000000000000000001");
  EXPECT_EQ(reply.httpStatus, 404) << reply.json;
  EXPECT_NE(reply.json.find("no span of trace 00000000000000000000000000000001"), std::string::npos)
      << reply.json;
}

// "a/b" of the first index condition's "Parts:" line of a plan (the Min-Max one), or empty.
std::string minMaxParts(const std::string& plan) {
  const size_t at = plan.find("Parts: ");
  if (at == std::string::npos) return {};
  return plan.substr(at + 7, plan.find('\n', at) - at - 7);
}

// The statements read the spans table within the trace's own day partition only: the
// trace-id table bounds the range before the spans table is read, and an unknown id reads none.
TEST_F(TraceApiTest, OpeningATraceReadsOnlyItsTimeRange) {
  auto prepared = prepareTrace(kTrace);
  const auto& p = std::get<PreparedTrace>(prepared);
  // The plan, on the store's own connection (a user query may not carry EXPLAIN settings), with
  // the parameters written in (the id is hex: nothing to escape).
  auto literal = [](std::string sql) {
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"{trace_id:String}", std::string("'") + kTrace + "'"},
          {"{margin:Int64}", "60"}}) {
      for (size_t at; (at = sql.find(from)) != std::string::npos;) sql.replace(at, from.size(), to);
    }
    return sql;
  };
  const std::string total = sqlValue(
      "SELECT count() FROM system.parts WHERE database = 'otel' AND table = "
      "'otel_traces' AND active");
  ASSERT_GE(std::stoi(total), 3) << "the fixture spans three days";
  const std::string plan = sqlValue("EXPLAIN indexes = 1 " + literal(p.spans.sql));
  // The Min-Max condition on Timestamp keeps the parts of the trace's day only (2 of 4: the
  // day's noise and the trace), and the TraceId bloom filter one of those.
  EXPECT_EQ(minMaxParts(plan), "2/" + total) << plan;
  EXPECT_NE(plan.find("Parts: 1/2"), std::string::npos) << plan;
  const std::string logPlan = sqlValue("EXPLAIN indexes = 1 " + literal(p.logs.sql));
  EXPECT_NE(logPlan.find("TimestampTime in"), std::string::npos) << logPlan;
  // An unknown id reads nothing at all.
  auto unknown = prepareTrace("00000000000000000000000000000001");
  const auto& u = std::get<PreparedTrace>(unknown);
  std::string unknownSpans = u.spans.sql, unknownLogs = u.logs.sql;
  for (std::string* sql : {&unknownSpans, &unknownLogs}) {
    for (size_t at; (at = sql->find("{trace_id:String}")) != std::string::npos;) {
      sql->replace(at, 17, "'00000000000000000000000000000001'");
    }
    for (size_t at; (at = sql->find("{margin:Int64}")) != std::string::npos;)
      sql->replace(at, 14, "60");
    const std::string none = sqlValue("EXPLAIN indexes = 1 " + *sql);
    const std::string parts = minMaxParts(none);
    EXPECT_TRUE(parts.empty() || parts.starts_with("0/")) << none;
  }
}

TEST_F(TraceApiTest, ServicesMatchHandWrittenSql) {
  // The whole fixture: 2026-01-01 to 2026-01-04.
  auto prepared = prepareServices(R"({"from": 1767225600000, "to": "2026-01-04T00:00:00Z"})", 0);
  ASSERT_TRUE(std::holds_alternative<PreparedServices>(prepared));
  const auto& p = std::get<PreparedServices>(prepared);
  const SqlApiReply reply = shapeServicesReply(p, run(p.sql));
  ASSERT_EQ(reply.httpStatus, 200) << reply.json;
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(reply.json);
  std::set<std::string> names;
  for (simdjson::dom::element s : root["services"].get_array()) {
    const std::string name = str(s, "service");
    names.insert(name);
    const std::string w = " FROM otel.otel_traces WHERE ServiceName = '" + name + "'";
    const uint64_t spans = std::stoull(sqlValue("SELECT count()" + w));
    const uint64_t errors =
        std::stoull(sqlValue("SELECT count()" + w + " AND StatusCode = 'Error'"));
    EXPECT_EQ(uint64_t(s["spans"]), spans) << name;
    EXPECT_EQ(uint64_t(s["errors"]), errors) << name;
    EXPECT_NEAR(double(s["rate"]), static_cast<double>(spans) / (3 * 86400.0), 1e-12) << name;
    EXPECT_NEAR(double(s["errorRate"]), static_cast<double>(errors) / spans, 1e-12) << name;
    // Exact percentiles (interpolated between ranks) of the durations, by hand; the API's
    // reservoir sample is exact below 8192 values.
    const std::string sorted =
        sqlValue("SELECT arrayStringConcat(arraySort(groupArray(Duration)), ',')" + w);
    std::vector<double> d;
    for (size_t at = 0; at < sorted.size();) {
      const size_t comma = sorted.find(',', at);
      d.push_back(std::stod(sorted.substr(at, comma - at)));
      at = comma == std::string::npos ? sorted.size() : comma + 1;
    }
    auto pct = [&d](double q) {
      const double rank = q * static_cast<double>(d.size() - 1);
      const size_t lo = static_cast<size_t>(rank);
      const size_t hi = std::min(lo + 1, d.size() - 1);
      return (d[lo] + (d[hi] - d[lo]) * (rank - static_cast<double>(lo))) / 1e6;
    };
    EXPECT_NEAR(double(s["p50Ms"]), pct(0.5), 1e-6) << name;
    EXPECT_NEAR(double(s["p95Ms"]), pct(0.95), 1e-6) << name;
    EXPECT_NEAR(double(s["p99Ms"]), pct(0.99), 1e-6) << name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"api", "db", "pay", "front"}));
  // A range without spans: no services, not an error.
  auto empty = prepareServices(R"({"from": 1000, "to": 2000})", 0);
  const auto& e = std::get<PreparedServices>(empty);
  const SqlApiReply none = shapeServicesReply(e, run(e.sql));
  ASSERT_EQ(none.httpStatus, 200) << none.json;
  EXPECT_NE(none.json.find("\"services\":[]"), std::string::npos) << none.json;
}

TEST_F(TraceApiTest, OperationsAndSlowestTracesOfOneService) {
  auto prepared = prepareOperations(
      R"({"service": "db", "from": "2026-01-01T00:00:00Z", "to": "2026-01-04T00:00:00Z"})", 0);
  ASSERT_TRUE(std::holds_alternative<PreparedOperations>(prepared));
  const auto& p = std::get<PreparedOperations>(prepared);
  const SqlApiReply reply = shapeOperationsReply(p, run(p.operations), run(p.slowest));
  ASSERT_EQ(reply.httpStatus, 200) << reply.json;
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(reply.json);
  std::map<std::string, uint64_t> ops;
  for (simdjson::dom::element o : root["operations"].get_array())
    ops[str(o, "name")] = uint64_t(o["spans"]);
  std::map<std::string, uint64_t> expected;
  const std::string rows = sqlValue(
      "SELECT arrayStringConcat(groupArray(SpanName || '=' || toString(n)), ';') FROM (SELECT "
      "SpanName, count() AS n FROM otel.otel_traces WHERE ServiceName = 'db' GROUP BY SpanName)");
  for (size_t at = 0; at < rows.size();) {
    const size_t semi = rows.find(';', at);
    const std::string item = rows.substr(at, semi - at);
    const size_t eq = item.rfind('=');
    expected[item.substr(0, eq)] = std::stoull(item.substr(eq + 1));
    at = semi == std::string::npos ? rows.size() : semi + 1;
  }
  EXPECT_EQ(ops, expected);
  // Slowest: one span per trace, slowest first, at most 20.
  std::set<std::string> traces;
  uint64_t previous = UINT64_MAX;
  for (simdjson::dom::element s : root["slowest"].get_array()) {
    EXPECT_TRUE(traces.insert(str(s, "traceId")).second);
    const uint64_t d = std::stoull(str(s, "durationNano"));
    EXPECT_LE(d, previous);
    previous = d;
  }
  EXPECT_EQ(traces.size(), 20u);
  EXPECT_EQ(str(root["slowest"].get_array().at(0), "durationNano"),
            sqlValue("SELECT max(Duration) FROM otel.otel_traces WHERE ServiceName = 'db'"));
  // A service name with quotes is a parameter like any value.
  auto quoted = prepareOperations(R"({"service": "x' OR 1=1 --"})", 1767225600000000000);
  const auto& q = std::get<PreparedOperations>(quoted);
  const SqlApiReply none = shapeOperationsReply(q, run(q.operations), run(q.slowest));
  ASSERT_EQ(none.httpStatus, 200) << none.json;
  EXPECT_NE(none.json.find("\"operations\":[]"), std::string::npos) << none.json;
}

TEST_F(TraceApiTest, BadServiceRequestsSayWhatIsWrong) {
  auto a = prepareOperations(R"({"from": 1, "to": 2})", 0);
  ASSERT_TRUE(std::holds_alternative<SqlApiReply>(a));
  EXPECT_NE(std::get<SqlApiReply>(a).json.find("\\\"service\\\""), std::string::npos);
  auto b = prepareServices(R"({"from": 5, "to": 2})", 0);
  ASSERT_TRUE(std::holds_alternative<SqlApiReply>(b));
  EXPECT_NE(std::get<SqlApiReply>(b).json.find("before"), std::string::npos);
  auto c = prepareServices("[1]", 0);
  ASSERT_TRUE(std::holds_alternative<SqlApiReply>(c));
  EXPECT_EQ(std::get<SqlApiReply>(c).httpStatus, 400);
}

}  // namespace
}  // namespace stackhouse::query
