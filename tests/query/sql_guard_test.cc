// The parse-tree check alone, on trees as the engine prints them (EXPLAIN AST, TSV). The engine's
// side (formatting, printing the tree) is tested with the real engine in hostile_query_test.cc.
#include "query/sql_guard.h"

#include <gtest/gtest.h>

namespace stackhouse::query {
namespace {

TEST(FunctionAllowlist, ListedCombinedAndCaseInsensitive) {
  for (const char* name : {"count",
                           "COUNT",
                           "Count",
                           "sum",
                           "sumIf",
                           "uniqMergeState",
                           "quantilesTDigestIfOrNull",
                           "lower",
                           "JSONExtractString",
                           "arrayMap",
                           "lambda",
                           "exists",
                           "in",
                           "notIn",
                           "toStartOfMinute",
                           "CAST",
                           "_CAST",
                           "row_number",
                           "lagInFrame",
                           "formatReadableSize",
                           "throwIf"}) {
    EXPECT_TRUE(isAllowedFunction(name)) << name;
  }
  for (const char* name : {"file",
                           "FILE",
                           "url",
                           "dictGet",
                           "joinGet",
                           "sleep",
                           "sleepEachRow",
                           "hostName",
                           "getSetting",
                           "currentUser",
                           "queryID",
                           "logTrace",
                           "catboostEvaluate",
                           "addressToSymbol",
                           "aiGenerate",
                           "fileIf",
                           "lowerIf",
                           "hostNameOrNull",
                           "filesystemAvailable",
                           "getServerPort",
                           "showCertificate",
                           "",
                           "sum If",
                           "generateSerialID"}) {
    EXPECT_FALSE(isAllowedFunction(name)) << name;
  }
}

struct TreeCase {
  const char* name;
  const char* tree;
  const char* refusal;  // nullptr: allowed
};

TEST(CheckQueryTree, Table) {
  const TreeCase cases[] = {
      {"select from a telemetry table",
       "SelectWithUnionQuery (children 1)\n"
       " ExpressionList (children 1)\n"
       "  SelectQuery (children 2)\n"
       "   ExpressionList (children 1)\n"
       "    Function count (children 1)\n"
       "     ExpressionList\n"
       "   TablesInSelectQuery (children 1)\n"
       "    TablesInSelectQueryElement (children 1)\n"
       "     TableExpression (children 1)\n"
       "      TableIdentifier otel.otel_logs (alias l)\n",
       nullptr},
      {"a scalar function not listed",
       "SelectWithUnionQuery (children 1)\n"
       " ExpressionList (children 1)\n"
       "  SelectQuery (children 1)\n"
       "   ExpressionList (children 1)\n"
       "    Function file (children 1)\n"
       "     ExpressionList (children 1)\n"
       "      Literal \\'/etc/passwd\\'\n",
       "the function file is not allowed"},
      {"a table function, even a harmless one",
       "SelectWithUnionQuery (children 1)\n"
       " ExpressionList (children 1)\n"
       "  SelectQuery (children 2)\n"
       "   ExpressionList (children 1)\n"
       "    Asterisk\n"
       "   TablesInSelectQuery (children 1)\n"
       "    TablesInSelectQueryElement (children 1)\n"
       "     TableExpression (children 1)\n"
       "      Function numbers (alias n) (children 1)\n"
       "       ExpressionList (children 1)\n"
       "        Literal UInt64_10\n",
       "table functions are not allowed: numbers()"},
      {"INTO OUTFILE",
       "SelectWithUnionQuery (children 2)\n"
       " ExpressionList (children 1)\n"
       "  SelectQuery (children 1)\n"
       "   ExpressionList (children 1)\n"
       "    Literal UInt64_1\n"
       " Literal \\'x.txt\\'\n",
       "INTO OUTFILE is not allowed"},
      {"FORMAT",
       "SelectWithUnionQuery (children 2)\n"
       " ExpressionList (children 1)\n"
       "  SelectQuery (children 1)\n"
       "   ExpressionList (children 1)\n"
       "    Literal UInt64_1\n"
       " Identifier JSON\n",
       "FORMAT clause is not allowed"},
      {"SETTINGS",
       "SelectWithUnionQuery (children 1)\n"
       " ExpressionList (children 1)\n"
       "  SelectQuery (children 2)\n"
       "   ExpressionList (children 1)\n"
       "    Literal UInt64_1\n"
       "   Set\n",
       "SETTINGS are not allowed"},
      {"a system table",
       "SelectWithUnionQuery (children 1)\n"
       " ExpressionList (children 1)\n"
       "  SelectQuery (children 2)\n"
       "   ExpressionList (children 1)\n"
       "    Asterisk\n"
       "   TablesInSelectQuery (children 1)\n"
       "    TablesInSelectQueryElement (children 1)\n"
       "     TableExpression (children 1)\n"
       "      TableIdentifier system.processes\n",
       "only the telemetry tables"},
      {"a table name with a space in it",
       "SelectWithUnionQuery (children 1)\n"
       " ExpressionList (children 1)\n"
       "  SelectQuery (children 2)\n"
       "   ExpressionList (children 1)\n"
       "    Asterisk\n"
       "   TablesInSelectQuery (children 1)\n"
       "    TablesInSelectQueryElement (children 1)\n"
       "     TableExpression (children 1)\n"
       "      TableIdentifier otel x.processes\n",
       "not a plain name"},
      {"IN over a system table",
       "SelectWithUnionQuery (children 1)\n"
       " ExpressionList (children 1)\n"
       "  SelectQuery (children 1)\n"
       "   ExpressionList (children 1)\n"
       "    Function in (children 1)\n"
       "     ExpressionList (children 2)\n"
       "      Literal UInt64_1\n"
       "      Identifier system.one\n",
       "only the telemetry tables"},
      {"another statement", "KillQueryQuery (children 1)\n Function equals\n",
       "are allowed; this is KillQuery"},
      {"two roots", "SelectWithUnionQuery\nSelectWithUnionQuery\n", "only one statement"},
      {"an unknown node kind",
       "SelectWithUnionQuery (children 1)\n"
       " ExpressionList (children 1)\n"
       "  SomethingNew (children 1)\n",
       "SomethingNew is not allowed"},
      {"APPLY",
       "SelectWithUnionQuery (children 1)\n"
       " ExpressionList (children 1)\n"
       "  SelectQuery (children 1)\n"
       "   ExpressionList (children 1)\n"
       "    Asterisk (children 1)\n"
       "     ColumnsTransformerList (children 1)\n"
       "      ColumnsApplyTransformer\n",
       "APPLY is not allowed"},
      {"a tree that skips a level", "SelectWithUnionQuery (children 1)\n   ExpressionList\n",
       "not understood"},
      {"empty", "", "empty"},
  };
  for (const TreeCase& c : cases) {
    const Status s = checkQueryTree(c.tree);
    if (c.refusal == nullptr) {
      EXPECT_TRUE(s.isOk()) << c.name << ": " << s.toString();
    } else {
      EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << c.name;
      EXPECT_NE(s.message().find(c.refusal), std::string::npos) << c.name << ": " << s.message();
    }
  }
}

}  // namespace
}  // namespace stackhouse::query
