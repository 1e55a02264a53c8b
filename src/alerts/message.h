// The messages an alert sends: a generic webhook's JSON body rendered from a template, and
// Slack's incoming-webhook format.
//
// A template is JSON text with placeholders: {{title}}, {{body}}, {{link}}, {{alert}}, {{state}},
// {{event}} ("fire" | "resolve"), {{group}}, {{value}}, {{threshold}}, {{windowStart}},
// {{windowEnd}} (RFC 3339). Every value is escaped for a JSON string (quotes, backslashes and
// control characters), so "{{body}}" inside quotes stays one string whatever the body holds;
// {{value}} and {{threshold}} are numbers and may stand outside quotes. A rendered body must be
// valid JSON, checked when the alert is saved and again before each send.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "alerts/alert.h"
#include "common/status.h"

namespace stackhouse::alerts {

inline constexpr std::string_view kDefaultTemplate =
    R"({"title": "{{title}}", "body": "{{body}}", "link": "{{link}}", "alert": "{{alert}}", )"
    R"("event": "{{event}}", "state": "{{state}}", "group": "{{group}}", "value": {{value}}, )"
    R"("threshold": {{threshold}}, "windowStart": "{{windowStart}}", "windowEnd": "{{windowEnd}}"})";

enum class Event : unsigned char { kFire, kResolve };
std::string_view eventName(Event event);

// What one message says.
struct Message {
  Event event = Event::kFire;
  std::string alertName;
  std::string group;  // "" without group-by
  double value = 0;
  int64_t windowStartMs = 0;
  int64_t windowEndMs = 0;
  std::string link;  // the alert's page in the UI
};

std::string titleOf(const Message& m);
std::string bodyOf(const AlertDefinition& def, const Message& m);

// Substitutes the placeholders; unknown placeholders are left as they are. Fails when the result
// is not valid JSON.
Result<std::string> renderTemplate(std::string_view tmpl, const AlertDefinition& def,
                                   const Message& m);
// The request body for the alert's channel.
Result<std::string> renderMessage(const AlertDefinition& def, const Message& m);

// RFC 3339 UTC with seconds: 2026-12-06T09:01:00Z.
std::string rfc3339(int64_t ms);
// A number as JSON: integers without a fraction, others with up to 6 significant decimals.
std::string numberText(double v);

}  // namespace stackhouse::alerts
