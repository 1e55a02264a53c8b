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
//     connections resolve in `otel`: CTE names and the telemetry tables); no table functions;
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

// `explainAst` is the engine's `EXPLAIN AST` of one statement in TSV (one node a line, depth by
// leading spaces). OK, or kPermissionDenied naming what was refused.
Status checkQueryTree(std::string_view explainAst);

// Whether a user query may call `name` (as it appears in the parse tree): listed, or an
// aggregate function with combinators (sumIf, uniqMergeState, quantilesTDigestIfOrNull, ...).
bool isAllowedFunction(std::string_view name);

}  // namespace stackhouse::query
