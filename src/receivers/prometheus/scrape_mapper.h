// From one scrape body to metric points, as the OpenTelemetry Collector's prometheus receiver
// maps them, written straight into a telemetry::MetricBatch:
//
//   counter                     -> sum, monotonic, cumulative (named as the series: foo_total)
//   gauge, unknown / untyped    -> gauge
//   info, stateset (OpenMetrics)-> sum, not monotonic, cumulative
//   histogram                   -> one histogram point per label set (_bucket/_sum/_count)
//   summary                     -> one summary point per label set (quantiles, _sum, _count)
//   gaugehistogram              -> dropped and counted, as the Collector drops it
//
// Resource: service.name = job, service.instance.id = instance, server.address, server.port,
// url.scheme. Point attributes: the sample's labels and the target's static labels, with
// Prometheus's honor_labels rules (a clash renames the sample's label to exported_<name>, or with
// honorLabels keeps the sample's). Start time: the series' `_created` sample when there is one,
// else the time the series was first seen (again after a reset). A series that disappears gets
// one stale point (value: Prometheus's stale NaN, flags: no recorded value), as does every
// series when a scrape fails; not a series whose sample carried a timestamp that was honored
// (Prometheus's scrape loop bypasses staleness for those).
//
// One ScrapeMapper per target; it keeps the target's series state between scrapes (start times
// and the last values, for resets and staleness). Not thread-safe: one scrape at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "receivers/prometheus/text_parser.h"
#include "telemetry/metric_batch.h"

namespace stackhouse::receivers::prometheus {

// Prometheus's stale marker: a NaN with this bit pattern (value.StaleNaN).
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ull;
double staleNaN();
bool isStaleNaN(double v);
// OTLP's DataPointFlags.FLAG_NO_RECORDED_VALUE, the Flags of a stale point.
inline constexpr uint32_t kNoRecordedValue = 1;

// The scope name of every point this receiver writes.
inline constexpr std::string_view kScopeName = "stackhouse/receiver/prometheus";

struct TargetIdentity {
  std::string job;
  std::string instance;  // host:port
  std::string scheme;    // http or https
  std::string host;
  std::string port;
  std::vector<std::pair<std::string, std::string>> labels;  // the job's static labels
  bool honorLabels = false;
  bool honorTimestamps = true;
};

struct ScrapeLimits {
  ParseLimits parse;
  size_t sampleLimit = 0;  // samples per scrape; 0: none
};

// What one scrape did, for the scrape_* series and the target's state.
struct ScrapeCounts {
  uint64_t samplesScraped = 0;
  uint64_t samplesPostRelabeling = 0;
  uint64_t seriesAdded = 0;
  uint64_t pointsWritten = 0;
  uint64_t droppedGaugeHistograms = 0;
  uint64_t staleMarkers = 0;
};

class ScrapeMapper {
 public:
  explicit ScrapeMapper(TargetIdentity target);
  ScrapeMapper(const ScrapeMapper&) = delete;
  ScrapeMapper& operator=(const ScrapeMapper&) = delete;

  const TargetIdentity& target() const { return target_; }

  // Parses `body` and appends its points to `out`, then stale points for the series of the last
  // scrape that this one lacks. On an error (malformed body, a limit) nothing is appended (`out`
  // is rolled back), the series state is unchanged and the status says why; the caller then
  // calls markAllStale. `scrapeNanos` is the scrape's start (the points' time unless honored).
  Status map(std::string_view body, Format format, const ScrapeLimits& limits, int64_t scrapeNanos,
             telemetry::MetricBatch& out, ScrapeCounts& counts);

  // Stale points for every series of the last successful scrape, which are then forgotten (a
  // failed scrape, or the target going away). Returns how many were written.
  uint64_t markAllStale(int64_t nanos, telemetry::MetricBatch& out);

  // The per-target series Prometheus adds to every scrape: up, scrape_duration_seconds,
  // scrape_samples_scraped, scrape_samples_post_metric_relabeling, scrape_series_added; as
  // gauges with the target's resource and static labels.
  void appendScrapeSeries(bool up, double durationSeconds, const ScrapeCounts& counts,
                          int64_t scrapeNanos, telemetry::MetricBatch& out);

  // Series known from the last successful scrape.
  size_t seriesCount() const { return series_.size(); }

 private:
  enum class Kind : unsigned char { kGauge, kSum, kHistogram, kSummary };

  struct LabelRef {
    uint32_t nameBegin, nameSize, valueBegin, valueSize;
  };
  struct Bucket {
    uint32_t group;
    double bound;  // le, or the quantile
    double value;
  };
  struct ExemplarRef {
    uint32_t group;
    double value;
    int64_t time;  // 0: the point's
    uint32_t labelsBegin, labelsCount;
  };
  struct Group {
    uint64_t hash;
    uint32_t labelsBegin, labelsCount;  // into labelRefs_
    uint32_t jobLabel, instanceLabel;   // honored job / instance among them, or UINT32_MAX
    double value, sum, count;
    bool hasValue, hasSum, hasCount, hasCreated, hasTimestamp;
    int64_t created, timestamp;
  };
  // 40 bytes a series, and its identity in identities_: a target of node-exporter size has
  // about 1,100 series, a scraper of 200 such targets 220,000.
  struct SeriesState {
    int64_t start = 0;
    double last = 0;  // the value, or for histograms and summaries the count
    uint32_t generation = 0;
    // For the stale point, in identities_: name, then (unless ownTarget) job and instance, then
    // attribute names and values, each followed by '\0'. Size 0: none (only past 4 GiB of
    // identities), so no stale point.
    uint32_t identityBegin = 0;
    uint32_t identitySize = 0;
    Kind kind = Kind::kGauge;
    bool monotonic = false;
    bool fresh = false;      // first seen in the scrape being mapped
    bool trackStale = true;  // false: its last sample carried a timestamp that was honored
    bool ownTarget = true;   // job and instance are the target's (not in the identity)
  };

  // The family being read: its metadata and its samples grouped by label set.
  void beginFamily(std::string_view name, MetricType type);
  bool belongs(std::string_view sample, std::string_view& suffix) const;
  Status addSample(const TextParser& parser, std::string_view suffix, const ScrapeLimits& limits,
                   int64_t scrapeNanos, ScrapeCounts& counts);
  void flushFamily(int64_t scrapeNanos, telemetry::MetricBatch& out, ScrapeCounts& counts);
  void emitGroup(const Group& g, Kind kind, int64_t scrapeNanos, telemetry::MetricBatch& out,
                 ScrapeCounts& counts);
  // Appends the common columns of one row (attributes of group g) and returns its start time.
  template <typename KindBatch>
  void appendCommon(KindBatch& b, std::string_view name, const Group& g, int64_t start,
                    int64_t time, uint32_t flags);
  template <typename KindBatch>
  void appendExemplars(KindBatch& b, uint32_t group, int64_t pointTime);
  // The start time for a cumulative point, from its series' state.
  int64_t startFor(uint64_t key, const Group& g, Kind kind, bool monotonic, double current,
                   int64_t time, std::string_view name, ScrapeCounts& counts);
  void appendStale(const SeriesState& s, int64_t nanos, telemetry::MetricBatch& out);
  // A series leaves series_: its identity becomes garbage in identities_.
  void forget(const SeriesState& s) { identityGarbage_ += s.identitySize; }
  // Rewrites identities_ without the garbage once it is more than half of it.
  void compactIdentities();
  void appendResource(telemetry::MapColumn& column, std::string_view job,
                      std::string_view instance);
  std::string_view arenaView(uint32_t begin, uint32_t size) const {
    return std::string_view(arena_).substr(begin, size);
  }
  uint32_t arenaAdd(std::string_view s);

  TargetIdentity target_;
  std::unordered_map<uint64_t, SeriesState> series_;
  // The series' identities, one after the other (SeriesState::identityBegin), and how many of
  // its bytes belong to series no longer kept.
  std::string identities_;
  size_t identityGarbage_ = 0;
  uint32_t generation_ = 0;

  // Per family, reused between families and scrapes.
  std::string familyName_;
  MetricType familyType_ = MetricType::kUnknown;
  std::string help_;
  std::string unit_;
  std::string valueName_;  // a counter's sample name (foo_total), gauges' and others' the name
  bool familyOpen_ = false;
  std::vector<Group> groups_;
  std::unordered_map<uint64_t, uint32_t> groupIndex_;
  std::vector<LabelRef> labelRefs_;
  std::vector<Bucket> buckets_;
  std::vector<ExemplarRef> exemplars_;
  std::string arena_;
  std::vector<std::pair<double, double>> sorted_;  // a group's buckets while it is written
  std::vector<size_t> staleScratch_;
};

}  // namespace stackhouse::receivers::prometheus
