// otelConfig.processors.redaction: valid and invalid cases, table by table.
#include <gtest/gtest.h>

#include <functional>

#include "config/config.h"
#include "config/with_sections.h"
#include "parse_error.h"

namespace stackhouse::config {
using namespace ::stackhouse::config::test;
namespace {

using testing::errorOf;
using testing::validationOf;

constexpr std::string_view kPrefix = "otelConfig:\n  processors:\n    redaction:\n";

std::string redactionYaml(std::string_view body) {
  return std::string(kPrefix) + std::string(body);
}

TEST(RedactionConfig, DefaultsAreOn) {
  const RedactionProcessorConfig r = defaults().otelConfig.processors.redaction;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.action, RedactionAction::kMask);
  EXPECT_TRUE(r.rules.empty());
  EXPECT_FALSE(r.allowListMode);
  EXPECT_EQ(parseYaml("otelConfig:\n  processors:\n    redaction: {}\n", "t.yaml"), defaults());
}

TEST(RedactionConfig, ValidCases) {
  struct Case {
    std::string_view name;
    std::string body;
    std::function<void(RedactionProcessorConfig&)> expect;
  };
  const Case cases[] = {
      {"off", "      enabled: false\n", [](auto& r) { r.enabled = false; }},
      {"hash by default", "      action: hash\n",
       [](auto& r) { r.action = RedactionAction::kHash; }},
      {"rule shorthand", "      rules: {emails: false}\n",
       [](auto& r) {
         r.rules["emails"] = {false, std::nullopt};
       }},
      {"rule map",
       "      rules:\n        blockedKeys: {action: remove}\n        cardNumbers: {enabled: true, "
       "action: hash}\n",
       [](auto& r) {
         r.rules["blockedKeys"] = {true, RedactionAction::kRemove};
         r.rules["cardNumbers"] = {true, RedactionAction::kHash};
       }},
      {"lists",
       "      allowListMode: true\n      allowedKeys: [\"service.*\"]\n      ignoredKeys: "
       "[debug.*]\n"
       "      allowedValues: [support@example.com]\n      blockedKeys: [\"*.ssn\"]\n      urlKeys: "
       "[link]\n"
       "      fileNameKeys: [upload.name]\n      safeQueryKeys: [page]\n",
       [](auto& r) {
         r.allowListMode = true;
         r.allowedKeys = {"service.*"};
         r.ignoredKeys = {"debug.*"};
         r.allowedValues = {"support@example.com"};
         r.blockedKeys = {"*.ssn"};
         r.urlKeys = {"link"};
         r.fileNameKeys = {"upload.name"};
         r.safeQueryKeys = {"page"};
       }},
      {"hmac key", "      hmacKey: 0123456789abcdef\n",
       [](auto& r) { r.hmacKey = "0123456789abcdef"; }},
      {"hmac key file", "      hmacKeyFile: /run/secrets/redaction\n",
       [](auto& r) { r.hmacKeyFile = "/run/secrets/redaction"; }},
      {"hash URL hosts", "      urls:\n        hashHosts: true\n",
       [](auto& r) { r.hashUrlHosts = true; }},
      {"URL hosts kept, flow style", "      urls: {hashHosts: false}\n", [](auto&) {}},
      {"urls empty", "      urls: {}\n", [](auto&) {}},
      {"urls with no value", "      urls:\n", [](auto&) {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Config expected = defaults();
    c.expect(expected.otelConfig.processors.redaction);
    Config parsed;
    ASSERT_NO_THROW(parsed = parseYaml(redactionYaml(c.body), "test.yaml"))
        << errorOf(redactionYaml(c.body));
    EXPECT_EQ(parsed, expected);
    EXPECT_TRUE(validationOf(redactionYaml(c.body)).valid);  // stackhouse validate
    if (expected.otelConfig.processors.redaction.hmacKey.empty()) {
      // --print-config reads back (a set hmacKey is shown as <set>, never printed).
      EXPECT_EQ(parseYaml(describeConfig(parsed), "described.yaml"), parsed);
    }
  }
}

TEST(RedactionConfig, InvalidCases) {
  struct Case {
    std::string_view name;
    std::string body;
    std::string_view message;
  };
  const Case cases[] = {
      {"unknown rule", "      rules: {email: false}\n",
       "test.yaml:4:15: otelConfig.processors.redaction.rules.email: unknown key; did you mean "
       "emails?"},
      {"remove is for blocked keys", "      rules: {emails: {action: remove}}\n",
       "test.yaml:4:32: otelConfig.processors.redaction.rules.emails.action: \"remove\" is not an "
       "action; "
       "expected mask or hash (only blockedKeys can remove: the other rules replace part of a "
       "value)"},
      {"unknown action", "      action: scramble\n",
       "test.yaml:4:15: otelConfig.processors.redaction.action: \"scramble\" is not an action; "
       "expected mask or hash"},
      {"short key", "      hmacKey: short\n",
       "test.yaml:4:16: otelConfig.processors.redaction.hmacKey: the key is 5 bytes; a key of at "
       "least 16 bytes is needed"},
      {"both keys", "      hmacKeyFile: /k\n      hmacKey: 0123456789abcdef\n",
       "test.yaml:4:7: otelConfig.processors.redaction: set hmacKey or hmacKeyFile, not both"},
      {"allow list without keys", "      allowListMode: true\n",
       "test.yaml:4:7: otelConfig.processors.redaction.allowedKeys: allowListMode is true but "
       "allowedKeys is "
       "empty: every attribute would be removed"},
      {"list of maps", "      ignoredKeys: [{a: b}]\n",
       "test.yaml:4:21: otelConfig.processors.redaction.ignoredKeys[0]: expected key patterns; got "
       "a map"},
      {"not a list", "      ignoredKeys: debug.*\n",
       "test.yaml:4:20: otelConfig.processors.redaction.ignoredKeys: expected a list of key "
       "patterns such as "
       "[\"a.b\"]; got \"debug.*\""},
      {"hashHosts misspelt", "      urls:\n        hashHost: true\n",
       "test.yaml:5:9: otelConfig.processors.redaction.urls.hashHost: unknown key; did you mean "
       "hashHosts?"},
      {"hashHosts not a boolean", "      urls: {hashHosts: sometimes}\n",
       "test.yaml:4:25: otelConfig.processors.redaction.urls.hashHosts: \"sometimes\" is not true "
       "or false"},
      {"hashHosts as a string", "      urls:\n        hashHosts: \"true\"\n",
       "test.yaml:5:20: otelConfig.processors.redaction.urls.hashHosts: \"true\" is a string, not "
       "a boolean; write true or false without quotes"},
      {"urls not a map", "      urls: [hashHosts]\n",
       "test.yaml:4:13: otelConfig.processors.redaction.urls: expected a map with the keys "
       "hashHosts; got a list"},
      {"enabled as string", "      rules: {jwts: \"false\"}\n",
       "test.yaml:4:21: otelConfig.processors.redaction.rules.jwts: \"false\" is a string, not a "
       "boolean; write "
       "true or false without quotes"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(errorOf(redactionYaml(c.body)), c.message) << c.name;
    const Validation v = validationOf(redactionYaml(c.body));  // stackhouse validate
    EXPECT_FALSE(v.valid) << c.name;
    EXPECT_EQ(v.text, c.message) << c.name;
  }
}

}  // namespace
}  // namespace stackhouse::config
