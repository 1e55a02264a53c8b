#include "web/library/library_routes.h"

#include <charconv>

#include "common/json_writer.h"
#include "common/log.h"
#include "web/library/library_json.h"

namespace stackhouse::web::library {

namespace {

constexpr std::string_view kSearches = "/api/v1/searches";
constexpr std::string_view kDashboards = "/api/v1/dashboards";
constexpr std::string_view kHealthFlag = "health_dashboard_created";

http::Response notFound(std::string_view what) {
  return apiError(404, "NOT_FOUND", "no such " + std::string(what));
}

http::Response badRequest(const Status& s) { return apiError(400, "BAD_REQUEST", s.message()); }

// "<id>" or "<id>/<tail>" after `prefix`; false when the id is not a positive integer.
bool splitId(std::string_view path, std::string_view prefix, int64_t* id, std::string_view* tail) {
  std::string_view rest = path.substr(prefix.size());
  const auto slash = rest.find('/');
  std::string_view digits = rest.substr(0, slash);
  *tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (digits.empty() || digits.size() > 18) return false;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *id);
  return ec == std::errc() && p == digits.data() + digits.size() && *id > 0;
}

bool canSee(const Item& item, const Caller& c) {
  return c.admin || item.shared || item.owner == c.email;
}
bool canChange(const Item& item, const Caller& c) {
  return c.admin || item.shared || item.owner == c.email;
}
bool canDelete(const Item& item, const Caller& c) { return c.admin || item.owner == c.email; }

std::string itemJson(const Item& item, const Caller& c) {
  std::string head;
  JsonWriter w(head);
  w.beginObject().field("id", item.id).field("name", std::string_view(item.name));
  w.field("owner", std::string_view(item.owner)).field("shared", item.shared);
  w.field("createdAt", item.createdAtMs).field("updatedAt", item.updatedAtMs);
  w.field("editable", canChange(item, c)).field("deletable", canDelete(item, c));
  w.endObject();
  return mergeObjects(head, item.document);
}

struct Kinds {
  Kind kind;
  std::string_view singular;  // for messages
  std::string_view plural;    // the list's key
  Result<ParsedItem> (*parse)(std::string_view);
};

constexpr Kinds kSearchKinds{Kind::kSavedSearch, "saved search", "searches", &parseSavedSearch};
constexpr Kinds kDashboardKinds{Kind::kDashboard, "dashboard", "dashboards", &parseDashboard};

class Routes {
 public:
  Routes(LibraryStore& store, Identify identify, NowMs now)
      : store_(store), identify_(std::move(identify)), now_(std::move(now)) {}

  http::Response list(const Kinds& k, const http::Request& request) {
    auto caller = identify_(request);
    if (!caller) return unauthenticated();
    std::string out;
    JsonWriter w(out);
    w.beginObject().key(k.plural).beginArray();
    for (const Item& item : store_.list(k.kind, caller->email, caller->admin)) {
      w.raw(itemJson(item, *caller));
    }
    w.endArray().endObject();
    return http::jsonResponse(200, std::move(out));
  }

  http::Response create(const Kinds& k, const http::Request& request,
                        Result<ParsedItem> (*parse)(std::string_view)) {
    auto caller = identify_(request);
    if (!caller) return unauthenticated();
    auto parsed = parse(request.body);
    if (!parsed) return badRequest(parsed.status());
    Item item;
    item.owner = caller->email;
    item.shared = parsed->shared.value_or(false);
    item.name = std::move(parsed->name);
    item.document = std::move(parsed->document);
    item.createdAtMs = item.updatedAtMs = now_();
    auto id = store_.add(k.kind, item);
    if (!id) return apiError(500, "INTERNAL", "cannot store the " + std::string(k.singular));
    item.id = id.value();
    return http::jsonResponse(201, itemJson(item, *caller));
  }

  // GET, PUT, DELETE of /<plural>/<id>, and GET of a dashboard's /export.
  void one(const Kinds& k, std::string_view prefix, http::Request&& request,
           const http::Respond& respond) {
    auto caller = identify_(request);
    if (!caller) return respond(unauthenticated());
    int64_t id = 0;
    std::string_view tail;
    if (!splitId(request.path(), prefix, &id, &tail)) return respond(notFound(k.singular));
    auto item = store_.get(k.kind, id);
    if (!item || !canSee(*item, *caller)) return respond(notFound(k.singular));
    if (!tail.empty()) {
      if (k.kind != Kind::kDashboard || tail != "export" || request.method != "GET") {
        return respond(apiError(404, "NOT_FOUND", "no such endpoint"));
      }
      return respond(exportOf(*item));
    }
    if (request.method == "GET") return respond(http::jsonResponse(200, itemJson(*item, *caller)));
    if (request.method == "DELETE") {
      if (!canDelete(*item, *caller)) {
        return respond(apiError(403, "FORBIDDEN",
                                "only its owner or an admin deletes a " + std::string(k.singular)));
      }
      store_.remove(k.kind, id);
      return respond(http::jsonResponse(200, "{}"));
    }
    // PUT
    if (!canChange(*item, *caller)) {
      return respond(apiError(
          403, "FORBIDDEN",
          "this " + std::string(k.singular) + " is not shared: only its owner changes it"));
    }
    auto parsed = k.parse(request.body);
    if (!parsed) return respond(badRequest(parsed.status()));
    // Only the owner (or an admin) decides whether the team sees it.
    if (parsed->shared && *parsed->shared != item->shared && !canDelete(*item, *caller)) {
      return respond(
          apiError(403, "FORBIDDEN", "only its owner or an admin shares or unshares it"));
    }
    item->name = std::move(parsed->name);
    item->shared = parsed->shared.value_or(item->shared);
    item->document = std::move(parsed->document);
    item->updatedAtMs = now_();
    auto updated = store_.update(k.kind, *item);
    if (!updated) return respond(apiError(500, "INTERNAL", "cannot store it"));
    if (!updated.value()) return respond(notFound(k.singular));
    respond(http::jsonResponse(200, itemJson(*item, *caller)));
  }

 private:
  static http::Response unauthenticated() {
    return apiError(401, "UNAUTHENTICATED", "not signed in");
  }

  static http::Response exportOf(const Item& item) {
    std::string head;
    JsonWriter w(head);
    w.beginObject().field("name", std::string_view(item.name)).endObject();
    std::string out;
    JsonWriter e(out);
    e.beginObject().field("format", kExportFormat).field("version", int64_t{kExportVersion});
    e.key("dashboard").raw(mergeObjects(head, item.document)).endObject();
    auto r = http::jsonResponse(200, std::move(out));
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"dashboard.json\"");
    return r;
  }

  LibraryStore& store_;
  Identify identify_;
  NowMs now_;
};

}  // namespace

void addLibraryRoutes(ApiHandler& api, LibraryStore& store, Identify identify, NowMs now) {
  auto routes = std::make_shared<Routes>(store, std::move(identify), std::move(now));
  for (const Kinds* k : {&kSearchKinds, &kDashboardKinds}) {
    const std::string base =
        k->kind == Kind::kDashboard ? std::string(kDashboards) : std::string(kSearches);
    api.add("GET", base, [routes, k](http::Request&& r, http::Respond respond) {
      respond(routes->list(*k, r));
    });
    api.add("POST", base, [routes, k](http::Request&& r, http::Respond respond) {
      respond(routes->create(*k, r, k->parse));
    });
    const std::string prefix = base + "/";
    for (const char* method : {"GET", "PUT", "DELETE"}) {
      api.addPrefix(method, prefix, [routes, k, prefix](http::Request&& r, http::Respond respond) {
        routes->one(*k, prefix, std::move(r), respond);
      });
    }
  }
  api.add("POST", std::string(kDashboards) + "/import",
          [routes](http::Request&& r, http::Respond respond) {
            respond(routes->create(kDashboardKinds, r, &parseDashboardExport));
          });
}

std::string healthDashboardJson() {
  // Rows of the grid: a note, then ingest and refusals, then queue depth and insert latency.
  auto metric = [](std::string_view id, std::string_view title, int x, int y, int w,
                   std::string_view name, std::string_view aggregation, std::string_view where,
                   std::initializer_list<std::string_view> groupBy, std::string_view display) {
    std::string out;
    JsonWriter j(out);
    j.beginObject().field("id", id).field("kind", "metric").field("title", title);
    j.field("x", x).field("y", y).field("w", w).field("h", 4);
    j.key("metric").beginObject().field("metric", name).field("aggregation", aggregation);
    if (!where.empty()) j.field("where", where);
    if (groupBy.size() > 0) {
      j.key("groupBy").beginArray();
      for (std::string_view g : groupBy) j.value(g);
      j.endArray();
    }
    j.field("display", display).endObject().endObject();
    return out;
  };
  std::string out;
  JsonWriter w(out);
  w.beginObject().field("name", "stackhouse health").field("shared", true);
  w.key("timeRange").beginObject().field("from", "1h ago").field("to", "now").endObject();
  w.field("filter", "");
  w.key("tiles").beginArray();
  w.beginObject().field("id", "about").field("kind", "markdown").field("title", "About");
  w.field("x", 0).field("y", 0).field("w", 12).field("h", 2);
  w.key("markdown")
      .beginObject()
      .field("text",
             "**stackhouse's own metrics**, as served on the admin port's `/metrics` and stored by "
             "the "
             "self scrape (`prometheusScrape.self`): ingest, refusals, the sinks' queues and send "
             "latency. Empty charts mean the self scrape is off.");
  w.endObject().endObject();
  w.raw(metric("ingest", "Ingest rate (records/s, by signal)", 0, 2, 6,
               "stackhouse_receiver_records_total", "rate", "outcome:accepted", {"signal"},
               "line"));
  w.raw(metric("rejected", "Rejected records (records/s, by signal)", 6, 2, 6,
               "stackhouse_receiver_records_total", "rate", "outcome:rejected", {"signal"}, "bar"));
  w.raw(metric("refused", "Requests refused by the memory limit (/s)", 0, 6, 6,
               "stackhouse_memory_limiter_refused_total", "rate", "", {"receiver"}, "bar"));
  w.raw(metric("requests", "OTLP requests (/s, by outcome)", 6, 6, 6,
               "stackhouse_receiver_requests_total", "rate", "", {"outcome"}, "line"));
  w.raw(metric("queue-bytes", "Sink queues on disk (bytes, by sink)", 0, 10, 4,
               "stackhouse_queue_bytes", "last", "", {"sink"}, "line"));
  w.raw(metric("queue-dropped", "Records dropped from queues (/s, by reason)", 4, 10, 4,
               "stackhouse_queue_dropped_records_total", "rate", "", {"reason"}, "bar"));
  w.raw(metric("held", "Memory limiter: bytes held", 8, 10, 4,
               "stackhouse_memory_limiter_held_bytes", "last", "", {}, "number"));
  w.raw(metric("insert-p99", "Send latency p99 (s, by sink)", 0, 14, 6,
               "stackhouse_sink_send_seconds", "p99", "", {"sink"}, "line"));
  w.raw(metric("insert-failures", "Failed sends (/s, by outcome)", 6, 14, 6,
               "stackhouse_sink_sends_total", "rate", "-outcome:ok", {"outcome"}, "bar"));
  w.endArray().endObject();
  return out;
}

Result<int64_t> ensureHealthDashboard(LibraryStore& store, int64_t nowMs) {
  if (store.meta(kHealthFlag)) return int64_t{0};
  auto parsed = parseDashboard(healthDashboardJson());
  if (!parsed)
    return internalError("the health dashboard is invalid: " + parsed.status().message());
  Item item;
  item.owner = "";
  item.shared = true;
  item.name = parsed->name;
  item.document = std::move(parsed->document);
  item.createdAtMs = item.updatedAtMs = nowMs;
  auto id = store.add(Kind::kDashboard, item);
  if (!id) return id.status();
  STACKHOUSE_RETURN_IF_ERROR(store.setMeta(kHealthFlag, std::to_string(id.value())));
  log::info("health dashboard created", log::Fields().add("id", id.value()));
  return id.value();
}

}  // namespace stackhouse::web::library
