// The arithmetic of metric charts that is not done in SQL: the step of a range, quantiles of
// explicit-bounds and exponential histograms, merging histograms whose buckets differ, and
// quantiles of summaries. Pure computation on plain values: any thread, no engine (it runs in the
// sanitizer builds). The rules, with their edge cases, are in README.md beside this file.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace stackhouse::query::metrics {

// The widths a step may have: 1 s up to 7 days, each one people read easily.
std::span<const int64_t> readableStepsMs();

// The automatic step of [from, to): the smallest readable width that covers the range in at
// most `targetPoints` steps (300: a point every few pixels of a wide chart).
int64_t autoStepMs(int64_t rangeMs, int64_t targetPoints = 300);

// The quantile q (0..1) of an explicit-bounds histogram, as Prometheus's histogram_quantile:
// `bounds` are the finite upper bounds, ascending; `counts` has one more entry (the last is the
// +Inf bucket). Linear interpolation within the bucket holding rank q * total; the first bucket
// starts at 0 (or is its upper bound when that is <= 0); a rank in the +Inf bucket answers the
// largest finite bound. No value (nullopt) when there are no observations or no finite bound.
std::optional<double> histogramQuantile(double q, std::span<const double> bounds,
                                        std::span<const double> counts);

// An explicit-bounds histogram being summed (series of a group, or steps).
struct ExplicitHistogram {
  std::vector<double> bounds;  // ascending finite upper bounds
  std::vector<double> counts;  // bounds.size() + 1
  bool empty() const { return counts.empty(); }
};

// Adds a histogram into `into`. With the same bounds, bucket by bucket; otherwise both are
// re-bucketed onto the union of the bounds, each one's cumulative count at a bound it lacks
// estimated by linear interpolation within its own bucket (the interpolation histogramQuantile
// makes). Counts past a histogram's largest finite bound stay in +Inf.
void addExplicit(ExplicitHistogram& into, std::span<const double> bounds,
                 std::span<const double> counts);

// An exponential histogram (OTLP ExponentialHistogramDataPoint): bucket `offset + i` at `scale`
// holds values in (base^(offset+i), base^(offset+i+1)] (negatives mirrored), base = 2^(2^-scale).
struct ExponentialHistogram {
  int32_t scale = 0;
  double zeroCount = 0;
  int32_t positiveOffset = 0;
  std::vector<double> positive;
  int32_t negativeOffset = 0;
  std::vector<double> negative;
  double total() const;
};

// The same histogram at a smaller scale (coarser buckets: index >> (scale - to)).
ExponentialHistogram downscaled(const ExponentialHistogram& h, int32_t toScale);

// Adds `h` into `into` (an empty `into`, total() == 0 and no buckets, takes h as it is); both
// are first brought to the smaller of their scales.
void addExponential(ExponentialHistogram& into, const ExponentialHistogram& h);

// later - earlier, bucket by bucket at the smaller scale, for a cumulative series; when the
// later one holds fewer observations the series was reset, and `later` is the increase.
ExponentialHistogram exponentialIncrease(const ExponentialHistogram& earlier,
                                         const ExponentialHistogram& later);

// The quantile q of an exponential histogram: buckets ordered from the most negative values
// through the zero bucket (the value 0) to the most positive; linear interpolation within the
// bucket holding rank q * total, between its bounds. No value when it is empty.
std::optional<double> exponentialQuantile(double q, const ExponentialHistogram& h);

// The quantile q of a summary point from its stored (quantile, value) pairs: the stored value
// when q is among them, else linear interpolation between the stored quantiles on either side;
// no value when q lies outside the stored quantiles (a summary says nothing there).
std::optional<double> summaryQuantile(double q, std::span<const double> quantiles,
                                      std::span<const double> values);

}  // namespace stackhouse::query::metrics
