#include "processors/redaction/key_policy.h"

#include <algorithm>

namespace stackhouse::redaction {

namespace {

bool anyMatch(const std::vector<std::string>& patterns, std::string_view key) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [key](const std::string& p) { return globMatch(p, key); });
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

KeyClass KeyPolicy::classify(std::string_view key) const {
  const Policy& p = policy_;
  if (anyMatch(p.ignoredKeys, key)) return KeyClass::kIgnored;
  if (p.enabled(Rule::kAllowList) && !anyMatch(p.allowedKeys, key)) return KeyClass::kNotAllowed;
  if (p.enabled(Rule::kBlockedKeys) && anyMatch(p.blockedKeys, key) &&
      !anyMatch(p.keyExceptions, key)) {
    return KeyClass::kBlocked;
  }
  if (p.enabled(Rule::kFileNames) && anyMatch(p.fileNameKeys, key)) return KeyClass::kFileName;
  if ((p.enabled(Rule::kUrlQuery) || p.enabled(Rule::kUrlUserinfo)) && anyMatch(p.urlKeys, key)) {
    return KeyClass::kUrl;
  }
  return KeyClass::kScan;
}

bool KeyPolicy::isCredentialWord(std::string_view word, Rule& rule) {
  char buffer[64];
  if (word.empty() || word.size() > sizeof buffer) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    const char c = word[i];
    buffer[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const std::string_view w(buffer, word.size());
  if (contains(w, "accountkey") || contains(w, "sharedaccesskey") ||
      contains(w, "sharedaccesssignature")) {
    rule = Rule::kCloudKeys;
    return true;
  }
  rule = Rule::kConnectionStrings;
  if (contains(w, "password") || contains(w, "passwd") || contains(w, "secret") ||
      contains(w, "api_key") || contains(w, "apikey") || contains(w, "api-key") ||
      contains(w, "private_key") || contains(w, "access_key") || contains(w, "credential")) {
    return true;
  }
  if (w == "pwd" || endsWith(w, "_pwd") || endsWith(w, ".pwd") || endsWith(w, "-pwd")) return true;
  if (contains(w, "token")) {
    // Token counts and tokenizers are not credentials.
    return !(endsWith(w, "tokens") || contains(w, "token_count") || contains(w, "tokenizer") ||
             contains(w, "token_type"));
  }
  return false;
}

KeyClass KeyCache::classify(const KeyPolicy& policy, std::string_view key) {
  if (auto it = map_.find(key); it != map_.end()) return it->second;
  const KeyClass c = policy.classify(key);
  if (key.size() <= 256) {
    if (map_.size() >= kMaxEntries) map_.clear();
    map_.emplace(std::string(key), c);
  }
  return c;
}

}  // namespace stackhouse::redaction
