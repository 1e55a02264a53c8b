// Alert evaluation with an injected clock, a fake series source and a fake webhook: windows,
// consecutive windows, between, insufficient data, silence, catch-up after a restart without
// doubling, group-by, retries with backoff, the template's JSON escaping, and the API bodies.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "alerts/alert.h"
#include "alerts/alert_engine.h"
#include "alerts/alert_store.h"
#include "alerts/chart_source.h"
#include "alerts/evaluator.h"
#include "alerts/message.h"
#include "alerts/notifier.h"
#include "support/temp_dir.h"

namespace stackhouse::alerts {
namespace {

constexpr int64_t kMinute = 60'000;
// A minute boundary, so that windows are easy to read: 2026-12-06T09:00:00Z.
constexpr int64_t kT0 = 1796547600000;

// Values by window start; a window without an entry answers `missing` (default: no rows).
class FakeSource final : public SeriesSource {
 public:
  Result<std::vector<GroupValue>> values(const AlertDefinition&, int64_t fromMs,
                                         int64_t toMs) override {
    calls.push_back({fromMs, toMs});
    if (failing) return unavailable("engine busy");
    auto it = byWindow.find(fromMs);
    if (it == byWindow.end()) return std::vector<GroupValue>{};
    return it->second;
  }
  Status check(const AlertDefinition&) override { return Status::ok(); }

  std::map<int64_t, std::vector<GroupValue>> byWindow;
  std::vector<std::pair<int64_t, int64_t>> calls;
  bool failing = false;
};

class FakeWebhook final : public WebhookClient {
 public:
  PostResult post(const std::string& url, const std::string& body,
                  std::chrono::milliseconds) override {
    urls.push_back(url);
    bodies.push_back(body);
    PostResult r;
    if (!statuses.empty()) {
      r.httpStatus = statuses.front();
      statuses.pop_front();
    } else {
      r.httpStatus = 200;
    }
    if (r.httpStatus == 0) r.error = "Couldn't connect to server";
    return r;
  }
  std::vector<std::string> urls, bodies;
  std::deque<int> statuses;
};

AlertDefinition searchAlert(ThresholdOp op, double value, double value2 = 0, int consecutive = 1) {
  AlertDefinition d;
  d.name = "errors";
  d.kind = AlertKind::kSearch;
  d.source = "logs";
  d.query = "level:error";
  d.windowMs = kMinute;
  d.threshold = {op, value, value2};
  d.consecutiveWindows = consecutive;
  d.channel.url = "http://127.0.0.1:9/hook/secret-path";
  return d;
}

std::vector<GroupValue> count(double n) { return {{"", n}}; }

TEST(Threshold, AboveBelowBetween) {
  EXPECT_TRUE(breaches({ThresholdOp::kAbove, 5, 0}, 5));
  EXPECT_TRUE(breaches({ThresholdOp::kAbove, 5, 0}, 6));
  EXPECT_FALSE(breaches({ThresholdOp::kAbove, 5, 0}, 4.99));
  EXPECT_TRUE(breaches({ThresholdOp::kBelow, 5, 0}, 4));
  EXPECT_FALSE(breaches({ThresholdOp::kBelow, 5, 0}, 5));
  EXPECT_TRUE(breaches({ThresholdOp::kBetween, 2, 4}, 2));
  EXPECT_TRUE(breaches({ThresholdOp::kBetween, 2, 4}, 4));
  EXPECT_TRUE(breaches({ThresholdOp::kBetween, 2, 4}, 3));
  EXPECT_FALSE(breaches({ThresholdOp::kBetween, 2, 4}, 1.5));
  EXPECT_FALSE(breaches({ThresholdOp::kBetween, 2, 4}, 4.5));
}

TEST(Windows, AlignedDueAfterTheDelayAndCaughtUpOnce) {
  Runtime r;
  // A new alert at 09:03:30 with a 5 s delay: the last complete window [09:02, 09:03) is due.
  r.lastWindowEndMs = initialWindowEnd(kMinute, kT0 + 3 * kMinute + 30'000, 5000);
  EXPECT_EQ(r.lastWindowEndMs, kT0 + 2 * kMinute);
  int64_t skipped = 0;
  auto due = dueWindowEnds(r, kMinute, kT0 + 3 * kMinute + 30'000, 5000, 100, &skipped);
  ASSERT_EQ(due, std::vector<int64_t>{kT0 + 3 * kMinute});
  // Just before 09:04:05 the next one is not due; at it, it is.
  r.lastWindowEndMs = kT0 + 3 * kMinute;
  EXPECT_TRUE(dueWindowEnds(r, kMinute, kT0 + 4 * kMinute + 4999, 5000, 100, &skipped).empty());
  EXPECT_EQ(dueWindowEnds(r, kMinute, kT0 + 4 * kMinute + 5000, 5000, 100, &skipped).size(), 1u);
  EXPECT_EQ(nextDueMs(r, kMinute, 5000), kT0 + 4 * kMinute + 5000);
  // Ten minutes later: ten windows, oldest first, each once.
  due = dueWindowEnds(r, kMinute, kT0 + 13 * kMinute + 5000, 5000, 100, &skipped);
  ASSERT_EQ(due.size(), 10u);
  EXPECT_EQ(due.front(), kT0 + 4 * kMinute);
  EXPECT_EQ(due.back(), kT0 + 13 * kMinute);
  // At most `max` per pass.
  EXPECT_EQ(dueWindowEnds(r, kMinute, kT0 + 13 * kMinute + 5000, 5000, 3, &skipped).size(), 3u);
  // Days down: only the newest kMaxCatchUpWindows, the rest skipped and said so.
  due =
      dueWindowEnds(r, kMinute, kT0 + 3 * kMinute + 2000 * kMinute + 5000, 5000, 100000, &skipped);
  EXPECT_EQ(skipped, 2000 - kMaxCatchUpWindows);
  EXPECT_EQ(static_cast<int64_t>(due.size()), kMaxCatchUpWindows);
  HistoryEntry h = skipWindows(r, kMinute, skipped);
  EXPECT_EQ(r.lastWindowEndMs + kMinute, due.front());
  EXPECT_NE(h.error.find("not evaluated"), std::string::npos);
}

TEST(Apply, ConsecutiveWindowsFireOnceAndResolveOnce) {
  AlertDefinition d = searchAlert(ThresholdOp::kAbove, 10, 0, 3);
  Runtime r;
  std::vector<Message> all;
  int64_t end = kT0;
  for (double v : {12.0, 15.0, 9.0, 11.0, 11.0, 20.0, 30.0, 3.0, 0.0}) {
    end += kMinute;
    auto out = applyWindow(d, r, end, count(v), false, "http://x/alerts/1");
    ASSERT_EQ(out.history.size(), 1u);
    EXPECT_EQ(*out.history[0].value, v);
    for (auto& m : out.messages) all.push_back(m);
  }
  // 12, 15 (2 in a row), 9 breaks it; 11, 11, 20 is three in a row: fire at the 6th window;
  // 30 stays alerting without a second message; 3 resolves; 0 says nothing.
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].event, Event::kFire);
  EXPECT_EQ(all[0].value, 20.0);
  EXPECT_EQ(all[0].windowEndMs, kT0 + 6 * kMinute);
  EXPECT_EQ(all[1].event, Event::kResolve);
  EXPECT_EQ(all[1].value, 3.0);
  EXPECT_EQ(all[1].windowEndMs, kT0 + 8 * kMinute);
  EXPECT_EQ(r.state, AlertState::kOk);
  EXPECT_EQ(r.lastWindowEndMs, kT0 + 9 * kMinute);
}

TEST(Apply, BetweenAndBelowWithZeroWhenNothingMatched) {
  AlertDefinition between = searchAlert(ThresholdOp::kBetween, 2, 4);
  Runtime r;
  EXPECT_TRUE(applyWindow(between, r, kT0 + kMinute, count(1), false, "").messages.empty());
  auto fire = applyWindow(between, r, kT0 + 2 * kMinute, count(3), false, "");
  ASSERT_EQ(fire.messages.size(), 1u);
  EXPECT_EQ(r.state, AlertState::kAlert);
  EXPECT_EQ(applyWindow(between, r, kT0 + 3 * kMinute, count(5), false, "").messages.size(), 1u);
  EXPECT_EQ(r.state, AlertState::kOk);

  // "below 1": no rows at all is a count of 0 for a search alert, not missing data.
  AlertDefinition below = searchAlert(ThresholdOp::kBelow, 1);
  Runtime b;
  auto out = applyWindow(below, b, kT0 + kMinute, {}, false, "");
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].value, 0.0);
  EXPECT_EQ(b.state, AlertState::kAlert);
}

TEST(Apply, ChartWithoutDataIsInsufficientAndDoesNotResolve) {
  AlertDefinition d = searchAlert(ThresholdOp::kAbove, 0.5);
  d.kind = AlertKind::kChart;
  d.metric = "cpu";
  Runtime r;
  auto out = applyWindow(d, r, kT0 + kMinute, {}, false, "");
  EXPECT_EQ(r.state, AlertState::kInsufficientData);
  ASSERT_EQ(out.history.size(), 1u);
  EXPECT_FALSE(out.history[0].value.has_value());
  EXPECT_EQ(applyWindow(d, r, kT0 + 2 * kMinute, {{"host=a", 0.9}}, false, "").messages.size(), 1u);
  EXPECT_EQ(r.state, AlertState::kAlert);
  // No data: still alerting, no resolve message.
  EXPECT_TRUE(applyWindow(d, r, kT0 + 3 * kMinute, {}, false, "").messages.empty());
  EXPECT_EQ(r.state, AlertState::kAlert);
  auto resolved = applyWindow(d, r, kT0 + 4 * kMinute, {{"host=a", 0.1}}, false, "");
  ASSERT_EQ(resolved.messages.size(), 1u);
  EXPECT_EQ(resolved.messages[0].event, Event::kResolve);
  EXPECT_EQ(resolved.messages[0].group, "host=a");
}

TEST(Apply, GroupsFireAndResolveEachAndMissingGroupsCountZero) {
  AlertDefinition d = searchAlert(ThresholdOp::kAbove, 5);
  d.groupBy = "service";
  Runtime r;
  auto out = applyWindow(d, r, kT0 + kMinute, {{"service=api", 9}, {"service=db", 2}}, false, "");
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].group, "service=api");
  // api is gone from the next window: it counted 0 and resolves.
  out = applyWindow(d, r, kT0 + 2 * kMinute, {{"service=db", 7}}, false, "");
  ASSERT_EQ(out.messages.size(), 2u);
  std::map<std::string, Event> events;
  for (auto& m : out.messages) events[m.group] = m.event;
  EXPECT_EQ(events["service=api"], Event::kResolve);
  EXPECT_EQ(events["service=db"], Event::kFire);
}

TEST(Apply, SilenceKeepsStateButSendsNothing) {
  AlertDefinition d = searchAlert(ThresholdOp::kAbove, 1);
  Runtime r;
  EXPECT_TRUE(applyWindow(d, r, kT0 + kMinute, count(5), true, "").messages.empty());
  EXPECT_EQ(r.state, AlertState::kAlert);
  // Silence over, still alerting: no new fire; the resolve is sent.
  EXPECT_TRUE(applyWindow(d, r, kT0 + 2 * kMinute, count(5), false, "").messages.empty());
  EXPECT_EQ(applyWindow(d, r, kT0 + 3 * kMinute, count(0), false, "").messages.size(), 1u);
}

TEST(Message, TemplateEscapesForJsonAndRefusesBrokenJson) {
  AlertDefinition d = searchAlert(ThresholdOp::kAbove, 1);
  d.name = "quote \" backslash \\ newline \n tab \t </script>";
  d.query = "\"connection reset\" AND level:error";
  Message m;
  m.alertName = d.name;
  m.group = "service=a\"b";
  m.value = 42;
  m.windowStartMs = kT0;
  m.windowEndMs = kT0 + kMinute;
  m.link = "http://127.0.0.1:8080/alerts/7";
  auto body = renderTemplate(
      R"({"t": "{{title}}", "b": "{{body}}", "l": "{{link}}", "v": {{value}}, "g": "{{group}}", "x": "{{unknown}}"})",
      d, m);
  ASSERT_TRUE(body.isOk()) << body.status().message();
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(body.value()).get(e), simdjson::SUCCESS);
  EXPECT_EQ(std::string(e["t"].get_string().value()), "[ALERT] " + d.name + " (service=a\"b)");
  EXPECT_EQ(e["v"].get_int64().value(), 42);
  EXPECT_EQ(std::string(e["g"].get_string().value()), "service=a\"b");
  EXPECT_EQ(std::string(e["x"].get_string().value()), "{{unknown}}");
  EXPECT_NE(std::string(e["b"].get_string().value()).find("\"connection reset\""),
            std::string::npos);
  // Placeholders are escaped for use inside quotes; without them the body is not JSON.
  EXPECT_FALSE(renderTemplate(R"({"t": {{title}}})", d, m).isOk());
  // Slack: text with & < > escaped and the link in <url|label> form.
  d.channel.type = ChannelType::kSlack;
  d.name = "a < b & c";
  m.alertName = d.name;
  auto slack = renderMessage(d, m);
  ASSERT_TRUE(slack.isOk());
  ASSERT_EQ(p.parse(slack.value()).get(e), simdjson::SUCCESS);
  const std::string text(e["text"].get_string().value());
  EXPECT_NE(text.find("a &lt; b &amp; c"), std::string::npos) << text;
  EXPECT_NE(text.find("<http://127.0.0.1:8080/alerts/7|Open in stackhouse>"), std::string::npos);
}

TEST(Definition, ValidationNamesTheField) {
  const std::string ok =
      R"({"name": "e", "kind": "search", "query": "level:error", "window": "5m",
          "threshold": {"op": "above", "value": 3}, "channel": {"type": "webhook", "url": "http://127.0.0.1:1/x"}})";
  auto d = parseAlertDefinition(ok);
  ASSERT_TRUE(d.isOk()) << d.status().message();
  EXPECT_EQ(d->windowMs, 5 * kMinute);
  EXPECT_EQ(d->consecutiveWindows, 1);
  struct Case {
    std::string from, to, message;
  };
  const std::vector<Case> cases = {
      {"\"window\": \"5m\"", "\"window\": \"30s\"", "window:"},
      {"\"window\": \"5m\"", "\"window\": \"2d\"", "window:"},
      {"\"window\": \"5m\"", "\"window\": \"7m\"", "window:"},
      {"\"op\": \"above\"", "\"op\": \"over\"", "threshold.op:"},
      {"\"op\": \"above\", \"value\": 3", "\"op\": \"between\", \"value\": 3", "threshold.value2:"},
      {"\"value\": 3", "\"value\": \"3\"", "threshold.value:"},
      {"\"kind\": \"search\"", "\"kind\": \"graph\"", "kind:"},
      {"\"type\": \"webhook\"", "\"type\": \"email\"", "channel.type:"},
      {"http://127.0.0.1:1/x", "ftp://127.0.0.1/x", "channel.url:"},
      {"\"name\": \"e\"", "\"name\": \"\"", "name:"},
      {"\"name\": \"e\"", "\"name\": \"e\", \"consecutiveWindows\": 0", "consecutiveWindows:"},
      {"\"name\": \"e\"", "\"name\": \"e\", \"colour\": 1", "colour: unknown field"},
      {"\"name\": \"e\"", "\"name\": \"e\", \"metric\": \"cpu\"", "metric: only for"},
      {"\"url\": \"http://127.0.0.1:1/x\"",
       "\"url\": \"http://127.0.0.1:1/x\", \"template\": \"{\\\"a\\\": {{title}}}\"",
       "channel.template:"},
  };
  for (const auto& c : cases) {
    std::string body = ok;
    const auto at = body.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    body.replace(at, c.from.size(), c.to);
    auto r = parseAlertDefinition(body);
    ASSERT_FALSE(r.isOk()) << body;
    EXPECT_EQ(r.status().message().rfind(c.message, 0), 0u) << r.status().message();
  }
  // The URL is a credential: shown as scheme and host only.
  const std::string shown = definitionJson(d.value(), true);
  EXPECT_EQ(shown.find("/x"), std::string::npos);
  EXPECT_NE(shown.find("http://127.0.0.1:1/…"), std::string::npos);
  EXPECT_EQ(redactedUrl("https://user:pw@hooks.example.com/T0/B1/XYZ?token=1"),
            "https://hooks.example.com/…");
  // An update without the URL keeps the existing one.
  std::string noUrl = ok;
  noUrl.replace(noUrl.find(", \"url\": \"http://127.0.0.1:1/x\""),
                std::string(", \"url\": \"http://127.0.0.1:1/x\"").size(), "");
  EXPECT_FALSE(parseAlertDefinition(noUrl).isOk());
  auto kept = parseAlertDefinition(noUrl, &d.value());
  ASSERT_TRUE(kept.isOk());
  EXPECT_EQ(kept->channel.url, "http://127.0.0.1:1/x");
}

TEST(ChartSource, RequestAndReduction) {
  AlertDefinition d = searchAlert(ThresholdOp::kAbove, 1);
  d.kind = AlertKind::kChart;
  d.metric = "http.server.duration";
  d.aggregation = "p99";
  d.metricGroupBy = {"service.name"};
  std::string seen;
  MetricsQuerySource source([&](const std::string& request) -> Result<std::string> {
    seen = request;
    return std::string(R"({"series": [{"labels": {"service.name": "api", "a": "1"}, "points": [[)" +
                       std::to_string(kT0) + R"(, 0.25], [)" + std::to_string(kT0 + 30'000) +
                       R"(, 0.75], [)" + std::to_string(kT0 + kMinute) +
                       R"(, 9]]}, {"labels": {"service.name": "db"}, "points": [[)" +
                       std::to_string(kT0) + R"(, null]]}]})");
  });
  auto v = source.values(d, kT0, kT0 + kMinute);
  ASSERT_TRUE(v.isOk()) << v.status().message();
  EXPECT_NE(seen.find(R"("metric":"http.server.duration")"), std::string::npos) << seen;
  EXPECT_NE(seen.find(R"("step":60)"), std::string::npos) << seen;
  EXPECT_NE(seen.find(R"("groupBy":["service.name"])"), std::string::npos) << seen;
  // The last point inside [from, to); a series with only nulls has no value.
  ASSERT_EQ(v.value().size(), 1u);
  EXPECT_EQ(v.value()[0].group, "a=1, service.name=api");
  EXPECT_EQ(v.value()[0].value, 0.75);
  EXPECT_FALSE(MetricsQuerySource::reduce("{}", 0, 1).isOk());
}

// The engine over a real store file: first evaluation, catch-up after a "restart" (a new engine
// on the same file, the clock moved on) evaluates each missed window once, failures retry later.
struct EngineRig {
  testing::TempDir dir;
  int64_t now = kT0 + 3 * kMinute + 30'000;
  std::unique_ptr<AlertStore> store;
  FakeSource source;
  FakeWebhook webhook;

  EngineRig() { store = AlertStore::open(dir.path() + "/app.sqlite").value(); }

  std::unique_ptr<AlertEngine> engine(Notifier* notifier = nullptr) {
    EngineOptions o;
    o.nowMs = [this] { return now; };
    o.delayMs = 5000;
    o.retryMs = 30'000;
    o.linkBase = "http://127.0.0.1:8080";
    return std::make_unique<AlertEngine>(*store, source, source, notifier, o);
  }

  int64_t add(const AlertDefinition& d) {
    StoredAlert a;
    a.def = d;
    a.owner = "oncall@example.com";
    a.runtime.lastWindowEndMs = initialWindowEnd(d.windowMs, now, 5000);
    return store->add(a).value();
  }
};

TEST(Engine, CatchesUpMissedWindowsOnceAfterARestart) {
  EngineRig rig;
  const int64_t id = rig.add(searchAlert(ThresholdOp::kAbove, 10));
  rig.source.byWindow[kT0 + 2 * kMinute] = count(1);
  {
    auto engine = rig.engine();
    EXPECT_EQ(engine->runOnce(), 1u);  // [09:02, 09:03)
    EXPECT_EQ(engine->runOnce(), 0u);  // nothing new
    EXPECT_EQ(engine->nextDueMs(), kT0 + 4 * kMinute + 5000);
  }
  // Down from 09:03:30 to 09:10:20: windows 09:03..09:10 (7) missed; one breaches.
  rig.now = kT0 + 10 * kMinute + 20'000;
  rig.source.byWindow[kT0 + 6 * kMinute] = count(50);
  rig.source.calls.clear();
  {
    auto engine = rig.engine();
    EXPECT_EQ(engine->runOnce(), 7u);
    EXPECT_EQ(engine->runOnce(), 0u) << "evaluated twice";
  }
  ASSERT_EQ(rig.source.calls.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(rig.source.calls[i].first, kT0 + static_cast<int64_t>(3 + i) * kMinute);
  }
  auto history = rig.store->history(id, 100);
  ASSERT_EQ(history.size(), 8u);
  std::set<int64_t> ends;
  for (const auto& h : history) ends.insert(h.entry.windowEndMs);
  EXPECT_EQ(ends.size(), 8u) << "a window in the history twice";
  // Fired at 09:06-09:07 and resolved at 09:07-09:08: two messages, pending.
  auto deliveries = rig.store->deliveries(id, 10);
  ASSERT_EQ(deliveries.size(), 2u);
  EXPECT_EQ(deliveries[1].event, Event::kFire);
  EXPECT_EQ(deliveries[0].event, Event::kResolve);
  EXPECT_EQ(rig.store->get(id)->runtime.lastWindowEndMs, kT0 + 10 * kMinute);
}

TEST(Engine, AFailedQueryIsRetriedLaterAndTheWindowNotLost) {
  EngineRig rig;
  const int64_t id = rig.add(searchAlert(ThresholdOp::kAbove, 1));
  rig.source.failing = true;
  auto engine = rig.engine();
  EXPECT_EQ(engine->runOnce(), 0u);
  auto a = rig.store->get(id);
  EXPECT_EQ(a->runtime.state, AlertState::kInsufficientData);
  EXPECT_EQ(a->runtime.lastError, "engine busy");
  EXPECT_EQ(a->runtime.lastWindowEndMs, kT0 + 2 * kMinute) << "the window must not be consumed";
  EXPECT_EQ(engine->nextDueMs(), rig.now + 30'000);
  rig.now += 10'000;
  EXPECT_EQ(engine->runOnce(), 0u) << "retried before its time";
  rig.now += 20'000;
  rig.source.failing = false;
  rig.source.byWindow[kT0 + 2 * kMinute] = count(3);
  EXPECT_EQ(engine->runOnce(), 1u);
  a = rig.store->get(id);
  EXPECT_EQ(a->runtime.state, AlertState::kAlert);
  EXPECT_TRUE(a->runtime.lastError.empty());
}

TEST(Engine, SilencedAndDisabledAlerts) {
  EngineRig rig;
  const int64_t silenced = rig.add(searchAlert(ThresholdOp::kAbove, 1));
  ASSERT_TRUE(rig.store->setSilence(silenced, rig.now + 2 * kMinute).isOk());
  AlertDefinition off = searchAlert(ThresholdOp::kAbove, 1);
  StoredAlert disabled;
  disabled.def = off;
  disabled.enabled = false;
  disabled.runtime.lastWindowEndMs = initialWindowEnd(kMinute, rig.now, 5000);
  const int64_t disabledId = rig.store->add(disabled).value();
  rig.source.byWindow[kT0 + 2 * kMinute] = count(5);
  auto engine = rig.engine();
  EXPECT_EQ(engine->runOnce(), 1u) << "the disabled alert was evaluated";
  EXPECT_EQ(rig.store->get(silenced)->runtime.state, AlertState::kAlert);
  EXPECT_TRUE(rig.store->deliveries(silenced, 10).empty()) << "a silenced alert sent a message";
  EXPECT_TRUE(rig.store->history(disabledId, 10).empty());
}

TEST(Engine, AChangedAlertIsNotOverwrittenByAnOlderEvaluation) {
  EngineRig rig;
  const int64_t id = rig.add(searchAlert(ThresholdOp::kAbove, 1));
  auto a = rig.store->get(id).value();
  // Changed after the engine read it: its version moved on.
  ASSERT_TRUE(rig.store->replace(a).value());
  Runtime stale = a.runtime;
  stale.lastWindowEndMs += kMinute;
  EXPECT_FALSE(rig.store->recordEvaluation(id, a.version, stale, {}, {}, rig.now).value());
  EXPECT_EQ(rig.store->get(id)->runtime.lastWindowEndMs, a.runtime.lastWindowEndMs);
}

TEST(Notifier, RetriesWithBackoffRecordsEveryAttemptAndGivesUp) {
  EngineRig rig;
  const int64_t id = rig.add(searchAlert(ThresholdOp::kAbove, 1));
  rig.source.byWindow[kT0 + 2 * kMinute] = count(5);
  NotifierOptions no;
  no.nowMs = [&rig] { return rig.now; };
  no.maxAttempts = 3;
  Notifier notifier(*rig.store, rig.webhook, no);
  auto engine = rig.engine(&notifier);
  ASSERT_EQ(engine->runOnce(), 1u);
  rig.webhook.statuses = {0, 503, 200};
  EXPECT_EQ(notifier.runOnce(), 1u);  // refused: retry after ~1 s
  EXPECT_EQ(notifier.runOnce(), 0u) << "retried before its backoff";
  rig.now += 1300;
  EXPECT_EQ(notifier.runOnce(), 1u);  // 503: retry after ~2 s
  rig.now += 1300;
  EXPECT_EQ(notifier.runOnce(), 0u);
  rig.now += 1300;
  EXPECT_EQ(notifier.runOnce(), 1u);  // 200
  auto d = rig.store->deliveries(id, 10);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].status, DeliveryStatus::kDelivered);
  EXPECT_EQ(d[0].attempts, 3);
  auto attempts = rig.store->attempts(id, 10);
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[2].outcome, "retry");
  EXPECT_EQ(attempts[2].message, "Couldn't connect to server");
  EXPECT_EQ(attempts[1].httpStatus, 503);
  EXPECT_EQ(attempts[0].outcome, "delivered");
  ASSERT_EQ(rig.webhook.urls.size(), 3u);
  EXPECT_EQ(rig.webhook.urls[0], "http://127.0.0.1:9/hook/secret-path");
  simdjson::dom::parser p;
  simdjson::dom::element e;
  ASSERT_EQ(p.parse(rig.webhook.bodies[0]).get(e), simdjson::SUCCESS);
  EXPECT_EQ(std::string(e["event"].get_string().value()), "fire");
  EXPECT_EQ(std::string(e["link"].get_string().value()),
            "http://127.0.0.1:8080/alerts/" + std::to_string(id));

  // A 404 is permanent: failed after one attempt.
  rig.now = kT0 + 4 * kMinute + 5000;
  ASSERT_EQ(engine->runOnce(), 1u);  // [09:03, 09:04): no rows → resolve
  rig.webhook.statuses = {404};
  EXPECT_EQ(notifier.runOnce(), 1u);
  d = rig.store->deliveries(id, 10);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].event, Event::kResolve);
  EXPECT_EQ(d[0].status, DeliveryStatus::kFailed);
  EXPECT_EQ(d[0].attempts, 1);
}

TEST(Lifecycle, EngineAndNotifierStartStopAndStopWithoutStart) {
  EngineRig rig;
  NotifierOptions no;
  no.nowMs = [&rig] { return rig.now; };
  {
    Notifier never(*rig.store, rig.webhook, no);
    never.stop();
    never.stop();
  }
  Notifier notifier(*rig.store, rig.webhook, no);
  auto idle = rig.engine(&notifier);
  idle->stop();  // never started
  // Started with a due window: the thread evaluates it and the notifier sends its message.
  rig.add(searchAlert(ThresholdOp::kAbove, 1));
  rig.source.byWindow[kT0 + 2 * kMinute] = count(2);
  auto engine = rig.engine(&notifier);
  notifier.start();
  engine->start();
  engine->start();  // idempotent
  for (int i = 0; i < 200 && rig.webhook.bodies.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  engine->stop();
  engine->stop();
  notifier.stop();
  EXPECT_EQ(rig.webhook.bodies.size(), 1u);
}

}  // namespace
}  // namespace stackhouse::alerts
