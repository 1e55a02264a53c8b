#include "alerts/alert.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "alerts/message.h"
#include "common/json_writer.h"

namespace stackhouse::alerts {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

constexpr size_t kMaxName = 200;
constexpr size_t kMaxQuery = 16 << 10;
constexpr size_t kMaxUrl = 2048;
constexpr size_t kMaxTemplate = 16 << 10;

Status bad(std::string message) { return invalidArgument(std::move(message)); }

// A string member: absent → nullopt with no error; present but not a string → error.
std::optional<std::string> str(object o, std::string_view key, std::string_view path, size_t max,
                               std::string* error) {
  element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  std::string_view v;
  if (e.get_string().get(v) != simdjson::SUCCESS) {
    *error = std::string(path) + ": must be a string";
    return std::nullopt;
  }
  if (v.size() > max) {
    *error = std::string(path) + ": longer than " + std::to_string(max) + " bytes";
    return std::nullopt;
  }
  return std::string(v);
}

std::optional<double> num(object o, std::string_view key) {
  element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  double v = 0;
  if (e.get_double().get(v) != simdjson::SUCCESS || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool unknownField(object o, std::initializer_list<std::string_view> known, std::string_view path,
                  std::string* error) {
  for (auto [k, v] : o) {
    bool ok = false;
    for (std::string_view name : known) ok = ok || k == name;
    if (!ok) {
      *error = (path.empty() ? "" : std::string(path) + ".") + std::string(k) + ": unknown field";
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view stateName(AlertState state) {
  switch (state) {
    case AlertState::kOk: return "OK";
    case AlertState::kAlert: return "ALERT";
    case AlertState::kInsufficientData: return "INSUFFICIENT_DATA";
    case AlertState::kDisabled: return "DISABLED";
  }
  return "OK";
}

std::optional<AlertState> parseState(std::string_view name) {
  for (AlertState s : {AlertState::kOk, AlertState::kAlert, AlertState::kInsufficientData,
                       AlertState::kDisabled}) {
    if (stateName(s) == name) return s;
  }
  return std::nullopt;
}

bool breaches(const Threshold& t, double value) {
  switch (t.op) {
    case ThresholdOp::kAbove: return value >= t.value;
    case ThresholdOp::kBelow: return value < t.value;
    case ThresholdOp::kBetween: return value >= t.value && value <= t.value2;
  }
  return false;
}

std::optional<int64_t> parseWindow(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (ec != std::errc() || p != text.data() + text.size() - 1 || n <= 0 || n > 1'000'000) {
    return std::nullopt;
  }
  switch (text.back()) {
    case 's': return n * 1000;
    case 'm': return n * 60'000;
    case 'h': return n * 3'600'000;
    case 'd': return n * 86'400'000;
    default: return std::nullopt;
  }
}

std::string formatWindow(int64_t ms) {
  if (ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  return std::to_string(ms / 1000) + "s";
}

std::string redactedUrl(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "…";
  const auto hostEnd = url.find_first_of("/?#", scheme + 3);
  std::string_view host =
      url.substr(scheme + 3,
                 hostEnd == std::string_view::npos ? std::string_view::npos : hostEnd - scheme - 3);
  // Credentials in the authority (user:pass@host) are cut too.
  if (const auto at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
  return std::string(url.substr(0, scheme + 3)) + std::string(host) + "/…";
}

Result<AlertDefinition> parseAlertDefinition(std::string_view body,
                                             const AlertDefinition* existing) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return bad("the body is not valid JSON");
  }
  object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) return bad("the body must be a JSON object");
  std::string error;
  if (unknownField(o,
                   {"name", "kind", "source", "query", "groupBy", "metric", "aggregation", "where",
                    "window", "threshold", "consecutiveWindows", "channel"},
                   "", &error)) {
    return bad(error);
  }
  AlertDefinition d;
  auto name = str(o, "name", "name", kMaxName, &error);
  if (!error.empty()) return bad(error);
  if (!name || name->empty()) return bad("name: required, a non-empty string");
  d.name = *name;

  auto kind = str(o, "kind", "kind", 16, &error);
  if (!error.empty()) return bad(error);
  if (!kind) return bad("kind: required, \"search\" or \"chart\"");
  if (*kind == "search") {
    d.kind = AlertKind::kSearch;
  } else if (*kind == "chart") {
    d.kind = AlertKind::kChart;
  } else {
    return bad("kind: must be \"search\" or \"chart\"");
  }

  if (d.kind == AlertKind::kSearch) {
    auto source = str(o, "source", "source", 16, &error);
    if (!error.empty()) return bad(error);
    d.source = source.value_or("logs");
    if (d.source != "logs" && d.source != "traces") {
      return bad("source: must be \"logs\" or \"traces\"");
    }
    d.query = str(o, "query", "query", kMaxQuery, &error).value_or("");
    if (!error.empty()) return bad(error);
    d.groupBy = str(o, "groupBy", "groupBy", 256, &error).value_or("");
    if (!error.empty()) return bad(error);
    for (std::string_view f : {"metric", "aggregation", "where"}) {
      element e;
      if (o[f].get(e) == simdjson::SUCCESS && !e.is_null()) {
        return bad(std::string(f) + ": only for kind \"chart\"");
      }
    }
  } else {
    auto metric = str(o, "metric", "metric", kMaxName, &error);
    if (!error.empty()) return bad(error);
    if (!metric || metric->empty()) return bad("metric: required for kind \"chart\"");
    d.metric = *metric;
    d.aggregation = str(o, "aggregation", "aggregation", 32, &error).value_or("");
    if (!error.empty()) return bad(error);
    d.where = str(o, "where", "where", kMaxQuery, &error).value_or("");
    if (!error.empty()) return bad(error);
    element g;
    if (o["groupBy"].get(g) == simdjson::SUCCESS && !g.is_null()) {
      simdjson::dom::array a;
      std::string_view one;
      if (g.get_string().get(one) == simdjson::SUCCESS) {
        if (!one.empty()) d.metricGroupBy.emplace_back(one);
      } else if (g.get_array().get(a) == simdjson::SUCCESS && a.size() <= 3) {
        for (element e : a) {
          std::string_view v;
          if (e.get_string().get(v) != simdjson::SUCCESS || v.empty() || v.size() > 256) {
            return bad("groupBy: attribute names (strings)");
          }
          d.metricGroupBy.emplace_back(v);
        }
      } else {
        return bad("groupBy: up to 3 attribute names");
      }
    }
    for (std::string_view f : {"source", "query"}) {
      element e;
      if (o[f].get(e) == simdjson::SUCCESS && !e.is_null()) {
        return bad(std::string(f) + ": only for kind \"search\"");
      }
    }
  }

  auto window = str(o, "window", "window", 16, &error);
  if (!error.empty()) return bad(error);
  if (!window) return bad("window: required, a duration from 1m to 1d, such as 5m");
  auto windowMs = parseWindow(*window);
  if (!windowMs || *windowMs < kMinWindowMs || *windowMs > kMaxWindowMs ||
      kMaxWindowMs % *windowMs != 0) {
    return bad(
        "window: must be a duration from 1m to 1d that divides a day (1m, 5m, 15m, 1h, "
        "6h, 1d ...), not \"" +
        *window + "\"");
  }
  d.windowMs = *windowMs;

  element t;
  object th;
  if (o["threshold"].get(t) != simdjson::SUCCESS || t.get_object().get(th) != simdjson::SUCCESS) {
    return bad("threshold: required, {op: \"above\"|\"below\"|\"between\", value, value2?}");
  }
  if (unknownField(th, {"op", "value", "value2"}, "threshold", &error)) return bad(error);
  auto op = str(th, "op", "threshold.op", 16, &error);
  if (!error.empty()) return bad(error);
  if (op == "above") {
    d.threshold.op = ThresholdOp::kAbove;
  } else if (op == "below") {
    d.threshold.op = ThresholdOp::kBelow;
  } else if (op == "between") {
    d.threshold.op = ThresholdOp::kBetween;
  } else {
    return bad("threshold.op: must be \"above\", \"below\" or \"between\"");
  }
  auto value = num(th, "value");
  if (!value) return bad("threshold.value: required, a finite number");
  d.threshold.value = *value;
  if (d.threshold.op == ThresholdOp::kBetween) {
    auto value2 = num(th, "value2");
    if (!value2) return bad("threshold.value2: required with \"between\", a finite number");
    if (*value2 < *value) return bad("threshold.value2: must not be below threshold.value");
    d.threshold.value2 = *value2;
  }

  element c;
  if (o["consecutiveWindows"].get(c) == simdjson::SUCCESS && !c.is_null()) {
    int64_t n = 0;
    if (c.get_int64().get(n) != simdjson::SUCCESS || n < 1 || n > kMaxConsecutiveWindows) {
      return bad("consecutiveWindows: must be an integer from 1 to " +
                 std::to_string(kMaxConsecutiveWindows));
    }
    d.consecutiveWindows = static_cast<int>(n);
  }

  element ch;
  object channel;
  if (o["channel"].get(ch) != simdjson::SUCCESS ||
      ch.get_object().get(channel) != simdjson::SUCCESS) {
    return bad("channel: required, {type: \"webhook\"|\"slack\", url, template?}");
  }
  if (unknownField(channel, {"type", "url", "template"}, "channel", &error)) return bad(error);
  auto type = str(channel, "type", "channel.type", 16, &error);
  if (!error.empty()) return bad(error);
  if (type == "webhook") {
    d.channel.type = ChannelType::kWebhook;
  } else if (type == "slack") {
    d.channel.type = ChannelType::kSlack;
  } else {
    return bad("channel.type: must be \"webhook\" or \"slack\"");
  }
  auto url = str(channel, "url", "channel.url", kMaxUrl, &error);
  if (!error.empty()) return bad(error);
  if (!url && existing != nullptr) url = existing->channel.url;
  if (!url || !(url->starts_with("http://") || url->starts_with("https://")) || url->size() < 10 ||
      url->find_first_of(" \r\n\t") != std::string::npos) {
    return bad("channel.url: required, an http:// or https:// URL");
  }
  d.channel.url = *url;
  d.channel.bodyTemplate =
      str(channel, "template", "channel.template", kMaxTemplate, &error).value_or("");
  if (!error.empty()) return bad(error);
  if (!d.channel.bodyTemplate.empty()) {
    if (d.channel.type != ChannelType::kWebhook) {
      return bad("channel.template: only for a webhook (Slack's format is fixed)");
    }
    Message sample;
    sample.alertName = d.name;
    sample.group = "service=api";
    sample.value = 1;
    sample.link = "http://127.0.0.1:8080/alerts/1";
    auto rendered = renderTemplate(d.channel.bodyTemplate, d, sample);
    if (!rendered) return bad("channel.template: " + rendered.status().message());
  }
  return d;
}

std::string definitionJson(const AlertDefinition& d, bool redactUrl) {
  std::string out;
  JsonWriter w(out);
  w.beginObject().field("name", std::string_view(d.name));
  w.field("kind", d.kind == AlertKind::kSearch ? "search" : "chart");
  if (d.kind == AlertKind::kSearch) {
    w.field("source", std::string_view(d.source)).field("query", std::string_view(d.query));
    w.field("groupBy", std::string_view(d.groupBy));
  } else {
    w.field("metric", std::string_view(d.metric));
    w.field("aggregation", std::string_view(d.aggregation));
    w.field("where", std::string_view(d.where));
    w.key("groupBy").beginArray();
    for (const auto& g : d.metricGroupBy) w.value(std::string_view(g));
    w.endArray();
  }
  w.field("window", std::string_view(formatWindow(d.windowMs)));
  w.key("threshold").beginObject();
  w.field("op", d.threshold.op == ThresholdOp::kAbove   ? "above"
                : d.threshold.op == ThresholdOp::kBelow ? "below"
                                                        : "between");
  w.field("value", d.threshold.value);
  if (d.threshold.op == ThresholdOp::kBetween) w.field("value2", d.threshold.value2);
  w.endObject();
  w.field("consecutiveWindows", d.consecutiveWindows);
  w.key("channel").beginObject();
  w.field("type", d.channel.type == ChannelType::kWebhook ? "webhook" : "slack");
  w.field("url", std::string_view(redactUrl ? redactedUrl(d.channel.url) : d.channel.url));
  if (!d.channel.bodyTemplate.empty()) {
    w.field("template", std::string_view(d.channel.bodyTemplate));
  }
  w.endObject();
  w.endObject();
  return out;
}

}  // namespace stackhouse::alerts
