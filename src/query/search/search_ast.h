// The search language's syntax tree: what search_parser.h produces and search_sql.h turns into
// SQL. Plain values, no behaviour: a query is one Node that owns its children.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace stackhouse::query::search {

enum class NodeKind : unsigned char {
  kAll,   // the empty query (or a bare `*`): every record in the time range
  kAnd,   // children: two or more
  kOr,    // children: two or more
  kNot,   // children: exactly one
  kTerm,  // a leaf: a free-text term or a field:value
};

enum class MatchKind : unsigned char {
  kWord,       // `error`, `priority-3`, `field:value`
  kPhrase,     // `"connection reset"`, `field:"Value"` (quoted)
  kPrefix,     // `x*`
  kSuffix,     // `*x`
  kSubstring,  // `*x*`
  kPresent,    // `field:*`
  kCompare,    // `field:>n`, `>=`, `<`, `<=`
  kRange,      // `field:[a TO b]`, `{a TO b}`, mixed brackets
};

enum class CompareOp : unsigned char { kGt, kGe, kLt, kLe };

struct Node {
  NodeKind kind = NodeKind::kAll;
  std::vector<std::unique_ptr<Node>> children;

  // kTerm only.
  std::string field;  // empty: the implicit field (Body for logs, SpanName for traces)
  MatchKind match = MatchKind::kWord;
  std::string value;  // unescaped; wildcards stripped (kPrefix/kSuffix/kSubstring)
  CompareOp op = CompareOp::kGt;
  std::string low, high;  // kRange; "*" is an open end
  bool lowInclusive = true, highInclusive = true;

  int column = 1;  // 1-based column (in code points) where the node starts, for errors
};

using NodePtr = std::unique_ptr<Node>;

}  // namespace stackhouse::query::search
