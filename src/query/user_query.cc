#include "query/user_query.h"

#include <simdjson.h>

#include <optional>
#include <variant>

#include "common/json_writer.h"
#include "query/sql_guard.h"

namespace stackhouse::query {

namespace {

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

// The engine's message about our wrapper statement ends with ": In scope SELECT
// formatQuerySingleLine(...)"; the user wrote only the query.
std::string withoutWrapper(std::string message) {
  for (std::string_view scope :
       {": In scope SELECT formatQuerySingleLine", " In scope SELECT formatQuerySingleLine"}) {
    if (const auto at = message.find(scope); at != std::string::npos) message.resize(at);
  }
  while (!message.empty() && (message.back() == '.' || message.back() == ' ')) message.pop_back();
  return message;
}

SqlApiReply engineFailure(const store::SqlExecutor& c, const Status& status, bool wrapper) {
  const store::EngineError& e = c.lastError();
  std::string message = e.message.empty() ? status.message() : e.message;
  if (wrapper) message = withoutWrapper(std::move(message));
  return errorReply(httpStatusCode(status.code()), e.code, e.name.empty() ? "ERROR" : e.name,
                    message);
}

// Steps 2 to 4 of user_query.h: the text the engine formatted (and, for another database, mapped
// to it), once the check passed; otherwise the answer that says why not.
std::variant<std::string, SqlApiReply> checkedText(store::ChdbConnection& connection,
                                                   std::string_view sql,
                                                   const store::QueryParams& params,
                                                   const std::string& database) {
  auto formatted = connection.query("SELECT formatQuerySingleLine({stackhouse_user_query:String})",
                                    "RawBLOB", {{"stackhouse_user_query", escapeParamValue(sql)}});
  if (!formatted) return engineFailure(connection, formatted.status(), true);
  std::string& canonical = formatted->data;
  while (!canonical.empty() && (canonical.back() == '\n' || canonical.back() == ' ')) {
    canonical.pop_back();
  }
  if (canonical.empty()) return errorReply(400, 0, "BAD_REQUEST", "the query is empty");

  auto tree = connection.query("EXPLAIN AST " + canonical, "TSV", params);
  if (!tree) return engineFailure(connection, tree.status(), false);
  if (database != kLogicalDatabase) {
    size_t replaced = 0;
    std::string mapped = mapLogicalDatabase(canonical, database, replaced);
    if (replaced > 0) {
      auto mappedTree = connection.query("EXPLAIN AST " + mapped, "TSV", params);
      if (!mappedTree || !sameTreeButDatabase(tree->data, mappedTree->data, database)) {
        return errorReply(403, 0, "REFUSED",
                          "the query's otel. names cannot be told apart from the rest of its "
                          "text; name the tables " +
                              database + ".<table> (the telemetry database here)");
      }
      canonical = std::move(mapped);
      tree = std::move(mappedTree);
    }
  }
  if (const Status allowed = checkQueryTree(tree->data, database); !allowed.isOk()) {
    return errorReply(403, 0, "REFUSED", allowed.message());
  }
  return std::move(canonical);
}

}  // namespace

std::string escapeParamValue(std::string_view value) {
  std::string out;
  out.reserve(value.size() + value.size() / 16 + 8);
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default: out += c;
    }
  }
  return out;
}

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

SqlApiReply runUserQuery(store::ChdbConnection& connection, std::string_view sql,
                         const store::QueryParams& params, const UserQueryOptions& options) {
  return runUserQuery(connection, connection, sql, params, options);
}

SqlApiReply runUserQuery(store::ChdbConnection& connection, store::SqlExecutor& executor,
                         std::string_view sql, const store::QueryParams& params,
                         const UserQueryOptions& options) {
  if (sql.size() > kMaxUserQueryBytes) {
    return errorReply(413, 0, "QUERY_TOO_LARGE",
                      "the query is " + std::to_string(sql.size()) + " bytes; the limit is " +
                          std::to_string(kMaxUserQueryBytes));
  }
  std::optional<std::string> hit;
  if (options.checked != nullptr) hit = options.checked->find(options.database, sql);
  std::string canonical;
  if (hit) {
    canonical = std::move(*hit);
  } else {
    auto checked = checkedText(connection, sql, params, options.database);
    if (auto* refused = std::get_if<SqlApiReply>(&checked)) return std::move(*refused);
    canonical = std::move(std::get<std::string>(checked));
    if (options.checked != nullptr && CheckedQueryCache::keepable(canonical)) {
      options.checked->insert(options.database, sql, canonical);
    }
  }

  auto out = executor.run(canonical, "JSONCompact", params, options.tag);
  if (!out) return engineFailure(executor, out.status(), false);

  SqlApiReply reply;
  JsonWriter w(reply.json);
  w.beginObject();
  if (out->data.empty()) {
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
  if (reply.json.size() > options.maxAnswerBytes) {
    return errorReply(413, 0, "RESULT_TOO_LARGE",
                      "the answer would be " + std::to_string(reply.json.size()) +
                          " bytes of JSON; the limit is " + std::to_string(options.maxAnswerBytes) +
                          ": add a LIMIT or select fewer columns");
  }
  return reply;
}

}  // namespace stackhouse::query
