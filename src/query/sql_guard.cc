#include "query/sql_guard.h"

#include <algorithm>
#include <string>
#include <vector>

namespace stackhouse::query {

namespace {

// Node kinds that carry no name of a table, function or setting, and whose children are checked
// like everything else. Any kind not listed here (and not handled below) is refused, so a kind a
// future engine adds is refused until someone allows it on purpose.
constexpr std::string_view kStructural[] = {
    "ExpressionList",
    "SelectQuery",
    "SelectIntersectExceptQuery",
    "TablesInSelectQuery",
    "TablesInSelectQueryElement",
    "TableJoin",
    "ArrayJoin",
    "Subquery",
    "WithElement",
    "Literal",
    "Asterisk",
    "QualifiedAsterisk",
    "ColumnsRegexpMatcher",
    "ColumnsListMatcher",
    "QualifiedColumnsRegexpMatcher",
    "QualifiedColumnsListMatcher",
    "ColumnsTransformerList",
    "ColumnsExceptTransformer",
    "ColumnsReplaceTransformer",
    "ColumnsReplaceTransformer::Replacement",
    "SampleRatio",
    "OrderByElement",
    "InterpolateElement",
    "WindowDefinition",
    "WindowListElement",
    "QueryParameter",
};

// IN and its relatives read a whole table when their right side is a table name.
constexpr std::string_view kInFunctions[] = {
    "in",          "notIn",          "globalIn",          "globalNotIn",         "nullIn",
    "notNullIn",   "globalNullIn",   "globalNotNullIn",   "notNullInIgnoreSet",  "nullInIgnoreSet",
    "inIgnoreSet", "notInIgnoreSet", "globalInIgnoreSet", "globalNotInIgnoreSet"};

template <size_t N>
bool oneOf(std::string_view s, const std::string_view (&list)[N]) {
  for (std::string_view x : list) {
    if (s == x) return true;
  }
  return false;
}

struct Node {
  size_t depth = 0;
  std::string_view type;
  std::string_view name;  // Function / Identifier / TableIdentifier / Explain: the name part
  size_t children = 0;    // seen so far
  std::string_view firstChildName;  // the name of the first child (SHOW CREATE TABLE's database)
};

// "Function sum (alias s) (children 1)" -> type "Function", name "sum". A name must be followed
// by nothing or by " (": anything else (a quoted name with spaces) is not a name we can trust to
// mean what it seems to, and is refused by the caller seeing an empty name.
bool parseLine(std::string_view line, Node& node) {
  size_t depth = 0;
  while (depth < line.size() && line[depth] == ' ') ++depth;
  line.remove_prefix(depth);
  if (line.empty()) return false;
  node.depth = depth;
  const size_t sp = line.find(' ');
  node.type = line.substr(0, sp);
  node.name = {};
  if (sp == std::string_view::npos) return true;
  std::string_view rest = line.substr(sp + 1);
  if (node.type == "Literal" || node.type == "Explain") {
    node.name = rest;
    return true;
  }
  if (rest.starts_with("(")) return true;  // "(children 2)", "(alias x)"
  const size_t end = rest.find(' ');
  node.name = rest.substr(0, end);
  if (end != std::string_view::npos && !rest.substr(end).starts_with(" (")) node.name = {};
  if (node.name.empty()) node.name = "?";
  return true;
}

Status refuse(std::string message) { return {StatusCode::kPermissionDenied, std::move(message)}; }

std::string statementName(std::string_view type) {
  std::string name(type);
  if (name.size() > 5 && name.ends_with("Query")) name.resize(name.size() - 5);
  return name;
}

// A clause after a SELECT (children of SelectWithUnionQuery past its ExpressionList).
Status refuseTrailingClause(std::string_view type) {
  if (type == "Literal") return refuse("INTO OUTFILE is not allowed: queries cannot write files");
  if (type == "Identifier") {
    return refuse("a FORMAT clause is not allowed: the API answers JSON (drop FORMAT)");
  }
  if (type == "Set") return refuse("SETTINGS are not allowed in queries");
  return refuse("the " + std::string(type) + " clause is not allowed");
}

Status checkTable(std::string_view name, std::string_view database) {
  const size_t dot = name.find('.');
  // Resolved in the telemetry database (or a CTE): the one the read connection or the remote
  // statement runs in.
  if (dot == std::string_view::npos) return Status::ok();
  const std::string_view db = name.substr(0, dot);
  const std::string_view table = name.substr(dot + 1);
  if (table.find('.') == std::string_view::npos) {
    if (db == database) return Status::ok();
    if (db == "stackhouse" && (table == "tables" || table == "columns")) return Status::ok();
  }
  return refuse("only the telemetry tables (" + std::string(database) +
                ".*) and stackhouse.tables/columns can be read; " + std::string(name) +
                " is not one");
}

bool isNameChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '$' || c == '.' || c == '`' || c == '"' || static_cast<unsigned char>(c) >= 0x80;
}

// A tree line as the mapping would print it, or empty when the line names nothing qualified by
// `otel`: "Identifier otel.x (alias y)" and "TableIdentifier otel.x" with `database` for `otel`,
// "Identifier otel" (SHOW CREATE TABLE's database) and "ShowCreateTableQuery otel x" likewise.
std::string mappedLine(std::string_view line, std::string_view database) {
  size_t depth = 0;
  while (depth < line.size() && line[depth] == ' ') ++depth;
  const std::string_view rest = line.substr(depth);
  for (std::string_view type :
       {std::string_view("TableIdentifier "), std::string_view("Identifier "),
        std::string_view("ShowCreateTableQuery ")}) {
    if (!rest.starts_with(type)) continue;
    const std::string_view name = rest.substr(type.size());
    if (!name.starts_with(kLogicalDatabase)) return {};
    const std::string_view after = name.substr(kLogicalDatabase.size());
    if (!after.empty() && after[0] != '.' && after[0] != ' ') return {};
    std::string out(line.substr(0, depth + type.size()));
    out.append(database).append(after);
    return out;
  }
  return {};
}

}  // namespace

std::string quoteIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`' || c == '\\') out += '\\';
    out += c;
  }
  out += '`';
  return out;
}

std::string mapLogicalDatabase(std::string_view text, std::string_view database, size_t& replaced) {
  replaced = 0;
  const std::string qualifier = std::string(kLogicalDatabase) + ".";
  const std::string target = quoteIdentifier(database) + ".";
  std::string out;
  out.reserve(text.size() + 64);
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\'' || c == '`' || c == '"') {
      // A string literal or a quoted identifier, as the engine's formatter writes them
      // (backslash escapes): copied whole.
      size_t j = i + 1;
      while (j < text.size() && text[j] != c) j += text[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, text.size());
      out.append(text.substr(i, j - i));
      i = j;
      continue;
    }
    if (text.substr(i).starts_with(qualifier) && (i == 0 || !isNameChar(text[i - 1]))) {
      out += target;
      i += qualifier.size();
      ++replaced;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

bool sameTreeButDatabase(std::string_view original, std::string_view mapped,
                         std::string_view database) {
  for (;;) {
    const size_t a = original.find('\n');
    const size_t b = mapped.find('\n');
    const std::string_view lineA = original.substr(0, a);
    const std::string_view lineB = mapped.substr(0, b);
    if (lineA != lineB) {
      const std::string expected = mappedLine(lineA, database);
      if (expected.empty() || expected != lineB) return false;
    }
    if (a == std::string_view::npos || b == std::string_view::npos) {
      return a == std::string_view::npos && b == std::string_view::npos;
    }
    original.remove_prefix(a + 1);
    mapped.remove_prefix(b + 1);
  }
}

Status checkQueryTree(std::string_view tree, std::string_view database) {
  std::vector<Node> stack;  // the path from the root to the parent of the current line
  bool sawRoot = false;
  while (!tree.empty()) {
    const size_t nl = tree.find('\n');
    const std::string_view line = tree.substr(0, nl);
    tree = nl == std::string_view::npos ? std::string_view{} : tree.substr(nl + 1);
    if (line.empty()) continue;
    Node node;
    if (!parseLine(line, node)) return refuse("the query's parse tree is not understood");
    while (!stack.empty() && stack.back().depth >= node.depth) stack.pop_back();
    if ((stack.empty() && node.depth != 0) ||
        (!stack.empty() && node.depth != stack.back().depth + 1)) {
      return refuse("the query's parse tree is not understood");
    }
    Node* parent = stack.empty() ? nullptr : &stack.back();
    const size_t index = parent != nullptr ? parent->children++ : 0;

    if (parent == nullptr) {
      if (sawRoot) return refuse("only one statement is allowed");
      sawRoot = true;
      if (node.type != "SelectWithUnionQuery" && node.type != "DescribeQuery" &&
          node.type != "Explain" && node.type != "ShowCreateTableQuery") {
        return refuse("only SELECT, DESCRIBE, EXPLAIN and SHOW CREATE TABLE are allowed; this is " +
                      statementName(node.type));
      }
    } else if (parent->type == "ShowCreateTableQuery") {
      // "SHOW CREATE TABLE db.t": Identifier db, Identifier t; "SHOW CREATE TABLE t": one.
      // A further child is an OUTFILE or FORMAT clause.
      if (index > 1 || node.type != "Identifier") return refuseTrailingClause(node.type);
      if (node.name.find('.') != std::string_view::npos || node.name == "?") {
        return refuse("SHOW CREATE TABLE takes a telemetry table");
      }
      if (index == 0) parent->firstChildName = node.name;
      if (index == 1 && parent->firstChildName != database) {
        return refuse("only the telemetry tables (" + std::string(database) + ".*) can be shown; " +
                      std::string(parent->firstChildName) + "." + std::string(node.name) +
                      " is not one of them");
      }
    } else if (parent->type == "SelectWithUnionQuery") {
      if (index > 0) return refuseTrailingClause(node.type);
    } else if (parent->type == "Explain" || parent->type == "DescribeQuery") {
      if (index > 0 || node.type == "Set") {
        return node.type == "Set" ? refuse("SETTINGS are not allowed in queries")
                                  : refuseTrailingClause(node.type);
      }
      const bool ok = parent->type == "Explain" ? node.type == "SelectWithUnionQuery"
                                                : node.type == "TableExpression";
      if (!ok) return refuse("EXPLAIN and DESCRIBE are allowed over a SELECT or a telemetry table");
    }

    if (node.type == "SelectWithUnionQuery" || node.type == "TableExpression" ||
        node.type == "DescribeQuery" || node.type == "ShowCreateTableQuery") {
      // checked through their children
    } else if (node.type == "Explain") {
      if (parent != nullptr) return refuse("EXPLAIN is allowed only as the statement itself");
    } else if (node.type == "Function") {
      if (parent != nullptr && parent->type == "TableExpression") {
        return refuse("table functions are not allowed: " + std::string(node.name) +
                      "(); read the telemetry tables (otel.*)");
      }
      if (!isAllowedFunction(node.name)) {
        return refuse("the function " + std::string(node.name) + " is not allowed");
      }
    } else if (node.type == "TableIdentifier") {
      if (node.name.empty() || node.name == "?") {
        return refuse("a table name that is not a plain name is not allowed");
      }
      STACKHOUSE_RETURN_IF_ERROR(checkTable(node.name, database));
    } else if (node.type == "Identifier") {
      if (node.name == "?") return refuse("an identifier that is not a plain name is not allowed");
      // The right side of IN, as a bare name, is a table.
      if (parent != nullptr && parent->type == "ExpressionList" && index == 1 &&
          stack.size() >= 2 && stack[stack.size() - 2].type == "Function" &&
          oneOf(stack[stack.size() - 2].name, kInFunctions)) {
        STACKHOUSE_RETURN_IF_ERROR(checkTable(node.name, database));
      }
    } else if (node.type == "Set") {
      return refuse("SETTINGS are not allowed in queries");
    } else if (node.type == "ColumnsApplyTransformer") {
      return refuse("APPLY is not allowed: call the functions on the columns by name");
    } else if (!oneOf(node.type, kStructural)) {
      return refuse(std::string(node.type) + " is not allowed in queries");
    }
    stack.push_back(node);
  }
  if (!sawRoot) return refuse("the query's parse tree is empty");
  return Status::ok();
}

}  // namespace stackhouse::query
