// libFuzzer target for checkQueryTree: any bytes as an EXPLAIN AST tree. It must never crash,
// hang or allocate without bound, and what it allows must hold no call of a function outside the
// allowlist, no table function and no table outside the telemetry database — a second, simpler
// reading of the same tree. Seeds: trees the engine printed (tests/fixtures/query/corpus/tree).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "query/sql_guard.h"

namespace {

size_t indentOf(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  return n;
}

std::string_view nameAfter(std::string_view rest) { return rest.substr(0, rest.find(' ')); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view tree(reinterpret_cast<const char*>(data), size);
  if (!stackhouse::query::checkQueryTree(tree).isOk()) return 0;
  std::string_view rest = tree;
  bool parentIsTableExpression = false;
  size_t tableExpressionDepth = 0;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    const size_t depth = indentOf(line);
    line.remove_prefix(depth);
    if (line.starts_with("TableExpression")) {
      parentIsTableExpression = true;
      tableExpressionDepth = depth;
      continue;
    }
    if (parentIsTableExpression && depth <= tableExpressionDepth) parentIsTableExpression = false;
    const bool childOfTableExpression =
        parentIsTableExpression && depth == tableExpressionDepth + 1;
    if (line.starts_with("Function ")) {
      if (childOfTableExpression) std::abort();  // a table function was allowed
      if (!stackhouse::query::isAllowedFunction(nameAfter(line.substr(9)))) std::abort();
    }
    if (line.starts_with("TableIdentifier ")) {
      const std::string_view name = nameAfter(line.substr(16));
      const size_t dot = name.find('.');
      if (dot != std::string_view::npos && name.substr(0, dot) != "otel" &&
          name.substr(0, dot) != "stackhouse") {
        std::abort();  // a table outside the telemetry database was allowed
      }
    }
    if (line == "Set" || line.starts_with("ColumnsApplyTransformer")) std::abort();
  }
  return 0;
}
