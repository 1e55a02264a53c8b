// The search language's parser: text -> Node (search_ast.h), or an error that names the column.
//
//   query   := or?
//   or      := and ( "OR" and )*
//   and     := unary ( "AND"? unary )*          juxtaposition is AND
//   unary   := ( "NOT" | "-" | "!" ) unary | primary
//   primary := "(" or ")" | phrase | field ":" value | term
//   value   := phrase | "*" | ( ">" | ">=" | "<" | "<=" ) term | range | "(" or ")" | term
//   range   := ( "[" | "{" ) term "TO" term ( "]" | "}" )
//
// NOT binds tighter than AND, AND tighter than OR. AND, OR, NOT and TO are keywords only in upper
// case (as in Lucene); `\` escapes the next character. A field group `service:(a OR b)` gives its
// field to every term inside that has none. Pure computation: any thread, no engine.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "query/search/search_ast.h"

namespace stackhouse::query::search {

// Longest query text accepted (bytes); longer: an error before parsing.
inline constexpr size_t kMaxSearchQueryBytes = 16 << 10;
// Deepest nesting of parentheses and NOTs accepted: the parser is recursive.
inline constexpr int kMaxSearchDepth = 64;

// Errors are kInvalidArgument with a message such as "unexpected ')' at column 14".
Result<NodePtr> parseSearch(std::string_view text);

// The tree as JSON, for tests and the differential test against HyperDX's parser:
//   {"type": "and"|"or"|"not"|"all"|"term", "children": [...]} and, for terms,
//   {"type": "term", "field", "match", "value", "op", "low", "high", "lowInclusive",
//    "highInclusive"}.
std::string toJson(const Node& node);

}  // namespace stackhouse::query::search
