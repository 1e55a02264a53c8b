#include "store/metric_rollup.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/thread_name.h"
#include "store/schema.h"

namespace stackhouse::store {
namespace {

constexpr int64_t kBucket = kRollupBucketMs;
// Every statement of the rollup starts with this, by which stop() cancels the running one.
constexpr std::string_view kStatementTag = "/* metric-rollup */ ";

int64_t floorTo(int64_t ms, int64_t unit) { return ms - (((ms % unit) + unit) % unit); }

int64_t toI64(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

std::string msLiteral(int64_t ms) {
  return "fromUnixTimestamp64Milli(toInt64(" + std::to_string(ms) + "))";
}

// The columns every rollup row takes from its series' first point in the bucket (constant within a
// series in practice; a chart filters and groups rollup rows by them as it would the points).
constexpr std::string_view kCarried[] = {
    "SeriesId",           "ServiceName",     "ScopeName",  "ScopeVersion",
    "ResourceSchemaUrl",  "ScopeSchemaUrl",  "MetricUnit", "MetricDescription",
    "ResourceAttributes", "ScopeAttributes", "Attributes",
};

// INSERT ... SELECT of the buckets of [fromMs, toMs) of one table. A sum's reset-aware increase
// within the bucket (Within) is computed as the metrics chart computes it over the points (the
// values in (time, value) order; a drop is a reset, the value after it all increase), so a chart
// that adds the buckets' increases and the pairs across their boundaries gets the points' answer.
// A gauge needs none of that: its first and last by time.
//
// The numbers are aggregated by series and bucket (the join's right side, built in memory: a few
// numbers a series), and the columns a series carries (its attribute maps) are taken from its
// first row in the bucket (LIMIT 1 BY, streamed on the left). Carrying them through the
// aggregation instead (`any(Attributes)`) keeps each map as a tree of the engine's generic values
// per series: on a 5-minute bucket of 200 node-exporter targets (140,400 gauge series, 2.8 M
// points) that statement took 437 MiB above the process's floor and 2.8 s of CPU, this one 138 MiB
// and 2.4 s (docs/benchmarks.md).
std::string rollSql(size_t t, int64_t fromMs, int64_t toMs, uint64_t version) {
  const bool sum = kRollupTables[t].source == "otel_metrics_sum";
  const std::string keys = "MetricName, toDateTime(intDiv(toUnixTimestamp64Milli(TimeUnix), " +
                           std::to_string(kBucket) + ") * " + std::to_string(kBucket / 1000) +
                           ") AS Bucket, " + std::string(kSeriesWithStartSql) + " AS Sid";
  const std::string from =
      " FROM " + std::string(kDatabase) + "." + std::string(kRollupTables[t].source) +
      " WHERE TimeUnix >= " + msLiteral(fromMs) + " AND TimeUnix < " + msLiteral(toMs);
  std::string carried = "SELECT " + keys;
  std::string outer = "SELECT MetricName, Bucket, Sid";
  for (std::string_view c : kCarried) {
    carried += ", " + std::string(c);
    outer += ", " + std::string(c);
  }
  carried += from + " LIMIT 1 BY MetricName, Bucket, Sid";
  std::string numbers = "SELECT " + keys;
  if (sum) {
    numbers += ", " + std::string(kValuesInTimeOrderSql) + " AS vs";
    outer += ", vs[1], vs[-1], a_LastTime, " + std::string(kIncreaseWithinSql);
  } else {
    numbers += ", argMin(Value, TimeUnix) AS a_First, argMax(Value, TimeUnix) AS a_Last";
    outer += ", a_First, a_Last, a_LastTime, 0";
  }
  numbers +=
      ", max(toUnixTimestamp64Nano(TimeUnix)) AS a_LastTime, min(Value) AS a_Min, max(Value) AS "
      "a_Max, sum(Value) AS a_Sum, count() AS a_Count" +
      from + " GROUP BY MetricName, Bucket, Sid";
  outer += ", a_Min, a_Max, a_Sum, a_Count, toUInt64(" + std::to_string(version) + ")";
  return std::string(kStatementTag) + "INSERT INTO " + std::string(kDatabase) + "." +
         std::string(kRollupTables[t].rollup) + " " + outer + " FROM (" + carried +
         ") AS c INNER JOIN (" + numbers + ") AS n USING (MetricName, Bucket, Sid)";
}

}  // namespace

MetricRollup::MetricRollup(MetricRollupOptions options, MetricsRegistry* metrics)
    : options_(std::move(options)) {
  if (!options_.nowMs) {
    options_.nowMs = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  if (metrics != nullptr) {
    constexpr std::string_view kBuckets = "stackhouse_metric_rollup_buckets_total";
    constexpr std::string_view kHelp = "5-minute buckets of metric points rolled up, by cause";
    closedBuckets_ = &metrics->counter(kBuckets, kHelp, {{"kind", "closed"}});
    lateBuckets_ = &metrics->counter(kBuckets, kHelp, {{"kind", "late"}});
    failures_ = &metrics->counter("stackhouse_metric_rollup_failures_total",
                                  "Rollup statements that failed (retried at the next pass)");
    milliseconds_ = &metrics->counter("stackhouse_metric_rollup_milliseconds_total",
                                      "Time spent rolling up metric points");
    rolledUntil_ = &metrics->gauge("stackhouse_metric_rollup_rolled_until_seconds",
                                   "End of the rolled-up range of metric points (Unix seconds)");
  }
}

MetricRollup::~MetricRollup() { stop(); }

Result<std::unique_ptr<MetricRollup>> MetricRollup::open(ChdbStore& store,
                                                         MetricRollupOptions options,
                                                         MetricsRegistry* metrics) {
  std::unique_ptr<MetricRollup> r(new MetricRollup(std::move(options), metrics));
  auto conn = store.openMaintenanceConnection(r->options_.maxMemoryBytes);
  if (!conn) return conn.status();
  r->conn_ = std::move(conn.value());
  auto control = store.openControlConnection();
  if (!control) return control.status();
  r->control_ = std::move(control.value());
  STACKHOUSE_RETURN_IF_ERROR(r->findRolledRange());
  return r;
}

// Where each table's rolled range ends: after its newest rolled bucket; with no rollups, at the
// oldest point (everything stored is rolled at the first pass); with no points either, now. The
// last chunk before that end is rolled again, replacing what is there: a pass killed during an
// INSERT ... SELECT may have written some of that chunk's buckets and not others.
Status MetricRollup::findRolledRange() {
  const int64_t chunk = chunkMs();
  for (size_t i = 0; i < std::size(kRollupTables); ++i) {
    const RollupTable& t = kRollupTables[i];
    // Aggregates of no rows are 0: no bucket is at the epoch, nor any point.
    auto rolled =
        numbers("SELECT toInt64(max(toUnixTimestamp(Bucket))) * 1000, max(Version) FROM " +
                std::string(kDatabase) + "." + std::string(t.rollup));
    if (!rolled) return rolled.status();
    const auto [newestBucket, newestVersion] = rolled.value();
    // Versions go on from the highest stored: a replacing roll deletes the lower ones.
    version_ = std::max(version_, static_cast<uint64_t>(newestVersion));
    if (newestBucket > 0) {
      const int64_t end = newestBucket + kBucket;
      rolled_[i] = end - chunk;
      replaceUntil_[i] = end;
      continue;
    }
    auto oldest = numbers("SELECT toInt64(min(toUnixTimestamp64Milli(TimeUnix))), 0 FROM " +
                          std::string(kDatabase) + "." + std::string(t.source));
    if (!oldest) return oldest.status();
    rolled_[i] = oldest.value().first > 0
                     ? floorTo(oldest.value().first, kBucket)
                     : floorTo(now() - static_cast<int64_t>(options_.lateness.count()), kBucket);
  }
  publish();
  claimedMs_.store(*std::min_element(std::begin(rolled_), std::end(rolled_)),
                   std::memory_order_release);
  return Status::ok();
}

Result<std::pair<int64_t, int64_t>> MetricRollup::numbers(const std::string& sql) {
  auto r = conn_->query(sql);
  if (!r) return r.status();
  const std::string_view line = r->data;
  const size_t tab = line.find('\t');
  if (tab == std::string_view::npos) return unavailable("unexpected answer: " + r->data);
  return std::pair{toI64(line.substr(0, tab)), toI64(line.substr(tab + 1))};
}

void MetricRollup::publish() {
  const int64_t rolled = *std::min_element(std::begin(rolled_), std::end(rolled_));
  rolledMs_.store(rolled, std::memory_order_release);
  if (rolledUntil_ != nullptr) rolledUntil_->set(rolled / 1000);
}

int64_t MetricRollup::chunkMs() const {
  return std::max<int64_t>(kBucket, floorTo(options_.chunk.count(), kBucket));
}

int64_t MetricRollup::now() const { return options_.nowMs(); }

void MetricRollup::inserted(std::string_view table, const telemetry::TimestampColumn& times) {
  size_t t = 0;
  while (t < std::size(kRollupTables) && kRollupTables[t].source != table) ++t;
  if (t == std::size(kRollupTables)) return;
  const int64_t claimedNs = claimedMs_.load(std::memory_order_acquire) * 1'000'000;
  const size_t n = times.size();
  int64_t oldest = INT64_MAX;
  for (size_t i = 0; i < n; ++i) oldest = std::min(oldest, times.at(i));
  if (oldest >= claimedNs) return;
  const int64_t chunk = chunkMs();
  std::lock_guard lock(dirtyMu_);
  for (size_t i = 0; i < n; ++i) {
    const int64_t ns = times.at(i);
    if (ns >= claimedNs) continue;
    const int64_t bucket = floorTo(ns / 1'000'000, kBucket);
    // Past maxDirtyBuckets (points spread over many old buckets: a backfill, a client whose
    // clock jumps), whole chunks: the set and the statements of a pass stay bounded.
    if (dirty_.size() < options_.maxDirtyBuckets || dirty_.count({t, bucket}) != 0) {
      dirty_.emplace(t, bucket);
    } else {
      dirtyChunks_.emplace(t, floorTo(bucket, chunk));
    }
  }
}

Status MetricRollup::roll(size_t t, int64_t fromMs, int64_t toMs, bool replace) {
  const uint64_t version = ++version_;
  auto r = conn_->query(rollSql(t, fromMs, toMs, version));
  if (r && replace) {
    r = conn_->query(std::string(kStatementTag) + "DELETE FROM " + std::string(kDatabase) + "." +
                     std::string(kRollupTables[t].rollup) + " WHERE Bucket >= toDateTime(" +
                     std::to_string(fromMs / 1000) + ") AND Bucket < toDateTime(" +
                     std::to_string(toMs / 1000) + ") AND Version < " + std::to_string(version));
  }
  if (r) return Status::ok();
  // Cancelled by stop(): the range is rolled again, replacing, at the next start.
  if (cancelled_.load(std::memory_order_acquire)) return r.status();
  if (failures_ != nullptr) failures_->inc();
  // A failed INSERT ... SELECT may have written some of its buckets: whatever rolls this range
  // again replaces them. A long range is tried again in halves (a statement past its memory
  // bound over an hour of many series fits in five minutes).
  if (toMs - fromMs <= kBucket) return r.status();
  const int64_t mid = fromMs + floorTo((toMs - fromMs) / 2, kBucket);
  STACKHOUSE_RETURN_IF_ERROR(roll(t, fromMs, mid, true));
  return roll(t, mid, toMs, true);
}

Status MetricRollup::runOnce() {
  const auto started = std::chrono::steady_clock::now();
  const int64_t target = floorTo(now() - static_cast<int64_t>(options_.lateness.count()), kBucket);
  // Claimed before the reads: an insert that commits after this and holds points before
  // `target` is reported dirty, whether or not the statements below saw it.
  if (target > claimedMs_.load(std::memory_order_acquire)) {
    claimedMs_.store(target, std::memory_order_release);
  }
  Status status = Status::ok();
  for (size_t t = 0; t < std::size(kRollupTables); ++t) {
    while (rolled_[t] < target && !cancelled_.load(std::memory_order_acquire)) {
      const int64_t end = std::min(target, rolled_[t] + chunkMs());
      Status s = roll(t, rolled_[t], end, rolled_[t] < replaceUntil_[t]);
      if (!s.isOk()) {
        replaceUntil_[t] = std::max(replaceUntil_[t], end);
        status = s;
        break;
      }
      if (closedBuckets_ != nullptr) {
        closedBuckets_->inc(static_cast<uint64_t>((end - rolled_[t]) / kBucket));
      }
      rolled_[t] = end;
      publish();
    }
  }
  Status dirty = rollDirty();
  if (milliseconds_ != nullptr) {
    milliseconds_->inc(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::steady_clock::now() - started)
                                                 .count()));
  }
  return status.isOk() ? dirty : status;
}

// Rolls each run of consecutive dirty buckets again, replacing their earlier rows (a new
// version, then a lightweight DELETE of the lower ones: between the two a chart may count such
// a bucket twice, for the moment the DELETE takes).
Status MetricRollup::rollDirty() {
  std::set<std::pair<size_t, int64_t>> dirty;
  std::set<std::pair<size_t, int64_t>> chunks;
  {
    std::lock_guard lock(dirtyMu_);
    dirty.swap(dirty_);
    chunks.swap(dirtyChunks_);
  }
  Status status = Status::ok();
  const int64_t chunk = chunkMs();
  for (const auto& [t, from] : chunks) {
    Status s = roll(t, from, from + chunk, true);
    if (s.isOk()) {
      if (lateBuckets_ != nullptr) lateBuckets_->inc(static_cast<uint64_t>(chunk / kBucket));
    } else {
      std::lock_guard lock(dirtyMu_);
      dirtyChunks_.emplace(t, from);
      status = s;
    }
  }
  // Buckets within a chunk rolled whole need nothing more.
  std::erase_if(dirty, [&](const std::pair<size_t, int64_t>& b) {
    return chunks.count({b.first, floorTo(b.second, chunk)}) != 0;
  });
  auto it = dirty.begin();
  while (it != dirty.end()) {
    const size_t t = it->first;
    const int64_t from = it->second;
    int64_t to = from + kBucket;
    auto next = std::next(it);
    while (next != dirty.end() && next->first == t && next->second == to && to - from < chunk) {
      to += kBucket;
      ++next;
    }
    Status s = roll(t, from, to, true);
    if (s.isOk()) {
      if (lateBuckets_ != nullptr) lateBuckets_->inc(static_cast<uint64_t>((to - from) / kBucket));
    } else {
      // Kept dirty for the next pass.
      std::lock_guard lock(dirtyMu_);
      for (auto k = it; k != next; ++k) dirty_.insert(*k);
      status = s;
    }
    it = next;
  }
  return status;
}

void MetricRollup::start() {
  thread_ = std::thread([this] { run(); });
}

void MetricRollup::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    // A pass may be in a long statement (the first start on a large store rolls it all): cancel
    // it rather than wait. Its range is rolled again, replacing, at the next start.
    cancelled_.store(true, std::memory_order_release);
    auto killed = control_->query("KILL QUERY WHERE startsWith(query, '" +
                                  std::string(kStatementTag) + "') ASYNC");
    if (!killed) {
      log::warn("metric rollup: cannot cancel the running statement",
                log::Fields().add("error", killed.status().message()));
    }
    thread_.join();
    cancelled_.store(false, std::memory_order_release);
    Status s = rollDirty();
    if (!s.isOk()) {
      log::warn("metric rollup: late points not rolled up at stop",
                log::Fields().add("error", s.message()));
    }
  }
}

void MetricRollup::run() {
  setThreadName("metric-rollup");
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Status s = runOnce();
    if (!s.isOk() && !cancelled_.load(std::memory_order_acquire)) {
      log::warn("metric rollup failed; retried at the next pass",
                log::Fields().add("error", s.message()));
    }
    lock.lock();
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

}  // namespace stackhouse::store
