// The parse-tree check alone, on trees as the engine prints them (EXPLAIN AST, TSV). The engine's
// side (formatting, printing the tree) is tested with the real engine in hostile_query_test.cc.
#include "query/sql_guard.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// On a remote whose telemetry database is `telemetry`: which tables the check allows there.
TEST(SqlGuardDatabase, AllowsTheConfiguredDatabaseOnly) {
  auto select = [](const std::string& table) {
    return "SelectWithUnionQuery (children 1)\n"
           " ExpressionList (children 1)\n"
           "  SelectQuery (children 2)\n"
           "   ExpressionList (children 1)\n"
           "    Asterisk\n"
           "   TablesInSelectQuery (children 1)\n"
           "    TablesInSelectQueryElement (children 1)\n"
           "     TableExpression (children 1)\n"
           "      TableIdentifier " +
           table + "\n";
  };
  struct Case {
    std::string table;
    std::string database;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {"telemetry.otel_logs", "telemetry", true},
      {"otel_logs", "telemetry", true},  // resolved in the statement's database
      {"stackhouse.tables", "telemetry", true},
      {"stackhouse.columns", "telemetry", true},
      {"otel.otel_logs", "telemetry", false},  // left unmapped: a database of its own there
      {"system.tables", "telemetry", false},
      {"default.otel_logs", "telemetry", false},
      {"stackhouse.users", "telemetry", false},
      {"telemetry.a.b", "telemetry", false},
      {"telemetry2.otel_logs", "telemetry", false},
      {"otel.otel_logs", "otel", true},
      {"telemetry.otel_logs", "otel", false},
  };
  for (const Case& c : cases) {
    const Status s = checkQueryTree(select(c.table), c.database);
    EXPECT_EQ(s.isOk(), c.allowed) << c.table << " in " << c.database << ": " << s.toString();
    if (!c.allowed) {
      EXPECT_NE(s.message().find("only the telemetry tables (" + c.database + ".*)"),
                std::string::npos)
          << s.message();
    }
  }
  const std::string show =
      "ShowCreateTableQuery (children 2)\n Identifier telemetry\n Identifier otel_logs\n";
  EXPECT_TRUE(checkQueryTree(show, "telemetry").isOk());
  EXPECT_FALSE(checkQueryTree(show, "otel").isOk());
}

TEST(SqlGuardDatabase, MapsTheLogicalNameOutsideLiteralsAndQuotedNames) {
  struct Case {
    const char* formatted;  // as formatQuerySingleLine prints it
    const char* mapped;
    size_t replaced;
  };
  const std::vector<Case> cases = {
      {"SELECT * FROM otel.otel_logs", "SELECT * FROM `tel`.otel_logs", 1},
      {"SELECT otel.otel_logs.Body FROM otel.otel_logs WHERE x IN (otel.otel_traces)",
       "SELECT `tel`.otel_logs.Body FROM `tel`.otel_logs WHERE x IN (`tel`.otel_traces)", 3},
      {"SELECT 'otel.otel_logs', `otel.x` FROM otel_logs",
       "SELECT 'otel.otel_logs', `otel.x` FROM otel_logs", 0},
      {"SELECT 'it\\'s otel.x' AS `a\\`otel.b` FROM otel.t",
       "SELECT 'it\\'s otel.x' AS `a\\`otel.b` FROM `tel`.t", 1},
      {"SELECT myotel.x, a.otel.y, otel_logs.z FROM t",
       "SELECT myotel.x, a.otel.y, otel_logs.z FROM t", 0},
      {"SHOW CREATE TABLE otel.otel_logs", "SHOW CREATE TABLE `tel`.otel_logs", 1},
      {"SELECT 1 FROM otel.otel_logs AS l, (SELECT * FROM otel.otel_traces) AS t",
       "SELECT 1 FROM `tel`.otel_logs AS l, (SELECT * FROM `tel`.otel_traces) AS t", 2},
      {"SELECT 'unterminated otel.x", "SELECT 'unterminated otel.x", 0},
  };
  for (const Case& c : cases) {
    size_t replaced = 99;
    EXPECT_EQ(mapLogicalDatabase(c.formatted, "tel", replaced), c.mapped) << c.formatted;
    EXPECT_EQ(replaced, c.replaced) << c.formatted;
  }
  EXPECT_EQ(quoteIdentifier("a`b\\c"), "`a\\`b\\\\c`");
}

TEST(SqlGuardDatabase, AMappedTreeDiffersOnlyInTheQualifier) {
  const std::string original =
      "SelectWithUnionQuery (children 1)\n"
      "   TableIdentifier otel.otel_logs (alias l)\n"
      "       Identifier otel.otel_logs.Body\n"
      "       Identifier otel\n"
      "       Literal 'x'\n";
  struct Case {
    const char* name;
    std::string mapped;
    bool same;
  };
  const std::vector<Case> cases = {
      {"every otel name mapped",
       "SelectWithUnionQuery (children 1)\n"
       "   TableIdentifier tel.otel_logs (alias l)\n"
       "       Identifier tel.otel_logs.Body\n"
       "       Identifier tel\n"
       "       Literal 'x'\n",
       true},
      {"unchanged", original, true},
      {"a literal changed too",
       "SelectWithUnionQuery (children 1)\n"
       "   TableIdentifier tel.otel_logs (alias l)\n"
       "       Identifier tel.otel_logs.Body\n"
       "       Identifier otel\n"
       "       Literal 'y'\n",
       false},
      {"mapped to another database",
       "SelectWithUnionQuery (children 1)\n"
       "   TableIdentifier system.otel_logs (alias l)\n"
       "       Identifier otel.otel_logs.Body\n"
       "       Identifier otel\n"
       "       Literal 'x'\n",
       false},
      {"the alias changed",
       "SelectWithUnionQuery (children 1)\n"
       "   TableIdentifier tel.otel_logs (alias m)\n"
       "       Identifier otel.otel_logs.Body\n"
       "       Identifier otel\n"
       "       Literal 'x'\n",
       false},
      {"a node more", original + "       Literal 'z'\n", false},
      {"a node fewer",
       "SelectWithUnionQuery (children 1)\n"
       "   TableIdentifier tel.otel_logs (alias l)\n",
       false},
      {"another node kind",
       "SelectWithUnionQuery (children 1)\n"
       "   TableIdentifier tel.otel_logs (alias l)\n"
       "       Function tel.otel_logs.Body\n"
       "       Identifier otel\n"
       "       Literal 'x'\n",
       false},
      {"a name that only starts with otel",
       "SelectWithUnionQuery (children 1)\n"
       "   TableIdentifier tel.otel_logs (alias l)\n"
       "       Identifier otel.otel_logs.Body\n"
       "       Identifier telx\n"
       "       Literal 'x'\n",
       false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(sameTreeButDatabase(original, c.mapped, "tel"), c.same) << c.name;
  }
  EXPECT_FALSE(sameTreeButDatabase("Identifier otelx\n", "Identifier telx\n", "tel"));
  // SHOW CREATE TABLE prints the database in its own line too.
  EXPECT_TRUE(sameTreeButDatabase(
      "ShowCreateTableQuery otel otel_logs (children 2)\n Identifier otel\n Identifier otel_logs\n",
      "ShowCreateTableQuery tel otel_logs (children 2)\n Identifier tel\n Identifier otel_logs\n",
      "tel"));
  EXPECT_FALSE(sameTreeButDatabase(
      "ShowCreateTableQuery otel otel_logs (children 2)\n Identifier otel\n Identifier otel_logs\n",
      "ShowCreateTableQuery tel otel_traces (children 2)\n Identifier tel\n Identifier otel_logs\n",
      "tel"));
}

}  // namespace
}  // namespace stackhouse::query
