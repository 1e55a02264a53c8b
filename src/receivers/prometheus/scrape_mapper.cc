#include "receivers/prometheus/scrape_mapper.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "telemetry/batch_ops.h"

namespace stackhouse::receivers::prometheus {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
constexpr int32_t kCumulative = 2;  // OTLP AggregationTemporality
constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t hashBytes(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  // A separator no name or value ends with, so ("ab","c") and ("a","bc") differ.
  h ^= 0xff;
  h *= kFnvPrime;
  return h;
}

// A count as written (a float in the exposition) as UInt64: rounded, negatives and NaN as 0,
// past the range as its maximum.
uint64_t countOf(double v) {
  if (!(v > 0)) return 0;
  if (v >= 18446744073709551615.0) return UINT64_MAX;
  return static_cast<uint64_t>(std::round(v));  // below 2^64, so is its rounding
}

bool isHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

void appendLowerHex(telemetry::StringColumn& column, std::string_view hex) {
  uint8_t* p = column.data().extend(hex.size());
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    p[i] = static_cast<uint8_t>(c);
  }
  column.commit();
}

void appendZeros(telemetry::StringColumn& column, size_t n) {
  uint8_t* p = column.data().extend(n);
  std::memset(p, '0', n);
  column.commit();
}

}  // namespace

double staleNaN() {
  double v;
  std::memcpy(&v, &kStaleNaNBits, sizeof v);
  return v;
}

bool isStaleNaN(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaNBits;
}

ScrapeMapper::ScrapeMapper(TargetIdentity target) : target_(std::move(target)) {}

uint32_t ScrapeMapper::arenaAdd(std::string_view s) {
  const auto begin = static_cast<uint32_t>(arena_.size());
  arena_.append(s);
  return begin;
}

void ScrapeMapper::appendResource(telemetry::MapColumn& column, std::string_view job,
                                  std::string_view instance) {
  column.add("service.name", job);
  column.add("service.instance.id", instance);
  column.add("server.address", target_.host);
  column.add("server.port", target_.port);
  column.add("url.scheme", target_.scheme);
  column.endRow();
}

void ScrapeMapper::beginFamily(std::string_view name, MetricType type) {
  familyName_.assign(name);
  familyType_ = type;
  help_.clear();
  unit_.clear();
  valueName_.clear();
  familyOpen_ = true;
  groups_.clear();
  groupIndex_.clear();
  labelRefs_.clear();
  buckets_.clear();
  exemplars_.clear();
  arena_.clear();
}

bool ScrapeMapper::belongs(std::string_view sample, std::string_view& suffix) const {
  suffix = {};
  const std::string_view f = familyName_;
  if (!familyOpen_ || sample.size() < f.size() || sample.substr(0, f.size()) != f) return false;
  const std::string_view rest = sample.substr(f.size());
  auto is = [&rest, &suffix](std::string_view s) {
    if (rest != s) return false;
    suffix = s;
    return true;
  };
  switch (familyType_) {
    case MetricType::kCounter: return is("") || is("_total") || is("_created");
    case MetricType::kHistogram:
      return is("_bucket") || is("_sum") || is("_count") || is("_created");
    case MetricType::kGaugeHistogram:
      return is("_bucket") || is("_gsum") || is("_gcount") || is("_sum") || is("_count");
    case MetricType::kSummary: return is("") || is("_sum") || is("_count") || is("_created");
    case MetricType::kInfo: return is("_info") || is("");
    case MetricType::kGauge:
    case MetricType::kStateSet:
    case MetricType::kUnknown: return is("");
  }
  return false;
}

Status ScrapeMapper::map(std::string_view body, Format format, const ScrapeLimits& limits,
                         int64_t scrapeNanos, telemetry::MetricBatch& out, ScrapeCounts& counts) {
  const size_t rows[5] = {out.gauge.rows(), out.sum.rows(), out.histogram.rows(),
                          out.expHistogram.rows(), out.summary.rows()};
  const size_t seriesBefore = series_.size();
  ++generation_;
  familyOpen_ = false;
  counts = ScrapeCounts{};
  TextParser parser(body, format, limits.parse);
  Status status;
  // Metadata lines seen for a family whose first sample has not come yet.
  while (true) {
    Entry entry;
    status = parser.next(entry);
    if (!status.isOk() || entry == Entry::kEnd) break;
    if (entry == Entry::kSample) {
      ++counts.samplesScraped;
      if (limits.sampleLimit != 0 && counts.samplesScraped > limits.sampleLimit) {
        status = resourceExhausted("more than " + std::to_string(limits.sampleLimit) +
                                   " samples (sampleLimit)");
        break;
      }
      std::string_view suffix;
      if (!belongs(parser.name(), suffix)) {
        if (familyOpen_) flushFamily(scrapeNanos, out, counts);
        beginFamily(parser.name(), MetricType::kUnknown);
      }
      status = addSample(parser, suffix, limits, scrapeNanos, counts);
      if (!status.isOk()) break;
      continue;
    }
    // Metadata: a new family unless it names the one being read.
    if (!familyOpen_ || parser.familyName() != familyName_ || !groups_.empty()) {
      if (familyOpen_) flushFamily(scrapeNanos, out, counts);
      beginFamily(parser.familyName(), MetricType::kUnknown);
    }
    if (entry == Entry::kType) {
      familyType_ = parser.type();
    } else if (entry == Entry::kHelp) {
      help_.assign(parser.text());
    } else {
      unit_.assign(parser.text());
    }
  }
  if (status.isOk() && familyOpen_) flushFamily(scrapeNanos, out, counts);
  if (!status.isOk()) {
    // Roll back: no row of a failed scrape is kept, and series first seen in it are forgotten.
    telemetry::truncateBatch(out.gauge, rows[0]);
    telemetry::truncateBatch(out.sum, rows[1]);
    telemetry::truncateBatch(out.histogram, rows[2]);
    telemetry::truncateBatch(out.expHistogram, rows[3]);
    telemetry::truncateBatch(out.summary, rows[4]);
    if (series_.size() != seriesBefore) {
      std::erase_if(series_, [this](const auto& e) {
        if (e.second.fresh) forget(e.second);
        return e.second.fresh;
      });
      compactIdentities();
    }
    familyOpen_ = false;
    return status;
  }
  counts.samplesPostRelabeling = counts.samplesScraped;
  // Staleness: series of the last scrape that this one did not have.
  for (auto it = series_.begin(); it != series_.end();) {
    if (it->second.generation != generation_) {
      if (it->second.trackStale && it->second.identitySize != 0) {
        appendStale(it->second, scrapeNanos, out);
        ++counts.staleMarkers;
      }
      forget(it->second);
      it = series_.erase(it);
    } else {
      it->second.fresh = false;
      ++it;
    }
  }
  compactIdentities();
  return Status::ok();
}

Status ScrapeMapper::addSample(const TextParser& parser, std::string_view suffix,
                               const ScrapeLimits& limits, int64_t scrapeNanos,
                               ScrapeCounts& counts) {
  (void)limits;
  (void)scrapeNanos;
  (void)counts;
  const bool histogramLike =
      familyType_ == MetricType::kHistogram || familyType_ == MetricType::kGaugeHistogram;
  const bool summary = familyType_ == MetricType::kSummary;
  // The bucket bound or quantile, which identifies the sample within its group.
  double bound = 0;
  bool hasBound = false;
  std::string_view boundLabel;
  if (histogramLike && suffix == "_bucket") boundLabel = "le";
  if (summary && suffix.empty()) boundLabel = "quantile";

  // The group's labels after Prometheus's target-label rules, into the arena; and its hash.
  const auto labelsBegin = static_cast<uint32_t>(labelRefs_.size());
  const size_t arenaMark = arena_.size();
  uint32_t jobLabel = kNone, instanceLabel = kNone;
  uint64_t h = kFnvOffset;
  for (const Label& l : parser.labels()) {
    if (!boundLabel.empty() && l.name == boundLabel) {
      double v = 0;
      // Label values of le and quantile are floats as Prometheus writes them (+Inf, 0.5, 1e+06).
      std::string_view t = l.value;
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (t.empty() || ec != std::errc() || p != t.data() + t.size()) {
        labelRefs_.resize(labelsBegin);
        arena_.resize(arenaMark);
        return invalidArgument("line " + std::to_string(parser.line()) + ": the " +
                               std::string(boundLabel) + " label of " + std::string(parser.name()) +
                               " is not a number");
      }
      bound = v;
      hasBound = true;
      continue;
    }
    if (l.value.empty()) continue;  // Prometheus drops empty labels
    bool clash = l.name == "job" || l.name == "instance";
    for (const auto& [name, value] : target_.labels) clash = clash || l.name == name;
    LabelRef ref{};
    if (clash && !target_.honorLabels) {
      ref.nameBegin = arenaAdd("exported_");
      arena_.append(l.name);
      ref.nameSize = static_cast<uint32_t>(l.name.size() + 9);
    } else {
      ref.nameBegin = arenaAdd(l.name);
      ref.nameSize = static_cast<uint32_t>(l.name.size());
    }
    ref.valueBegin = arenaAdd(l.value);
    ref.valueSize = static_cast<uint32_t>(l.value.size());
    const auto index = static_cast<uint32_t>(labelRefs_.size() - labelsBegin);
    if (clash && target_.honorLabels && l.name == "job") jobLabel = index;
    if (clash && target_.honorLabels && l.name == "instance") instanceLabel = index;
    h = hashBytes(hashBytes(h, arenaView(ref.nameBegin, ref.nameSize)), l.value);
    labelRefs_.push_back(ref);
  }
  // The target's static labels the sample does not override.
  for (const auto& [name, value] : target_.labels) {
    bool overridden = false;
    if (target_.honorLabels) {
      for (const Label& l : parser.labels())
        overridden = overridden || (l.name == name && !l.value.empty());
    }
    if (overridden || value.empty()) continue;
    LabelRef ref{};
    ref.nameBegin = arenaAdd(name);
    ref.nameSize = static_cast<uint32_t>(name.size());
    ref.valueBegin = arenaAdd(value);
    ref.valueSize = static_cast<uint32_t>(value.size());
    h = hashBytes(hashBytes(h, name), value);
    labelRefs_.push_back(ref);
  }
  if ((histogramLike && suffix == "_bucket" && !hasBound) ||
      (summary && suffix.empty() && !hasBound)) {
    labelRefs_.resize(labelsBegin);
    arena_.resize(arenaMark);
    return invalidArgument("line " + std::to_string(parser.line()) + ": " +
                           std::string(parser.name()) + " has no " + std::string(boundLabel) +
                           " label");
  }

  uint32_t gi;
  auto [it, inserted] = groupIndex_.try_emplace(h, static_cast<uint32_t>(groups_.size()));
  if (inserted) {
    Group g{};
    g.hash = h;
    g.labelsBegin = labelsBegin;
    g.labelsCount = static_cast<uint32_t>(labelRefs_.size() - labelsBegin);
    g.jobLabel = jobLabel;
    g.instanceLabel = instanceLabel;
    groups_.push_back(g);
    gi = it->second;
  } else {
    // Known group: its labels are stored already.
    labelRefs_.resize(labelsBegin);
    arena_.resize(arenaMark);
    gi = it->second;
  }
  Group& g = groups_[gi];
  if (parser.hasTimestamp() && !g.hasTimestamp) {
    g.hasTimestamp = true;
    g.timestamp = parser.timestampNanos();
  }
  const double v = parser.value();
  if (suffix == "_created") {
    // Seconds since the epoch, a float.
    int64_t nanos = 0;
    if (decimalSecondsToNanos(parser.valueText(), nanos) && nanos >= 0) {
      g.hasCreated = true;
      g.created = nanos;
    } else if (std::isfinite(v) && v >= 0 && v < 9.2e9) {
      g.hasCreated = true;
      g.created = static_cast<int64_t>(std::llround(v * 1e9));
    }
  } else if (suffix == "_sum" || suffix == "_gsum") {
    g.sum = v;
    g.hasSum = true;
  } else if (suffix == "_count" || suffix == "_gcount") {
    g.count = v;
    g.hasCount = true;
  } else if (hasBound) {
    buckets_.push_back(Bucket{gi, bound, v});
  } else {
    if (valueName_.empty()) valueName_.assign(parser.name());
    g.value = v;
    g.hasValue = true;
  }
  if (const Exemplar* e = parser.exemplar()) {
    ExemplarRef ref{};
    ref.group = gi;
    ref.value = e->value;
    ref.time = e->hasTimestamp ? e->timestampNanos : 0;
    ref.labelsBegin = static_cast<uint32_t>(labelRefs_.size());
    for (const Label& l : e->labels) {
      LabelRef lr{};
      lr.nameBegin = arenaAdd(l.name);
      lr.nameSize = static_cast<uint32_t>(l.name.size());
      lr.valueBegin = arenaAdd(l.value);
      lr.valueSize = static_cast<uint32_t>(l.value.size());
      labelRefs_.push_back(lr);
    }
    ref.labelsCount = static_cast<uint32_t>(labelRefs_.size() - ref.labelsBegin);
    exemplars_.push_back(ref);
  }
  return Status::ok();
}

void ScrapeMapper::flushFamily(int64_t scrapeNanos, telemetry::MetricBatch& out,
                               ScrapeCounts& counts) {
  familyOpen_ = false;
  if (groups_.empty()) return;
  Kind kind = Kind::kGauge;
  switch (familyType_) {
    case MetricType::kCounter:
    case MetricType::kInfo:
    case MetricType::kStateSet: kind = Kind::kSum; break;
    case MetricType::kHistogram: kind = Kind::kHistogram; break;
    case MetricType::kSummary: kind = Kind::kSummary; break;
    case MetricType::kGaugeHistogram: counts.droppedGaugeHistograms += groups_.size(); return;
    case MetricType::kGauge:
    case MetricType::kUnknown: kind = Kind::kGauge; break;
  }
  if (kind == Kind::kHistogram || kind == Kind::kSummary) {
    // Buckets (or quantiles) in group order, ascending by bound within a group.
    std::stable_sort(buckets_.begin(), buckets_.end(), [](const Bucket& a, const Bucket& b) {
      return a.group != b.group ? a.group < b.group : a.bound < b.bound;
    });
  }
  if (!exemplars_.empty()) {
    std::stable_sort(exemplars_.begin(), exemplars_.end(),
                     [](const ExemplarRef& a, const ExemplarRef& b) { return a.group < b.group; });
  }
  for (const Group& g : groups_) emitGroup(g, kind, scrapeNanos, out, counts);
}

template <typename KindBatch>
void ScrapeMapper::appendCommon(KindBatch& b, std::string_view name, const Group& g, int64_t start,
                                int64_t time, uint32_t flags) {
  telemetry::MetricPointCommon& c = b.common;
  std::string_view job = target_.job;
  std::string_view instance = target_.instance;
  const LabelRef* refs = labelRefs_.data() + g.labelsBegin;
  if (g.jobLabel != kNone) job = arenaView(refs[g.jobLabel].valueBegin, refs[g.jobLabel].valueSize);
  if (g.instanceLabel != kNone) {
    instance = arenaView(refs[g.instanceLabel].valueBegin, refs[g.instanceLabel].valueSize);
  }
  appendResource(c.resourceAttributes, job, instance);
  c.resourceSchemaUrl.append({});
  c.scopeName.append(kScopeName);
  c.scopeVersion.append({});
  c.scopeAttributes.endRow();
  c.scopeDroppedAttrCount.append(0);
  c.scopeSchemaUrl.append({});
  c.serviceName.append(job);
  c.metricName.append(name);
  c.metricDescription.append(help_);
  c.metricUnit.append(unit_);
  for (uint32_t i = 0; i < g.labelsCount; ++i) {
    if (i == g.jobLabel || i == g.instanceLabel) continue;
    c.attributes.add(arenaView(refs[i].nameBegin, refs[i].nameSize),
                     arenaView(refs[i].valueBegin, refs[i].valueSize));
  }
  c.attributes.endRow();
  c.startTimeUnix.append(start);
  c.timeUnix.append(time);
  c.flags.append(flags);
}

template <typename KindBatch>
void ScrapeMapper::appendExemplars(KindBatch& b, uint32_t group, int64_t pointTime) {
  telemetry::ExemplarColumns& e = b.exemplars;
  auto first = std::lower_bound(exemplars_.begin(), exemplars_.end(), group,
                                [](const ExemplarRef& r, uint32_t g) { return r.group < g; });
  for (auto it = first; it != exemplars_.end() && it->group == group; ++it) {
    std::string_view traceId, spanId;
    for (uint32_t i = 0; i < it->labelsCount; ++i) {
      const LabelRef& l = labelRefs_[it->labelsBegin + i];
      std::string_view n = arenaView(l.nameBegin, l.nameSize);
      std::string_view v = arenaView(l.valueBegin, l.valueSize);
      if (n == "trace_id" && v.size() == 32 && isHex(v)) {
        traceId = v;
      } else if (n == "span_id" && v.size() == 16 && isHex(v)) {
        spanId = v;
      } else {
        e.filteredAttributes.child().add(n, v);
      }
    }
    e.filteredAttributes.child().endRow();
    e.timeUnix.child().append(it->time != 0 ? it->time : pointTime);
    e.value.child().append(it->value);
    if (spanId.empty()) {
      appendZeros(e.spanId.child(), 16);
    } else {
      appendLowerHex(e.spanId.child(), spanId);
    }
    if (traceId.empty()) {
      appendZeros(e.traceId.child(), 32);
    } else {
      appendLowerHex(e.traceId.child(), traceId);
    }
  }
  e.filteredAttributes.endRow();
  e.timeUnix.endRow();
  e.value.endRow();
  e.spanId.endRow();
  e.traceId.endRow();
}

int64_t ScrapeMapper::startFor(uint64_t key, const Group& g, Kind kind, bool monotonic,
                               double current, int64_t time, std::string_view name,
                               ScrapeCounts& counts) {
  auto [it, inserted] = series_.try_emplace(key);
  SeriesState& s = it->second;
  if (inserted) {
    ++counts.seriesAdded;
    s.kind = kind;
    s.monotonic = monotonic;
    s.fresh = true;
    // Identity for the stale point: name, job and instance unless they are the target's, then
    // the attributes.
    const LabelRef* refs = labelRefs_.data() + g.labelsBegin;
    s.ownTarget = g.jobLabel == kNone && g.instanceLabel == kNone;
    size_t bytes = name.size() + 1;
    for (uint32_t i = 0; i < g.labelsCount; ++i) bytes += refs[i].nameSize + refs[i].valueSize + 2;
    if (!s.ownTarget) bytes += target_.job.size() + target_.instance.size() + 2;
    if (identities_.size() + bytes > UINT32_MAX) compactIdentities();
    if (identities_.size() + bytes <= UINT32_MAX) {
      s.identityBegin = static_cast<uint32_t>(identities_.size());
      auto put = [this](std::string_view v) {
        identities_.append(v);
        identities_ += '\0';
      };
      put(name);
      if (!s.ownTarget) {
        put(g.jobLabel != kNone ? arenaView(refs[g.jobLabel].valueBegin, refs[g.jobLabel].valueSize)
                                : std::string_view(target_.job));
        put(g.instanceLabel != kNone
                ? arenaView(refs[g.instanceLabel].valueBegin, refs[g.instanceLabel].valueSize)
                : std::string_view(target_.instance));
      }
      for (uint32_t i = 0; i < g.labelsCount; ++i) {
        if (i == g.jobLabel || i == g.instanceLabel) continue;
        put(arenaView(refs[i].nameBegin, refs[i].nameSize));
        put(arenaView(refs[i].valueBegin, refs[i].valueSize));
      }
      s.identitySize = static_cast<uint32_t>(identities_.size() - s.identityBegin);
    }
  }
  s.generation = generation_;
  // A sample with its own (honored) timestamp bypasses staleness, as in Prometheus's scrape loop
  // (track_timestamps_staleness off, its default): its series gets no stale point.
  s.trackStale = !(target_.honorTimestamps && g.hasTimestamp);
  int64_t start = 0;
  if (kind != Kind::kGauge) {
    if (g.hasCreated) {
      start = g.created;
    } else if (inserted || (monotonic && current < s.last)) {
      // First seen, or reset: the series starts now (the Collector's start time adjustment).
      start = time;
    } else {
      start = s.start;
    }
  }
  s.start = start;
  s.last = current;
  return start;
}

void ScrapeMapper::emitGroup(const Group& g, Kind kind, int64_t scrapeNanos,
                             telemetry::MetricBatch& out, ScrapeCounts& counts) {
  const int64_t time = target_.honorTimestamps && g.hasTimestamp ? g.timestamp : scrapeNanos;
  const auto gi = static_cast<uint32_t>(&g - groups_.data());
  const std::string_view name =
      kind == Kind::kHistogram || kind == Kind::kSummary || valueName_.empty()
          ? std::string_view(familyName_)
          : std::string_view(valueName_);
  const bool monotonic = familyType_ == MetricType::kCounter;
  uint64_t key =
      hashBytes(hashBytes(g.hash, name), std::string_view(reinterpret_cast<const char*>(&kind), 1));
  // Job and instance take part in the series identity only through the group's labels (honored)
  // or the target, which is the same for every series of this mapper.
  switch (kind) {
    case Kind::kGauge:
    case Kind::kSum: {
      if (!g.hasValue) return;  // a lone _created line
      const uint32_t flags = isStaleNaN(g.value) ? kNoRecordedValue : 0;
      const int64_t start = startFor(key, g, kind, monotonic, g.value, time, name, counts);
      if (kind == Kind::kGauge) {
        appendCommon(out.gauge, name, g, start, time, flags);
        out.gauge.value.append(g.value);
        appendExemplars(out.gauge, gi, time);
      } else {
        appendCommon(out.sum, name, g, start, time, flags);
        out.sum.value.append(g.value);
        appendExemplars(out.sum, gi, time);
        out.sum.aggregationTemporality.append(kCumulative);
        out.sum.isMonotonic.append(monotonic ? 1 : 0);
      }
      break;
    }
    case Kind::kHistogram: {
      auto first = std::lower_bound(buckets_.begin(), buckets_.end(), gi,
                                    [](const Bucket& b, uint32_t x) { return b.group < x; });
      auto last = first;
      while (last != buckets_.end() && last->group == gi) ++last;
      // The count: _count, else the +Inf bucket.
      double count = g.hasCount ? g.count : 0;
      if (!g.hasCount && last != first && std::isinf((last - 1)->bound)) count = (last - 1)->value;
      const bool stale =
          isStaleNaN(g.hasCount ? g.count : (last != first ? (last - 1)->value : g.sum));
      const int64_t start = startFor(key, g, kind, true, count, time, name, counts);
      appendCommon(out.histogram, name, g, start, time, stale ? kNoRecordedValue : 0);
      const auto toCount = [](double v) -> uint64_t { return countOf(v); };
      out.histogram.count.append(stale ? 0 : toCount(count));
      out.histogram.sum.append(g.hasSum && !stale ? g.sum : 0);
      // OTLP buckets hold per-bucket counts and the bounds leave out +Inf.
      double previous = 0;
      bool sawInf = false;
      for (auto b = first; b != last; ++b) {
        const double cumulative = stale ? 0 : b->value;
        const double n = cumulative - previous;
        out.histogram.bucketCounts.child().append(toCount(n));
        previous = std::max(previous, cumulative);
        if (std::isinf(b->bound) && b->bound > 0) {
          sawInf = true;
          break;
        }
        out.histogram.explicitBounds.child().append(b->bound);
      }
      if (!sawInf && first != last) {
        // No +Inf bucket: the rest of _count falls into an implicit one.
        out.histogram.bucketCounts.child().append(toCount(count - previous));
      }
      out.histogram.bucketCounts.endRow();
      out.histogram.explicitBounds.endRow();
      appendExemplars(out.histogram, gi, time);
      out.histogram.min.append(0);
      out.histogram.max.append(0);
      out.histogram.aggregationTemporality.append(kCumulative);
      break;
    }
    case Kind::kSummary: {
      auto first = std::lower_bound(buckets_.begin(), buckets_.end(), gi,
                                    [](const Bucket& b, uint32_t x) { return b.group < x; });
      const double count = g.hasCount ? g.count : 0;
      const bool stale = g.hasCount && isStaleNaN(g.count);
      const int64_t start = startFor(key, g, kind, true, count, time, name, counts);
      appendCommon(out.summary, name, g, start, time, stale ? kNoRecordedValue : 0);
      out.summary.count.append(stale ? 0 : countOf(count));
      out.summary.sum.append(g.hasSum && !stale ? g.sum : 0);
      for (auto b = first; b != buckets_.end() && b->group == gi; ++b) {
        out.summary.quantile.child().append(b->bound);
        out.summary.quantileValue.child().append(b->value);
      }
      out.summary.quantile.endRow();
      out.summary.quantileValue.endRow();
      break;
    }
  }
  ++counts.pointsWritten;
}

void ScrapeMapper::appendStale(const SeriesState& s, int64_t nanos, telemetry::MetricBatch& out) {
  // Unpack the identity into a temporary group whose labels live in the arena (the name stays a
  // view of identities_, which nothing changes before the point is written).
  beginFamily({}, MetricType::kUnknown);
  familyOpen_ = false;
  std::string_view id = std::string_view(identities_).substr(s.identityBegin, s.identitySize);
  auto take = [&id]() {
    const size_t z = id.find('\0');
    std::string_view v = id.substr(0, z);
    id.remove_prefix(z == std::string_view::npos ? id.size() : z + 1);
    return v;
  };
  const std::string_view name = take();
  Group g{};
  g.labelsBegin = 0;
  g.jobLabel = kNone;  // the target's job and instance
  g.instanceLabel = kNone;
  if (!s.ownTarget) {
    LabelRef job{}, instance{};
    job.valueBegin = arenaAdd(take());
    job.valueSize = static_cast<uint32_t>(arena_.size() - job.valueBegin);
    instance.valueBegin = arenaAdd(take());
    instance.valueSize = static_cast<uint32_t>(arena_.size() - instance.valueBegin);
    labelRefs_.push_back(job);
    labelRefs_.push_back(instance);
    g.jobLabel = 0;
    g.instanceLabel = 1;
  }
  while (!id.empty()) {
    LabelRef r{};
    r.nameBegin = arenaAdd(take());
    r.nameSize = static_cast<uint32_t>(arena_.size() - r.nameBegin);
    r.valueBegin = arenaAdd(take());
    r.valueSize = static_cast<uint32_t>(arena_.size() - r.valueBegin);
    labelRefs_.push_back(r);
  }
  g.labelsCount = static_cast<uint32_t>(labelRefs_.size());
  const double nan = staleNaN();
  switch (s.kind) {
    case Kind::kGauge:
      appendCommon(out.gauge, name, g, 0, nanos, kNoRecordedValue);
      out.gauge.value.append(nan);
      appendExemplars(out.gauge, kNone, nanos);
      break;
    case Kind::kSum:
      appendCommon(out.sum, name, g, s.start, nanos, kNoRecordedValue);
      out.sum.value.append(nan);
      appendExemplars(out.sum, kNone, nanos);
      out.sum.aggregationTemporality.append(kCumulative);
      out.sum.isMonotonic.append(s.monotonic ? 1 : 0);
      break;
    case Kind::kHistogram:
      appendCommon(out.histogram, name, g, s.start, nanos, kNoRecordedValue);
      out.histogram.count.append(0);
      out.histogram.sum.append(0);
      out.histogram.bucketCounts.endRow();
      out.histogram.explicitBounds.endRow();
      appendExemplars(out.histogram, kNone, nanos);
      out.histogram.min.append(0);
      out.histogram.max.append(0);
      out.histogram.aggregationTemporality.append(kCumulative);
      break;
    case Kind::kSummary:
      appendCommon(out.summary, name, g, s.start, nanos, kNoRecordedValue);
      out.summary.count.append(0);
      out.summary.sum.append(0);
      out.summary.quantile.endRow();
      out.summary.quantileValue.endRow();
      break;
  }
  beginFamily({}, MetricType::kUnknown);
  familyOpen_ = false;
}

uint64_t ScrapeMapper::markAllStale(int64_t nanos, telemetry::MetricBatch& out) {
  uint64_t n = 0;
  for (const auto& [key, state] : series_) {
    if (state.fresh || !state.trackStale || state.identitySize == 0) continue;
    appendStale(state, nanos, out);
    ++n;
  }
  series_.clear();
  identities_.clear();
  identities_.shrink_to_fit();
  identityGarbage_ = 0;
  return n;
}

void ScrapeMapper::compactIdentities() {
  if (identityGarbage_ <= identities_.size() / 2) return;
  std::string kept;
  kept.reserve(identities_.size() - identityGarbage_);
  for (auto& [key, state] : series_) {
    if (state.identitySize == 0) continue;
    const auto begin = static_cast<uint32_t>(kept.size());
    kept.append(identities_, state.identityBegin, state.identitySize);
    state.identityBegin = begin;
  }
  identities_ = std::move(kept);
  identityGarbage_ = 0;
}

void ScrapeMapper::appendScrapeSeries(bool up, double durationSeconds, const ScrapeCounts& counts,
                                      int64_t scrapeNanos, telemetry::MetricBatch& out) {
  beginFamily({}, MetricType::kGauge);
  familyOpen_ = false;
  Group g{};
  g.jobLabel = kNone;
  g.instanceLabel = kNone;
  for (const auto& [name, value] : target_.labels) {
    if (value.empty()) continue;
    LabelRef r{};
    r.nameBegin = arenaAdd(name);
    r.nameSize = static_cast<uint32_t>(name.size());
    r.valueBegin = arenaAdd(value);
    r.valueSize = static_cast<uint32_t>(value.size());
    labelRefs_.push_back(r);
  }
  g.labelsCount = static_cast<uint32_t>(labelRefs_.size());
  const std::pair<std::string_view, double> series[] = {
      {"up", up ? 1.0 : 0.0},
      {"scrape_duration_seconds", durationSeconds},
      {"scrape_samples_scraped", static_cast<double>(counts.samplesScraped)},
      {"scrape_samples_post_metric_relabeling", static_cast<double>(counts.samplesPostRelabeling)},
      {"scrape_series_added", static_cast<double>(counts.seriesAdded)},
  };
  for (const auto& [name, value] : series) {
    appendCommon(out.gauge, name, g, 0, scrapeNanos, 0);
    out.gauge.value.append(value);
    appendExemplars(out.gauge, kNone, scrapeNanos);
  }
  beginFamily({}, MetricType::kUnknown);
  familyOpen_ = false;
}

}  // namespace stackhouse::receivers::prometheus
