#include "query/sql_guard.h"

#include <array>
#include <string>
#include <vector>

namespace stackhouse::query {

namespace {

bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isIdentChar(char c) { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Table functions (and engines usable as functions) that read or write outside the store.
constexpr std::array<std::string_view, 40> kForbiddenFunctions = {"file",
                                                                  "url",
                                                                  "urlcluster",
                                                                  "s3",
                                                                  "s3cluster",
                                                                  "gcs",
                                                                  "cosn",
                                                                  "oss",
                                                                  "hdfs",
                                                                  "hdfscluster",
                                                                  "azureblobstorage",
                                                                  "azureblobstoragecluster",
                                                                  "remote",
                                                                  "remotesecure",
                                                                  "cluster",
                                                                  "clusterallreplicas",
                                                                  "mysql",
                                                                  "postgresql",
                                                                  "jdbc",
                                                                  "odbc",
                                                                  "mongodb",
                                                                  "redis",
                                                                  "sqlite",
                                                                  "executable",
                                                                  "executablepool",
                                                                  "input",
                                                                  "iceberg",
                                                                  "icebergs3",
                                                                  "icebergazure",
                                                                  "icebergcluster",
                                                                  "deltalake",
                                                                  "deltalakecluster",
                                                                  "hudi",
                                                                  "hudicluster",
                                                                  "filecluster",
                                                                  "python",
                                                                  "arrowstream",
                                                                  "dictionary",
                                                                  "ytsaurus",
                                                                  "paimon"};

constexpr std::array<std::string_view, 7> kAllowedFirst = {"select", "with",    "show",  "describe",
                                                           "desc",   "explain", "exists"};

struct Token {
  std::string text;  // lower-cased identifier or keyword; single punctuation otherwise
  bool ident;
};

// Splits into identifiers and punctuation, dropping literals, quoted names and comments.
Status tokenize(std::string_view sql, std::vector<Token>& out) {
  size_t i = 0;
  const size_t n = sql.size();
  while (i < n) {
    const char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      ++i;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '#') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      const auto end = sql.find("*/", i + 2);
      if (end == std::string_view::npos) return invalidArgument("unterminated comment");
      i = end + 2;
    } else if (c == '\'' || c == '"' || c == '`') {
      // Literal or quoted identifier; backslash escapes and doubled quotes both continue it.
      // A quoted name counts as an identifier token (a back-quoted path is still a table name).
      size_t j = i + 1;
      bool closed = false;
      while (j < n) {
        if (sql[j] == '\\') {
          j += 2;
          continue;
        }
        if (sql[j] == c) {
          if (j + 1 < n && sql[j + 1] == c) {
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        ++j;
      }
      if (!closed) return invalidArgument("unterminated quoted text");
      if (c != '\'')
        out.push_back({lower(sql.substr(i + 1, j - i - 1)), true});
      else
        out.push_back({"'", false});
      i = j + 1;
    } else if (isIdentStart(c)) {
      size_t j = i + 1;
      while (j < n && isIdentChar(sql[j])) ++j;
      out.push_back({lower(sql.substr(i, j - i)), true});
      i = j;
    } else {
      out.push_back({std::string(1, c), false});
      ++i;
    }
  }
  return Status::ok();
}

Status refuse(std::string message) { return {StatusCode::kPermissionDenied, std::move(message)}; }

}  // namespace

Status checkReadOnlySql(std::string_view sql) {
  std::vector<Token> tokens;
  STACKHOUSE_RETURN_IF_ERROR(tokenize(sql, tokens));
  // Trailing semicolons are fine; anything after one is a second statement.
  while (!tokens.empty() && !tokens.back().ident && tokens.back().text == ";") tokens.pop_back();
  if (tokens.empty()) return invalidArgument("the query is empty");
  bool allowed = false;
  for (std::string_view k : kAllowedFirst)
    allowed = allowed || (tokens[0].ident && tokens[0].text == k);
  if (!allowed && !(tokens[0].text == "(")) {
    return refuse("only read queries are allowed (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS)");
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (!t.ident) {
      if (t.text == ";") return refuse("one statement per query");
      continue;
    }
    const bool call = i + 1 < tokens.size() && !tokens[i + 1].ident && tokens[i + 1].text == "(";
    if (call) {
      for (std::string_view f : kForbiddenFunctions) {
        if (t.text == f) return refuse("the table function " + t.text + "() is not allowed");
      }
    }
    if (t.text == "outfile" && i > 0 && tokens[i - 1].text == "into") {
      return refuse("INTO OUTFILE is not allowed");
    }
    if (t.text == "readonly" || t.text == "allow_ddl") {
      return refuse("changing " + t.text + " is not allowed");
    }
    // A path used as a table name: FROM '/etc/passwd' or FROM `file.csv`.
    if ((t.text == "from" || t.text == "join") && i + 1 < tokens.size()) {
      const Token& next = tokens[i + 1];
      if (!next.ident && next.text == "'") return refuse("reading files is not allowed");
      if (next.ident && next.text.find('/') != std::string::npos) {
        return refuse("reading files is not allowed");
      }
    }
  }
  return Status::ok();
}

}  // namespace stackhouse::query
