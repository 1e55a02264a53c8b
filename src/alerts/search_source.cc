#include "alerts/search_source.h"

#include <simdjson.h>

#include <charconv>
#include <future>

#include "query/search/search_sql.h"
#include "query/user_query.h"

namespace stackhouse::alerts {

namespace {

using query::search::Source;

bool isFieldName(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-' || c == '/' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// The SQL expression of a group-by field; the key of an attribute goes in as parameter g_key.
Result<std::string> groupExpression(std::string_view field, Source source,
                                    store::QueryParams& params) {
  if (!isFieldName(field)) {
    return invalidArgument("groupBy: \"" + std::string(field) +
                           "\" is not a field name (a column, an alias or an attribute key)");
  }
  const std::string_view attrs = source == Source::kLogs ? "LogAttributes" : "SpanAttributes";
  std::string column;
  if (field == "service") column = "ServiceName";
  if (field == "level" && source == Source::kLogs) column = "SeverityText";
  if (field == "trace_id") column = "TraceId";
  if (field == "span_id") column = "SpanId";
  if (column.empty() && field.find('.') == std::string_view::npos &&
      query::search::isColumn(source, field)) {
    column = std::string(field);
  }
  if (!column.empty()) return "toString(" + column + ")";
  for (std::string_view map : {attrs, std::string_view("ResourceAttributes")}) {
    if (field.size() > map.size() + 1 && field.starts_with(map) && field[map.size()] == '.') {
      params.emplace_back("g_key", query::escapeParamValue(field.substr(map.size() + 1)));
      return std::string(map) + "[{g_key:String}]";
    }
  }
  params.emplace_back("g_key", query::escapeParamValue(field));
  return "if(mapContains(" + std::string(attrs) + ", {g_key:String}), " + std::string(attrs) +
         "[{g_key:String}], ResourceAttributes[{g_key:String}])";
}

Result<uint64_t> countOf(simdjson::dom::element v) {
  uint64_t n = 0;
  if (v.get_uint64().get(n) == simdjson::SUCCESS) return n;
  std::string_view text;
  if (v.get_string().get(text) == simdjson::SUCCESS) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc() && p == text.data() + text.size()) return n;
  }
  return internalError("the count query answered a count that is not a number");
}

}  // namespace

Result<query::SqlRequest> QuerySearchSource::statement(const AlertDefinition& def, int64_t fromMs,
                                                       int64_t toMs) {
  auto source = query::search::parseSource(def.source);
  if (!source) return source.status();
  auto filter = query::search::searchToSql(def.query, source.value());
  if (!filter) return invalidArgument("query: " + filter.status().message());
  query::SqlRequest r;
  for (const auto& p : filter.value().params) {
    r.params.emplace_back(p.name, query::escapeParamValue(p.value));
  }
  r.params.emplace_back("a_from", std::to_string(fromMs * 1'000'000));
  r.params.emplace_back("a_to", std::to_string(toMs * 1'000'000));
  std::string where =
      "Timestamp >= fromUnixTimestamp64Nano({a_from:Int64}) AND Timestamp < "
      "fromUnixTimestamp64Nano({a_to:Int64})";
  if (source.value() == Source::kLogs) {
    // TimestampTime is in the primary key and the partition key; Timestamp is not.
    r.params.emplace_back("a_from_s", std::to_string(fromMs / 1000));
    r.params.emplace_back("a_to_s", std::to_string((toMs + 999) / 1000));
    where +=
        " AND TimestampTime >= toDateTime({a_from_s:Int64}) AND TimestampTime <= "
        "toDateTime({a_to_s:Int64})";
  }
  if (filter.value().where != "1") where += " AND " + filter.value().where;
  const std::string table = "otel." + std::string(query::search::tableOf(source.value()));
  if (def.groupBy.empty()) {
    r.sql = "SELECT count() AS n FROM " + table + " WHERE " + where;
  } else {
    auto group = groupExpression(def.groupBy, source.value(), r.params);
    if (!group) return group.status();
    r.sql = "SELECT " + group.value() + " AS g, count() AS n FROM " + table + " WHERE " + where +
            " GROUP BY g ORDER BY n DESC, g LIMIT " + std::to_string(kMaxGroups);
  }
  return r;
}

Status QuerySearchSource::check(const AlertDefinition& def) {
  auto s = statement(def, 0, def.windowMs);
  return s ? Status::ok() : s.status();
}

Result<std::vector<GroupValue>> QuerySearchSource::values(const AlertDefinition& def,
                                                          int64_t fromMs, int64_t toMs) {
  auto request = statement(def, fromMs, toMs);
  if (!request) return request.status();
  // The answer comes on a query worker; the promise is shared so that a late answer after a
  // timeout here writes into live memory.
  auto promise = std::make_shared<std::promise<query::SqlApiReply>>();
  auto answer = promise->get_future();
  queries_.submit(std::move(request.value()), {},
                  [promise](query::SqlApiReply reply) { promise->set_value(std::move(reply)); });
  if (answer.wait_for(timeout_) != std::future_status::ready) {
    return unavailable("the count query did not answer within " +
                       std::to_string(timeout_.count() / 1000) + " s");
  }
  query::SqlApiReply reply = answer.get();
  if (reply.httpStatus != 200) {
    std::string message = "the count query failed (HTTP " + std::to_string(reply.httpStatus) + ")";
    simdjson::dom::parser parser;
    std::string_view text;
    if (parser.parse(reply.json)["error"]["message"].get_string().get(text) == simdjson::SUCCESS) {
      message += ": " + std::string(text.substr(0, 300));
    }
    return unavailable(message);
  }
  simdjson::dom::parser parser;
  simdjson::dom::array rows;
  if (parser.parse(reply.json)["rows"].get_array().get(rows) != simdjson::SUCCESS) {
    return internalError("the count query answered without rows");
  }
  std::vector<GroupValue> out;
  const std::string prefix = def.groupBy + "=";
  for (simdjson::dom::element row : rows) {
    simdjson::dom::array cells;
    if (row.get_array().get(cells) != simdjson::SUCCESS) continue;
    if (def.groupBy.empty()) {
      if (cells.size() < 1) continue;
      auto n = countOf(cells.at(0).value());
      if (!n) return n.status();
      out.push_back({"", static_cast<double>(n.value())});
    } else {
      if (cells.size() < 2) continue;
      std::string_view g;
      if (cells.at(0).get_string().get(g) != simdjson::SUCCESS) continue;
      auto n = countOf(cells.at(1).value());
      if (!n) return n.status();
      out.push_back({prefix + std::string(g), static_cast<double>(n.value())});
    }
  }
  return out;
}

}  // namespace stackhouse::alerts
