#include "alerts/message.h"

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/json_writer.h"

namespace stackhouse::alerts {

namespace {

// `s` escaped as the inside of a JSON string literal (no quotes).
std::string jsonInside(std::string_view s) {
  std::string quoted;
  appendJsonString(quoted, s);
  return quoted.substr(1, quoted.size() - 2);
}

std::string thresholdText(const Threshold& t) {
  switch (t.op) {
    case ThresholdOp::kAbove: return "at or above " + numberText(t.value);
    case ThresholdOp::kBelow: return "below " + numberText(t.value);
    case ThresholdOp::kBetween:
      return "between " + numberText(t.value) + " and " + numberText(t.value2);
  }
  return "";
}

// Slack's mrkdwn text needs &, < and > escaped; everything else is literal.
std::string slackEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string_view eventName(Event event) { return event == Event::kFire ? "fire" : "resolve"; }

std::string rfc3339(int64_t ms) {
  const time_t s = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  struct tm tm {};
  gmtime_r(&s, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string numberText(double v) {
  if (!std::isfinite(v)) return "0";
  if (std::fabs(v) < 1e15 && v == std::floor(v)) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string titleOf(const Message& m) {
  return std::string(m.event == Event::kFire ? "[ALERT] " : "[RESOLVED] ") + m.alertName +
         (m.group.empty() ? "" : " (" + m.group + ")");
}

std::string bodyOf(const AlertDefinition& def, const Message& m) {
  std::string what;
  if (def.kind == AlertKind::kSearch) {
    what = std::string(def.source == "traces" ? "spans" : "logs") + " matching " +
           (def.query.empty() ? std::string("everything") : "\"" + def.query + "\"");
  } else {
    what = (def.aggregation.empty() ? std::string() : def.aggregation + " of ") + def.metric;
  }
  std::string out = what + (m.group.empty() ? "" : " for " + m.group) + " was " +
                    numberText(m.value) + " in the " + formatWindow(def.windowMs) +
                    " window ending " + rfc3339(m.windowEndMs) + "; the alert is ";
  if (m.event == Event::kFire) {
    out += "set for " + thresholdText(def.threshold);
    if (def.consecutiveWindows > 1) {
      out += ", " + std::to_string(def.consecutiveWindows) + " windows in a row";
    }
  } else {
    out += "resolved (threshold: " + thresholdText(def.threshold) + ")";
  }
  return out + ".";
}

Result<std::string> renderTemplate(std::string_view tmpl, const AlertDefinition& def,
                                   const Message& m) {
  const std::string title = titleOf(m);
  const std::string body = bodyOf(def, m);
  auto valueOf = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "title") return jsonInside(title);
    if (name == "body") return jsonInside(body);
    if (name == "link") return jsonInside(m.link);
    if (name == "alert") return jsonInside(m.alertName);
    if (name == "state") return std::string(m.event == Event::kFire ? "ALERT" : "OK");
    if (name == "event") return std::string(eventName(m.event));
    if (name == "group") return jsonInside(m.group);
    if (name == "value") return numberText(m.value);
    if (name == "threshold") return numberText(def.threshold.value);
    if (name == "windowStart") return rfc3339(m.windowStartMs);
    if (name == "windowEnd") return rfc3339(m.windowEndMs);
    return std::nullopt;
  };
  std::string out;
  out.reserve(tmpl.size() + body.size());
  size_t i = 0;
  while (i < tmpl.size()) {
    const auto open = tmpl.find("{{", i);
    if (open == std::string_view::npos) {
      out += tmpl.substr(i);
      break;
    }
    out += tmpl.substr(i, open - i);
    const auto close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) {
      out += tmpl.substr(open);
      break;
    }
    std::string_view name = tmpl.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (auto v = valueOf(name)) {
      out += *v;
    } else {
      out += tmpl.substr(open, close + 2 - open);
    }
    i = close + 2;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(out).get(e) != simdjson::SUCCESS) {
    return invalidArgument(
        "the template does not render to valid JSON (placeholders are escaped for use inside "
        "JSON strings: write \"{{title}}\" with its quotes)");
  }
  return out;
}

Result<std::string> renderMessage(const AlertDefinition& def, const Message& m) {
  if (def.channel.type == ChannelType::kWebhook) {
    return renderTemplate(def.channel.bodyTemplate.empty()
                              ? kDefaultTemplate
                              : std::string_view(def.channel.bodyTemplate),
                          def, m);
  }
  // Slack incoming webhook: {"text": ...} in mrkdwn, with the link as <url|label>.
  std::string text = "*" + slackEscape(titleOf(m)) + "*\n" + slackEscape(bodyOf(def, m));
  if (!m.link.empty()) text += "\n<" + slackEscape(m.link) + "|Open in stackhouse>";
  std::string out;
  JsonWriter w(out);
  w.beginObject().field("text", std::string_view(text)).endObject();
  return out;
}

}  // namespace stackhouse::alerts
