// The text 0.0.4 / OpenMetrics 1.0 parser on its own: entries, escapes, numbers, timestamps,
// and a table of malformed bodies with the error each must give.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "receivers/prometheus/text_parser.h"

namespace stackhouse::receivers::prometheus {
namespace {

struct Parsed {
  std::vector<std::string> lines;  // one per entry, rendered
  Status status;
};

Parsed parseAll(std::string_view body, Format format, const ParseLimits& limits = {}) {
  Parsed out;
  TextParser p(body, format, limits);
  while (true) {
    Entry e;
    out.status = p.next(e);
    if (!out.status.isOk() || e == Entry::kEnd) break;
    std::string s;
    switch (e) {
      case Entry::kHelp:
        s = "HELP " + std::string(p.familyName()) + " [" + std::string(p.text()) + "]";
        break;
      case Entry::kType:
        s = "TYPE " + std::string(p.familyName()) + " " + std::string(metricTypeName(p.type()));
        break;
      case Entry::kUnit:
        s = "UNIT " + std::string(p.familyName()) + " " + std::string(p.text());
        break;
      case Entry::kSample: {
        s = std::string(p.name()) + "{";
        for (const Label& l : p.labels())
          s += std::string(l.name) + "=[" + std::string(l.value) + "]";
        char v[64];
        std::snprintf(v, sizeof v, "} %.17g", p.value());
        s += v;
        if (p.hasTimestamp()) s += " @" + std::to_string(p.timestampNanos());
        if (const Exemplar* ex = p.exemplar()) {
          s += " # {";
          for (const Label& l : ex->labels)
            s += std::string(l.name) + "=[" + std::string(l.value) + "]";
          std::snprintf(v, sizeof v, "} %.17g", ex->value);
          s += v;
          if (ex->hasTimestamp) s += " @" + std::to_string(ex->timestampNanos);
        }
        break;
      }
      case Entry::kEnd: break;
    }
    out.lines.push_back(s);
  }
  return out;
}

TEST(TextParser, TextFormatEntries) {
  Parsed r = parseAll(
      "# HELP a_total Help with \\\\ and \\n and \\\" kept.\n"
      "# TYPE a_total counter\n"
      "a_total{x=\"1\",y=\"q\\\"\\\\\\n\",} 3 1500000000123\n"
      "\n"
      "   # indented comment\n"
      "b  {  z = \"v\" }   -Inf\n"
      "c 1e3\r\n"
      "d nan\n",
      Format::kText);
  ASSERT_TRUE(r.status.isOk()) << r.status.toString();
  ASSERT_EQ(r.lines.size(), 6u);
  EXPECT_EQ(r.lines[0], "HELP a_total [Help with \\ and \n and \\\" kept.]");
  EXPECT_EQ(r.lines[1], "TYPE a_total counter");
  EXPECT_EQ(r.lines[2], "a_total{x=[1]y=[q\"\\\n]} 3 @1500000000123000000");
  EXPECT_EQ(r.lines[3], "b{z=[v]} -inf");
  EXPECT_EQ(r.lines[4], "c{} 1000");
  EXPECT_EQ(r.lines[5], "d{} nan");
}

TEST(TextParser, OpenMetricsEntries) {
  Parsed r = parseAll(
      "# TYPE foo counter\n"
      "# UNIT foo seconds\n"
      "# HELP foo A \\\"quoted\\\" help.\n"
      "foo_total{a=\"b\"} 1.5 1520879607.789 # {trace_id=\"abc\"} 2 1520879607.5\n"
      "foo_created 1520430000.25\n"
      "# EOF\n",
      Format::kOpenMetrics);
  ASSERT_TRUE(r.status.isOk()) << r.status.toString();
  ASSERT_EQ(r.lines.size(), 5u);
  EXPECT_EQ(r.lines[1], "UNIT foo seconds");
  EXPECT_EQ(r.lines[2], "HELP foo [A \"quoted\" help.]");
  EXPECT_EQ(r.lines[3],
            "foo_total{a=[b]} 1.5 @1520879607789000000 # {trace_id=[abc]} 2 @1520879607500000000");
  EXPECT_EQ(r.lines[4], "foo_created{} 1520430000.25");
}

TEST(TextParser, StaleNaNIsKeptBitExact) {
  // Values are parsed as written; NaN text gives a plain NaN, never the stale marker.
  TextParser p("x NaN\n", Format::kText);
  Entry e;
  ASSERT_TRUE(p.next(e).isOk());
  EXPECT_TRUE(std::isnan(p.value()));
}

TEST(TextParser, ContentType) {
  EXPECT_EQ(formatOfContentType("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Format::kOpenMetrics);
  EXPECT_EQ(formatOfContentType("Application/OpenMetrics-Text"), Format::kOpenMetrics);
  EXPECT_EQ(formatOfContentType("text/plain; version=0.0.4; charset=utf-8"), Format::kText);
  EXPECT_EQ(formatOfContentType(""), Format::kText);
}

struct BadCase {
  const char* name;
  Format format;
  const char* body;
  const char* error;  // a part of the message
  StatusCode code = StatusCode::kInvalidArgument;
};

class TextParserBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(TextParserBad, Refused) {
  const BadCase& c = GetParam();
  ParseLimits limits;
  limits.maxLabels = 3;
  limits.maxLabelNameBytes = 16;
  limits.maxLabelValueBytes = 8;
  Parsed r = parseAll(c.body, c.format, limits);
  ASSERT_FALSE(r.status.isOk()) << c.name;
  EXPECT_EQ(r.status.code(), c.code) << c.name;
  EXPECT_NE(r.status.message().find(c.error), std::string::npos)
      << c.name << ": " << r.status.message();
}

const BadCase kBad[] = {
    {"no value", Format::kText, "a\n", "line 1: expected a blank and the value"},
    {"bad value", Format::kText, "a 1x\n", "line 1: invalid sample value"},
    {"bad name", Format::kText, "1a 1\n", "line 1: expected a metric name"},
    {"bad label name", Format::kText, "a{1=\"x\"} 1\n", "invalid label name"},
    {"unquoted label", Format::kText, "a{x=1} 1\n", "expected a quoted value"},
    {"unterminated value", Format::kText, "a{x=\"1} 1\n", "unterminated value"},
    {"unterminated set", Format::kText, "a{x=\"1\"", "unterminated label set"},
    {"missing comma", Format::kText, "a{x=\"1\" y=\"2\"} 1\n", "expected , or }"},
    {"bad timestamp", Format::kText, "a 1 12.5\n", "line 1: invalid timestamp"},
    {"trailing text", Format::kText, "a 1 2 3\n", "unexpected text after the sample"},
    {"bad type", Format::kText, "# TYPE a stateset\n", "is not a text 0.0.4 metric type"},
    {"text after type", Format::kText, "# TYPE a gauge extra\n", "text after the TYPE"},
    {"metadata without name", Format::kText, "# HELP\n", "without a valid metric name"},
    {"invalid utf-8", Format::kText, "a{x=\"\xff\"} 1\n", "not valid UTF-8"},
    {"line number", Format::kText, "a 1\nb 2\nc\n", "line 3:"},
    {"exemplar in text", Format::kText, "a 1 # {x=\"y\"} 1\n", "unexpected text"},
    {"too many labels", Format::kText, "a{a=\"1\",b=\"2\",c=\"3\",d=\"4\"} 1\n",
     "more than 3 labels", StatusCode::kResourceExhausted},
    {"label name too long", Format::kText, "a{abcdefghijklmnopq=\"1\"} 1\n", "over the limit of 16",
     StatusCode::kResourceExhausted},
    {"label value too long", Format::kText, "a{x=\"123456789\"} 1\n", "over the limit of 8",
     StatusCode::kResourceExhausted},
    {"escaped value too long", Format::kText, "a{x=\"12345678\\n\"} 1\n", "over the limit of 8",
     StatusCode::kResourceExhausted},
    {"no EOF", Format::kOpenMetrics, "a 1\n", "does not end with # EOF"},
    {"after EOF", Format::kOpenMetrics, "# EOF\na 1\n", "content after # EOF"},
    {"empty line", Format::kOpenMetrics, "a 1\n\n# EOF\n", "line 2: empty line"},
    {"other comment", Format::kOpenMetrics, "# hello\n# EOF\n", "a comment other than"},
    {"untyped in OpenMetrics", Format::kOpenMetrics, "# TYPE a untyped\n# EOF\n",
     "is not a OpenMetrics 1.0 metric type"},
    {"exemplar without labels", Format::kOpenMetrics, "a 1 # 2\n# EOF\n",
     "expected the exemplar's label set"},
    {"exemplar without value", Format::kOpenMetrics, "a 1 # {x=\"y\"}\n# EOF\n",
     "missing exemplar value"},
};

INSTANTIATE_TEST_SUITE_P(Cases, TextParserBad, ::testing::ValuesIn(kBad), [](const auto& param) {
  std::string n = param.param.name;
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
});

}  // namespace
}  // namespace stackhouse::receivers::prometheus
