// The metrics API against the real engine, with values computed by hand: rates over counter
// resets (a drop inside a step, across a step boundary, a new start time), delta against
// cumulative sums, gauges, explicit-bounds histogram quantiles (cumulative with a reset, delta with
// different bounds merged), exponential histogram quantiles (a scale change, negative and zero
// buckets), summary quantiles; and the catalogue, the attribute keys, grouping, the filter, the
// previous period and the bounds. Each request runs as the route runs it: runMetricQuery with its
// statements through runUserQuery on a read connection.
#include "query/metrics_api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <map>

#include "support/temp_dir.h"

namespace stackhouse::query {
namespace {

// 2026-01-01T00:00:00Z; each point is T0 + seconds.
constexpr int64_t kT0Ms = 1767225600000;
constexpr int64_t kStepMs = 60000;

std::string at(int seconds) {
  return "toDateTime64('2026-01-01 00:00:00', 9, 'UTC') + toIntervalSecond(" +
         std::to_string(seconds) + ")";
}

class MetricsApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new stackhouse::testing::TempDir();
    auto s = store::ChdbStore::open({dir_->path() + "/db", 10ull * 365 * 24 * 3600});
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = s.value().release();
    const std::string oldStart = at(-3600), newStart = at(140);
    // A monotonic cumulative counter. A: a reset at 130 s (across the boundary of steps 0 and 1)
    // with its start time kept; B: a reset inside step 0; C: A's attributes, a new start time.
    std::string sum =
        "INSERT INTO otel.otel_metrics_sum (ServiceName, ResourceAttributes, MetricName, "
        "MetricUnit, MetricDescription, Attributes, StartTimeUnix, TimeUnix, Value, "
        "AggregationTemporality, IsMonotonic) VALUES ";
    auto point = [](std::string& sql, const std::string& name, const std::string& attrs,
                    const std::string& start, int t, double v, int temporality, bool monotonic) {
      if (sql.back() == ')') sql += ", ";
      sql += "('api', map('service.name', 'api', 'host.name', 'h1'), '" + name +
             "', '{request}', 'Requests', " + attrs + ", " + start + ", " + at(t) + ", " +
             std::to_string(v) + ", " + std::to_string(temporality) + ", " +
             (monotonic ? "true" : "false") + ")";
    };
    const std::string a = "map('route', '/a')", b = "map('route', '/b')";
    for (auto [t, v] :
         {std::pair{30, 100}, {70, 110}, {100, 130}, {130, 20}, {160, 50}, {190, 80}, {220, 90}}) {
      point(sum, "c.requests", a, oldStart, t, v, 2, true);
    }
    for (auto [t, v] : {std::pair{65, 5}, {75, 15}, {85, 3}, {95, 13}, {125, 20}}) {
      point(sum, "c.requests", b, oldStart, t, v, 2, true);
    }
    for (auto [t, v] : {std::pair{150, 5}, {170, 9}})
      point(sum, "c.requests", a, newStart, t, v, 2, true);
    // A delta sum; and an up-down counter (non-monotonic, cumulative).
    for (auto [t, v] : {std::pair{65, 5}, {90, 7}, {130, 11}})
      point(sum, "d.bytes", a, oldStart, t, v, 1, true);
    point(sum, "d.bytes", b, oldStart, 100, 1, 1, true);
    for (auto [t, v] : {std::pair{70, 4}, {110, 6}})
      point(sum, "u.active", a, oldStart, t, v, 2, false);
    point(sum, "u.active", b, oldStart, 80, 10, 2, false);
    run(sum);

    run("INSERT INTO otel.otel_metrics_gauge (ServiceName, ResourceAttributes, MetricName, "
        "MetricUnit, MetricDescription, Attributes, TimeUnix, Value) VALUES "
        "('api', map('host.name', 'a'), 'g.temp', 'Cel', 'Temperature', map(), " +
        at(62) +
        ", 10), "
        "('api', map('host.name', 'a'), 'g.temp', 'Cel', 'Temperature', map(), " +
        at(90) +
        ", 20), "
        "('api', map('host.name', 'a'), 'g.temp', 'Cel', 'Temperature', map(), " +
        at(125) +
        ", 30), "
        "('api', map('host.name', 'b'), 'g.temp', 'Cel', 'Temperature', map(), " +
        at(70) +
        ", 100), "
        "('api', map('host.name', 'b'), 'g.temp', 'Cel', 'Temperature', map(), " +
        at(110) + ", 50)");

    // Explicit bounds, cumulative (bounds 10, 100, 1000) with a reset at 200 s; and delta, two
    // series with different bounds.
    const std::string hist =
        "INSERT INTO otel.otel_metrics_histogram (ServiceName, ResourceAttributes, MetricName, "
        "MetricUnit, Attributes, StartTimeUnix, TimeUnix, Count, Sum, BucketCounts, "
        "ExplicitBounds, AggregationTemporality) VALUES ";
    run(hist + "('api', map(), 'h.latency', 'ms', map(), " + oldStart + ", " + at(50) +
        ", 2, 60, [1, 1, 0, 0], [10, 100, 1000], 2), ('api', map(), 'h.latency', 'ms', map(), " +
        oldStart + ", " + at(110) +
        ", 28, 5000, [3, 9, 14, 2], [10, 100, 1000], 2), "
        "('api', map(), 'h.latency', 'ms', map(), " +
        oldStart + ", " + at(170) +
        ", 40, 5400, [5, 19, 14, 2], [10, 100, 1000], 2), ('api', map(), 'h.latency', 'ms', "
        "map(), " +
        oldStart + ", " + at(200) +
        ", 1, 4, [1, 0, 0, 0], [10, 100, 1000], 2), "
        "('api', map(), 'hd.size', 'By', map('s', '1'), " +
        oldStart + ", " + at(70) +
        ", 10, 100, [4, 4, 2], [10, 20], 1), ('api', map(), 'hd.size', 'By', map('s', '2'), " +
        oldStart + ", " + at(80) + ", 10, 100, [6, 4], [15], 1)");

    // Exponential: cumulative at scale 0, then scale -1 at 170 s; delta at scale 1 with negative
    // and zero buckets.
    const std::string exp =
        "INSERT INTO otel.otel_metrics_exponential_histogram (ServiceName, ResourceAttributes, "
        "MetricName, MetricUnit, Attributes, StartTimeUnix, TimeUnix, Count, Sum, Scale, "
        "ZeroCount, PositiveOffset, PositiveBucketCounts, NegativeOffset, NegativeBucketCounts, "
        "AggregationTemporality) VALUES ";
    run(exp + "('api', map(), 'e.latency', 's', map(), " + oldStart + ", " + at(50) +
        ", 2, 3, 0, 0, 0, [1, 1], 0, [], 2), ('api', map(), 'e.latency', 's', map(), " + oldStart +
        ", " + at(110) +
        ", 12, 40, 0, 0, 0, [3, 5, 4], 0, [], 2), ('api', map(), 'e.latency', "
        "'s', map(), " +
        oldStart + ", " + at(170) +
        ", 16, 60, -1, 0, 0, [10, 6], 0, [], 2), "
        "('api', map(), 'ed.delta', 's', map(), " +
        oldStart + ", " + at(70) + ", 8, 0, 1, 2, 2, [2], 0, [4], 1)");

    run("INSERT INTO otel.otel_metrics_summary (ServiceName, ResourceAttributes, MetricName, "
        "MetricUnit, Attributes, TimeUnix, Count, Sum, ValueAtQuantiles.Quantile, "
        "ValueAtQuantiles.Value) VALUES "
        "('api', map(), 's.rpc', 'ms', map('peer', 'x'), " +
        at(70) +
        ", 1, 1, [0.5, 0.9, 0.99], [10, 50, 90]), "
        "('api', map(), 's.rpc', 'ms', map('peer', 'x'), " +
        at(100) +
        ", 1, 1, [0.5, 0.9, 0.99], [12, 60, 100]), "
        "('api', map(), 's.rpc', 'ms', map('peer', 'y'), " +
        at(80) + ", 1, 1, [0.5, 0.9, 0.99], [20, 40, 80])");

    auto c = store_->openQueryConnection(store::QueryBounds{});
    ASSERT_TRUE(c.isOk()) << c.status().toString();
    reader_ = c.value().release();
  }

  static void run(const std::string& sql) {
    auto r = store_->execute(sql);
    ASSERT_TRUE(r.isOk()) << r.status().toString() << "\n" << sql;
  }

  // Runs a /query body as the route does; the answer's JSON.
  static SqlApiReply query(const std::string& fields, int fromS = 60, int toS = 240) {
    const std::string body = "{" + fields + ", \"from\": " + std::to_string(kT0Ms + fromS * 1000) +
                             ", \"to\": " + std::to_string(kT0Ms + toS * 1000) +
                             ", \"step\": \"60s\"}";
    RunStatement statement = [](SqlRequest sql, std::function<void(SqlApiReply)> then) {
      then(runUserQuery(*reader_, sql.sql, sql.params, UserQueryOptions{}));
    };
    SqlApiReply out;
    runMetricQuery(body, kT0Ms * 1000000, statement, [&](SqlApiReply r) { out = std::move(r); });
    return out;
  }

  // The points of the answer: series label text ("" without groupBy) -> step -> value, step 0
  // starting at T0 + 60 s.
  static std::map<std::string, std::map<int, double>> points(const std::string& fields,
                                                             const char* key = "series",
                                                             int fromS = 60) {
    const SqlApiReply r = query(fields, fromS);
    EXPECT_EQ(r.httpStatus, 200) << fields << "\n" << r.json;
    std::map<std::string, std::map<int, double>> out;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(r.json).get(root) != simdjson::SUCCESS) return out;
    simdjson::dom::array series;
    if (root[key].get_array().get(series) != simdjson::SUCCESS) return out;
    for (simdjson::dom::element s : series) {
      std::string label;
      simdjson::dom::object labels;
      simdjson::dom::array pts;
      if (s["labels"].get_object().get(labels) != simdjson::SUCCESS ||
          s["points"].get_array().get(pts) != simdjson::SUCCESS) {
        ADD_FAILURE() << r.json;
        return out;
      }
      for (auto field : labels) {
        std::string_view v;
        if (field.value.get_string().get(v) == simdjson::SUCCESS) label += v;
      }
      for (simdjson::dom::element p : pts) {
        simdjson::dom::array pair;
        int64_t t = 0;
        double v = 0;
        if (p.get_array().get(pair) != simdjson::SUCCESS || pair.size() != 2 ||
            pair.at(0).get_int64().get(t) != simdjson::SUCCESS ||
            pair.at(1).get_double().get(v) != simdjson::SUCCESS) {
          ADD_FAILURE() << r.json;
          return out;
        }
        out[label][static_cast<int>((t - kT0Ms - kStepMs) / kStepMs)] = v;
      }
    }
    return out;
  }

  static stackhouse::testing::TempDir* dir_;
  static store::ChdbStore* store_;
  static store::ChdbConnection* reader_;
};
stackhouse::testing::TempDir* MetricsApiTest::dir_ = nullptr;
store::ChdbStore* MetricsApiTest::store_ = nullptr;
store::ChdbConnection* MetricsApiTest::reader_ = nullptr;

using Points = std::map<int, double>;

void expectPoints(const Points& got, const Points& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (const auto& [step, v] : want) {
    ASSERT_TRUE(got.count(step)) << what << " step " << step;
    EXPECT_NEAR(got.at(step), v, 1e-9 * std::max(1.0, std::fabs(v))) << what << " step " << step;
  }
}

TEST_F(MetricsApiTest, CounterIncreaseReadsDropsAsResets) {
  // Steps [60,120) [120,180) [180,240) s. A: 100@30 (read before the range) 110 130 | 20 50 |
  // 80 90: 10+20, then 20 (reset from 130) +30, then 30+10. B: 5 15 3 13 | 20: 10+3+10, 7.
  // C (A's attributes, a new start time): 5 9 in step 1: 4 (its first point counts nothing).
  auto all = points(R"("metric": "c.requests", "aggregation": "increase")");
  expectPoints(all[""], {{0, 53}, {1, 61}, {2, 40}}, "increase");
  auto rate = points(R"("metric": "c.requests")");  // rate is the default
  expectPoints(rate[""], {{0, 53 / 60.0}, {1, 61 / 60.0}, {2, 40 / 60.0}}, "rate");
  auto byRoute =
      points(R"("metric": "c.requests", "aggregation": "increase", "groupBy": ["route"])");
  ASSERT_EQ(byRoute.size(), 2u);
  expectPoints(byRoute["/a"], {{0, 30}, {1, 54}, {2, 40}}, "/a");
  expectPoints(byRoute["/b"], {{0, 23}, {1, 7}}, "/b");
  auto filtered =
      points(R"("metric": "c.requests", "aggregation": "increase", "where": "route:/b")");
  expectPoints(filtered[""], {{0, 23}, {1, 7}}, "route:/b");
  auto negated = points(
      R"("metric": "c.requests", "aggregation": "increase", "where": "-route:\"/b\" host.name:h1")");
  expectPoints(negated[""], {{0, 30}, {1, 54}, {2, 40}}, "-route:/b");
}

TEST_F(MetricsApiTest, DeltaSumsAddUpAndCumulativeLevelsTakeTheLast) {
  // Delta: 5 + 7 (+1 from /b) in step 0, 11 in step 1.
  expectPoints(points(R"("metric": "d.bytes")")[""], {{0, 13}, {1, 11}}, "delta sum");
  expectPoints(points(R"("metric": "d.bytes", "aggregation": "rate")")[""],
               {{0, 13 / 60.0}, {1, 11 / 60.0}}, "delta rate");
  expectPoints(points(R"("metric": "d.bytes", "aggregation": "increase")")[""], {{0, 13}, {1, 11}},
               "delta increase");
  // Up-down counter: the last value of each series in the step, added: 6 + 10.
  expectPoints(points(R"("metric": "u.active")")[""], {{0, 16}}, "up-down last");
}

TEST_F(MetricsApiTest, GaugeAggregations) {
  // Host a: 10 20 | 30; host b: 100 50.
  expectPoints(points(R"("metric": "g.temp")")[""], {{0, 45}, {1, 30}}, "avg (default)");
  expectPoints(points(R"("metric": "g.temp", "aggregation": "last")")[""], {{0, 70}, {1, 30}},
               "last");
  expectPoints(points(R"("metric": "g.temp", "aggregation": "min")")[""], {{0, 10}, {1, 30}},
               "min");
  expectPoints(points(R"("metric": "g.temp", "aggregation": "max")")[""], {{0, 100}, {1, 30}},
               "max");
  expectPoints(points(R"("metric": "g.temp", "aggregation": "sum")")[""], {{0, 180}, {1, 30}},
               "sum");
  auto byHost = points(R"("metric": "g.temp", "aggregation": "last", "groupBy": "host.name")");
  expectPoints(byHost["a"], {{0, 20}, {1, 30}}, "host a");
  expectPoints(byHost["b"], {{0, 50}}, "host b");
}

TEST_F(MetricsApiTest, ExplicitHistogramQuantiles) {
  // Increases: step 0 [2, 8, 14, 2] (26), step 1 [2, 10, 0, 0] (12), step 2 a reset: [1, 0, 0, 0].
  expectPoints(points(R"("metric": "h.latency", "aggregation": "p50")")[""],
               {{0, 100 + 900 * 3.0 / 14}, {1, 10 + 90 * 4.0 / 10}, {2, 5}}, "p50");
  expectPoints(points(R"("metric": "h.latency", "aggregation": "p90")")[""],
               {{0, 100 + 900 * 13.4 / 14}, {1, 10 + 90 * 8.8 / 10}, {2, 9}}, "p90");
  // p99 of step 0 falls in +Inf: the largest finite bound.
  expectPoints(points(R"("metric": "h.latency")")[""],
               {{0, 1000}, {1, 10 + 90 * 9.88 / 10}, {2, 9.9}}, "p99 (default)");
  expectPoints(points(R"("metric": "h.latency", "aggregation": "avg")")[""],
               {{0, 4940.0 / 26}, {1, 400.0 / 12}, {2, 4}}, "avg");
  expectPoints(points(R"("metric": "h.latency", "aggregation": "rate")")[""],
               {{0, 26 / 60.0}, {1, 12 / 60.0}, {2, 1 / 60.0}}, "rate");
  // Delta, bounds [10, 20] and [15] merged on [10, 15, 20]: [4, 2, 2, 2] + [4, 2, 0, 4].
  expectPoints(points(R"("metric": "hd.size", "aggregation": "p50")")[""], {{0, 12.5}},
               "merged p50");
  expectPoints(points(R"("metric": "hd.size", "aggregation": "p99")")[""], {{0, 20}}, "merged p99");
}

TEST_F(MetricsApiTest, ExponentialHistogramQuantiles) {
  // Step 0: [3, 5, 4] - [1, 1] at scale 0 (base 2): [2, 4, 4] over (1,2] (2,4] (4,8].
  // Step 1: scale -1 (base 4) [10, 6] - [8, 4] (step 0's last, downscaled) = [2, 2] over (1,4]
  // (4,16].
  expectPoints(points(R"("metric": "e.latency", "aggregation": "p50")")[""], {{0, 3.5}, {1, 4}},
               "p50");
  expectPoints(points(R"("metric": "e.latency", "aggregation": "p90")")[""],
               {{0, 7}, {1, 4 + 12 * 1.6 / 2}}, "p90");
  expectPoints(points(R"("metric": "e.latency", "aggregation": "avg")")[""],
               {{0, 37.0 / 10}, {1, 20.0 / 4}}, "avg");
  // Delta at scale 1: 4 in [-sqrt2, -1), 2 zeros, 2 in (2, 2 sqrt2].
  expectPoints(points(R"("metric": "ed.delta", "aggregation": "p50")")[""], {{0, -1}},
               "negative p50");
  expectPoints(points(R"("metric": "ed.delta", "aggregation": "p90")")[""],
               {{0, 2 + (2 * std::sqrt(2.0) - 2) * 1.2 / 2}}, "positive p90");
}

TEST_F(MetricsApiTest, SummaryQuantiles) {
  // x: the last point of the step (100 s): 12 / 60 / 100; y: 20 / 40 / 80; the larger per step.
  expectPoints(points(R"("metric": "s.rpc", "aggregation": "p50")")[""], {{0, 20}}, "p50");
  expectPoints(points(R"("metric": "s.rpc")")[""], {{0, 100}}, "p99");
  expectPoints(points(R"("metric": "s.rpc", "aggregation": "p95")")[""],
               {{0, 60 + 40 * 0.05 / 0.09}}, "p95 interpolated");
  auto byPeer = points(R"("metric": "s.rpc", "aggregation": "p50", "groupBy": ["peer"])");
  expectPoints(byPeer["x"], {{0, 12}}, "x");
  expectPoints(byPeer["y"], {{0, 20}}, "y");
}

TEST_F(MetricsApiTest, PreviousPeriodIsShiftedOntoThisOne) {
  // This period [120, 240): 61 and 40 (as above). The previous one, [0, 120), shifted by 120 s:
  // [0, 60) holds A's first point alone (no pair: no value), [60, 120) 30 (A) + 23 (B).
  const std::string body =
      R"("metric": "c.requests", "aggregation": "increase", "comparePrevious": true)";
  expectPoints(points(body, "series", 120)[""], {{1, 61}, {2, 40}}, "this period");
  expectPoints(points(body, "previous", 120)[""], {{2, 53}}, "previous period");
  EXPECT_EQ(query(R"("metric": "c.requests")", 120).json.find("\"previous\""), std::string::npos);
}

TEST_F(MetricsApiTest, CatalogueAndAttributes) {
  const std::string range =
      "\"from\": " + std::to_string(kT0Ms) + ", \"to\": " + std::to_string(kT0Ms + 3600000);
  auto names = prepareMetricNames("{" + range + "}", 0);
  ASSERT_TRUE(std::holds_alternative<SqlRequest>(names));
  const auto& sql = std::get<SqlRequest>(names);
  SqlApiReply raw = runUserQuery(*reader_, sql.sql, sql.params, UserQueryOptions{});
  SqlApiReply shaped = shapeMetricNamesReply(raw);
  ASSERT_EQ(shaped.httpStatus, 200) << shaped.json << "\n" << sql.sql;
  for (
      const char* want :
      {R"({"name":"c.requests","type":"sum","monotonic":true,"temporality":"cumulative","unit":"{request}","description":"Requests","aggregations":["rate",)",
       R"({"name":"d.bytes","type":"sum","monotonic":true,"temporality":"delta")",
       R"({"name":"e.latency","type":"exponential_histogram","temporality":"cumulative","unit":"s")",
       R"({"name":"g.temp","type":"gauge","unit":"Cel","description":"Temperature","aggregations":["avg",)",
       R"({"name":"h.latency","type":"histogram","temporality":"cumulative","unit":"ms","description":"","aggregations":["p99",)",
       R"({"name":"s.rpc","type":"summary","unit":"ms")",
       R"({"name":"u.active","type":"sum","monotonic":false,"temporality":"cumulative")"}) {
    EXPECT_NE(shaped.json.find(want), std::string::npos) << want << "\n" << shaped.json;
  }
  EXPECT_NE(
      shaped.json.find(
          R"("name":"c.requests","type":"sum","monotonic":true,"temporality":"cumulative","unit":"{request}","description":"Requests","aggregations":["rate","increase","last","avg","min","max"],"series":2,"points":14})"),
      std::string::npos)
      << shaped.json;

  auto attrs = prepareMetricAttributes("{\"metric\": \"c.requests\", " + range + "}", 0);
  ASSERT_TRUE(std::holds_alternative<SqlRequest>(attrs));
  const auto& a = std::get<SqlRequest>(attrs);
  shaped = shapeMetricAttributesReply(runUserQuery(*reader_, a.sql, a.params, UserQueryOptions{}));
  ASSERT_EQ(shaped.httpStatus, 200) << shaped.json << "\n" << a.sql;
  EXPECT_NE(shaped.json.find(R"({"key":"route","source":"attribute","series":2,"values":[)"),
            std::string::npos)
      << shaped.json;
  EXPECT_NE(
      shaped.json.find(R"({"key":"host.name","source":"resource","series":2,"values":["h1"]})"),
      std::string::npos)
      << shaped.json;
}

TEST_F(MetricsApiTest, ErrorsAreClear) {
  struct Case {
    std::string fields;
    int status;
    const char* message;
  };
  const Case cases[] = {
      {R"("metric": "nope")", 404, "no metric named 'nope'"},
      {R"("metric": "g.temp", "aggregation": "rate")", 400, "does not apply to this gauge"},
      {R"("metric": "g.temp", "where": "free text")", 400, "no free text"},
      {R"("metric": "g.temp", "where": "a:(b")", 400, "column"},
      {R"("metric": "g.temp", "groupBy": ["a", "b", "c", "d"])", 400, "at most 3"},
      {R"("metric": "g.temp", "type": "counter")", 400, "must be gauge, sum"},
      {R"("metric": "")", 400, "must name a metric"},
  };
  for (const Case& c : cases) {
    const SqlApiReply r = query(c.fields);
    EXPECT_EQ(r.httpStatus, c.status) << c.fields << "\n" << r.json;
    EXPECT_NE(r.json.find(c.message), std::string::npos) << c.fields << "\n" << r.json;
  }
  // Too many steps: a 1 s step over a day.
  RunStatement never = [](SqlRequest, std::function<void(SqlApiReply)> then) {
    then(errorReply(500, 0, "X", "must not run"));
  };
  SqlApiReply out;
  runMetricQuery(R"({"metric": "g.temp", "from": 0, "to": 86400000, "step": "1s"})", 0, never,
                 [&](SqlApiReply r) { out = std::move(r); });
  EXPECT_EQ(out.httpStatus, 400);
  EXPECT_NE(out.json.find("the limit is 1500"), std::string::npos) << out.json;
}

}  // namespace
}  // namespace stackhouse::query
