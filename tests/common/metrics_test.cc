#include "common/metrics.h"

#include <gtest/gtest.h>

namespace stackhouse {
namespace {

TEST(Metrics, RendersPrometheusText) {
  MetricsRegistry r;
  r.counter("requests_total", "Requests.", {{"signal", "logs"}}).inc(3);
  r.counter("requests_total", "Requests.", {{"signal", "traces"}}).inc();
  r.gauge("queue_depth", "Depth.").set(7);
  auto& h = r.histogram("latency_seconds", "Latency.", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const std::string text = r.render();
  EXPECT_NE(text.find("# TYPE requests_total counter\nrequests_total{signal=\"logs\"} 3\n"
                      "requests_total{signal=\"traces\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("queue_depth 7\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_sum 5.55\n"), std::string::npos) << text;
}

TEST(Metrics, TheSameSeriesTwiceIsOneSeries) {
  MetricsRegistry r;
  Counter& a = r.counter("hits_total", "Hits.", {{"k", "v"}});
  Counter& b = r.counter("hits_total", "Hits.", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
  a.inc();
  b.inc();
  const std::string text = r.render();
  EXPECT_NE(text.find("hits_total{k=\"v\"} 2\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("hits_total{k=\"v\"} 2\nhits_total"), std::string::npos) << text;
}

}  // namespace
}  // namespace stackhouse
