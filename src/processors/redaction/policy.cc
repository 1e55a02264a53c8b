#include "processors/redaction/policy.h"

namespace stackhouse::redaction {

namespace {

constexpr std::string_view kRuleNames[kRuleCount] = {
    "blockedKeys", "bearerTokens",      "jwts",     "cloudKeys",   "privateKeys",
    "basicAuth",   "connectionStrings", "emails",   "cardNumbers", "urlUserinfo",
    "urlQuery",    "fileNames",         "allowList"};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string_view ruleName(Rule rule) { return kRuleNames[static_cast<size_t>(rule)]; }

std::optional<Rule> ruleFromName(std::string_view name) {
  for (size_t i = 0; i < kRuleCount; ++i) {
    if (kRuleNames[i] == name) return static_cast<Rule>(i);
  }
  return std::nullopt;
}

std::string_view actionName(Action action) {
  switch (action) {
    case Action::kMask: return "mask";
    case Action::kHash: return "hash";
    case Action::kRemove: return "remove";
  }
  return "mask";
}

std::vector<std::string> defaultBlockedKeys() {
  return {
      // Prompts, completions and model input/output (OpenTelemetry GenAI, OpenLLMetry,
      // OpenInference).
      "gen_ai.prompt*",
      "gen_ai.completion*",
      "gen_ai.input.messages*",
      "gen_ai.output.messages*",
      "gen_ai.system_instructions*",
      "gen_ai.tool.call.arguments*",
      "gen_ai.tool.call.result*",
      "llm.prompt*",
      "llm.completion*",
      "llm.input*",
      "llm.output*",
      "input.value",
      "output.value",
      "prompt",
      "prompts",
      "*.prompt",
      "completion",
      "completions",
      "*.completion",
      // Document and page content, OCR text, extracted values, bodies.
      "*.content",
      "*.text",
      "*.body",
      "*ocr*",
      "*extracted*",
      "*request_body*",
      "*response_body*",
      "http.request.body*",
      "http.response.body*",
      // Credentials.
      "authorization",
      "*.authorization",
      "*proxy-authorization",
      "*cookie",
      "*password*",
      "*passwd*",
      "*secret*",
      "*token*",
      "*api_key*",
      "*apikey*",
      "*api-key*",
      "*private_key*",
      "*credential*",
  };
}

std::vector<std::string> defaultKeyExceptions() {
  // Token counts and the SQL text of database spans are operational metadata; SQL still goes
  // through the value rules.
  return {"gen_ai.usage.*", "llm.token_count.*", "*_tokens",      "*.tokens",
          "*token_count*",  "*tokenizer*",       "db.query.text", "db.statement"};
}

std::vector<std::string> defaultUrlKeys() {
  return {"url.full",    "url.original", "url.path",        "http.url",
          "http.target", "url.query",    "http.request.url"};
}

std::vector<std::string> defaultFileNameKeys() {
  return {"file.name",     "file.path",         "file.directory", "document.name",
          "document.path", "document.filename", "*.filename",     "*.file_name"};
}

Policy defaultPolicy() {
  Policy p;
  p.blockedKeys = defaultBlockedKeys();
  p.keyExceptions = defaultKeyExceptions();
  p.urlKeys = defaultUrlKeys();
  p.fileNameKeys = defaultFileNameKeys();
  p.rule(Rule::kAllowList).enabled = false;
  return p;
}

bool globMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && lower(pattern[p]) == lower(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace stackhouse::redaction
