// The value rules one by one: what each must catch, and a corpus of ordinary text that no rule
// may touch.
#include <gtest/gtest.h>

#include "redaction_test_support.h"

namespace stackhouse::redaction {
namespace {

using testing::redactText;
using testing::testPolicy;

struct Case {
  const char* name;
  std::string input;
  std::string expected;
};

class ValueRules : public ::testing::TestWithParam<Case> {};

TEST_P(ValueRules, Redacts) {
  Redactor r(testPolicy());
  EXPECT_EQ(redactText(r, GetParam().input), GetParam().expected) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    TruePositives, ValueRules,
    ::testing::Values(
        Case{"bearer", "Authorization: Bearer abcdef0123456789xyz", "Authorization: Bearer ****"},
        Case{"bearerLower", "auth=bearer 9f8e7d6c5b4a", "auth=bearer ****"},
        Case{"jwt",
             "token "
             "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
             "XgL0n3I9PlFUP0THsR8U seen",
             "token **** seen"},
        Case{"awsAccessKey", "key AKIAIOSFODNN7EXAMPLE used", "key **** used"},
        Case{"awsSecretAssignment",
             "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
             "aws_secret_access_key=****"},
        Case{"gcpApiKey", "k=AIzaSyA-1234567890abcdefghijklmnopqrstu end", "k=**** end"},
        Case{"gcpOAuth", "ya29.a0AfH6SMBx1234567890abcdefghij", "****"},
        Case{"azureAccountKey",
             "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
             "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net",
             "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=****;EndpointSuffix=core."
             "windows.net"},
        Case{"privateKey",
             "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc\n-----END RSA PRIVATE "
             "KEY----- done",
             "key: **** done"},
        Case{"basicAuth", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic ****"},
        Case{"passwordAssignment", "connect Server=db;User Id=app;Password=Sup3rS3cret;Timeout=5",
             "connect Server=db;User Id=app;Password=****;Timeout=5"},
        Case{"passwordColon", "login failed, password: hunter2 for user",
             "login failed, password: **** for user"},
        Case{"clientSecretQuoted", "client_secret=\"abc def\"", "client_secret=\"****\""},
        Case{"connectionUrl", "dsn postgres://app:s3cr3t@db.internal:5432/orders ok",
             "dsn postgres://REDACTED:REDACTED@db.internal:5432/orders ok"},
        Case{"email", "mail sent to jane.doe+x@example.co.uk.", "mail sent to ****."},
        Case{"cardVisa", "paid with 4111 1111 1111 1111 today", "paid with **** today"},
        Case{"cardPlain", "card=5555555555554444", "card=****"},
        Case{"cardAmex", "amex 3782-822463-10005", "amex ****"},
        Case{"urlQuery", "GET https://api.example.com/v1/search?q=acme+corp&page=2#frag done",
             "GET https://api.example.com/v1/search?q=REDACTED&page=REDACTED#frag done"},
        Case{"urlUserinfo", "fetch https://bob:pw@host/x",
             "fetch https://REDACTED:REDACTED@host/x"},
        Case{"targetQuery", "GET /documents?name=contract.pdf&owner=acme HTTP/1.1",
             "GET /documents?name=REDACTED&owner=REDACTED HTTP/1.1"},
        Case{"jsonBody", R"({"user":"jane@example.com","password":"x","n":1,"prompt":{"a":[1,2]}})",
             R"({"user":"****","password":"****","n":1,"prompt":"****"})"},
        Case{"jsonEscapes", R"({"msg":"line\nBearer abcdefgh12345678 and\tjane@example.com"})",
             R"({"msg":"line\nBearer **** and\t****"})"},
        Case{"jsonArray", R"(["ok","AKIAIOSFODNN7EXAMPLE"])", R"(["ok","****"])"}));

// Ordinary operational text: every one of these must come through byte for byte.
INSTANTIATE_TEST_SUITE_P(
    FalsePositives, ValueRules,
    ::testing::Values(
        Case{"logLine", "GET /healthz 200 3ms", "GET /healthz 200 3ms"},
        Case{"uuid", "request 123e4567-e89b-12d3-a456-426614174000 done",
             "request 123e4567-e89b-12d3-a456-426614174000 done"},
        Case{"uuidDigits", "id 12345678-1234-1234-1234-123456789012",
             "id 12345678-1234-1234-1234-123456789012"},
        Case{"traceId", "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
             "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7"},
        Case{"sha256",
             "digest sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
             "digest sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
        Case{"version", "stackhouse v1.24.3-rc.1+build.5 (go1.22.4) pkg@2.0.1",
             "stackhouse v1.24.3-rc.1+build.5 (go1.22.4) pkg@2.0.1"},
        Case{"timestamps",
             "at 2026-11-25T22:36:48.123456789Z ts=1732573200000000000 ms=1732573200123",
             "at 2026-11-25T22:36:48.123456789Z ts=1732573200000000000 ms=1732573200123"},
        Case{"dateDigits", "2026-11-25 22 36 48 1234", "2026-11-25 22 36 48 1234"},
        Case{"longNumber", "rows=4111111111111112 bytes=12345678901234",
             "rows=4111111111111112 bytes=12345678901234"},
        Case{"tokensCount", "gen_ai usage input_tokens=512 output_tokens: 20",
             "gen_ai usage input_tokens=512 output_tokens: 20"},
        Case{"basicWord", "Basic Authentication is disabled", "Basic Authentication is disabled"},
        Case{"bearerWord", "the bearer of bad news", "the bearer of bad news"},
        Case{"urlNoQuery", "see https://example.com/docs/intro",
             "see https://example.com/docs/intro"},
        Case{"question", "is it ready? yes=1", "is it ready? yes=1"},
        Case{"ipPort", "listening on 127.0.0.1:4318 and [::1]:8080",
             "listening on 127.0.0.1:4318 and [::1]:8080"},
        Case{"k8s", "pod web-7d4b9c8f6-x2x9q in ns default restarted 3 times",
             "pod web-7d4b9c8f6-x2x9q in ns default restarted 3 times"},
        Case{"json", R"({"status":"ok","latency_ms":12.5,"items":[1,2,3]})",
             R"({"status":"ok","latency_ms":12.5,"items":[1,2,3]})"},
        Case{"scopedPackage", "loaded @opentelemetry/api@1.9.0", "loaded @opentelemetry/api@1.9.0"},
        Case{"publicKey", "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----",
             "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"},
        Case{"alreadyRedacted", "password=**** https://REDACTED:REDACTED@h/?a=REDACTED",
             "password=**** https://REDACTED:REDACTED@h/?a=REDACTED"}));

TEST(ValueRules, HashActionCorrelates) {
  Policy p = testPolicy();
  p.rule(Rule::kEmails).action = Action::kHash;
  Redactor r(p);
  const std::string a = redactText(r, "from jane@example.com");
  const std::string b = redactText(r, "to jane@example.com");
  ASSERT_TRUE(a.starts_with("from h:")) << a;
  EXPECT_EQ(a.substr(5), b.substr(3));
  EXPECT_EQ(a.size(), 5 + 18u);
}

TEST(ValueRules, DisabledRuleLetsContentThrough) {
  Policy p = testPolicy();
  p.rule(Rule::kEmails).enabled = false;
  Redactor r(p);
  EXPECT_EQ(redactText(r, "to jane@example.com"), "to jane@example.com");
  EXPECT_EQ(redactText(r, "card 4111111111111111"), "card ****");
}

TEST(ValueRules, AllowedValuesAndSafeQueryKeys) {
  Policy p = testPolicy();
  p.allowedValues = {"support@example.com"};
  p.safeQueryKeys = {"page"};
  Redactor r(p);
  EXPECT_EQ(redactText(r, "mail support@example.com or jane@example.com"),
            "mail support@example.com or ****");
  EXPECT_EQ(redactText(r, "https://h/p?q=x&page=2"), "https://h/p?q=REDACTED&page=2");
}

TEST(ValueRules, HmacMatchesRfc4231) {
  // RFC 4231 test case 2.
  HmacSha256 h("Jefe");
  char hex[64];
  h.hex("what do ya want for nothing?", hex, 64);
  EXPECT_EQ(std::string(hex, 64),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Globs, Match) {
  EXPECT_TRUE(globMatch("*token*", "x.Access_Token.y"));
  EXPECT_TRUE(globMatch("gen_ai.prompt*", "gen_ai.prompt.0.content"));
  EXPECT_TRUE(globMatch("*.content", "document.content"));
  EXPECT_FALSE(globMatch("*.content", "content_length"));
  EXPECT_TRUE(globMatch("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(globMatch("a*b*c", "aXbYbZ"));
}

}  // namespace
}  // namespace stackhouse::redaction
