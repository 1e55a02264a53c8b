#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

namespace stackhouse {

namespace {
void appendNumber(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

std::string renderLabels(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += k;
    out += "=\"";
    for (char c : v) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out;
}

void appendSeries(std::string& out, std::string_view name, const std::string& labels,
                  std::string_view extraLabel = {}) {
  out += name;
  if (!labels.empty() || !extraLabel.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extraLabel.empty()) out += ',';
    out += extraLabel;
    out += '}';
  }
  out += ' ';
}
}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) {
  const size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (v > 0) sumMicros_.fetch_add(static_cast<uint64_t>(v * 1e6), std::memory_order_relaxed);
}

double Histogram::sum() const {
  return static_cast<double>(sumMicros_.load(std::memory_order_relaxed)) / 1e6;
}

MetricsRegistry::Entry& MetricsRegistry::add(std::string_view name, std::string_view help,
                                             Kind kind, const Labels& labels) {
  std::lock_guard lock(mu_);
  const std::string rendered = renderLabels(labels);
  // The same series asked for twice is one series: hand out the first.
  for (auto& existing : entries_) {
    if (existing.kind == kind && existing.name == name && existing.labels == rendered)
      return existing;
  }
  auto& e = entries_.emplace_back();
  e.name = name;
  e.help = help;
  e.kind = kind;
  e.labels = rendered;
  return e;
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help, Labels labels) {
  auto& e = add(name, help, Kind::kCounter, labels);
  if (!e.counter) e.counter = std::make_unique<Counter>();
  return *e.counter;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, Labels labels) {
  auto& e = add(name, help, Kind::kGauge, labels);
  if (!e.gauge) e.gauge = std::make_unique<Gauge>();
  return *e.gauge;
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      std::vector<double> bounds, Labels labels) {
  auto& e = add(name, help, Kind::kHistogram, labels);
  if (!e.histogram) e.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *e.histogram;
}

void MetricsRegistry::gaugeFunction(std::string_view name, std::string_view help,
                                    std::function<double()> fn) {
  auto& e = add(name, help, Kind::kGaugeFunction, {});
  e.fn = std::move(fn);  // the latest function wins
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  // Group the series of one family together, in name order.
  std::map<std::string_view, std::vector<const Entry*>> families;
  for (const auto& e : entries_) families[e.name].push_back(&e);
  std::string out;
  out.reserve(8192);
  for (const auto& [name, list] : families) {
    const Entry& first = *list.front();
    out += "# HELP ";
    out += name;
    out += ' ';
    out += first.help;
    out += "\n# TYPE ";
    out += name;
    switch (first.kind) {
      case Kind::kCounter: out += " counter\n"; break;
      case Kind::kGauge:
      case Kind::kGaugeFunction: out += " gauge\n"; break;
      case Kind::kHistogram: out += " histogram\n"; break;
    }
    for (const Entry* e : list) {
      switch (e->kind) {
        case Kind::kCounter:
          appendSeries(out, name, e->labels);
          out += std::to_string(e->counter->value());
          out += '\n';
          break;
        case Kind::kGauge:
          appendSeries(out, name, e->labels);
          out += std::to_string(e->gauge->value());
          out += '\n';
          break;
        case Kind::kGaugeFunction:
          appendSeries(out, name, e->labels);
          appendNumber(out, e->fn());
          out += '\n';
          break;
        case Kind::kHistogram: {
          const Histogram& h = *e->histogram;
          const std::string bucketName = std::string(name) + "_bucket";
          uint64_t cumulative = 0;
          for (size_t i = 0; i <= h.bounds().size(); ++i) {
            cumulative += h.bucket(i);
            std::string le = "le=\"";
            if (i == h.bounds().size()) {
              le += "+Inf";
            } else {
              appendNumber(le, h.bounds()[i]);
            }
            le += '"';
            appendSeries(out, bucketName, e->labels, le);
            out += std::to_string(cumulative);
            out += '\n';
          }
          appendSeries(out, std::string(name) + "_sum", e->labels);
          appendNumber(out, h.sum());
          out += '\n';
          appendSeries(out, std::string(name) + "_count", e->labels);
          out += std::to_string(h.count());
          out += '\n';
          break;
        }
      }
    }
  }
  return out;
}

MetricsRegistry& metrics() {
  static MetricsRegistry* registry = new MetricsRegistry();  // never destroyed: used until _exit
  return *registry;
}

}  // namespace stackhouse
