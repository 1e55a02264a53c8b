#include "alerts/evaluator.h"

#include <simdjson.h>

#include <algorithm>
#include <map>

#include "common/json_writer.h"

namespace stackhouse::alerts {

namespace {

int64_t floorTo(int64_t t, int64_t w) { return t >= 0 ? t - t % w : t - ((t % w) + w) % w; }

AlertState overall(const Runtime& r, bool noData) {
  for (const auto& g : r.groups) {
    if (g.alerting) return AlertState::kAlert;
  }
  return noData ? AlertState::kInsufficientData : AlertState::kOk;
}

}  // namespace

int64_t initialWindowEnd(int64_t windowMs, int64_t nowMs, int64_t delayMs) {
  return floorTo(nowMs - delayMs, windowMs) - windowMs;
}

std::vector<int64_t> dueWindowEnds(const Runtime& runtime, int64_t windowMs, int64_t nowMs,
                                   int64_t delayMs, size_t max, int64_t* skipped) {
  std::vector<int64_t> out;
  *skipped = 0;
  if (nowMs < runtime.retryAtMs) return out;
  const int64_t lastComplete = floorTo(nowMs - delayMs, windowMs);
  int64_t next = runtime.lastWindowEndMs + windowMs;
  if (next > lastComplete) return out;
  const int64_t missing = (lastComplete - runtime.lastWindowEndMs) / windowMs;
  if (missing > kMaxCatchUpWindows) {
    *skipped = missing - kMaxCatchUpWindows;
    next += *skipped * windowMs;
  }
  for (; next <= lastComplete && out.size() < max; next += windowMs) out.push_back(next);
  return out;
}

HistoryEntry skipWindows(Runtime& runtime, int64_t windowMs, int64_t count) {
  HistoryEntry h;
  h.windowStartMs = runtime.lastWindowEndMs;
  runtime.lastWindowEndMs += count * windowMs;
  h.windowEndMs = runtime.lastWindowEndMs;
  h.state = AlertState::kInsufficientData;
  h.error = std::to_string(count) + " windows not evaluated: more than " +
            std::to_string(kMaxCatchUpWindows) + " were missed";
  return h;
}

int64_t nextDueMs(const Runtime& runtime, int64_t windowMs, int64_t delayMs) {
  return std::max(runtime.lastWindowEndMs + windowMs + delayMs, runtime.retryAtMs);
}

WindowOutcome applyWindow(const AlertDefinition& def, Runtime& runtime, int64_t windowEndMs,
                          const std::vector<GroupValue>& values, bool silenced,
                          const std::string& link) {
  WindowOutcome out;
  const int64_t start = windowEndMs - def.windowMs;
  runtime.lastWindowEndMs = windowEndMs;
  runtime.retryAtMs = 0;
  runtime.lastError.clear();

  std::map<std::string, double> seen;
  for (const auto& v : values) {
    if (seen.size() >= kMaxGroups) break;
    seen.emplace(v.group, v.value);
  }
  const bool isSearch = def.kind == AlertKind::kSearch;
  // Search alerts: a tracked group missing from this window counted 0.
  if (isSearch) {
    if (def.groupBy.empty() && seen.empty()) seen.emplace("", 0.0);
    for (const auto& g : runtime.groups) {
      if (seen.size() >= kMaxGroups) break;
      seen.emplace(g.group, 0.0);
    }
  }

  auto message = [&](Event event, const std::string& group, double value) {
    if (silenced) return;
    Message m;
    m.event = event;
    m.alertName = def.name;
    m.group = group;
    m.value = value;
    m.windowStartMs = start;
    m.windowEndMs = windowEndMs;
    m.link = link;
    out.messages.push_back(std::move(m));
  };

  std::vector<GroupStatus> next;
  for (const auto& [group, value] : seen) {
    GroupStatus g;
    g.group = group;
    for (const auto& old : runtime.groups) {
      if (old.group == group) g = old;
    }
    g.lastValue = value;
    if (breaches(def.threshold, value)) {
      g.streak = std::min(g.streak + 1, kMaxConsecutiveWindows);
      if (!g.alerting && g.streak >= def.consecutiveWindows) {
        g.alerting = true;
        message(Event::kFire, group, value);
      }
    } else {
      g.streak = 0;
      if (g.alerting) {
        g.alerting = false;
        message(Event::kResolve, group, value);
      }
    }
    out.history.push_back(
        {start, windowEndMs, group, value, g.alerting ? AlertState::kAlert : AlertState::kOk, {}});
    // A group with nothing to remember is dropped; it comes back when it matches again.
    if (g.alerting || g.streak > 0 || (isSearch && def.groupBy.empty())) {
      next.push_back(std::move(g));
    }
  }
  // Chart series absent from this window keep what they had (no data is not a recovery).
  if (!isSearch) {
    for (const auto& old : runtime.groups) {
      if (!seen.contains(old.group) && old.alerting && next.size() < kMaxGroups) {
        next.push_back(old);
      }
    }
  }
  runtime.groups = std::move(next);
  const bool noData = !isSearch && values.empty();
  runtime.state = overall(runtime, noData);
  if (noData) {
    out.history.push_back({start, windowEndMs, "", std::nullopt, runtime.state, "no data"});
  }
  return out;
}

HistoryEntry failWindow(Runtime& runtime, int64_t windowMs, int64_t windowEndMs,
                        const std::string& error, int64_t retryAtMs) {
  runtime.retryAtMs = retryAtMs;
  runtime.lastError = error;
  runtime.state = overall(runtime, true);
  return {windowEndMs - windowMs, windowEndMs, "", std::nullopt, runtime.state, error};
}

std::string runtimeGroupsJson(const Runtime& runtime) {
  std::string out;
  JsonWriter w(out);
  w.beginArray();
  for (const auto& g : runtime.groups) {
    w.beginObject().field("group", std::string_view(g.group)).field("streak", g.streak);
    w.field("alerting", g.alerting).field("value", g.lastValue).endObject();
  }
  w.endArray();
  return out;
}

void readRuntimeGroups(std::string_view json, Runtime& runtime) {
  runtime.groups.clear();
  simdjson::dom::parser parser;
  simdjson::dom::array a;
  if (parser.parse(json.data(), json.size()).get_array().get(a) != simdjson::SUCCESS) return;
  for (simdjson::dom::element e : a) {
    GroupStatus g;
    std::string_view group;
    int64_t streak = 0;
    bool alerting = false;
    double value = 0;
    if (e["group"].get_string().get(group) != simdjson::SUCCESS) continue;
    // Missing members keep their defaults.
    if (e["streak"].get_int64().get(streak) != simdjson::SUCCESS) streak = 0;
    if (e["alerting"].get_bool().get(alerting) != simdjson::SUCCESS) alerting = false;
    if (e["value"].get_double().get(value) != simdjson::SUCCESS) value = 0;
    g.group = std::string(group);
    g.streak = static_cast<int>(streak);
    g.alerting = alerting;
    g.lastValue = value;
    runtime.groups.push_back(std::move(g));
  }
}

}  // namespace stackhouse::alerts
