// The chart arithmetic on its own (no engine): steps, Prometheus's histogram_quantile edge cases,
// merging histograms whose bounds differ, exponential buckets and scales, summary quantiles.
#include "query/metrics/metric_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace stackhouse::query::metrics {
namespace {

TEST(MetricMath, AutoStepIsReadableAndNearRangeOver300) {
  EXPECT_EQ(autoStepMs(24 * 3600 * 1000), 300000);  // 24 h -> 5 min, 288 points
  EXPECT_EQ(autoStepMs(3600 * 1000), 15000);        // 1 h -> 15 s, 240 points
  EXPECT_EQ(autoStepMs(15 * 60 * 1000), 5000);      // 15 min -> 5 s
  EXPECT_EQ(autoStepMs(1000), 1000);                // never below 1 s
  EXPECT_EQ(autoStepMs(7LL * 24 * 3600 * 1000), 3600000);
  for (int64_t range : {60000LL, 999999LL, 86400000LL * 30}) {
    EXPECT_LE(range / autoStepMs(range), 300) << range;
  }
}

TEST(MetricMath, HistogramQuantileAsPrometheus) {
  const std::vector<double> bounds = {10, 100, 1000};
  // 2 in (0,10], 8 in (10,100], 14 in (100,1000], 2 in +Inf.
  const std::vector<double> counts = {2, 8, 14, 2};
  EXPECT_DOUBLE_EQ(*histogramQuantile(0.5, bounds, counts), 100 + 900 * 3.0 / 14);
  EXPECT_DOUBLE_EQ(*histogramQuantile(0.05, bounds, counts), 10 * 1.3 / 2);
  // The +Inf bucket answers the largest finite bound.
  EXPECT_DOUBLE_EQ(*histogramQuantile(0.99, bounds, counts), 1000);
  // Empty buckets are skipped: the rank lands in the next non-empty one.
  EXPECT_DOUBLE_EQ(*histogramQuantile(0.5, bounds, std::vector<double>{0, 0, 4, 0}), 550);
  // No observations, or no finite bound: no value.
  EXPECT_FALSE(histogramQuantile(0.5, bounds, std::vector<double>{0, 0, 0, 0}));
  EXPECT_FALSE(histogramQuantile(0.5, {}, std::vector<double>{5}));
  EXPECT_FALSE(histogramQuantile(0.5, bounds, std::vector<double>{1, 2}));  // shape mismatch
  // A first bound <= 0: that bound itself.
  EXPECT_DOUBLE_EQ(
      *histogramQuantile(0.5, std::vector<double>{-5, 5}, std::vector<double>{4, 0, 0}), -5);
  EXPECT_EQ(*histogramQuantile(-1, bounds, counts), -INFINITY);
  EXPECT_EQ(*histogramQuantile(2, bounds, counts), INFINITY);
}

TEST(MetricMath, ExplicitHistogramsWithDifferentBoundsMerge) {
  ExplicitHistogram h;
  addExplicit(h, std::vector<double>{10, 20}, std::vector<double>{4, 4, 2});
  addExplicit(h, std::vector<double>{15}, std::vector<double>{6, 4});
  EXPECT_EQ(h.bounds, (std::vector<double>{10, 15, 20}));
  EXPECT_EQ(h.counts, (std::vector<double>{8, 4, 2, 6}));
  addExplicit(h, std::vector<double>{10, 15, 20}, std::vector<double>{1, 1, 1, 1});
  EXPECT_EQ(h.counts, (std::vector<double>{9, 5, 3, 7}));
}

TEST(MetricMath, ExponentialQuantilesAndScales) {
  ExponentialHistogram h;  // scale 0: base 2
  h.positive = {2, 4, 4};  // (1,2] (2,4] (4,8]
  EXPECT_DOUBLE_EQ(*exponentialQuantile(0.5, h), 3.5);
  EXPECT_DOUBLE_EQ(*exponentialQuantile(0.9, h), 7);
  const ExponentialHistogram coarse = downscaled(h, -1);  // base 4: (1,4] (4,16]
  EXPECT_EQ(coarse.positiveOffset, 0);
  EXPECT_EQ(coarse.positive, (std::vector<double>{6, 4}));
  // Negative offsets shift with floor: index -1 at scale 1 is index -1 at scale 0.
  ExponentialHistogram n;
  n.scale = 1;
  n.positiveOffset = -3;
  n.positive = {1, 1, 1, 1};  // indexes -3..0 -> -2, -1, -1, 0
  const ExponentialHistogram d = downscaled(n, 0);
  EXPECT_EQ(d.positiveOffset, -2);
  EXPECT_EQ(d.positive, (std::vector<double>{1, 2, 1}));
  // Negative and zero buckets: most negative first.
  ExponentialHistogram m;
  m.scale = 1;
  m.zeroCount = 2;
  m.positiveOffset = 2;
  m.positive = {2};
  m.negative = {4};
  EXPECT_DOUBLE_EQ(*exponentialQuantile(0.25, m), -std::sqrt(2.0) + (std::sqrt(2.0) - 1) * 0.5);
  EXPECT_DOUBLE_EQ(*exponentialQuantile(0.7, m), 0);
  EXPECT_FALSE(exponentialQuantile(0.5, ExponentialHistogram{}));
}

TEST(MetricMath, ExponentialIncreaseAndReset) {
  ExponentialHistogram a, b;
  a.positive = {1, 1};
  b.positive = {3, 5, 4};
  ExponentialHistogram inc = exponentialIncrease(a, b);
  EXPECT_EQ(inc.positive, (std::vector<double>{2, 4, 4}));
  ExponentialHistogram c;
  c.scale = -1;
  c.positive = {10, 6};
  inc = exponentialIncrease(b, c);
  EXPECT_EQ(inc.scale, -1);
  EXPECT_EQ(inc.positive, (std::vector<double>{2, 2}));
  ExponentialHistogram reset;
  reset.positive = {1};
  EXPECT_EQ(exponentialIncrease(b, reset).positive, (std::vector<double>{1}));
  ExponentialHistogram sum;
  addExponential(sum, a);
  addExponential(sum, c);
  EXPECT_EQ(sum.scale, -1);
  EXPECT_EQ(sum.positive, (std::vector<double>{12, 6}));
}

TEST(MetricMath, SummaryQuantiles) {
  const std::vector<double> qs = {0.5, 0.9, 0.99}, vs = {12, 60, 100};
  EXPECT_DOUBLE_EQ(*summaryQuantile(0.9, qs, vs), 60);
  EXPECT_DOUBLE_EQ(*summaryQuantile(0.95, qs, vs), 60 + 40 * 0.05 / 0.09);
  EXPECT_FALSE(summaryQuantile(0.25, qs, vs));   // below the stored quantiles
  EXPECT_FALSE(summaryQuantile(0.999, qs, vs));  // above
  EXPECT_FALSE(summaryQuantile(0.5, {}, {}));
}

}  // namespace
}  // namespace stackhouse::query::metrics
