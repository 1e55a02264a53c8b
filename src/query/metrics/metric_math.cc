#include "query/metrics/metric_math.h"

#include <algorithm>
#include <cmath>

namespace stackhouse::query::metrics {

namespace {

constexpr int64_t kStepsMs[] = {1000,     2000,     5000,     10000,     15000,
                                30000,    60000,    120000,   300000,    600000,
                                900000,   1800000,  3600000,  7200000,   10800000,
                                21600000, 43200000, 86400000, 172800000, 604800000};

// The cumulative count of a histogram at value x (linear within x's bucket, as histogramQuantile
// reads it). Past the largest finite bound: the count up to that bound.
double cumulativeAt(double x, std::span<const double> bounds, std::span<const double> counts) {
  double below = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    const double upper = bounds[i];
    const double lower = i == 0 ? std::min(0.0, upper) : bounds[i - 1];
    if (x >= upper) {
      below += counts[i];
      continue;
    }
    if (x <= lower || upper <= lower) return below;
    return below + counts[i] * (x - lower) / (upper - lower);
  }
  return below;
}

// Index i at scale s is index i >> d at scale s - d (floor division: C++20 shifts arithmetically).
int32_t shiftIndex(int32_t index, int32_t by) {
  return by >= 31 ? (index < 0 ? -1 : 0) : index >> by;
}

void addBuckets(int32_t& intoOffset, std::vector<double>& into, int32_t offset,
                const std::vector<double>& counts) {
  if (counts.empty()) return;
  if (into.empty()) {
    intoOffset = offset;
    into = counts;
    return;
  }
  const int32_t start = std::min(intoOffset, offset);
  const int64_t end = std::max<int64_t>(intoOffset + static_cast<int64_t>(into.size()),
                                        offset + static_cast<int64_t>(counts.size()));
  if (start < intoOffset) into.insert(into.begin(), static_cast<size_t>(intoOffset - start), 0.0);
  intoOffset = start;
  if (static_cast<int64_t>(into.size()) < end - start)
    into.resize(static_cast<size_t>(end - start), 0.0);
  for (size_t i = 0; i < counts.size(); ++i)
    into[static_cast<size_t>(offset - start) + i] += counts[i];
}

std::vector<double> downscaleBuckets(int32_t offset, const std::vector<double>& counts, int32_t by,
                                     int32_t* newOffset) {
  if (counts.empty()) {
    *newOffset = shiftIndex(offset, by);
    return {};
  }
  const int32_t first = shiftIndex(offset, by);
  const int32_t last = shiftIndex(offset + static_cast<int32_t>(counts.size()) - 1, by);
  std::vector<double> out(static_cast<size_t>(last - first + 1), 0.0);
  for (size_t i = 0; i < counts.size(); ++i) {
    out[static_cast<size_t>(shiftIndex(offset + static_cast<int32_t>(i), by) - first)] += counts[i];
  }
  *newOffset = first;
  return out;
}

double sumOf(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

}  // namespace

std::span<const int64_t> readableStepsMs() { return kStepsMs; }

int64_t autoStepMs(int64_t rangeMs, int64_t targetPoints) {
  for (int64_t step : kStepsMs) {
    if (rangeMs <= step * targetPoints) return step;
  }
  return kStepsMs[std::size(kStepsMs) - 1];
}

std::optional<double> histogramQuantile(double q, std::span<const double> bounds,
                                        std::span<const double> counts) {
  if (bounds.empty() || counts.size() != bounds.size() + 1 || std::isnan(q)) return std::nullopt;
  double total = 0;
  for (double c : counts) total += std::max(0.0, c);
  if (total <= 0) return std::nullopt;
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  double rank = q * total;
  double below = 0;
  size_t b = 0;
  for (; b < counts.size(); ++b) {
    const double c = std::max(0.0, counts[b]);
    if (below + c >= rank && c > 0) break;
    below += c;
  }
  if (b >= bounds.size()) return bounds.back();  // the +Inf bucket
  const double upper = bounds[b];
  if (b == 0 && upper <= 0) return upper;
  const double lower = b == 0 ? 0.0 : bounds[b - 1];
  const double count = std::max(0.0, counts[b]);
  rank -= below;
  return lower + (upper - lower) * (rank / count);
}

void addExplicit(ExplicitHistogram& into, std::span<const double> bounds,
                 std::span<const double> counts) {
  if (counts.size() != bounds.size() + 1) return;
  if (into.empty()) {
    into.bounds.assign(bounds.begin(), bounds.end());
    into.counts.assign(counts.begin(), counts.end());
    return;
  }
  if (std::equal(into.bounds.begin(), into.bounds.end(), bounds.begin(), bounds.end())) {
    for (size_t i = 0; i < counts.size(); ++i) into.counts[i] += counts[i];
    return;
  }
  std::vector<double> merged;
  std::merge(into.bounds.begin(), into.bounds.end(), bounds.begin(), bounds.end(),
             std::back_inserter(merged));
  merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
  std::vector<double> out(merged.size() + 1, 0.0);
  for (int h = 0; h < 2; ++h) {
    const std::span<const double> hb = h == 0 ? std::span<const double>(into.bounds) : bounds;
    const std::span<const double> hc = h == 0 ? std::span<const double>(into.counts) : counts;
    double total = 0;
    for (double c : hc) total += c;
    double previous = 0;
    for (size_t i = 0; i < merged.size(); ++i) {
      const double at = cumulativeAt(merged[i], hb, hc);
      out[i] += at - previous;
      previous = at;
    }
    out[merged.size()] += total - previous;
  }
  into.bounds = std::move(merged);
  into.counts = std::move(out);
}

double ExponentialHistogram::total() const { return zeroCount + sumOf(positive) + sumOf(negative); }

ExponentialHistogram downscaled(const ExponentialHistogram& h, int32_t toScale) {
  if (toScale >= h.scale) return h;
  const int32_t by = h.scale - toScale;
  ExponentialHistogram out;
  out.scale = toScale;
  out.zeroCount = h.zeroCount;
  out.positive = downscaleBuckets(h.positiveOffset, h.positive, by, &out.positiveOffset);
  out.negative = downscaleBuckets(h.negativeOffset, h.negative, by, &out.negativeOffset);
  return out;
}

void addExponential(ExponentialHistogram& into, const ExponentialHistogram& h) {
  if (into.total() == 0 && into.positive.empty() && into.negative.empty()) {
    into = h;
    return;
  }
  const int32_t scale = std::min(into.scale, h.scale);
  if (into.scale != scale) into = downscaled(into, scale);
  const ExponentialHistogram other = downscaled(h, scale);
  into.zeroCount += other.zeroCount;
  addBuckets(into.positiveOffset, into.positive, other.positiveOffset, other.positive);
  addBuckets(into.negativeOffset, into.negative, other.negativeOffset, other.negative);
}

ExponentialHistogram exponentialIncrease(const ExponentialHistogram& earlier,
                                         const ExponentialHistogram& later) {
  if (later.total() < earlier.total()) return later;  // a reset
  const int32_t scale = std::min(earlier.scale, later.scale);
  ExponentialHistogram out = downscaled(later, scale);
  ExponentialHistogram before = downscaled(earlier, scale);
  for (double& c : before.positive) c = -c;
  for (double& c : before.negative) c = -c;
  out.zeroCount = std::max(0.0, out.zeroCount - before.zeroCount);
  addBuckets(out.positiveOffset, out.positive, before.positiveOffset, before.positive);
  addBuckets(out.negativeOffset, out.negative, before.negativeOffset, before.negative);
  for (double& c : out.positive) c = std::max(0.0, c);
  for (double& c : out.negative) c = std::max(0.0, c);
  return out;
}

std::optional<double> exponentialQuantile(double q, const ExponentialHistogram& h) {
  const double total = h.total();
  if (!(total > 0) || std::isnan(q)) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * total;
  const double base = std::exp2(std::exp2(-static_cast<double>(h.scale)));
  const auto bound = [&](int64_t index) { return std::pow(base, static_cast<double>(index)); };
  double below = 0;
  // Negative buckets, most negative first: index i holds [-base^(i+1), -base^i).
  for (size_t k = h.negative.size(); k-- > 0;) {
    const double c = h.negative[k];
    if (c > 0 && below + c >= rank) {
      const int64_t i = static_cast<int64_t>(h.negativeOffset) + static_cast<int64_t>(k);
      const double lower = -bound(i + 1), upper = -bound(i);
      return lower + (upper - lower) * ((rank - below) / c);
    }
    below += std::max(0.0, c);
  }
  if (h.zeroCount > 0 && below + h.zeroCount >= rank) return 0.0;
  below += std::max(0.0, h.zeroCount);
  for (size_t k = 0; k < h.positive.size(); ++k) {
    const double c = h.positive[k];
    if (c > 0 && below + c >= rank) {
      const int64_t i = static_cast<int64_t>(h.positiveOffset) + static_cast<int64_t>(k);
      const double lower = bound(i), upper = bound(i + 1);
      return lower + (upper - lower) * ((rank - below) / c);
    }
    below += std::max(0.0, c);
  }
  // Rounding left the rank past the last bucket: its upper bound.
  if (!h.positive.empty()) {
    return bound(static_cast<int64_t>(h.positiveOffset) + static_cast<int64_t>(h.positive.size()));
  }
  return h.zeroCount > 0 ? 0.0 : -bound(h.negativeOffset);
}

std::optional<double> summaryQuantile(double q, std::span<const double> quantiles,
                                      std::span<const double> values) {
  const size_t n = std::min(quantiles.size(), values.size());
  if (n == 0 || std::isnan(q)) return std::nullopt;
  std::vector<std::pair<double, double>> pairs;
  pairs.reserve(n);
  for (size_t i = 0; i < n; ++i) pairs.emplace_back(quantiles[i], values[i]);
  std::sort(pairs.begin(), pairs.end());
  constexpr double kSame = 1e-9;
  for (size_t i = 0; i < n; ++i) {
    if (std::fabs(pairs[i].first - q) <= kSame) return pairs[i].second;
    if (pairs[i].first > q) {
      if (i == 0) return std::nullopt;
      const auto& [q0, v0] = pairs[i - 1];
      const auto& [q1, v1] = pairs[i];
      return v0 + (v1 - v0) * (q - q0) / (q1 - q0);
    }
  }
  return std::nullopt;
}

}  // namespace stackhouse::query::metrics
