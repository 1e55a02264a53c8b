// KeyPolicy: what the policy does with an attribute (or JSON) key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "processors/redaction/policy.h"

namespace stackhouse::redaction {

enum class KeyClass : uint8_t {
  kScan,        // the value goes through the value rules
  kIgnored,     // ignoredKeys: left alone
  kBlocked,     // blockedKeys: masked, hashed or removed
  kNotAllowed,  // allow-list mode and not listed: removed
  kUrl,         // urlKeys: userinfo and query values redacted
  kFileName,    // fileNameKeys: path components hashed
};

class KeyPolicy {
 public:
  explicit KeyPolicy(const Policy& policy) : policy_(policy) {}

  // Matches the key against the policy's lists (no caching).
  KeyClass classify(std::string_view key) const;

  // Whether a word written before `=` or `:` in free text names a credential (password=,
  // client_secret:, AccountKey=). Sets `rule` to the rule that covers it. `word` at most 64 bytes.
  static bool isCredentialWord(std::string_view word, Rule& rule);

 private:
  const Policy& policy_;
};

// A bounded per-thread memo of classify(): attribute keys repeat from record to record, so the
// glob matching runs once per distinct key. Lookups of known keys allocate nothing.
class KeyCache {
 public:
  KeyClass classify(const KeyPolicy& policy, std::string_view key);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr size_t kMaxEntries = 8192;
  std::unordered_map<std::string, KeyClass, Hash, std::equal_to<>> map_;
};

}  // namespace stackhouse::redaction
