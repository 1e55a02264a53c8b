#include "query/sql_api.h"

#include <simdjson.h>

namespace stackhouse::query {

std::variant<SqlRequest, SqlApiReply> parseSqlRequest(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS ||
      !root.is_object()) {
    return errorReply(400, 0, "BAD_REQUEST",
                      "the body must be a JSON object {\"query\": \"...\", \"params\": {...}}");
  }
  SqlRequest request;
  std::string_view sql;
  if (root["query"].get_string().get(sql) != simdjson::SUCCESS) {
    return errorReply(400, 0, "BAD_REQUEST", "\"query\" must be a string");
  }
  request.sql = sql;
  simdjson::dom::element p;
  if (root["params"].get(p) == simdjson::SUCCESS && !p.is_null()) {
    simdjson::dom::object obj;
    if (p.get_object().get(obj) != simdjson::SUCCESS) {
      return errorReply(400, 0, "BAD_REQUEST", "\"params\" must be an object of name: value");
    }
    for (auto [key, value] : obj) {
      std::string text;
      switch (value.type()) {
        case simdjson::dom::element_type::STRING:
          // Exactly the string sent: the engine reads parameter values in escaped form.
          text = escapeParamValue(value.get_string().value());
          break;
        case simdjson::dom::element_type::BOOL:
          text = value.get_bool().value() ? "true" : "false";
          break;
        case simdjson::dom::element_type::NULL_VALUE: text = "\\N"; break;
        default: text = simdjson::minify(value); break;  // numbers, arrays, objects as JSON text
      }
      request.params.emplace_back(std::string(key), std::move(text));
    }
  }
  return request;
}

SqlApiReply runSql(store::ChdbStore& store, std::string_view sql,
                   const store::QueryParams& params) {
  return store.withReader(
      [&](store::ChdbConnection& c) { return runUserQuery(c, sql, params, UserQueryOptions{}); });
}

SqlApiReply runSqlRequest(store::ChdbStore& store, std::string_view body) {
  auto parsed = parseSqlRequest(body);
  if (auto* reply = std::get_if<SqlApiReply>(&parsed)) return std::move(*reply);
  const auto& request = std::get<SqlRequest>(parsed);
  return runSql(store, request.sql, request.params);
}

}  // namespace stackhouse::query
