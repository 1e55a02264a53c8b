#include "web/library/alert_routes.h"

#include <simdjson.h>

#include <charconv>

#include "alerts/message.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "query/search_api.h"
#include "web/library/library_json.h"

namespace stackhouse::web::library {

namespace {

using alerts::AlertState;
using alerts::StoredAlert;

constexpr std::string_view kPrefix = "/api/v1/alerts/";

http::Response badRequest(std::string_view message) {
  return apiError(400, "BAD_REQUEST", message);
}

AlertState shownState(const StoredAlert& a) {
  return a.enabled ? a.runtime.state : AlertState::kDisabled;
}

void writeSummary(JsonWriter& w, const StoredAlert& a, int64_t now) {
  w.field("id", a.id).field("owner", std::string_view(a.owner));
  w.field("state", alerts::stateName(shownState(a))).field("enabled", a.enabled);
  w.field("silenced", a.silencedUntilMs > now);
  if (a.silencedUntilMs > now) {
    w.field("silencedUntil", a.silencedUntilMs);
  } else {
    w.key("silencedUntil").null();
  }
  if (a.runtime.lastWindowEndMs > 0) {
    w.field("lastWindowEnd", a.runtime.lastWindowEndMs);
  } else {
    w.key("lastWindowEnd").null();
  }
  w.field("lastError", std::string_view(a.runtime.lastError));
  w.field("createdAt", a.createdAtMs).field("updatedAt", a.updatedAtMs);
}

std::string alertJson(const StoredAlert& a, int64_t now) {
  std::string head;
  JsonWriter w(head);
  w.beginObject();
  writeSummary(w, a, now);
  w.endObject();
  return mergeObjects(head, alerts::definitionJson(a.def, true));
}

bool parseId(std::string_view path, int64_t* id, std::string_view* tail) {
  std::string_view rest = path.substr(kPrefix.size());
  const auto slash = rest.find('/');
  std::string_view digits = rest.substr(0, slash);
  *tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (digits.empty() || digits.size() > 18) return false;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *id);
  return ec == std::errc() && p == digits.data() + digits.size() && *id > 0;
}

class AlertRoutes {
 public:
  AlertRoutes(alerts::AlertStore& store, alerts::AlertEngine& engine, Identify identify)
      : store_(store), engine_(engine), identify_(std::move(identify)) {}

  http::Response list(const http::Request& request) {
    if (!identify_(request)) return unauthenticated();
    const int64_t now = engine_.nowMs();
    std::string out;
    JsonWriter w(out);
    w.beginObject().key("alerts").beginArray();
    for (const auto& a : store_.list()) w.raw(alertJson(a, now));
    w.endArray().endObject();
    return http::jsonResponse(200, std::move(out));
  }

  http::Response create(const http::Request& request) {
    auto caller = identify_(request);
    if (!caller) return unauthenticated();
    auto def = alerts::parseAlertDefinition(request.body);
    if (!def) return badRequest(def.status().message());
    if (Status s = engine_.sourceFor(def.value()).check(def.value()); !s.isOk()) {
      return badRequest(s.message());
    }
    StoredAlert a;
    a.owner = caller->email;
    a.def = std::move(def.value());
    a.createdAtMs = a.updatedAtMs = engine_.nowMs();
    a.runtime = freshRuntime(a.def);
    auto id = store_.add(a);
    if (!id) return apiError(500, "INTERNAL", "cannot store the alert");
    a.id = id.value();
    log::info("alert created", log::Fields().add("alert_id", a.id).add("email", caller->email));
    engine_.wake();
    return http::jsonResponse(201, alertJson(a, engine_.nowMs()));
  }

  void one(http::Request&& request, const http::Respond& respond) {
    auto caller = identify_(request);
    if (!caller) return respond(unauthenticated());
    int64_t id = 0;
    std::string_view tail;
    if (!parseId(request.path(), &id, &tail)) return respond(notFound());
    auto alert = store_.get(id);
    if (!alert) return respond(notFound());
    if (tail.empty()) {
      if (request.method == "GET") return respond(detail(*alert));
      if (request.method == "DELETE") {
        store_.remove(id);
        log::info("alert deleted", log::Fields().add("alert_id", id).add("email", caller->email));
        return respond(http::jsonResponse(200, "{}"));
      }
      if (request.method == "PUT") return respond(replace(*alert, request));
    } else if (request.method == "POST" && tail == "silence") {
      return respond(silence(*alert, request));
    } else if (request.method == "POST" && tail == "enabled") {
      return respond(setEnabled(*alert, request));
    }
    respond(apiError(404, "NOT_FOUND", "no such endpoint"));
  }

 private:
  static http::Response unauthenticated() {
    return apiError(401, "UNAUTHENTICATED", "not signed in");
  }
  static http::Response notFound() { return apiError(404, "NOT_FOUND", "no such alert"); }

  alerts::Runtime freshRuntime(const alerts::AlertDefinition& def) {
    alerts::Runtime r;
    r.lastWindowEndMs =
        alerts::initialWindowEnd(def.windowMs, engine_.nowMs(), engine_.options().delayMs);
    r.state = AlertState::kInsufficientData;
    return r;
  }

  http::Response detail(const StoredAlert& a) {
    const int64_t now = engine_.nowMs();
    std::string tailJson;
    JsonWriter w(tailJson);
    w.beginObject();
    w.key("groups").beginArray();
    for (const auto& g : a.runtime.groups) {
      w.beginObject().field("group", std::string_view(g.group)).field("streak", g.streak);
      w.field("alerting", g.alerting).field("value", g.lastValue).endObject();
    }
    w.endArray();
    w.key("history").beginArray();
    for (const auto& h : store_.history(a.id, 200)) {
      w.beginObject().field("windowStart", h.entry.windowStartMs);
      w.field("windowEnd", h.entry.windowEndMs).field("group", std::string_view(h.entry.group));
      if (h.entry.value) {
        w.field("value", *h.entry.value);
      } else {
        w.key("value").null();
      }
      w.field("state", alerts::stateName(h.entry.state));
      w.field("error", std::string_view(h.entry.error));
      w.field("evaluatedAt", h.evaluatedAtMs).endObject();
    }
    w.endArray();
    const auto attempts = store_.attempts(a.id, 500);
    w.key("deliveries").beginArray();
    for (const auto& d : store_.deliveries(a.id, 50)) {
      w.beginObject().field("id", d.id).field("event", alerts::eventName(d.event));
      w.field("group", std::string_view(d.group));
      w.field("status", alerts::deliveryStatusName(d.status)).field("attempts", d.attempts);
      w.field("createdAt", d.createdAtMs);
      w.key("attemptLog").beginArray();
      for (const auto& t : attempts) {
        if (t.deliveryId != d.id) continue;
        w.beginObject().field("attempt", t.attempt).field("at", t.atMs);
        w.field("outcome", std::string_view(t.outcome)).field("httpStatus", t.httpStatus);
        w.field("message", std::string_view(t.message)).field("durationMs", t.durationMs);
        w.endObject();
      }
      w.endArray().endObject();
    }
    w.endArray().endObject();
    return http::jsonResponse(200, mergeObjects(alertJson(a, now), tailJson));
  }

  http::Response replace(StoredAlert& a, const http::Request& request) {
    auto def = alerts::parseAlertDefinition(request.body, &a.def);
    if (!def) return badRequest(def.status().message());
    if (Status s = engine_.sourceFor(def.value()).check(def.value()); !s.isOk()) {
      return badRequest(s.message());
    }
    a.def = std::move(def.value());
    a.runtime = freshRuntime(a.def);
    a.updatedAtMs = engine_.nowMs();
    auto ok = store_.replace(a);
    if (!ok) return apiError(500, "INTERNAL", "cannot store the alert");
    if (!ok.value()) return notFound();
    ++a.version;
    engine_.wake();
    return http::jsonResponse(200, alertJson(a, engine_.nowMs()));
  }

  http::Response silence(StoredAlert& a, const http::Request& request) {
    simdjson::dom::parser parser;
    simdjson::dom::element root, until;
    if (parser.parse(request.body).get(root) != simdjson::SUCCESS || !root.is_object() ||
        root["until"].get(until) != simdjson::SUCCESS) {
      return badRequest("until: required: an RFC 3339 time, epoch milliseconds, or null");
    }
    int64_t untilMs = 0;
    if (!until.is_null()) {
      int64_t ms = 0;
      std::string_view text;
      int64_t ns = 0;
      if (until.get_int64().get(ms) == simdjson::SUCCESS) {
        untilMs = ms;
      } else if (until.get_string().get(text) == simdjson::SUCCESS &&
                 query::parseTimestamp(text, &ns)) {
        untilMs = ns / 1'000'000;
      } else {
        return badRequest("until: must be an RFC 3339 time, epoch milliseconds, or null");
      }
    }
    auto ok = store_.setSilence(a.id, untilMs);
    if (!ok) return apiError(500, "INTERNAL", "cannot store the silence");
    a.silencedUntilMs = untilMs;
    return http::jsonResponse(200, alertJson(a, engine_.nowMs()));
  }

  http::Response setEnabled(StoredAlert& a, const http::Request& request) {
    simdjson::dom::parser parser;
    bool enabled = false;
    simdjson::dom::element root;
    if (parser.parse(request.body).get(root) != simdjson::SUCCESS ||
        root["enabled"].get_bool().get(enabled) != simdjson::SUCCESS) {
      return badRequest("enabled: required, true or false");
    }
    if (enabled != a.enabled) {
      a.enabled = enabled;
      // Re-enabled: from the last window on, not the windows it was off for.
      if (enabled) a.runtime = freshRuntime(a.def);
      a.updatedAtMs = engine_.nowMs();
      auto ok = store_.replace(a);
      if (!ok) return apiError(500, "INTERNAL", "cannot store the alert");
      ++a.version;
      engine_.wake();
    }
    return http::jsonResponse(200, alertJson(a, engine_.nowMs()));
  }

  alerts::AlertStore& store_;
  alerts::AlertEngine& engine_;
  Identify identify_;
};

}  // namespace

void addAlertRoutes(ApiHandler& api, alerts::AlertStore& store, alerts::AlertEngine& engine,
                    Identify identify) {
  auto routes = std::make_shared<AlertRoutes>(store, engine, std::move(identify));
  api.add("GET", "/api/v1/alerts",
          [routes](http::Request&& r, http::Respond respond) { respond(routes->list(r)); });
  api.add("POST", "/api/v1/alerts",
          [routes](http::Request&& r, http::Respond respond) { respond(routes->create(r)); });
  for (const char* method : {"GET", "PUT", "DELETE", "POST"}) {
    api.addPrefix(method, std::string(kPrefix), [routes](http::Request&& r, http::Respond respond) {
      routes->one(std::move(r), respond);
    });
  }
}

}  // namespace stackhouse::web::library
