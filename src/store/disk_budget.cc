#include "store/disk_budget.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "common/log.h"
#include "common/thread_name.h"
#include "store/schema.h"

namespace stackhouse::store {
namespace {

constexpr std::string_view kWeeklyTable = "otel_traces_trace_id_ts";

uint64_t toU64(std::string_view text) {
  uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// Days since the epoch of a YYYYMMDD partition id; -1 when it is not one.
int64_t dayOf(std::string_view id) {
  if (id.size() != 8) return -1;
  const auto y = static_cast<int>(toU64(id.substr(0, 4)));
  const auto m = static_cast<unsigned>(toU64(id.substr(4, 2)));
  const auto d = static_cast<unsigned>(toU64(id.substr(6, 2)));
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m),
                                        std::chrono::day(d)};
  if (!ymd.ok()) return -1;
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<DiskBudget>> DiskBudget::create(ChdbStore& store, DiskBudgetOptions options,
                                                       MetricsRegistry* metrics) {
  auto conn = store.openControlConnection();
  if (!conn) return conn.status();
  return std::unique_ptr<DiskBudget>(new DiskBudget(std::move(conn.value()), options, metrics));
}

DiskBudget::DiskBudget(std::unique_ptr<ChdbConnection> conn, DiskBudgetOptions options,
                       MetricsRegistry* metrics)
    : conn_(std::move(conn)), options_(options) {
  if (metrics != nullptr) {
    partitionsDropped_ = &metrics->counter(
        "stackhouse_store_disk_budget_partitions_dropped_total",
        "Partitions dropped to keep the store within clickstack.clickhouse.persistence.dataSize");
    bytesDropped_ = &metrics->counter("stackhouse_store_disk_budget_bytes_dropped_total",
                                      "Bytes on disk of the partitions dropped for the budget");
    dataBytes_ = &metrics->gauge("stackhouse_store_data_bytes",
                                 "Bytes on disk of the telemetry tables' active parts");
  }
}

DiskBudget::~DiskBudget() { stop(); }

void DiskBudget::start() {
  thread_ = std::thread([this] { run(); });
}

void DiskBudget::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DiskBudget::run() {
  setThreadName("disk-budget");
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto r = checkOnce();
    if (!r) {
      log::warn("disk budget check failed", log::Fields().add("error", r.status().message()));
    }
    lock.lock();
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

Result<uint64_t> DiskBudget::measure() {
  auto r = conn_->query("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = '" +
                        std::string(kDatabase) + "' AND active");
  if (!r) return r.status();
  const uint64_t bytes = toU64(r->data);
  if (dataBytes_ != nullptr) dataBytes_->set(static_cast<int64_t>(bytes));
  return bytes;
}

Result<BudgetCheck> DiskBudget::checkOnce() {
  BudgetCheck check;
  auto before = measure();
  if (!before) return before.status();
  check.bytesBefore = check.bytesAfter = before.value();
  const auto high =
      static_cast<uint64_t>(static_cast<double>(options_.maxBytes) * options_.highWatermark);
  if (check.bytesBefore <= high) return check;
  const auto low =
      static_cast<uint64_t>(static_cast<double>(options_.maxBytes) * options_.lowWatermark);

  auto parts = conn_->query(
      "SELECT table, partition_id, sum(bytes_on_disk) FROM system.parts WHERE database = '" +
      std::string(kDatabase) + "' AND active GROUP BY table, partition_id ORDER BY partition_id");
  if (!parts) return parts.status();
  // Day partitions by day (every table but the weekly one), oldest first.
  std::map<int64_t, std::vector<DroppedPartition>> days;
  std::vector<std::pair<int64_t, DroppedPartition>> weeks;
  for (std::string_view line : lines(parts->data)) {
    const size_t t1 = line.find('\t');
    const size_t t2 = line.find('\t', t1 + 1);
    if (t1 == std::string_view::npos || t2 == std::string_view::npos) continue;
    DroppedPartition p{std::string(line.substr(0, t1)),
                       std::string(line.substr(t1 + 1, t2 - t1 - 1)), toU64(line.substr(t2 + 1))};
    const int64_t day = dayOf(p.partitionId);
    if (day < 0) continue;  // not a day partition of ours
    if (p.table == kWeeklyTable) {
      weeks.emplace_back(day, std::move(p));
    } else {
      days[day].push_back(std::move(p));
    }
  }
  uint64_t current = check.bytesBefore;
  auto drop = [&](const DroppedPartition& p) -> Status {
    auto r = conn_->query("ALTER TABLE " + std::string(kDatabase) + "." + p.table +
                          " DROP PARTITION ID '" + p.partitionId + "'");
    if (!r) return r.status();
    current = current > p.bytes ? current - p.bytes : 0;
    check.dropped.push_back(p);
    if (partitionsDropped_ != nullptr) partitionsDropped_->inc();
    if (bytesDropped_ != nullptr) bytesDropped_->inc(p.bytes);
    log::warn("disk budget: oldest partition dropped", log::Fields()
                                                           .add("table", p.table)
                                                           .add("partition", p.partitionId)
                                                           .add("bytes", p.bytes)
                                                           .add("data_bytes", current)
                                                           .add("budget_bytes", options_.maxBytes));
    return Status::ok();
  };
  // Never the newest day: it is being written.
  while (current > low && days.size() > 1) {
    auto oldest = days.begin();
    for (const DroppedPartition& p : oldest->second) STACKHOUSE_RETURN_IF_ERROR(drop(p));
    days.erase(oldest);
  }
  if (current > low && days.size() <= 1 && !warnedTooSmall_) {
    warnedTooSmall_ = true;
    log::warn("disk budget: over budget with only the newest day left; it is kept",
              log::Fields().add("data_bytes", current).add("budget_bytes", options_.maxBytes));
  }
  // A week of trace-id lookups goes once no day of it is left.
  const int64_t oldestDay = days.empty() ? INT64_MAX : days.begin()->first;
  for (const auto& [weekStart, p] : weeks) {
    if (weekStart + 7 <= oldestDay && !days.empty()) STACKHOUSE_RETURN_IF_ERROR(drop(p));
  }
  if (!check.dropped.empty()) {
    auto after = measure();
    if (!after) return after.status();
    check.bytesAfter = after.value();
  }
  return check;
}

}  // namespace stackhouse::store
