#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "common/ascii.h"
#include "query/sql_guard.h"

namespace stackhouse::query {

namespace {

enum Flags : unsigned char { kScalar = 0, kAggregate = 1, kAnyCase = 2 };

struct AllowedFunction {
  std::string_view name;
  unsigned char flags;
};

constexpr AllowedFunction kAllowed[] = {
#include "query/allowed_functions.inc"
};

// Written in queries, not listed in system.functions: lambdas (x -> ...) and EXISTS (subquery).
constexpr std::string_view kSyntaxFunctions[] = {"exists", "lambda"};

// The engine's aggregate function combinators (system.aggregate_function_combinators), longest
// first where one ends another (MergeState before State).
constexpr std::string_view kCombinators[] = {
    "SimpleState", "OrDefault", "Distinct", "Resample", "ForEach", "ArgMax", "ArgMin",
    "OrNull",      "Merge",     "State",    "Array",    "Null",    "Map",    "If"};

const AllowedFunction* find(std::string_view name) {
  const auto* end = std::end(kAllowed);
  const auto* it =
      std::lower_bound(std::begin(kAllowed), end, name,
                       [](const AllowedFunction& f, std::string_view n) { return f.name < n; });
  return it != end && it->name == name ? it : nullptr;
}

// A listed function, by exact name or, for the engine's case-insensitive ones, any spelling.
const AllowedFunction* lookup(std::string_view name) {
  if (const AllowedFunction* f = find(name)) return f;
  // Case-insensitive functions are listed by their canonical name; the names that matter here
  // (count, sum, if, CAST, ...) are lower-case or upper-case ones, so try both foldings.
  const std::string lower = asciiLower(name);
  if (const AllowedFunction* f = find(lower); f != nullptr && (f->flags & kAnyCase) != 0) return f;
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (const AllowedFunction* f = find(upper); f != nullptr && (f->flags & kAnyCase) != 0) return f;
  for (const AllowedFunction& f : kAllowed) {
    if ((f.flags & kAnyCase) != 0 && f.name.size() == name.size() && asciiLower(f.name) == lower) {
      return &f;
    }
  }
  return nullptr;
}

}  // namespace

bool isAllowedFunction(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (std::string_view f : kSyntaxFunctions) {
    if (name == f) return true;
  }
  if (lookup(name) != nullptr) return true;
  // Strip combinators from the end while the rest is not listed; the base must be an aggregate.
  std::string_view base = name;
  for (int rounds = 0; rounds < 8; ++rounds) {
    bool stripped = false;
    for (std::string_view c : kCombinators) {
      if (base.size() > c.size() && base.ends_with(c)) {
        base.remove_suffix(c.size());
        stripped = true;
        break;
      }
    }
    if (!stripped) return false;
    if (const AllowedFunction* f = lookup(base)) return (f->flags & kAggregate) != 0;
  }
  return false;
}

}  // namespace stackhouse::query
