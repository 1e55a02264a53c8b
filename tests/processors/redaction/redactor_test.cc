// The Redactor over whole batches: every place content can hide, key rules, summaries, counters.
#include "processors/redaction/redactor.h"

#include <gtest/gtest.h>

#include "redaction_test_support.h"

namespace stackhouse::redaction {
namespace {

using testing::addLog;
using testing::addRow;
using testing::Attrs;
using testing::rowOf;
using testing::testPolicy;
using testing::valueOf;

TEST(Redactor, LogAttributesKeysAndValues) {
  Redactor r(testPolicy());
  telemetry::LogBatch b;
  addLog(b, "plain body",
         {{"http.request.header.authorization", "Bearer abc"},
          {"gen_ai.prompt.0.content", "summarise the contract of ACME"},
          {"gen_ai.usage.input_tokens", "512"},
          {"user.note", "call jane@example.com"},
          {"url.full", "https://u:p@api.example.com/files?id=42&sig=abc"},
          {"http.target", "/download?file=report.pdf"},
          {"url.query", "a=1&b=2"},
          {"file.path", "/data/acme/invoices/2024-03.pdf"},
          {"db.query.text", "SELECT * FROM t WHERE id = ?"},
          {"status", "ok"}},
         {{"service.name", "svc"}, {"k8s.secret.name", "db-creds"}});
  addLog(b, "second row untouched", {{"status", "ok"}});
  r.process(b);

  const Attrs a = rowOf(b.logAttributes, 0);
  EXPECT_EQ(valueOf(a, "http.request.header.authorization"), "****");
  EXPECT_EQ(valueOf(a, "gen_ai.prompt.0.content"), "****");
  EXPECT_EQ(valueOf(a, "gen_ai.usage.input_tokens"), "512");
  EXPECT_EQ(valueOf(a, "user.note"), "call ****");
  EXPECT_EQ(valueOf(a, "url.full"),
            "https://REDACTED:REDACTED@api.example.com/files?id=REDACTED&sig=REDACTED");
  EXPECT_EQ(valueOf(a, "http.target"), "/download?file=REDACTED");
  EXPECT_EQ(valueOf(a, "url.query"), "a=REDACTED&b=REDACTED");
  const std::string path = valueOf(a, "file.path");
  EXPECT_EQ(path.size(),
            std::string("/dddddddddddd/dddddddddddd/dddddddddddd/dddddddddddd.pdf").size())
      << path;
  EXPECT_TRUE(path.ends_with(".pdf")) << path;
  EXPECT_EQ(std::count(path.begin(), path.end(), '/'), 4);
  EXPECT_EQ(path.find("acme"), std::string::npos);
  EXPECT_EQ(valueOf(a, "db.query.text"), "SELECT * FROM t WHERE id = ?");
  EXPECT_EQ(valueOf(a, "status"), "ok");
  // 13 here (each hashed path component counts) + 1 in the resource.
  EXPECT_EQ(valueOf(a, "redaction.masked.count"), "14");
  EXPECT_EQ(valueOf(a, "redaction.removed.count"), "<absent>");
  EXPECT_EQ(valueOf(rowOf(b.resourceAttributes, 0), "k8s.secret.name"), "****");
  EXPECT_EQ(valueOf(rowOf(b.resourceAttributes, 0), "service.name"), "svc");

  EXPECT_EQ(rowOf(b.logAttributes, 1), (Attrs{{"status", "ok"}}));
  EXPECT_EQ(b.body.at(1), "second row untouched");
  EXPECT_EQ(b.logAttributes.size(), 2u);
}

TEST(Redactor, FileNameHashIsStableAndKeyed) {
  Policy p = testPolicy();
  Redactor r1(p);
  p.hmacKey = "another-key";
  Redactor r2(p);
  auto hashed = [](Redactor& r, std::string_view path) {
    telemetry::LogBatch b;
    addLog(b, "", {{"file.name", std::string(path)}});
    r.process(b);
    return valueOf(rowOf(b.logAttributes, 0), "file.name");
  };
  EXPECT_EQ(hashed(r1, "contract.docx"), hashed(r1, "contract.docx"));
  EXPECT_NE(hashed(r1, "contract.docx"), hashed(r2, "contract.docx"));
  EXPECT_TRUE(hashed(r1, "contract.docx").ends_with(".docx"));
  EXPECT_EQ(hashed(r1, "C:\\Users\\jane\\scan.tiff").substr(0, 3), "C:\\");
  // Hashing twice changes nothing (the audit relies on this).
  const std::string once = hashed(r1, "/a/b.txt");
  EXPECT_EQ(hashed(r1, once), once);
}

TEST(Redactor, BlockedKeyRemoveAndAllowList) {
  Policy p = testPolicy();
  p.rule(Rule::kBlockedKeys).action = Action::kRemove;
  Redactor r(p);
  telemetry::LogBatch b;
  addLog(b, "", {{"password", "x"}, {"keep", "y"}});
  r.process(b);
  EXPECT_EQ(rowOf(b.logAttributes, 0), (Attrs{{"keep", "y"}, {"redaction.removed.count", "1"}}));
  EXPECT_EQ(r.removedTotal(Rule::kBlockedKeys), 1u);

  Policy allow = testPolicy();
  allow.rule(Rule::kAllowList).enabled = true;
  allow.allowedKeys = {"service.*", "http.route"};
  Redactor ra(allow);
  telemetry::LogBatch c;
  addLog(c, "", {{"http.route", "/a"}, {"user.id", "42"}},
         {{"service.name", "s"}, {"host.name", "h"}});
  ra.process(c);
  EXPECT_EQ(rowOf(c.logAttributes, 0),
            (Attrs{{"http.route", "/a"}, {"redaction.removed.count", "2"}}));
  EXPECT_EQ(rowOf(c.resourceAttributes, 0), (Attrs{{"service.name", "s"}}));
}

TEST(Redactor, IgnoredKeysAndDisabledRules) {
  Policy p = testPolicy();
  p.ignoredKeys = {"debug.*"};
  p.rule(Rule::kFileNames).enabled = false;
  p.rule(Rule::kBlockedKeys).enabled = false;
  Redactor r(p);
  telemetry::LogBatch b;
  addLog(b, "", {{"debug.raw", "jane@example.com"}, {"file.name", "a.pdf"}, {"password", "x"}});
  r.process(b);
  EXPECT_EQ(rowOf(b.logAttributes, 0),
            (Attrs{{"debug.raw", "jane@example.com"}, {"file.name", "a.pdf"}, {"password", "x"}}));
}

TEST(Redactor, StructuredBody) {
  Redactor r(testPolicy());
  telemetry::LogBatch b;
  addLog(
      b,
      R"({"event":"upload","document":{"name":"q3.xlsx","text":"revenue"},"headers":{"cookie":"s=1"},"to":["a@b.io"]})");
  r.process(b);
  const std::string body(b.body.at(0));
  EXPECT_TRUE(body.starts_with(R"({"event":"upload","document":{"name":")")) << body;
  EXPECT_TRUE(body.ends_with(R"(.xlsx","text":"****"},"headers":{"cookie":"****"},"to":["****"]})"))
      << body;
  EXPECT_EQ(body.find("q3"), std::string::npos) << body;
}

TEST(Redactor, SpansNamesEventsLinks) {
  Redactor r(testPolicy());
  telemetry::SpanBatch b;
  b.timestamp.append(1);
  for (auto* c : {&b.traceId, &b.spanId, &b.parentSpanId, &b.traceState, &b.spanKind,
                  &b.serviceName, &b.scopeName, &b.scopeVersion, &b.statusCode}) {
    c->append("x");
  }
  b.spanName.append("GET /search?q=acme");
  b.statusMessage.append("failed for jane@example.com");
  addRow(b.resourceAttributes, {{"service.name", "svc"}});
  addRow(b.spanAttributes, {{"http.route", "/search"}});
  b.duration.append(1);
  b.eventsTimestamp.child().append(1);
  b.eventsTimestamp.endRow();
  b.eventsName.child().append("exception");
  b.eventsName.endRow();
  addRow(b.eventsAttributes.child(), {{"exception.message", "token=abc123secret"}});
  b.eventsAttributes.endRow();
  b.linksTraceId.child().append("t");
  b.linksTraceId.endRow();
  b.linksSpanId.child().append("s");
  b.linksSpanId.endRow();
  b.linksTraceState.child().append("");
  b.linksTraceState.endRow();
  addRow(b.linksAttributes.child(), {{"api_key", "k"}});
  b.linksAttributes.endRow();
  r.process(b);
  EXPECT_EQ(b.spanName.at(0), "GET /search?q=REDACTED");
  EXPECT_EQ(b.statusMessage.at(0), "failed for ****");
  EXPECT_EQ(rowOf(b.eventsAttributes.child(), 0), (Attrs{{"exception.message", "token=****"}}));
  EXPECT_EQ(rowOf(b.linksAttributes.child(), 0), (Attrs{{"api_key", "****"}}));
  EXPECT_EQ(valueOf(rowOf(b.spanAttributes, 0), "redaction.masked.count"), "4");
  EXPECT_EQ(valueOf(rowOf(b.spanAttributes, 0), "http.route"), "/search");
}

TEST(Redactor, MetricPointsAndExemplars) {
  Redactor r(testPolicy());
  telemetry::MetricBatch m;
  auto& g = m.gauge;
  addRow(g.common.resourceAttributes, {{"service.name", "svc"}});
  g.common.resourceSchemaUrl.append("");
  g.common.scopeName.append("");
  g.common.scopeVersion.append("");
  addRow(g.common.scopeAttributes, {});
  g.common.scopeDroppedAttrCount.append(0);
  g.common.scopeSchemaUrl.append("");
  g.common.serviceName.append("svc");
  g.common.metricName.append("m");
  g.common.metricDescription.append("");
  g.common.metricUnit.append("");
  addRow(g.common.attributes, {{"user.email", "jane@example.com"}, {"route", "/a"}});
  g.common.startTimeUnix.append(0);
  g.common.timeUnix.append(1);
  g.common.flags.append(0);
  g.value.append(1);
  addRow(g.exemplars.filteredAttributes.child(), {{"session_token", "abc"}});
  g.exemplars.filteredAttributes.endRow();
  r.process(m);
  EXPECT_EQ(rowOf(g.common.attributes, 0), (Attrs{{"user.email", "****"}, {"route", "/a"}}));
  EXPECT_EQ(rowOf(g.exemplars.filteredAttributes.child(), 0), (Attrs{{"session_token", "****"}}));
}

TEST(Redactor, InspectFindsWhatProcessWouldChange) {
  Redactor r(testPolicy());
  RuleCounts found{};
  r.inspect("", "mail jane@example.com with 4111111111111111", found);
  r.inspect("password", "x", found);
  r.inspect("password", "****", found);
  r.inspect("note", "all clear", found);
  EXPECT_EQ(found[static_cast<size_t>(Rule::kEmails)], 1u);
  EXPECT_EQ(found[static_cast<size_t>(Rule::kCardNumbers)], 1u);
  EXPECT_EQ(found[static_cast<size_t>(Rule::kBlockedKeys)], 1u);
}

}  // namespace
}  // namespace stackhouse::redaction
