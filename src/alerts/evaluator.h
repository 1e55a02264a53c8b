// The evaluation rules of one alert, as pure functions of its definition, its persisted runtime
// and the values of a window (no clock, no I/O: the engine passes the time in, the tests too).
//
// Windows are aligned to the Unix epoch: [k·w, (k+1)·w). A window is due once `delay` has passed
// after its end (rows arrive a little after their timestamps). The runtime remembers the end of
// the last window evaluated, so that after a restart the windows missed meanwhile are evaluated
// once each (caught up, oldest first) and none twice. A new alert's first window is the last
// complete one, so it has a state at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "alerts/alert.h"
#include "alerts/message.h"

namespace stackhouse::alerts {

// Windows older than this many are not caught up (a stackhouse down for days): the oldest are
// skipped, and that is said in the history.
inline constexpr int64_t kMaxCatchUpWindows = 1440;

// One group's value in one window ("" without group-by).
struct GroupValue {
  std::string group;
  double value = 0;
};

struct GroupStatus {
  std::string group;
  int streak = 0;         // breaching windows in a row
  bool alerting = false;  // fired and not resolved
  double lastValue = 0;
};

// What is persisted between evaluations (alert_store.h).
struct Runtime {
  int64_t lastWindowEndMs = 0;  // end of the last window evaluated; 0: none yet
  AlertState state = AlertState::kInsufficientData;
  std::vector<GroupStatus> groups;
  int64_t retryAtMs = 0;  // after a failed query: the window is retried from then on
  std::string lastError;
};

struct HistoryEntry {
  int64_t windowStartMs = 0;
  int64_t windowEndMs = 0;
  std::string group;
  std::optional<double> value;  // none: no data, or an error
  AlertState state = AlertState::kOk;
  std::string error;
};

struct WindowOutcome {
  std::vector<HistoryEntry> history;
  std::vector<Message> messages;  // fire and resolve messages to send (none while silenced)
};

// The end of the window a new (or re-enabled) alert is considered to have evaluated last: the one
// before the last complete window, so that the last complete window is due at once.
int64_t initialWindowEnd(int64_t windowMs, int64_t nowMs, int64_t delayMs);

// The ends of the windows due at `nowMs`, oldest first, at most `max`. When more than
// kMaxCatchUpWindows are missing, `*skipped` says how many old ones are passed over (the runtime's
// lastWindowEndMs must then be moved by the caller: see skipWindows).
std::vector<int64_t> dueWindowEnds(const Runtime& runtime, int64_t windowMs, int64_t nowMs,
                                   int64_t delayMs, size_t max, int64_t* skipped);
// Moves lastWindowEndMs past `count` windows, with a history entry saying so.
HistoryEntry skipWindows(Runtime& runtime, int64_t windowMs, int64_t count);

// When the engine should next look at this alert: the due time of its next window, or the retry
// time after a failure.
int64_t nextDueMs(const Runtime& runtime, int64_t windowMs, int64_t delayMs);

// Applies the values of window [windowEndMs - windowMs, windowEndMs) to the runtime. `values`:
//   search alerts: one entry per group that matched (without group-by, one entry, 0 when none);
//                  tracked groups missing from it count 0;
//   chart alerts:  one entry per series; none at all is INSUFFICIENT_DATA.
// `silenced`: evaluated and recorded as usual, but no message.
WindowOutcome applyWindow(const AlertDefinition& def, Runtime& runtime, int64_t windowEndMs,
                          const std::vector<GroupValue>& values, bool silenced,
                          const std::string& link);

// A window whose query failed: the runtime is not advanced (the window is retried at
// `retryAtMs`), its state becomes INSUFFICIENT_DATA unless a group is alerting.
HistoryEntry failWindow(Runtime& runtime, int64_t windowMs, int64_t windowEndMs,
                        const std::string& error, int64_t retryAtMs);

// The runtime as JSON for the store, and back (a bad text gives a fresh runtime).
std::string runtimeGroupsJson(const Runtime& runtime);
void readRuntimeGroups(std::string_view json, Runtime& runtime);

}  // namespace stackhouse::alerts
