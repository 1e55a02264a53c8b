// Scanner: the value rules, as hand-written single-pass scanners (no regex engine: std::regex
// would cost more than the whole ingest path).
//
// A scan does not change its input: it appends Edits (replace bytes [begin, end) with text),
// sorted and non-overlapping, and the caller applies them while it copies the value. A value
// without edits is never copied.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "processors/redaction/hmac.h"
#include "processors/redaction/key_policy.h"
#include "processors/redaction/policy.h"

namespace stackhouse::redaction {

struct Edit {
  uint32_t begin;
  uint32_t end;
  Rule rule;
  uint8_t length;  // of text
  char text[22];   // the replacement: ****, REDACTED, REDACTED:REDACTED, h:<16 hex>, "****"

  std::string_view replacement() const { return {text, length}; }
};
using Edits = std::vector<Edit>;

inline constexpr std::string_view kMask = "****";
inline constexpr std::string_view kRedacted = "REDACTED";
inline constexpr std::string_view kRedactedUserinfo = "REDACTED:REDACTED";

// Thread-safe (const) apart from the KeyCache, which the caller owns per thread.
class Scanner {
 public:
  Scanner(const Policy& policy, const KeyPolicy& keys, const HmacSha256& hmac)
      : policy_(policy), keys_(keys), hmac_(hmac) {}

  // Free text: log bodies, span names, attribute values. JSON objects and arrays are walked
  // (keys classified like attribute keys); anything else is scanned as text.
  void scanValue(std::string_view value, KeyCache& cache, Edits& out) const;
  // The value of a URL key: a full URL, a target (/path?query), a path, or a bare query string.
  void scanUrlValue(std::string_view value, bool bareQuery, Edits& out) const;
  // The value of a file-name key: each path component hashed, the extension kept.
  void hashPath(std::string_view value, Edits& out) const;
  // The edits that a value of a key of this class gets (blocked and not-allowed keys excepted:
  // their entries are replaced or removed whole by the caller).
  void scanForKey(KeyClass keyClass, std::string_view key, std::string_view value, KeyCache& cache,
                  Edits& out) const;

  // Appends `value` with `edits` applied to `out` (anything with append(const void*, size_t)).
  template <typename Out>
  static void apply(std::string_view value, const Edit* edits, size_t count, Out& out) {
    size_t pos = 0;
    for (size_t i = 0; i < count; ++i) {
      out.append(value.data() + pos, edits[i].begin - pos);
      out.append(edits[i].text, edits[i].length);
      pos = edits[i].end;
    }
    out.append(value.data() + pos, value.size() - pos);
  }

  // Whether the policy lets this exact text through.
  bool allowedValue(std::string_view text) const;

  // The replacement for a blocked key's value (mask or hash).
  Edit blockedValue(std::string_view value, uint32_t begin, uint32_t end, bool quoted) const;

 private:
  friend class TextScan;
  friend class JsonWalk;
  void scanText(std::string_view s, uint32_t base, Edits& out) const;
  void scanQuery(std::string_view s, size_t from, uint32_t base, Edits& out, size_t& end) const;
  void scanUrlAt(std::string_view value, uint32_t base, bool bareQuery, Edits& out) const;
  void hashPathAt(std::string_view s, uint32_t base, Edits& out) const;
  // Appends an edit for s[b, e) with the rule's action; false when allowed values keep it.
  bool emit(Rule rule, std::string_view s, size_t b, size_t e, uint32_t base, std::string_view mask,
            Edits& out) const;

  const Policy& policy_;
  const KeyPolicy& keys_;
  const HmacSha256& hmac_;
};

}  // namespace stackhouse::redaction
