// libFuzzer target for the search language: any bytes as a query, built into SQL for each of the
// three sources. It must never crash, hang or allocate without bound, and every filter it builds
// must keep the rule of search_sql.h — no user text in the SQL — checked by a second, simpler
// reading of the SQL:
//   - with its placeholders ({p0:String}) taken out, the SQL holds only letters, digits, spaces
//     and the characters ( ) [ ] , . = < > ! * - (no quote, backslash, semicolon or comment can
//     appear: nothing of the user's can open a literal or end the statement);
//   - every word in it is a column of the source's table, a number, or one of the fixed words the
//     builder writes (functions, operators, the lambda's variable);
//   - every placeholder names a parameter of the filter with that type, and every parameter is
//     used; parentheses and brackets balance.
// Seeds: the golden table's queries (tests/fixtures/query/corpus/search).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "query/search/search_sql.h"

namespace {

using stackhouse::query::search::Source;
using stackhouse::query::search::SqlFilter;

// The words the builder writes besides column names (search_sql.cc). A new function in the
// builder belongs here too; the fuzzer stops on a word it does not know.
constexpr std::string_view kWords[] = {
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "lower",
    "hasToken",
    "hasTokenCaseInsensitive",
    "positionCaseInsensitive",
    "match",
    "mapContains",
    "mapValues",
    "arrayMap",
    "has",
    "v",
    "toFloat64OrNull",
    "notEmpty",
    // The attribute maps (the metric tables' are not columns a search may select).
    "Attributes",
    "ResourceAttributes",
    "ScopeAttributes",
    "LogAttributes",
    "SpanAttributes",
};

bool knownWord(std::string_view word, Source source) {
  for (std::string_view w : kWords) {
    if (w == word) return true;
  }
  if (word.find_first_not_of("0123456789") == std::string_view::npos) return true;  // 1000000
  return stackhouse::query::search::isColumn(source, word);
}

bool isWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

[[noreturn]] void fail(const char* what, const SqlFilter& f) {
  // libFuzzer keeps the input; the SQL says which rule broke.
  std::fprintf(stderr, "search fuzzer: %s\nSQL: %s\n", what, f.where.c_str());
  std::abort();
}

void check(const SqlFilter& f, Source source) {
  std::string bare;  // the SQL with its placeholders taken out
  std::vector<bool> used(f.params.size(), false);
  const std::string_view sql = f.where;
  for (size_t i = 0; i < sql.size();) {
    if (sql[i] != '{') {
      bare += sql[i++];
      continue;
    }
    const size_t close = sql.find('}', i);
    if (close == std::string_view::npos) fail("a placeholder is not closed", f);
    const std::string_view inner = sql.substr(i + 1, close - i - 1);
    const size_t colon = inner.find(':');
    if (colon == std::string_view::npos) fail("a placeholder has no type", f);
    const std::string_view name = inner.substr(0, colon);
    const std::string_view type = inner.substr(colon + 1);
    bool found = false;
    for (size_t p = 0; p < f.params.size(); ++p) {
      if (f.params[p].name == name) {
        if (f.params[p].type != type) fail("a placeholder's type is not its parameter's", f);
        used[p] = true;
        found = true;
      }
    }
    if (!found) fail("a placeholder names no parameter", f);
    bare += ' ';
    i = close + 1;
  }
  for (size_t p = 0; p < used.size(); ++p) {
    if (!used[p]) fail("a parameter is not used", f);
  }
  int parens = 0;
  int brackets = 0;
  for (size_t i = 0; i < bare.size();) {
    const char c = bare[i];
    if (isWordChar(c)) {
      size_t end = i;
      while (end < bare.size() && isWordChar(bare[end])) ++end;
      const std::string_view word = std::string_view(bare).substr(i, end - i);
      if (!knownWord(word, source)) fail("a word the builder does not write", f);
      i = end;
      continue;
    }
    switch (c) {
      case '(': ++parens; break;
      case ')': --parens; break;
      case '[': ++brackets; break;
      case ']': --brackets; break;
      case ' ':
      case ',':
      case '.':
      case '=':
      case '<':
      case '>':
      case '!':
      case '*':
      case '-': break;
      default: fail("a character the builder does not write", f);
    }
    if (parens < 0 || brackets < 0) fail("a closing parenthesis or bracket before its opening", f);
    if (c == '-' && i + 1 < bare.size() && bare[i + 1] == '-') fail("a comment", f);
    ++i;
  }
  if (parens != 0 || brackets != 0) fail("unbalanced parentheses or brackets", f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  for (Source source : {Source::kLogs, Source::kTraces, Source::kMetrics}) {
    auto filter = stackhouse::query::search::searchToSql(query, source);
    if (filter.isOk()) check(filter.value(), source);
  }
  return 0;
}
