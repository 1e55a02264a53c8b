#include "query/search/search_parser.h"

#include <gtest/gtest.h>

#include "query/search/search_sql.h"

namespace stackhouse::query::search {
namespace {

struct ErrorCase {
  const char* query;
  const char* message;
};

TEST(SearchParser, ErrorsNameTheColumn) {
  const ErrorCase cases[] = {
      {"level:error AND )", "unexpected ')' at column 17"},
      {"(a OR b))", "unexpected ')' at column 9"},
      {")", "unexpected ')' at column 1"},
      {"(a OR b", "missing ')' at column 8"},
      {"()", "unexpected ')' at column 2"},
      {"a AND", "unexpected end of query at column 6"},
      {"a OR", "unexpected end of query at column 5"},
      {"NOT", "unexpected end of query at column 4"},
      {"AND a", "unexpected 'AND' at column 1"},
      {"a AND OR b", "unexpected 'OR' at column 7"},
      {"\"unterminated", "unterminated quote at column 1"},
      {"msg:\"abc", "unterminated quote at column 5"},
      {"service:", "missing value after ':' at column 9"},
      {"service: x", "missing value after ':' at column 9"},
      {"x:[1 TO", "missing ']' at column 8"},
      {"x:[1 5]", "expected TO at column 6"},
      {"x:[1 TO 5", "missing ']' at column 10"},
      {"x:>", "missing number at column 4"},
      {"a (b", "missing ')' at column 5"},
      {"café )", "unexpected ')' at column 6"},
      {"service:(a:b)", "a field inside a field group at column 11"},
  };
  for (const ErrorCase& c : cases) {
    auto r = parseSearch(c.query);
    ASSERT_FALSE(r.isOk()) << c.query;
    EXPECT_EQ(r.status().message(), c.message) << c.query;
  }
}

TEST(SearchParser, BuilderErrorsNameTheColumn) {
  const ErrorCase cases[] = {
      {"duration:>slow", "duration takes a number, not 'slow' at column 1"},
      {"x y:[a TO 5]", "y takes a number, not 'a' at column 3"},
      {"SpanName:>3", "SpanName is text: a comparison needs a numeric field at column 1"},
      {"Duration:*x*", "Duration is a number: wildcards need a text field at column 1"},
  };
  for (const ErrorCase& c : cases) {
    auto r = searchToSql(c.query, Source::kTraces);
    ASSERT_FALSE(r.isOk()) << c.query;
    EXPECT_EQ(r.status().message(), c.message) << c.query;
  }
}

TEST(SearchParser, PrecedenceNotAndOr) {
  auto r = parseSearch("a OR NOT b c");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(
      toJson(*r.value()),
      R"({"type":"or","children":[{"type":"term","field":"","match":"word","value":"a"},)"
      R"({"type":"and","children":[{"type":"not","children":[{"type":"term","field":"",)"
      R"("match":"word","value":"b"}]},{"type":"term","field":"","match":"word","value":"c"}]}]})");
}

TEST(SearchParser, DeepNestingIsRefusedNotCrashed) {
  std::string deep(10000, '(');
  auto r = parseSearch(deep + "a");
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("nesting deeper than 64"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 1000; ++i) nots += "-";
  EXPECT_FALSE(parseSearch(nots + "a").isOk());
}

TEST(SearchParser, LongQueryIsRefused) {
  EXPECT_FALSE(parseSearch(std::string(kMaxSearchQueryBytes + 1, 'a')).isOk());
}

TEST(SearchTokens, AsHasTokenSeesThem) {
  EXPECT_EQ(tokensOf("priority-3 /v1/parse a_b café"),
            (std::vector<std::string>{"priority", "3", "v1", "parse", "a", "b", "café"}));
  EXPECT_TRUE(tokensOf("--//").empty());
}

// Random queries from the language's own characters: parsing and building never crash, and the
// SQL never holds user text: no quote or backslash can appear in it (values are parameters), and
// every placeholder names a parameter.
TEST(SearchFuzz, RandomQueriesNeverSpliceUserText) {
  const std::string alphabet = "ab:*\"()-! \t[]{}><=TOANDRNT.\\'`;/_9é";
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  // '-' only as the builder's own lambda arrow (`v -> lower(v)`, the expression the lower-cased
  // attribute index is declared on): never two in a row, which would start a comment.
  const std::string safe =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ (){}:.,=<>[]*-";
  int built = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string q;
    const size_t len = next() % 24;
    for (size_t j = 0; j < len; ++j) q += alphabet[next() % alphabet.size()];
    for (Source source : {Source::kLogs, Source::kTraces, Source::kMetrics}) {
      auto r = searchToSql(q, source);
      if (!r.isOk()) {
        EXPECT_NE(r.status().message().find("column"), std::string::npos) << q;
        continue;
      }
      ++built;
      const std::string& sql = r.value().where;
      ASSERT_EQ(sql.find_first_not_of(safe), std::string::npos) << q << " -> " << sql;
      ASSERT_EQ(sql.find("--"), std::string::npos) << q << " -> " << sql;
      for (size_t dash = sql.find('-'); dash != std::string::npos; dash = sql.find('-', dash + 1)) {
        ASSERT_EQ(sql.compare(dash, 2, "->"), 0) << q << " -> " << sql;
      }
      for (const auto& p : r.value().params) {
        EXPECT_NE(sql.find("{" + p.name + ":" + p.type + "}"), std::string::npos) << q;
      }
    }
  }
  EXPECT_GT(built, 1000);
}

}  // namespace
}  // namespace stackhouse::query::search
