// The mapping's behaviour across scrapes: start times and resets, staleness, failed scrapes,
// limits, and Prometheus's rules for labels that clash with the target's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "receivers/prometheus/scrape_mapper.h"

namespace stackhouse::receivers::prometheus {
namespace {

constexpr int64_t kT0 = 1700000000000000000;
constexpr int64_t kStep = 15'000'000'000;

TargetIdentity target(bool honorLabels = false) {
  TargetIdentity t;
  t.job = "app";
  t.instance = "10.0.0.1:8080";
  t.scheme = "http";
  t.host = "10.0.0.1";
  t.port = "8080";
  t.labels = {{"team", "a"}};
  t.honorLabels = honorLabels;
  return t;
}

std::map<std::string, std::string> attributesOf(const telemetry::MapColumn& m, size_t row) {
  std::map<std::string, std::string> out;
  for (auto i = static_cast<size_t>(m.offset(row)); i < static_cast<size_t>(m.offset(row + 1));
       ++i) {
    out[std::string(m.keys().at(i))] = std::string(m.values().at(i));
  }
  return out;
}

Status scrape(ScrapeMapper& m, std::string_view body, int64_t t, telemetry::MetricBatch& out,
              ScrapeCounts& counts, const ScrapeLimits& limits = {}) {
  return m.map(body, Format::kText, limits, t, out, counts);
}

TEST(ScrapeMapper, CounterStartTimeAndReset) {
  ScrapeMapper m(target());
  ScrapeCounts c;
  telemetry::MetricBatch b;
  const char* body = "# TYPE x_total counter\nx_total 10\n";
  ASSERT_TRUE(scrape(m, body, kT0, b, c).isOk());
  EXPECT_EQ(c.seriesAdded, 1u);
  ASSERT_TRUE(scrape(m, "# TYPE x_total counter\nx_total 12\n", kT0 + kStep, b, c).isOk());
  EXPECT_EQ(c.seriesAdded, 0u);
  ASSERT_TRUE(scrape(m, "# TYPE x_total counter\nx_total 2\n", kT0 + 2 * kStep, b, c).isOk());
  ASSERT_EQ(b.sum.rows(), 3u);
  EXPECT_EQ(b.sum.common.startTimeUnix.at(0), kT0);
  EXPECT_EQ(b.sum.common.startTimeUnix.at(1), kT0);              // carried over
  EXPECT_EQ(b.sum.common.startTimeUnix.at(2), kT0 + 2 * kStep);  // reset: starts again
  EXPECT_EQ(b.sum.isMonotonic.at(0), 1);
  EXPECT_EQ(b.sum.aggregationTemporality.at(0), 2);
  EXPECT_EQ(b.sum.common.metricName.at(0), "x_total");
}

TEST(ScrapeMapper, StalenessWhenASeriesDisappears) {
  ScrapeMapper m(target());
  ScrapeCounts c;
  telemetry::MetricBatch b;
  ASSERT_TRUE(scrape(m, "g{k=\"1\"} 1\ng{k=\"2\"} 2\n", kT0, b, c).isOk());
  ASSERT_TRUE(scrape(m, "g{k=\"1\"} 1\n", kT0 + kStep, b, c).isOk());
  EXPECT_EQ(c.staleMarkers, 1u);
  ASSERT_EQ(b.gauge.rows(), 4u);
  // The stale point: k=2, the stale NaN, flags "no recorded value".
  EXPECT_TRUE(isStaleNaN(b.gauge.value.at(3)));
  EXPECT_EQ(b.gauge.common.flags.at(3), kNoRecordedValue);
  EXPECT_EQ(b.gauge.common.timeUnix.at(3), kT0 + kStep);
  auto attrs = attributesOf(b.gauge.common.attributes, 3);
  EXPECT_EQ(attrs["k"], "2");
  EXPECT_EQ(attrs["team"], "a");
  EXPECT_EQ(m.seriesCount(), 1u);
}

// Every kind of series that disappears gets its stale point in its own table, with its identity
// (name, labels, the target's resource) and its start time; one that comes back afterwards is a
// new series, starting again.
TEST(ScrapeMapper, StalenessForEveryKindAndTheSeriesThatComesBack) {
  ScrapeMapper m(target());
  ScrapeCounts c;
  telemetry::MetricBatch b;
  const char* all =
      "# TYPE x_total counter\nx_total{path=\"/a\"} 10\n"
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 3\n"
      "# TYPE s summary\ns{quantile=\"0.5\"} 4\ns_count 9\ns_sum 20\n"
      "# TYPE g gauge\ng 1\n";
  ASSERT_TRUE(scrape(m, all, kT0, b, c).isOk());
  EXPECT_EQ(c.staleMarkers, 0u);
  ASSERT_EQ(b.sum.rows(), 1u);
  ASSERT_EQ(b.histogram.rows(), 1u);
  ASSERT_EQ(b.summary.rows(), 1u);
  c = {};
  ASSERT_TRUE(scrape(m, "# TYPE g gauge\ng 2\n", kT0 + kStep, b, c).isOk());
  EXPECT_EQ(c.staleMarkers, 3u);
  EXPECT_EQ(m.seriesCount(), 1u);
  ASSERT_EQ(b.sum.rows(), 2u);
  ASSERT_EQ(b.histogram.rows(), 2u);
  ASSERT_EQ(b.summary.rows(), 2u);
  // The counter's stale point.
  EXPECT_EQ(b.sum.common.metricName.at(1), "x_total");
  EXPECT_TRUE(isStaleNaN(b.sum.value.at(1)));
  EXPECT_EQ(b.sum.common.flags.at(1), kNoRecordedValue);
  EXPECT_EQ(b.sum.common.timeUnix.at(1), kT0 + kStep);
  EXPECT_EQ(b.sum.common.startTimeUnix.at(1), kT0);
  EXPECT_EQ(b.sum.isMonotonic.at(1), 1);
  EXPECT_EQ(attributesOf(b.sum.common.attributes, 1),
            (std::map<std::string, std::string>{{"path", "/a"}, {"team", "a"}}));
  EXPECT_EQ(attributesOf(b.sum.common.resourceAttributes, 1)["service.name"], "app");
  EXPECT_EQ(attributesOf(b.sum.common.resourceAttributes, 1)["service.instance.id"],
            "10.0.0.1:8080");
  EXPECT_EQ(b.sum.common.serviceName.at(1), "app");
  // The histogram's and the summary's: no count, no buckets, flagged.
  EXPECT_EQ(b.histogram.common.metricName.at(1), "h");
  EXPECT_EQ(b.histogram.common.flags.at(1), kNoRecordedValue);
  EXPECT_EQ(b.histogram.count.at(1), 0u);
  EXPECT_EQ(b.histogram.common.timeUnix.at(1), kT0 + kStep);
  EXPECT_EQ(b.summary.common.metricName.at(1), "s");
  EXPECT_EQ(b.summary.common.flags.at(1), kNoRecordedValue);
  EXPECT_EQ(b.summary.count.at(1), 0u);
  // The gauge still there: a value, not flagged.
  ASSERT_EQ(b.gauge.rows(), 2u);
  EXPECT_EQ(b.gauge.common.flags.at(1), 0u);
  EXPECT_EQ(b.gauge.value.at(1), 2);
  // The counter comes back: a new series (counted as added), starting at its return.
  c = {};
  ASSERT_TRUE(scrape(m, "# TYPE x_total counter\nx_total{path=\"/a\"} 11\n# TYPE g gauge\ng 3\n",
                     kT0 + 2 * kStep, b, c)
                  .isOk());
  EXPECT_EQ(c.staleMarkers, 0u);
  EXPECT_EQ(c.seriesAdded, 1u);
  ASSERT_EQ(b.sum.rows(), 3u);
  EXPECT_EQ(b.sum.common.flags.at(2), 0u);
  EXPECT_EQ(b.sum.common.startTimeUnix.at(2), kT0 + 2 * kStep);
  // Nothing else disappeared: no more stale points.
  c = {};
  ASSERT_TRUE(scrape(m, "# TYPE x_total counter\nx_total{path=\"/a\"} 12\n# TYPE g gauge\ng 3\n",
                     kT0 + 3 * kStep, b, c)
                  .isOk());
  EXPECT_EQ(c.staleMarkers, 0u);
}

// As Prometheus's scrape loop: a sample with its own timestamp, when timestamps are honored,
// bypasses staleness (no stale point when it disappears, nor when the target fails); when they
// are not honored, it is an ordinary series.
TEST(ScrapeMapper, ExplicitTimestampsBypassStalenessWhenHonored) {
  for (const bool honor : {true, false}) {
    SCOPED_TRACE(honor ? "honorTimestamps" : "timestamps ignored");
    TargetIdentity t = target();
    t.honorTimestamps = honor;
    ScrapeMapper m(t);
    ScrapeCounts c;
    telemetry::MetricBatch b;
    ASSERT_TRUE(scrape(m, "stamped 1 1700000000000\nplain 2\n", kT0, b, c).isOk());
    c = {};
    ASSERT_TRUE(scrape(m, "other 3\n", kT0 + kStep, b, c).isOk());
    EXPECT_EQ(c.staleMarkers, honor ? 1u : 2u);
    std::vector<std::string> stale;
    for (size_t i = 0; i < b.gauge.rows(); ++i) {
      if (b.gauge.common.flags.at(i) == kNoRecordedValue) {
        stale.emplace_back(b.gauge.common.metricName.at(i));
      }
    }
    std::sort(stale.begin(), stale.end());
    const std::vector<std::string> expected =
        honor ? std::vector<std::string>{"plain"} : std::vector<std::string>{"plain", "stamped"};
    EXPECT_EQ(stale, expected);
    // A failed scrape: the same rule.
    ASSERT_TRUE(scrape(m, "stamped 1 1700000015000\nplain 2\n", kT0 + 2 * kStep, b, c).isOk());
    EXPECT_EQ(m.markAllStale(kT0 + 3 * kStep, b), honor ? 1u : 2u);
    EXPECT_EQ(m.seriesCount(), 0u);
  }
}

// A target that goes down (every scrape failing) gets its stale points once, at the first failed
// scrape; when it comes back its series start again.
TEST(ScrapeMapper, ATargetDownStalesOnceAndStartsAgainWhenBack) {
  ScrapeMapper m(target());
  ScrapeCounts c;
  telemetry::MetricBatch b;
  ASSERT_TRUE(scrape(m, "# TYPE x_total counter\nx_total 5\ng 1\n", kT0, b, c).isOk());
  EXPECT_EQ(m.markAllStale(kT0 + kStep, b), 2u);
  EXPECT_EQ(m.markAllStale(kT0 + 2 * kStep, b), 0u);
  c = {};
  ASSERT_TRUE(scrape(m, "# TYPE x_total counter\nx_total 6\ng 1\n", kT0 + 3 * kStep, b, c).isOk());
  EXPECT_EQ(c.seriesAdded, 2u);
  EXPECT_EQ(c.staleMarkers, 0u);
  ASSERT_EQ(b.sum.rows(), 3u);
  EXPECT_EQ(b.sum.common.flags.at(1), kNoRecordedValue);
  EXPECT_EQ(b.sum.common.timeUnix.at(1), kT0 + kStep);
  EXPECT_EQ(b.sum.common.startTimeUnix.at(2), kT0 + 3 * kStep);
}

TEST(ScrapeMapper, FailedScrapeRollsBackAndStalesEverything) {
  ScrapeMapper m(target());
  ScrapeCounts c;
  telemetry::MetricBatch b;
  ASSERT_TRUE(scrape(m,
                     "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                     "h_count 2\nh_sum 3\ng 1\n",
                     kT0, b, c)
                  .isOk());
  const size_t gauges = b.gauge.rows(), histograms = b.histogram.rows();
  Status s = scrape(m, "g 2\nnew_series 3\nbroken{\n", kT0 + kStep, b, c);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
  EXPECT_EQ(b.gauge.rows(), gauges);  // rolled back
  EXPECT_EQ(b.histogram.rows(), histograms);
  // Both series of the last good scrape get a stale point; new_series was never stored.
  EXPECT_EQ(m.markAllStale(kT0 + kStep, b), 2u);
  EXPECT_EQ(b.histogram.rows(), histograms + 1);
  EXPECT_EQ(b.histogram.common.flags.at(histograms), kNoRecordedValue);
  EXPECT_EQ(b.gauge.common.metricName.at(gauges), "g");
  EXPECT_EQ(m.seriesCount(), 0u);
}

TEST(ScrapeMapper, SampleLimitFailsTheScrape) {
  ScrapeMapper m(target());
  ScrapeCounts c;
  telemetry::MetricBatch b;
  ScrapeLimits limits;
  limits.sampleLimit = 2;
  Status s = scrape(m, "a 1\nb 1\nc 1\n", kT0, b, c, limits);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("sampleLimit"), std::string::npos);
  EXPECT_EQ(b.rows(), 0u);
}

TEST(ScrapeMapper, LabelClashesWithoutHonorLabels) {
  ScrapeMapper m(target(false));
  ScrapeCounts c;
  telemetry::MetricBatch b;
  ASSERT_TRUE(scrape(m, "g{job=\"x\",instance=\"y\",team=\"b\",empty=\"\"} 1\n", kT0, b, c).isOk());
  auto attrs = attributesOf(b.gauge.common.attributes, 0);
  EXPECT_EQ(attrs, (std::map<std::string, std::string>{{"exported_job", "x"},
                                                       {"exported_instance", "y"},
                                                       {"exported_team", "b"},
                                                       {"team", "a"}}));
  auto resource = attributesOf(b.gauge.common.resourceAttributes, 0);
  EXPECT_EQ(resource["service.name"], "app");
  EXPECT_EQ(resource["service.instance.id"], "10.0.0.1:8080");
  EXPECT_EQ(resource["server.port"], "8080");
  EXPECT_EQ(resource["url.scheme"], "http");
  EXPECT_EQ(b.gauge.common.serviceName.at(0), "app");
}

TEST(ScrapeMapper, LabelClashesWithHonorLabels) {
  ScrapeMapper m(target(true));
  ScrapeCounts c;
  telemetry::MetricBatch b;
  ASSERT_TRUE(scrape(m, "g{job=\"x\",team=\"b\"} 1\n", kT0, b, c).isOk());
  auto attrs = attributesOf(b.gauge.common.attributes, 0);
  EXPECT_EQ(attrs, (std::map<std::string, std::string>{{"team", "b"}}));
  EXPECT_EQ(b.gauge.common.serviceName.at(0), "x");
  EXPECT_EQ(attributesOf(b.gauge.common.resourceAttributes, 0)["service.instance.id"],
            "10.0.0.1:8080");
}

// The series' identities share one buffer that is rewritten once most of it belongs to series
// gone: after 190 of 200 series disappear (their stale points written from the buffer), the ten
// left still get stale points with their own name, labels and honored job.
TEST(ScrapeMapper, StalePointsKeepTheirIdentityWhenTheIdentitiesAreCompacted) {
  ScrapeMapper m(target(true));
  ScrapeCounts c;
  telemetry::MetricBatch b;
  std::string all;
  for (int i = 0; i < 200; ++i) {
    all += "g" + std::to_string(i) + "{path=\"/p/" + std::to_string(i) + "\"" +
           (i % 10 == 0 ? ",job=\"batch" + std::to_string(i) + "\"" : "") + "} " +
           std::to_string(i) + "\n";
  }
  ASSERT_TRUE(scrape(m, all, kT0, b, c).isOk());
  ASSERT_EQ(m.seriesCount(), 200u);
  std::string kept;
  for (int i = 0; i < 200; i += 20) {
    kept += "g" + std::to_string(i) + "{path=\"/p/" + std::to_string(i) + "\",job=\"batch" +
            std::to_string(i) + "\"} " + std::to_string(i) + "\n";
  }
  // Of the series gone, every tenth carried a job of its own; the others have the target's.
  b = telemetry::MetricBatch{};
  ASSERT_TRUE(scrape(m, kept, kT0 + kStep, b, c).isOk());
  EXPECT_EQ(c.staleMarkers, 190u);
  ASSERT_EQ(m.seriesCount(), 10u);
  ASSERT_EQ(b.gauge.rows(), 200u);
  for (size_t row = 10; row < 200; ++row) {
    const std::string name(b.gauge.common.metricName.at(row));
    const int i = std::stoi(name.substr(1));
    EXPECT_TRUE(isStaleNaN(b.gauge.value.at(row))) << name;
    EXPECT_EQ(
        attributesOf(b.gauge.common.attributes, row),
        (std::map<std::string, std::string>{{"path", "/p/" + std::to_string(i)}, {"team", "a"}}))
        << name;
    EXPECT_EQ(b.gauge.common.serviceName.at(row), i % 10 == 0 ? "batch" + std::to_string(i) : "app")
        << name;
  }

  b = telemetry::MetricBatch{};
  ASSERT_TRUE(scrape(m, "", kT0 + 2 * kStep, b, c).isOk());
  EXPECT_EQ(c.staleMarkers, 10u);
  ASSERT_EQ(b.gauge.rows(), 10u);
  std::map<std::string, std::string> jobs;
  for (size_t row = 0; row < 10; ++row) {
    const std::string name(b.gauge.common.metricName.at(row));
    EXPECT_TRUE(isStaleNaN(b.gauge.value.at(row))) << name;
    EXPECT_EQ(attributesOf(b.gauge.common.attributes, row).at("path"), "/p/" + name.substr(1));
    EXPECT_EQ(attributesOf(b.gauge.common.resourceAttributes, row)["service.instance.id"],
              "10.0.0.1:8080");
    jobs[name] = std::string(b.gauge.common.serviceName.at(row));
  }
  for (int i = 0; i < 200; i += 20) {
    EXPECT_EQ(jobs["g" + std::to_string(i)], "batch" + std::to_string(i));
  }
}

TEST(ScrapeMapper, HonorTimestamps) {
  for (bool honor : {true, false}) {
    TargetIdentity t = target();
    t.honorTimestamps = honor;
    ScrapeMapper m(t);
    ScrapeCounts c;
    telemetry::MetricBatch b;
    ASSERT_TRUE(scrape(m, "g 1 1600000000000\n", kT0, b, c).isOk());
    EXPECT_EQ(b.gauge.common.timeUnix.at(0), honor ? 1600000000000000000 : kT0);
  }
}

TEST(ScrapeMapper, HistogramBucketsFromInterleavedLines) {
  ScrapeMapper m(target());
  ScrapeCounts c;
  telemetry::MetricBatch b;
  ASSERT_TRUE(scrape(m,
                     "# TYPE h histogram\n"
                     "h_bucket{p=\"a\",le=\"+Inf\"} 5\n"
                     "h_bucket{p=\"b\",le=\"1\"} 1\n"
                     "h_bucket{p=\"a\",le=\"1\"} 2\n"
                     "h_bucket{p=\"b\",le=\"+Inf\"} 1\n"
                     "h_count{p=\"a\"} 5\nh_sum{p=\"a\"} 7\n"
                     "h_count{p=\"b\"} 1\nh_sum{p=\"b\"} 0.5\n",
                     kT0, b, c)
                  .isOk());
  ASSERT_EQ(b.histogram.rows(), 2u);
  EXPECT_EQ(b.histogram.count.at(0), 5u);
  EXPECT_EQ(b.histogram.sum.at(0), 7);
  const auto& counts = b.histogram.bucketCounts;
  ASSERT_EQ(counts.offset(1) - counts.offset(0), 2);
  EXPECT_EQ(counts.child().at(0), 2u);
  EXPECT_EQ(counts.child().at(1), 3u);
  EXPECT_EQ(b.histogram.explicitBounds.child().at(0), 1);
  EXPECT_EQ(b.histogram.explicitBounds.offset(1), 1);
}

TEST(ScrapeMapper, ScrapeSeries) {
  ScrapeMapper m(target());
  ScrapeCounts c;
  c.samplesScraped = 7;
  c.samplesPostRelabeling = 7;
  c.seriesAdded = 3;
  telemetry::MetricBatch b;
  m.appendScrapeSeries(false, 0.5, c, kT0, b);
  ASSERT_EQ(b.gauge.rows(), 5u);
  EXPECT_EQ(b.gauge.common.metricName.at(0), "up");
  EXPECT_EQ(b.gauge.value.at(0), 0);
  EXPECT_EQ(b.gauge.common.metricName.at(1), "scrape_duration_seconds");
  EXPECT_EQ(b.gauge.value.at(1), 0.5);
  EXPECT_EQ(b.gauge.value.at(2), 7);
  EXPECT_EQ(b.gauge.common.metricName.at(4), "scrape_series_added");
  EXPECT_EQ(b.gauge.value.at(4), 3);
  EXPECT_EQ(attributesOf(b.gauge.common.attributes, 0)["team"], "a");
}

}  // namespace
}  // namespace stackhouse::receivers::prometheus
