// File names in URL paths, wherever a URL is: span names, URL attributes (url.full, url.path,
// http.target, http.url), log bodies, JSON bodies, request lines. Each path segment that is a file
// name gets the hash a file.name value gets, extension kept; route templates, ids, versions and
// ordinary segments stay. Hosts are hashed only with urls.hashHosts.
#include <gtest/gtest.h>

#include "processors/redaction/hmac.h"
#include "redaction_test_support.h"

namespace stackhouse::redaction {
namespace {

using testing::addLog;
using testing::addRow;
using testing::redactText;
using testing::rowOf;
using testing::testPolicy;
using testing::valueOf;

// The hash of a file name's stem, as the fileNames rule writes it (12 hex digits).
std::string h(std::string_view stem) {
  HmacSha256 mac(testPolicy().hmacKey);
  char hex[12];
  mac.hex(stem, hex, 12);
  return std::string(hex, 12);
}

const std::string kSecretPdf = "Customer_Q3_financials_CONFIDENTIAL";

telemetry::SpanBatch oneSpan(std::string_view name, const stackhouse::testing::Attrs& attrs) {
  telemetry::SpanBatch b;
  b.timestamp.append(1);
  for (auto* c : {&b.traceId, &b.spanId, &b.parentSpanId, &b.traceState, &b.spanKind,
                  &b.serviceName, &b.scopeName, &b.scopeVersion, &b.statusCode, &b.statusMessage}) {
    c->append("");
  }
  b.spanName.append(name);
  addRow(b.resourceAttributes, {});
  addRow(b.spanAttributes, attrs);
  b.duration.append(1);
  b.eventsTimestamp.endRow();
  b.eventsName.endRow();
  b.eventsAttributes.endRow();
  b.linksTraceId.endRow();
  b.linksSpanId.endRow();
  b.linksTraceState.endRow();
  b.linksAttributes.endRow();
  return b;
}

TEST(UrlFileNames, SpanNameLikeAnyOtherText) {
  Redactor r(testPolicy());
  telemetry::SpanBatch b = oneSpan(
      "GET https://files.example-customer.com/" + kSecretPdf + ".pdf?sig=AbC123&expires=99", {});
  r.process(b);
  EXPECT_EQ(b.spanName.at(0), "GET https://files.example-customer.com/" + h(kSecretPdf) +
                                  ".pdf?sig=REDACTED&expires=REDACTED");
  EXPECT_EQ(valueOf(rowOf(b.spanAttributes, 0), "redaction.masked.count"), "3");
}

TEST(UrlFileNames, SameHashAsTheFileNameAttribute) {
  Redactor r(testPolicy());
  telemetry::SpanBatch b =
      oneSpan("download", {{"file.name", kSecretPdf + ".pdf"},
                           {"url.full", "https://h.example/d/" + kSecretPdf + ".pdf"}});
  r.process(b);
  const auto row = rowOf(b.spanAttributes, 0);
  EXPECT_EQ(valueOf(row, "file.name"), h(kSecretPdf) + ".pdf");
  EXPECT_EQ(valueOf(row, "url.full"), "https://h.example/d/" + h(kSecretPdf) + ".pdf");
}

struct AttrCase {
  const char* key;
  std::string value;
  std::string expected;
};

TEST(UrlFileNames, EveryUrlAttribute) {
  const std::string hs = h(kSecretPdf);
  const AttrCase cases[] = {
      {"url.full", "https://files.example.com/a/" + kSecretPdf + ".pdf?sig=x",
       "https://files.example.com/a/" + hs + ".pdf?sig=REDACTED"},
      {"url.original", "https://x.example/" + kSecretPdf + ".pdf",
       "https://x.example/" + hs + ".pdf"},
      {"http.url", "http://x.example:8080/dl/" + kSecretPdf + ".PDF#page=2",
       "http://x.example:8080/dl/" + hs + ".PDF#page=REDACTED"},
      {"url.path", "/dl/" + kSecretPdf + ".pdf", "/dl/" + hs + ".pdf"},
      {"http.target", "/dl/" + kSecretPdf + ".pdf?download=1",
       "/dl/" + hs + ".pdf?download=REDACTED"},
      {"http.request.url", "https://x.example/u/" + kSecretPdf + ".docx",
       "https://x.example/u/" + h(kSecretPdf) + ".docx"},
      // Not a URL key: the value is text, and the URL in it is found.
      {"note", "uploaded to https://x.example/u/" + kSecretPdf + ".xlsx.",
       "uploaded to https://x.example/u/" + hs + ".xlsx."},
      // Percent-encoded names are decoded first, so they hash as the file.name value would.
      {"url.path", "/dl/Customer%20Q3%20financials.pdf",
       "/dl/" + h("Customer Q3 financials") + ".pdf"},
      // An encoded dot: still a file name; the whole segment is hashed.
      {"url.path", "/dl/report%2Epdf", "/dl/" + h("report")},
      // A name too long to decode on the stack is hashed as written.
      {"url.path", "/dl/" + std::string(300, 'n') + "%20x.pdf",
       "/dl/" + h(std::string(300, 'n') + "%20x") + ".pdf"},
      // Every file-like segment, not just the last.
      {"url.path", "/shares/Acme.Corp/" + kSecretPdf + ".pdf",
       "/shares/" + h("Acme") + ".Corp/" + hs + ".pdf"},
  };
  for (const AttrCase& c : cases) {
    SCOPED_TRACE(std::string(c.key) + " " + c.value);
    Redactor r(testPolicy());
    telemetry::SpanBatch b = oneSpan("x", {{c.key, c.value}});
    r.process(b);
    EXPECT_EQ(valueOf(rowOf(b.spanAttributes, 0), c.key), c.expected);
  }
}

TEST(UrlFileNames, LogBodiesTextAndJson) {
  const std::string hs = h(kSecretPdf);
  Redactor r(testPolicy());
  EXPECT_EQ(redactText(r, "fetched https://cdn.example/" + kSecretPdf + ".pdf in 3ms"),
            "fetched https://cdn.example/" + hs + ".pdf in 3ms");
  EXPECT_EQ(redactText(r, "10.0.0.1 - - \"GET /files/" + kSecretPdf + ".pdf HTTP/1.1\" 200"),
            "10.0.0.1 - - \"GET /files/" + hs + ".pdf HTTP/1.1\" 200");
  EXPECT_EQ(redactText(r, "POST /upload/" + kSecretPdf + ".pdf?token=t 201"),
            "POST /upload/" + hs + ".pdf?token=REDACTED 201");
  EXPECT_EQ(redactText(r, R"({"msg":"got https://x.example/)" + kSecretPdf +
                              R"(.pdf","url.full":"/d/)" + kSecretPdf + R"(.pdf","n":1})"),
            R"({"msg":"got https://x.example/)" + hs + R"(.pdf","url.full":"/d/)" + hs +
                R"(.pdf","n":1})");
}

TEST(UrlFileNames, OrdinarySegmentsStay) {
  const std::string kept[] = {
      "GET /v1/parse",
      "GET /api/v2/items/123",
      "GET /healthz 200 3ms",
      "GET /v1.2/items/42",
      "GET https://api.example.com/v1.2.3/orders/ORD-2026-0042/lines",
      "GET /users/{user_id}/files/{file}.pdf",
      "GET /users/:id.json",
      "GET https://example.com/.well-known/openid-configuration",
      "GET https://example.com/pkg@2.0.1/index",
      "see https://example.com/docs/intro.",
      "GET /api/v1/orders/{id}",
      "the path /srv/files/report.pdf is not a URL",  // file.path keys cover paths
      "GET"
      "/x.pdf",         // no request line
      "BUDGET /x.pdf",  // not a method
  };
  Redactor r(testPolicy());
  for (const std::string& text : kept) EXPECT_EQ(redactText(r, text), text);
  telemetry::SpanBatch b = oneSpan("GET /api/v1/orders/{id}", {{"url.path", "/v1/parse"},
                                                               {"http.target", "/v1.2/items/9"},
                                                               {"url.full", "https://h/healthz"}});
  r.process(b);
  EXPECT_EQ(b.spanName.at(0), "GET /api/v1/orders/{id}");
  EXPECT_EQ(rowOf(b.spanAttributes, 0).size(), 3u);  // nothing changed: no count attribute
}

// Static assets are hashed like any other file name: an extension does not say whose file it is
// (an uploaded logo.png is a customer's), and the hash is stable, so a route's requests still
// group together.
TEST(UrlFileNames, StaticAssetsAreHashedToo) {
  Redactor r(testPolicy());
  EXPECT_EQ(redactText(r, "GET /static/app.js"), "GET /static/" + h("app") + ".js");
  EXPECT_EQ(redactText(r, "GET https://x.example/favicon.ico"),
            "GET https://x.example/" + h("favicon") + ".ico");
}

TEST(UrlFileNames, IdempotentAndOffWithTheRule) {
  Redactor r(testPolicy());
  const std::string once = redactText(r, "GET https://x.example/" + kSecretPdf + ".pdf");
  EXPECT_EQ(redactText(r, once), once);
  Policy p = testPolicy();
  p.rule(Rule::kFileNames).enabled = false;
  Redactor off(p);
  EXPECT_EQ(redactText(off, "GET https://x.example/" + kSecretPdf + ".pdf?q=1"),
            "GET https://x.example/" + kSecretPdf + ".pdf?q=REDACTED");
}

TEST(UrlHosts, HashedOnlyWhenAskedFor) {
  Redactor plain(testPolicy());
  EXPECT_EQ(redactText(plain, "GET https://files.acme-customer.com/x"),
            "GET https://files.acme-customer.com/x");
  Policy p = testPolicy();
  p.hashUrlHosts = true;
  Redactor r(p);
  EXPECT_EQ(redactText(r, "GET https://Files.Acme-Customer.com:8443/x?a=1"),
            "GET https://" + h("files.acme-customer.com") + ":8443/x?a=REDACTED");
  EXPECT_EQ(redactText(r, "dsn postgres://app:pw@db.acme.internal/orders"),
            "dsn postgres://REDACTED:REDACTED@" + h("db.acme.internal") + "/orders");
  EXPECT_EQ(redactText(r, "GET http://10.1.2.3:8080/x and http://[::1]:80/y"),
            "GET http://10.1.2.3:8080/x and http://[::1]:80/y");
  const std::string once = redactText(r, "see https://acme.example/" + kSecretPdf + ".pdf");
  EXPECT_EQ(once, "see https://" + h("acme.example") + "/" + h(kSecretPdf) + ".pdf");
  EXPECT_EQ(redactText(r, once), once);
  telemetry::SpanBatch b = oneSpan("x", {{"url.full", "https://acme.example/a"}});
  r.process(b);
  EXPECT_EQ(valueOf(rowOf(b.spanAttributes, 0), "url.full"), "https://" + h("acme.example") + "/a");
}

}  // namespace
}  // namespace stackhouse::redaction
