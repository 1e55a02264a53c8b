// The 5-minute metric rollups against the points, in the real engine: every chart of a gauge and
// sum answered from the rollups (and the points around them) must equal the chart answered from
// the points alone. The points: counters with drops inside buckets, across bucket and step
// boundaries and with new start times, jittered times and inserts out of order; delta sums,
// up-down counters and gauges; then late points into buckets already rolled.
#include "store/metric_rollup.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <random>

#include "otlp/decode.h"
#include "query/metrics_api.h"
#include "query/user_query.h"
#include "sinks/clickhouse/chdb_sink.h"
#include "store/schema.h"
#include "support/temp_dir.h"

namespace stackhouse::store {
namespace {

// 2026-01-01T00:00:00Z.
constexpr int64_t kT0Ms = 1767225600000;
constexpr int64_t kHourMs = 3600 * 1000;

struct Point {
  std::string metric;
  int series;
  int64_t startMs;
  int64_t timeNs;
  double value;
  int temporality;  // 1 delta, 2 cumulative
  bool monotonic;
};

// "2026-01-01 00:00:01.123456789", UTC.
std::string timeText(int64_t ns) {
  const std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%09lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(ns % 1'000'000'000));
  return text;
}

// A row of literals (the engine's fast path for VALUES; the session's time zone is UTC).
std::string row(const Point& p, bool sum) {
  const std::string service = "svc-" + std::to_string(p.series % 2);
  std::string r = "('" + service + "', {'service.name': '" + service + "', 'host.name': 'h" +
                  std::to_string(p.series % 3) + "'}, '" + p.metric + "', 'u', 'd', {'route': '/r" +
                  std::to_string(p.series) + "', 'code': '" +
                  std::to_string(200 + 100 * (p.series % 4)) + "'}, '" +
                  timeText(p.startMs * 1'000'000) + "', '" + timeText(p.timeNs) + "', " +
                  std::to_string(p.value);
  if (sum) r += ", " + std::to_string(p.temporality) + ", " + (p.monotonic ? "true" : "false");
  return r + ")";
}

class MetricRollupTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new stackhouse::testing::TempDir();
    auto s = ChdbStore::open({dir_->path() + "/db", 10ull * 365 * 24 * 3600});
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = s.value().release();
    ASSERT_TRUE(store_->execute("SET session_timezone = 'UTC'").isOk());
    auto c = store_->openQueryConnection(QueryBounds{});
    ASSERT_TRUE(c.isOk()) << c.status().toString();
    reader_ = c.value().release();

    std::mt19937_64 rng(20261207);
    std::uniform_int_distribution<int> jitter(-3000, 3000);
    std::uniform_int_distribution<int> step(0, 40);
    std::vector<Point> points;
    // Eight hours of points every 10 s (jittered, a few missing) from T0 - 10 min.
    for (int series = 0; series < 6; ++series) {
      double counter = 1000.0 * series;
      int64_t start = kT0Ms - 2 * kHourMs;
      double gaugeValue = 50;
      for (int64_t t = kT0Ms - 600'000; t < kT0Ms + 8 * kHourMs; t += 10'000) {
        if (step(rng) == 0) continue;  // a missing point
        const int64_t ns = (t + jitter(rng)) * 1'000'000;
        counter += step(rng);
        // Series 1 drops without a new start time now and then (a reset the chart must see),
        // sometimes twice within a bucket; series 2 restarts with a new start time every 2 h.
        if (series == 1 && step(rng) < 2) counter = step(rng);
        if (series == 2 && (t - kT0Ms) % (2 * kHourMs) == 0) {
          counter = 0;
          start = t - 1000;
        }
        points.push_back({"c.requests", series, start, ns, counter, 2, true});
        points.push_back({"d.bytes", series, t - 10'000, ns, double(step(rng)), 1, true});
        if (series < 3) {
          points.push_back({"u.active", series, start, ns, double(step(rng)) - 20, 2, false});
        }
        gaugeValue += step(rng) - 20;
        points.push_back({"g.depth", series, 0, ns, gaugeValue, 0, false});
      }
    }
    std::shuffle(points.begin(), points.end(), rng);
    insert(points);
  }

  static void insert(const std::vector<Point>& points) {
    std::string sum, gauge;
    auto flush = [](std::string& sql, const char* table, bool isSum) {
      if (sql.empty()) return;
      std::string head = std::string("INSERT INTO otel.") + table +
                         " (ServiceName, ResourceAttributes, MetricName, MetricUnit, "
                         "MetricDescription, Attributes, StartTimeUnix, TimeUnix, Value" +
                         (isSum ? ", AggregationTemporality, IsMonotonic" : "") + ") VALUES ";
      auto r = store_->execute(head + sql);
      ASSERT_TRUE(r.isOk()) << r.status().toString();
      sql.clear();
    };
    size_t n = 0;
    for (const Point& p : points) {
      const bool isSum = p.metric != "g.depth";
      std::string& sql = isSum ? sum : gauge;
      if (!sql.empty()) sql += ", ";
      sql += row(p, isSum);
      if (++n % 4000 == 0) {
        flush(sum, "otel_metrics_sum", true);
        flush(gauge, "otel_metrics_gauge", false);
      }
    }
    flush(sum, "otel_metrics_sum", true);
    flush(gauge, "otel_metrics_gauge", false);
  }

  // A chart over [from, to) through the metrics API, as the route runs it: with the rollups up to
  // `rolledUntilMs` (0: the points alone). `usedRollup` tells whether a statement read them.
  static std::map<std::string, std::map<int64_t, double>> chart(const std::string& fields,
                                                                int64_t fromMs, int64_t toMs,
                                                                int64_t rolledUntilMs,
                                                                bool* usedRollup = nullptr) {
    const std::string body = "{" + fields + ", \"from\": " + std::to_string(fromMs) +
                             ", \"to\": " + std::to_string(toMs) + "}";
    bool used = false;
    query::RunStatement run = [&used](query::SqlRequest sql,
                                      std::function<void(query::SqlApiReply)> then) {
      if (sql.sql.find("_5m") != std::string::npos) used = true;
      then(query::runUserQuery(*reader_, sql.sql, sql.params, query::UserQueryOptions{}));
    };
    query::SqlApiReply reply;
    query::runMetricQuery(
        body, (kT0Ms + 24 * kHourMs) * 1'000'000, run,
        [&](query::SqlApiReply r) { reply = std::move(r); }, rolledUntilMs);
    if (usedRollup != nullptr) *usedRollup = used;
    EXPECT_EQ(reply.httpStatus, 200) << fields << "\n" << reply.json.substr(0, 2000);
    std::map<std::string, std::map<int64_t, double>> out;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(reply.json).get(root) != simdjson::SUCCESS) return out;
    for (const char* key : {"series", "previous"}) {
      simdjson::dom::array series;
      if (root[key].get_array().get(series) != simdjson::SUCCESS) continue;
      for (simdjson::dom::element s : series) {
        std::string label = key;
        simdjson::dom::object labels;
        if (s["labels"].get_object().get(labels) == simdjson::SUCCESS) {
          for (auto field : labels) {
            std::string_view v;
            if (field.value.get_string().get(v) == simdjson::SUCCESS) label += "|" + std::string(v);
          }
        }
        simdjson::dom::array pts;
        if (s["points"].get_array().get(pts) != simdjson::SUCCESS) continue;
        for (simdjson::dom::element p : pts) {
          simdjson::dom::array pair;
          int64_t t = 0;
          double v = 0;
          if (p.get_array().get(pair) == simdjson::SUCCESS && pair.size() == 2 &&
              pair.at(0).get_int64().get(t) == simdjson::SUCCESS &&
              pair.at(1).get_double().get(v) == simdjson::SUCCESS) {
            out[label][t] = v;
          }
        }
      }
    }
    return out;
  }

  // Every chart asked both ways gives the same series, steps and values.
  static void expectSameCharts(int64_t rolledUntilMs, int64_t fromMs, int64_t toMs) {
    const std::string charts[] = {
        R"("metric": "c.requests", "step": "5m")",
        R"("metric": "c.requests", "aggregation": "increase", "groupBy": ["route"], "step": "5m")",
        R"("metric": "c.requests", "aggregation": "increase", "groupBy": ["service.name", "code"], "step": "5m")",
        R"("metric": "c.requests", "where": "code:>=400 -host.name:h2", "step": "5m")",
        R"("metric": "c.requests", "aggregation": "last", "groupBy": ["host.name"], "step": "5m")",
        R"("metric": "c.requests", "aggregation": "avg", "step": "5m")",
        R"("metric": "c.requests", "step": "15m", "comparePrevious": true)",
        R"("metric": "d.bytes", "step": "5m")",
        R"("metric": "d.bytes", "aggregation": "sum", "groupBy": ["route"], "step": "5m")",
        R"("metric": "u.active", "aggregation": "last", "step": "5m")",
        R"("metric": "u.active", "aggregation": "min", "groupBy": ["route"], "step": "5m")",
        R"("metric": "g.depth", "aggregation": "avg", "groupBy": ["service.name"], "step": "5m")",
        R"("metric": "g.depth", "aggregation": "last", "step": "5m")",
        R"("metric": "g.depth", "aggregation": "max", "step": "10m")",
        R"("metric": "g.depth", "aggregation": "min", "where": "route:/r3", "step": "5m")",
    };
    for (const std::string& fields : charts) {
      bool usedRollup = false;
      const auto points = chart(fields, fromMs, toMs, 0);
      const auto rolled = chart(fields, fromMs, toMs, rolledUntilMs, &usedRollup);
      EXPECT_TRUE(usedRollup) << fields;
      ASSERT_FALSE(points.empty()) << fields;
      ASSERT_EQ(rolled.size(), points.size()) << fields;
      for (const auto& [label, values] : points) {
        ASSERT_TRUE(rolled.count(label)) << fields << " " << label;
        const auto& got = rolled.at(label);
        ASSERT_EQ(got.size(), values.size()) << fields << " " << label;
        for (const auto& [t, v] : values) {
          ASSERT_TRUE(got.count(t)) << fields << " " << label << " at " << t;
          EXPECT_NEAR(got.at(t), v, 1e-9 * std::max(1.0, std::fabs(v)))
              << fields << " " << label << " at " << t;
        }
      }
    }
  }

  static stackhouse::testing::TempDir* dir_;
  static ChdbStore* store_;
  static ChdbConnection* reader_;
};
stackhouse::testing::TempDir* MetricRollupTest::dir_ = nullptr;
ChdbStore* MetricRollupTest::store_ = nullptr;
ChdbConnection* MetricRollupTest::reader_ = nullptr;

TEST_F(MetricRollupTest, ChartsFromRollupsEqualChartsFromPoints) {
  int64_t now = kT0Ms + 5 * kHourMs + 123'456;
  // Late buckets past 8 are rolled again by their whole hour.
  auto opened =
      MetricRollup::open(*store_, {.maxDirtyBuckets = 8, .nowMs = [&now] { return now; }}, nullptr);
  ASSERT_TRUE(opened.isOk()) << opened.status().toString();
  MetricRollup& rollup = *opened.value();
  // Nothing rolled yet: the range starts at the oldest point's bucket.
  EXPECT_EQ(rollup.rolledMs(), kT0Ms - 600'000 - 300'000);
  ASSERT_TRUE(rollup.runOnce().isOk());
  // Rolled to the last bucket that ended a minute (the lateness) before now.
  EXPECT_EQ(rollup.rolledMs(), kT0Ms + 5 * kHourMs);

  // The rolled range ends inside the chart: rollups before it, points after it. Ranges on and
  // off the 5-minute grid.
  expectSameCharts(rollup.rolledMs(), kT0Ms, kT0Ms + 8 * kHourMs);
  expectSameCharts(rollup.rolledMs(), kT0Ms + 7 * 60'000 + 17, kT0Ms + 7 * kHourMs + 190'001);

  now = kT0Ms + 30 * kHourMs;
  ASSERT_TRUE(rollup.runOnce().isOk());
  EXPECT_EQ(rollup.rolledMs(), kT0Ms + 30 * kHourMs - 300'000);
  expectSameCharts(rollup.rolledMs(), kT0Ms + 20 * 60'000, kT0Ms + 8 * kHourMs);

  // Late points into buckets rolled already (a drop among them): dirty once the insert is
  // reported, rolled again at the next pass, and the charts agree again. Twenty buckets over
  // two hours: eight one by one, the rest by their hours.
  std::vector<Point> late;
  telemetry::TimestampColumn sumTimes, gaugeTimes;
  for (int i = 0; i < 20; ++i) {
    const int64_t ns = (kT0Ms + kHourMs + i * 397'000 + 5) * 1'000'000;
    late.push_back({"c.requests", 4, kT0Ms - 2 * kHourMs, ns, i == 7 ? 1.0 : 9e5 + i, 2, true});
    late.push_back({"g.depth", 5, 0, ns, 1e4 + i, 0, false});
    sumTimes.append(ns);
    gaugeTimes.append(ns);
  }
  insert(late);
  rollup.inserted("otel_metrics_sum", sumTimes);
  rollup.inserted("otel_metrics_gauge", gaugeTimes);
  rollup.inserted("otel_logs", sumTimes);  // not a rolled table: ignored
  ASSERT_TRUE(rollup.runOnce().isOk());
  expectSameCharts(rollup.rolledMs(), kT0Ms, kT0Ms + 8 * kHourMs);
  // The earlier versions of the late buckets are gone: one row per series and bucket.
  auto dupes = store_->execute(
      "SELECT count() FROM (SELECT MetricName, Bucket, Sid FROM otel.otel_metrics_sum_5m GROUP BY "
      "MetricName, Bucket, Sid HAVING count() > 1)");
  ASSERT_TRUE(dupes.isOk()) << dupes.status().toString();
  EXPECT_EQ(dupes->data, "0\n");

  // A restart finds the rolled range again, and a chart over a short range reads the points.
  auto again = MetricRollup::open(*store_, {.nowMs = [&now] { return now; }}, nullptr);
  ASSERT_TRUE(again.isOk()) << again.status().toString();
  // From an hour before the end of the newest bucket with points (the empty buckets after it
  // are read again), replacing that hour.
  EXPECT_EQ(again.value()->rolledMs(), kT0Ms + 7 * kHourMs);
  ASSERT_TRUE(again.value()->runOnce().isOk());
  EXPECT_EQ(again.value()->rolledMs(), rollup.rolledMs());
  expectSameCharts(again.value()->rolledMs(), kT0Ms, kT0Ms + 8 * kHourMs);
  auto dupesAfter = store_->execute(
      "SELECT count() FROM (SELECT MetricName, Bucket, Sid FROM otel.otel_metrics_gauge_5m GROUP "
      "BY MetricName, Bucket, Sid HAVING count() > 1)");
  ASSERT_TRUE(dupesAfter.isOk()) << dupesAfter.status().toString();
  EXPECT_EQ(dupesAfter->data, "0\n");
  bool usedRollup = true;
  chart(R"("metric": "c.requests")", kT0Ms, kT0Ms + 30 * 60'000, rollup.rolledMs(), &usedRollup);
  EXPECT_FALSE(usedRollup);
  chart(R"("metric": "c.requests", "step": "1m")", kT0Ms, kT0Ms + 4 * kHourMs, rollup.rolledMs(),
        &usedRollup);
  EXPECT_FALSE(usedRollup) << "a step that is not a multiple of 5 minutes reads the points";
}

// The ClickHouse sink tells the rollup of the points it commits: a point for a bucket rolled
// already is in the rollups after the next pass.
TEST_F(MetricRollupTest, ThePointsTheSinkCommitsLateAreRolledAgain) {
  const int64_t now = kT0Ms + 30 * kHourMs;
  auto opened = MetricRollup::open(*store_, {.nowMs = [now] { return now; }}, nullptr);
  ASSERT_TRUE(opened.isOk()) << opened.status().toString();
  MetricRollup& rollup = *opened.value();
  ASSERT_TRUE(rollup.runOnce().isOk());
  ASSERT_EQ(rollup.rolledMs(), kT0Ms + 30 * kHourMs - 300'000);

  const int64_t lateNs = (kT0Ms + 2 * kHourMs + 61'000) * 1'000'000;
  const std::string body =
      R"({"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value":
      {"stringValue": "late"}}]}, "scopeMetrics": [{"metrics": [{"name": "g.late", "gauge":
      {"dataPoints": [{"timeUnixNano": ")" +
      std::to_string(lateNs) + R"(", "asDouble": 42.5}]}}]}]}]})";
  telemetry::MetricBatch batch;
  otlp::DecodeStats stats;
  ASSERT_TRUE(otlp::decodeMetrics({reinterpret_cast<const uint8_t*>(body.data()), body.size()},
                                  otlp::Encoding::kJson, batch, stats)
                  .isOk());
  ASSERT_EQ(batch.gauge.rows(), 1u);
  store_->setRollup(&rollup);
  sinks::ChdbSink sink(*store_);
  const telemetry::MetricBatch* parts[] = {&batch};
  ASSERT_TRUE(sink.writeMetrics(parts, "late-1", pipeline::Attempt::kFirst).isOk());
  store_->setRollup(nullptr);

  const std::string fields = R"("metric": "g.late", "aggregation": "last", "step": "5m")";
  auto before = chart(fields, kT0Ms, kT0Ms + 8 * kHourMs, rollup.rolledMs());
  EXPECT_TRUE(before.empty() || before.begin()->second.empty()) << "not rolled again yet";
  ASSERT_TRUE(rollup.runOnce().isOk());
  bool usedRollup = false;
  auto after = chart(fields, kT0Ms, kT0Ms + 8 * kHourMs, rollup.rolledMs(), &usedRollup);
  EXPECT_TRUE(usedRollup);
  ASSERT_EQ(after.size(), 1u);
  const std::map<int64_t, double> want{{kT0Ms + 2 * kHourMs, 42.5}};
  EXPECT_EQ(after.begin()->second, want);
}

}  // namespace
}  // namespace stackhouse::store
