// The redaction policy: which rules run, what they do, and the key lists they use.
//
// Built once at start-up (from otelConfig.processors.redaction, see policyFromConfig in the app)
// and never changed afterwards; the Redactor reads it from many threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stackhouse::redaction {

// Every rule, in the order of /metrics labels and the docs. Value rules look at text; key rules
// look at attribute keys.
enum class Rule : uint8_t {
  kBlockedKeys,        // attributes whose key names content or a credential
  kBearerTokens,       // "Bearer <token>"
  kJwts,               // eyJ....eyJ....sig
  kCloudKeys,          // AWS access key ids, GCP API keys and OAuth tokens, Azure account keys
  kPrivateKeys,        // -----BEGIN ... PRIVATE KEY----- blocks
  kBasicAuth,          // "Basic <base64 of user:password>"
  kConnectionStrings,  // password=..., secret: ..., Pwd=...; (connection strings, config dumps)
  kEmails,             // local@domain.tld
  kCardNumbers,        // 13-19 digit card numbers with a known prefix that pass the Luhn check
  kUrlUserinfo,        // scheme://user:password@host
  kUrlQuery,           // ?key=value (values, not keys)
  kFileNames,          // values of file-name keys: every path component hashed, extension kept
  kAllowList,          // allow-list mode: keys not listed are removed
};
inline constexpr size_t kRuleCount = 13;

// The name of a rule in configuration, docs and the `rule` label on /metrics.
std::string_view ruleName(Rule rule);
std::optional<Rule> ruleFromName(std::string_view name);

enum class Action : uint8_t {
  kMask,    // replace with ****
  kHash,    // replace with h:<16 hex digits of HMAC-SHA256>, so equal values still correlate
  kRemove,  // drop the attribute (blockedKeys only)
};
std::string_view actionName(Action action);

struct RulePolicy {
  bool enabled = true;
  Action action = Action::kMask;

  bool operator==(const RulePolicy&) const = default;
};

// Key lists hold glob patterns matched case-insensitively against the whole key; `*` matches any
// run of characters (dots included).
struct Policy {
  std::array<RulePolicy, kRuleCount> rules{};
  std::vector<std::string> blockedKeys;    // kBlockedKeys applies to these...
  std::vector<std::string> keyExceptions;  // ...except these (token counts and the like)
  std::vector<std::string> urlKeys;        // values are URLs, targets or query strings
  std::vector<std::string> fileNameKeys;   // values are file names or paths
  std::vector<std::string> safeQueryKeys;  // query keys whose values are kept
  std::vector<std::string> ignoredKeys;    // never touched by any rule
  std::vector<std::string> allowedKeys;    // allow-list mode: the only keys kept
  std::vector<std::string> allowedValues;  // exact values (or matches) never replaced
  std::string hmacKey;                     // key of the HMAC behind hashes and file names
  // Hosts of URLs are hashed too (urls.hashHosts): for hosts named after customers. Counted
  // under the urlUserinfo rule, the other identifying part of a URL's authority.
  bool hashUrlHosts = false;

  RulePolicy& rule(Rule r) { return rules[static_cast<size_t>(r)]; }
  const RulePolicy& rule(Rule r) const { return rules[static_cast<size_t>(r)]; }
  bool enabled(Rule r) const { return rule(r).enabled; }
};

// The default policy: every rule on (allow-list mode off), blocked keys masked, the default key
// lists below. hmacKey is empty: the caller supplies one.
Policy defaultPolicy();

std::vector<std::string> defaultBlockedKeys();
std::vector<std::string> defaultKeyExceptions();
std::vector<std::string> defaultUrlKeys();
std::vector<std::string> defaultFileNameKeys();

// Case-insensitive glob match (only `*` is special).
bool globMatch(std::string_view pattern, std::string_view text);

}  // namespace stackhouse::redaction
