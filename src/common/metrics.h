// Our own metrics, rendered in the Prometheus text exposition format on the admin port.
//
// Metrics are registered at start-up (registration takes a lock and allocates); updating them is
// a relaxed atomic operation, safe from any thread. Asking again for a series with the same name
// and labels returns the same metric. References returned by the registry stay valid for the
// registry's lifetime.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stackhouse {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Fixed upper bounds, cumulative on rendering.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (the last is +Inf)
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sumMicros_{0};  // sum kept in millionths so it can be atomic
};

class MetricsRegistry {
 public:
  Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                       Labels labels = {});
  // A gauge read at render time (e.g. resident memory).
  void gaugeFunction(std::string_view name, std::string_view help, std::function<double()> fn);

  // The whole registry in the Prometheus text format (version 0.0.4).
  std::string render() const;

 private:
  enum class Kind : unsigned char { kCounter, kGauge, kHistogram, kGaugeFunction };
  struct Entry {
    std::string name;
    std::string help;
    Kind kind;
    std::string labels;  // rendered: k="v",k2="v2"
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> fn;
  };
  Entry& add(std::string_view name, std::string_view help, Kind kind, const Labels& labels);

  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // guarded by mu_; deque keeps references stable
};

// The process-wide registry served on /metrics.
MetricsRegistry& metrics();

}  // namespace stackhouse
