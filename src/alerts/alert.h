// An alert's definition, its evaluation state, and their JSON (the API's request bodies).
//
// A search alert counts the logs or spans that match a search-language query in each window,
// optionally per value of a group-by field; a chart alert takes one value per series of a metrics
// query (the shape of POST /api/v1/metrics/query: {metric, aggregation?, where?, groupBy?}) with
// the window as its step. Either compares each value with the threshold:
//   above    value >= threshold.value
//   below    value <  threshold.value
//   between  threshold.value <= value <= threshold.value2
// and a group (or the alert, without group-by) is ALERT after `consecutiveWindows` breaching
// windows in a row, OK again after one window that does not breach.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace stackhouse::alerts {

inline constexpr int64_t kMinWindowMs = 60'000;      // 1m
inline constexpr int64_t kMaxWindowMs = 86'400'000;  // 1d
inline constexpr int kMaxConsecutiveWindows = 100;
inline constexpr size_t kMaxGroups = 100;  // per window; more are cut (largest counts kept)

enum class AlertKind : unsigned char { kSearch, kChart };
enum class ThresholdOp : unsigned char { kAbove, kBelow, kBetween };
enum class AlertState : unsigned char { kOk, kAlert, kInsufficientData, kDisabled };
enum class ChannelType : unsigned char { kWebhook, kSlack };

std::string_view stateName(AlertState state);  // "OK", "ALERT", "INSUFFICIENT_DATA", "DISABLED"
std::optional<AlertState> parseState(std::string_view name);

struct Threshold {
  ThresholdOp op = ThresholdOp::kAbove;
  double value = 0;
  double value2 = 0;  // with kBetween: the upper bound
};

// Whether `value` breaches the threshold (the comparisons above).
bool breaches(const Threshold& threshold, double value);

struct Channel {
  ChannelType type = ChannelType::kWebhook;
  std::string url;           // a credential: never logged, never answered in full
  std::string bodyTemplate;  // webhook only; empty: the default template (notifier.h)
};

struct AlertDefinition {
  std::string name;
  AlertKind kind = AlertKind::kSearch;
  // Search alerts.
  std::string source = "logs";  // "logs" | "traces"
  std::string query;            // the search language; "" matches everything
  std::string groupBy;          // a column or attribute; "" for none
  // Chart alerts: a metrics query.
  std::string metric;
  std::string aggregation;
  std::string where;
  std::vector<std::string> metricGroupBy;
  int64_t windowMs = 5 * 60'000;
  Threshold threshold;
  int consecutiveWindows = 1;
  Channel channel;
};

// Parses and validates an API body (POST /api/v1/alerts, or PUT with `existing` set: a body
// without channel.url keeps the existing URL). Errors name the field: "window: must be a
// duration from 1m to 1d, such as 5m".
Result<AlertDefinition> parseAlertDefinition(std::string_view body,
                                             const AlertDefinition* existing = nullptr);

// The definition as JSON: the API's shape. With `redactUrl` the channel's URL is replaced by its
// scheme and host ("https://hooks.slack.com/…"), which is what answers and the UI show.
std::string definitionJson(const AlertDefinition& def, bool redactUrl);

// "5m", "1h", "90s" (whole seconds, minutes, hours, days) to milliseconds.
std::optional<int64_t> parseWindow(std::string_view text);
std::string formatWindow(int64_t ms);

// The scheme and host of a URL, for showing a webhook without its secret path.
std::string redactedUrl(std::string_view url);

}  // namespace stackhouse::alerts
