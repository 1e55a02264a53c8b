#include "alerts/chart_source.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "common/json_writer.h"

namespace stackhouse::alerts {

std::string MetricsQuerySource::requestJson(const AlertDefinition& def, int64_t fromMs,
                                            int64_t toMs) {
  std::string out;
  JsonWriter w(out);
  w.beginObject().field("metric", std::string_view(def.metric));
  if (!def.aggregation.empty()) w.field("aggregation", std::string_view(def.aggregation));
  if (!def.where.empty()) w.field("where", std::string_view(def.where));
  if (!def.metricGroupBy.empty()) {
    w.key("groupBy").beginArray();
    for (const auto& g : def.metricGroupBy) w.value(std::string_view(g));
    w.endArray();
  }
  w.field("from", fromMs).field("to", toMs).field("step", (toMs - fromMs) / 1000);
  w.endObject();
  return out;
}

Result<std::vector<GroupValue>> MetricsQuerySource::reduce(std::string_view answer, int64_t fromMs,
                                                           int64_t toMs) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array series;
  if (parser.parse(answer.data(), answer.size()).get(root) != simdjson::SUCCESS ||
      root["series"].get_array().get(series) != simdjson::SUCCESS) {
    return internalError("the metrics query answered without a series array");
  }
  std::vector<GroupValue> out;
  for (simdjson::dom::element s : series) {
    if (out.size() >= kMaxGroups) break;
    std::map<std::string, std::string> labels;
    simdjson::dom::object l;
    if (s["labels"].get_object().get(l) == simdjson::SUCCESS) {
      for (auto [k, v] : l) {
        std::string_view text;
        labels[std::string(k)] = v.get_string().get(text) == simdjson::SUCCESS
                                     ? std::string(text)
                                     : simdjson::to_string(v);
      }
    }
    simdjson::dom::array points;
    if (s["points"].get_array().get(points) != simdjson::SUCCESS) continue;
    std::optional<double> last;
    int64_t lastAt = 0;
    for (simdjson::dom::element p : points) {
      simdjson::dom::array pair;
      if (p.get_array().get(pair) != simdjson::SUCCESS || pair.size() < 2) continue;
      double at = 0, value = 0;
      if (pair.at(0).get_double().get(at) != simdjson::SUCCESS) continue;
      // null (no value in that step) and non-finite values are no data.
      if (pair.at(1).get_double().get(value) != simdjson::SUCCESS || !std::isfinite(value)) {
        continue;
      }
      const auto t = static_cast<int64_t>(at);
      if (t < fromMs || t >= toMs) continue;
      if (!last || t >= lastAt) {
        last = value;
        lastAt = t;
      }
    }
    if (!last) continue;
    std::string group;
    for (const auto& [k, v] : labels) group += (group.empty() ? "" : ", ") + k + "=" + v;
    out.push_back({std::move(group), *last});
  }
  return out;
}

Result<std::vector<GroupValue>> MetricsQuerySource::values(const AlertDefinition& def,
                                                           int64_t fromMs, int64_t toMs) {
  auto answer = query_(requestJson(def, fromMs, toMs));
  if (!answer) return answer.status();
  return reduce(answer.value(), fromMs, toMs);
}

Status MetricsQuerySource::check(const AlertDefinition& def) {
  if (def.metric.empty()) return invalidArgument("metric: required for kind \"chart\"");
  return Status::ok();
}

}  // namespace stackhouse::alerts
