// The golden table of the search language: every query in golden.txt, with its source, turned
// into SQL and parameters, compared with the file. STACKHOUSE_UPDATE_GOLDEN=1 rewrites the file
// (then review the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/json_writer.h"
#include "query/search/search_parser.h"
#include "query/search/search_sql.h"

namespace stackhouse::query::search {
namespace {

struct Case {
  std::string source;
  std::string query;
  std::string expected;  // "sql: ...\nparams: ...\n" or "error: ...\n"
};

std::string render(const std::string& source, const std::string& query) {
  auto s = parseSource(source);
  if (!s.isOk()) return "error: " + s.status().message() + "\n";
  auto built = searchToSql(query, s.value());
  if (!built.isOk()) return "error: " + built.status().message() + "\n";
  std::string out = "sql: " + built.value().where + "\n";
  for (const auto& p : built.value().params) {
    out += "param: " + p.name + " " + p.type + " ";
    appendJsonString(out, p.value);
    out += "\n";
  }
  return out;
}

// The file: blocks separated by blank lines; each block is "logs> query", "traces> query" or
// "metrics> query"
// followed by the expected lines. Lines starting with # are comments.
std::vector<Case> readGolden(const std::string& path) {
  std::ifstream in(path);
  std::vector<Case> cases;
  std::string line;
  Case* current = nullptr;
  while (std::getline(in, line)) {
    if (line.starts_with("#")) continue;
    if (line.empty()) {
      current = nullptr;
      continue;
    }
    const auto arrow = line.find("> ");
    if (current == nullptr && arrow != std::string::npos &&
        (line.starts_with("logs> ") || line.starts_with("traces> ") ||
         line.starts_with("metrics> "))) {
      cases.push_back({line.substr(0, arrow), line.substr(arrow + 2), ""});
      current = &cases.back();
      continue;
    }
    if (current != nullptr) current->expected += line + "\n";
  }
  return cases;
}

TEST(SearchGolden, EveryQueryBuildsItsSql) {
  const std::string path = STACKHOUSE_SEARCH_GOLDEN;
  const std::vector<Case> cases = readGolden(path);
  ASSERT_GE(cases.size(), 80u);
  if (const char* update = std::getenv("STACKHOUSE_UPDATE_GOLDEN"); update && *update == '1') {
    std::ifstream in(path);
    std::string header, line;
    while (std::getline(in, line) && line.starts_with("#")) header += line + "\n";
    std::ofstream out(path);
    out << header;
    for (const Case& c : cases)
      out << "\n" << c.source << "> " << c.query << "\n" << render(c.source, c.query);
    GTEST_SKIP() << "rewrote " << path;
  }
  for (const Case& c : cases) {
    EXPECT_EQ(render(c.source, c.query), c.expected) << c.source << "> " << c.query;
  }
}

}  // namespace
}  // namespace stackhouse::query::search
