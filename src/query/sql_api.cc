#include "query/sql_api.h"

#include <simdjson.h>

#include "common/json_writer.h"
#include "query/sql_guard.h"

namespace stackhouse::query {

namespace {

SqlApiReply errorReply(int status, int code, std::string_view name, std::string_view message) {
  SqlApiReply r;
  r.httpStatus = status;
  JsonWriter w(r.json);
  w.beginObject().key("error").beginObject();
  w.field("code", int64_t{code});
  w.field("name", name);
  w.field("message", message);
  w.endObject().endObject();
  return r;
}

// ClickHouse pretty-prints JSONCompact; the API answers compact JSON.
std::string minified(std::string_view json) {
  std::string out(json.size(), '\0');
  size_t len = 0;
  if (simdjson::minify(json.data(), json.size(), out.data(), len) != simdjson::SUCCESS) {
    return std::string(json);
  }
  out.resize(len);
  return out;
}

int httpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
    default: return 400;
  }
}

}  // namespace

SqlApiReply runSql(store::ChdbStore& store, std::string_view sql,
                   const store::QueryParams& params) {
  const Status allowed = checkReadOnlySql(sql);
  if (!allowed.isOk()) {
    return errorReply(httpStatusFor(allowed.code()), 0,
                      allowed.code() == StatusCode::kPermissionDenied ? "REFUSED" : "BAD_REQUEST",
                      allowed.message());
  }
  store::EngineError engineError;
  auto out = store.query(sql, "JSONCompact", params, &engineError);
  if (!out.isOk()) {
    return errorReply(httpStatusFor(out.status().code()), engineError.code, engineError.name,
                      engineError.message.empty() ? out.status().message() : engineError.message);
  }
  SqlApiReply reply;
  JsonWriter w(reply.json);
  w.beginObject();
  if (out->data.empty()) {
    // Statements without a result set (none today, but SHOW-like ones may answer nothing).
    w.key("columns").raw("[]");
    w.key("rows").raw("[]");
  } else {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(out->data);
    auto doc = parser.iterate(padded);
    std::string_view meta, data;
    simdjson::ondemand::array metaArray, dataArray;
    if (doc["meta"].get_array().get(metaArray) != simdjson::SUCCESS ||
        metaArray.raw_json().get(meta) != simdjson::SUCCESS ||
        doc["data"].get_array().get(dataArray) != simdjson::SUCCESS ||
        dataArray.raw_json().get(data) != simdjson::SUCCESS) {
      return errorReply(500, 0, "INTERNAL", "the store returned a result that is not JSONCompact");
    }
    w.key("columns").raw(minified(meta));
    w.key("rows").raw(minified(data));
  }
  w.field("elapsed_ms", out->elapsedSeconds * 1000.0);
  w.endObject();
  return reply;
}

SqlApiReply runSqlRequest(store::ChdbStore& store, std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS ||
      !root.is_object()) {
    return errorReply(400, 0, "BAD_REQUEST",
                      "the body must be a JSON object {\"query\": \"...\", \"params\": {...}}");
  }
  std::string_view sql;
  if (root["query"].get_string().get(sql) != simdjson::SUCCESS) {
    return errorReply(400, 0, "BAD_REQUEST", "\"query\" must be a string");
  }
  store::QueryParams params;
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
          text = std::string(value.get_string().value());
          break;
        case simdjson::dom::element_type::BOOL:
          text = value.get_bool().value() ? "true" : "false";
          break;
        case simdjson::dom::element_type::NULL_VALUE: text = "\\N"; break;
        default: text = simdjson::minify(value); break;  // numbers, arrays, objects as JSON text
      }
      params.emplace_back(std::string(key), std::move(text));
    }
  }
  return runSql(store, sql, params);
}

}  // namespace stackhouse::query
