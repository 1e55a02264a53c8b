// The check every piece of user text passes before it runs as SQL: the engine parses, we decide.
//
// A second SQL lexer can never agree with ClickHouse's on every byte (spaces it skips, nested
// comments, heredocs), and `SET readonly = 1` in the embedded engine does not block the scalar
// file() function, INTO OUTFILE, KILL QUERY, USE or DESCRIBE over table functions. So user text
// is never scanned by us: the engine formats it (one statement, or a syntax error) and prints
// the parse tree of exactly that formatted text (EXPLAIN AST), and this check walks the tree,
// allowing only what is known to be safe:
//   - one SELECT (WITH, UNION, INTERSECT/EXCEPT, subqueries, joins, ARRAY JOIN, window functions),
//     DESCRIBE of a telemetry table or of such a SELECT, or EXPLAIN of such a SELECT;
//   - tables of the telemetry database only (`otel.*`, or unqualified names, which the read
//     connections resolve in `otel`: CTE names and the telemetry tables), and the schema views
//     stackhouse.tables and stackhouse.columns; no table functions. On a remote ClickHouse whose
//     telemetry database has another name, that name instead of `otel` (see mapLogicalDatabase);
//   - functions from a reviewed allowlist (allowed_functions.inc), with aggregate combinators;
//   - no INTO OUTFILE, FORMAT, SETTINGS, APPLY or any node kind not known to be harmless.
// The refusal names the function, table or clause. The text that runs is the formatted text the
// tree was printed from (see user_query.h), so what was checked is what runs.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.h"

namespace stackhouse::query {

// The longest user query taken, in bytes, before anything parses it.
inline constexpr size_t kMaxUserQueryBytes = 128 * 1024;

// The telemetry database as queries name it: `otel.otel_logs`, whatever the database that holds
// the tables.
inline constexpr std::string_view kLogicalDatabase = "otel";

// `explainAst` is the engine's `EXPLAIN AST` of one statement in TSV (one node a line, depth by
// leading spaces). OK, or kPermissionDenied naming what was refused. `database` is the telemetry
// database the statement runs in: its tables (qualified or not) may be read, no other's.
Status checkQueryTree(std::string_view explainAst, std::string_view database = kLogicalDatabase);

// On a remote ClickHouse whose telemetry database is not `otel` (otelConfig.exporters.clickhouse.
// database), queries keep naming the tables `otel.<table>`, as on the embedded store, and may also
// name them by the real database; the logical name is mapped to the real one, checked like this:
//   1. mapLogicalDatabase rewrites the engine's formatted text (user_query.h, step 2): every
//      `otel.` qualifier outside string literals and quoted identifiers becomes `<database>`.
//      (backquoted). `replaced` says how many.
//   2. The engine parses the rewritten text again (EXPLAIN AST), and sameTreeButDatabase holds
//      only when that tree is the first one with nothing changed but names qualified by `otel`
//      (TableIdentifier / Identifier `otel.x` -> `<database>.x`, SHOW CREATE TABLE's `otel`), so
//      a rewrite that touched anything else (a literal) is refused, never run.
//   3. checkQueryTree(tree of the rewritten text, database) decides, and that text runs.
// `database` must be a validated identifier (config: letters, digits and _); it is backquoted.
std::string mapLogicalDatabase(std::string_view formatted, std::string_view database,
                               size_t& replaced);
bool sameTreeButDatabase(std::string_view original, std::string_view mapped,
                         std::string_view database);

// `name` as a ClickHouse identifier in backquotes (` and \ escaped).
std::string quoteIdentifier(std::string_view name);

// Whether a user query may call `name` (as it appears in the parse tree): listed, or an
// aggregate function with combinators (sumIf, uniqMergeState, quantilesTDigestIfOrNull, ...).
bool isAllowedFunction(std::string_view name);

}  // namespace stackhouse::query
