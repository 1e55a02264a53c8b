// otelConfig.exporters.logfire, tinybird and datadog: defaults, valid and invalid cases, table by
// table.
#include <gtest/gtest.h>

#include <functional>

#include "config/config.h"
#include "config/with_sections.h"
#include "parse_error.h"

namespace stackhouse::config {
using namespace ::stackhouse::config::test;
namespace {

using namespace std::chrono_literals;
using testing::errorOf;
using testing::validationOf;

std::string exporters(std::string_view body) {
  return "otelConfig:\n  exporters:\n" + std::string(body);
}

TEST(VendorExporterConfig, Defaults) {
  const ExportersConfig e = defaults().otelConfig.exporters;
  EXPECT_FALSE(logfire(e).enabled);
  EXPECT_EQ(logfire(e).region, "us");
  EXPECT_EQ(logfire(e).endpoint, "");
  EXPECT_EQ(logfire(e).timeout, 30s);
  EXPECT_EQ(logfire(e).maxRequestSize, 4 * kMiB);
  EXPECT_FALSE(tinybird(e).enabled);
  EXPECT_EQ(tinybird(e).endpoint, "https://api.tinybird.co");
  EXPECT_EQ(tinybird(e).datasources.logs, "otel_logs");
  EXPECT_EQ(tinybird(e).datasources.traces, "otel_traces");
  EXPECT_EQ(tinybird(e).datasources.gauge, "otel_metrics_gauge");
  EXPECT_EQ(tinybird(e).datasources.exponentialHistogram, "otel_metrics_exponential_histogram");
  EXPECT_TRUE(tinybird(e).wait);
  EXPECT_EQ(tinybird(e).maxRequestSize, 10 * kMiB);
  EXPECT_FALSE(datadog(e).enabled);
  EXPECT_EQ(datadog(e).site, "datadoghq.com");
  EXPECT_EQ(datadog(e).endpoint, "");
  EXPECT_EQ(datadog(e).timeout, 30s);
  // A vendor's outage must not stop ingest into the other sinks: its queue drops its oldest data.
  for (const QueueConfig* q : {&logfire(e).queue, &tinybird(e).queue, &datadog(e).queue}) {
    EXPECT_EQ(q->onFull, QueueConfig::OnFull::kDropOldest);
    EXPECT_EQ(q->fsync, QueueConfig::Fsync::kAlways);
    EXPECT_EQ(q->maxSize, 2 * kGiB);
  }
  EXPECT_EQ(defaults().otelConfig.exporters.clickhouse.queue.onFull,
            QueueConfig::OnFull::kBackpressure);
}

struct ValidCase {
  std::string_view name;
  std::string yaml;
  std::function<void(ExportersConfig&)> expect;  // applied to the defaults
};

TEST(VendorExporterConfig, ValidCases) {
  const ValidCase cases[] = {
      {"the reference's one-liners",
       exporters("    tinybird: {enabled: false}\n"
                 "    datadog: {enabled: false}\n"
                 "    logfire: {enabled: false}\n"),
       [](ExportersConfig&) {}},
      {"a vendor's queue",
       exporters(
           "    datadog:\n      queue: {maxSize: 512Mi, fsync: never, onFull: backpressure}\n"),
       [](ExportersConfig& e) {
         datadog(e).queue.maxSize = 512 * kMiB;
         datadog(e).queue.fsync = QueueConfig::Fsync::kNever;
         datadog(e).queue.onFull = QueueConfig::OnFull::kBackpressure;
       }},
      {"logfire from a mounted secret",
       exporters("    logfire:\n      enabled: true\n      region: eu\n"
                 "      existingSecret: logfire\n      secretKey: token\n"),
       [](ExportersConfig& e) {
         logfire(e).enabled = true;
         logfire(e).region = "eu";
         logfire(e).token = {"logfire", "token", ""};
       }},
      {"logfire endpoint, trailing slash dropped, token file",
       exporters("    logfire:\n      enabled: true\n      endpoint: http://127.0.0.1:9999/\n"
                 "      tokenFile: /run/logfire-token\n      timeout: 5s\n"
                 "      maxRequestSize: 1Mi\n"),
       [](ExportersConfig& e) {
         logfire(e).enabled = true;
         logfire(e).endpoint = "http://127.0.0.1:9999";
         logfire(e).token.file = "/run/logfire-token";
         logfire(e).timeout = 5s;
         logfire(e).maxRequestSize = kMiB;
       }},
      {"tinybird region host and data sources",
       exporters("    tinybird:\n      enabled: true\n"
                 "      endpoint: https://api.us-east.aws.tinybird.co\n"
                 "      existingSecret: tinybird\n      secretKey: TB_TOKEN\n"
                 "      datasources: {logs: app_logs, summary: _sums2}\n      wait: false\n"),
       [](ExportersConfig& e) {
         tinybird(e).enabled = true;
         tinybird(e).endpoint = "https://api.us-east.aws.tinybird.co";
         tinybird(e).token = {"tinybird", "TB_TOKEN", ""};
         tinybird(e).datasources.logs = "app_logs";
         tinybird(e).datasources.summary = "_sums2";
         tinybird(e).wait = false;
       }},
      {"datadog EU with an API key file",
       exporters("    datadog:\n      enabled: true\n      site: datadoghq.eu\n"
                 "      apiKeyFile: /etc/dd/api_key\n"),
       [](ExportersConfig& e) {
         datadog(e).enabled = true;
         datadog(e).site = "datadoghq.eu";
         datadog(e).apiKey.file = "/etc/dd/api_key";
       }},
      {"datadog gov with a secret and an endpoint",
       exporters("    datadog:\n      enabled: true\n      site: ddog-gov.com\n"
                 "      existingSecret: dd\n      secretKey: api-key\n"
                 "      endpoint: https://dd-proxy.internal:8443\n"),
       [](ExportersConfig& e) {
         datadog(e).enabled = true;
         datadog(e).site = "ddog-gov.com";
         datadog(e).apiKey = {"dd", "api-key", ""};
         datadog(e).endpoint = "https://dd-proxy.internal:8443";
       }},
      {"disabled needs no credential", exporters("    datadog: {site: us5.datadoghq.com}\n"),
       [](ExportersConfig& e) { datadog(e).site = "us5.datadoghq.com"; }},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.name);
    Config expected = defaults();
    c.expect(expected.otelConfig.exporters);
    EXPECT_EQ(errorOf(c.yaml), "");
    EXPECT_EQ(parseYaml(c.yaml, "test.yaml"), expected);
    // --print-config reads back as the same configuration.
    EXPECT_EQ(parseYaml(describeConfig(expected), "printed.yaml"), expected);
  }
}

struct InvalidCase {
  std::string_view name;
  std::string yaml;
  std::string_view message;
};

TEST(VendorExporterConfig, InvalidCases) {
  const InvalidCase cases[] = {
      {"enabled without a credential", exporters("    datadog: {enabled: true}\n"),
       "test.yaml:3:14: otelConfig.exporters.datadog: enabled: true needs a credential: "
       "existingSecret and secretKey (a secret under clickstack.secretsDir), or apiKeyFile"},
      {"logfire enabled without a token", exporters("    logfire:\n      enabled: true\n"),
       "test.yaml:4:7: otelConfig.exporters.logfire: enabled: true needs a credential: "
       "existingSecret and secretKey (a secret under clickstack.secretsDir), or tokenFile"},
      {"secret without its key", exporters("    tinybird: {enabled: true, existingSecret: tb}\n"),
       "test.yaml:3:15: otelConfig.exporters.tinybird.secretKey: existingSecret is set but "
       "secretKey is empty"},
      {"secret and file",
       exporters("    logfire: {existingSecret: a, secretKey: b, tokenFile: /x}\n"),
       "test.yaml:3:14: otelConfig.exporters.logfire: set existingSecret and secretKey, or "
       "tokenFile, not both"},
      {"unknown site", exporters("    datadog: {site: datadoghq.co}\n"),
       "test.yaml:3:21: otelConfig.exporters.datadog.site: \"datadoghq.co\" is not a Datadog "
       "site; expected datadoghq.com, us3.datadoghq.com, us5.datadoghq.com, datadoghq.eu, "
       "ap1.datadoghq.com, ap2.datadoghq.com, uk1.datadoghq.com, ddog-gov.com or "
       "us2.ddog-gov.com; did you mean datadoghq.com?"},
      {"site given as a URL", exporters("    datadog: {site: \"https://datadoghq.com\"}\n"),
       "test.yaml:3:21: otelConfig.exporters.datadog.site: \"https://datadoghq.com\" is not a "
       "Datadog site; expected datadoghq.com, us3.datadoghq.com, us5.datadoghq.com, "
       "datadoghq.eu, ap1.datadoghq.com, ap2.datadoghq.com, uk1.datadoghq.com, ddog-gov.com or "
       "us2.ddog-gov.com"},
      {"logfire region", exporters("    logfire: {region: asia}\n"),
       "test.yaml:3:23: otelConfig.exporters.logfire.region: \"asia\" is not a Logfire region; "
       "expected us or eu (or set endpoint)"},
      {"endpoint without a scheme", exporters("    tinybird: {endpoint: api.tinybird.co}\n"),
       "test.yaml:3:26: otelConfig.exporters.tinybird.endpoint: \"api.tinybird.co\" is not a URL "
       "such as https://host or http://127.0.0.1:8080 (http or https)"},
      {"endpoint with a token in its query",
       exporters("    tinybird: {endpoint: \"https://api.tinybird.co/?token=x\"}\n"),
       "test.yaml:3:26: otelConfig.exporters.tinybird.endpoint: "
       "\"https://api.tinybird.co/?token=x\" may not hold user info, a query, a fragment, spaces "
       "or control characters"},
      {"tinybird endpoint cannot be empty", exporters("    tinybird: {endpoint: \"\"}\n"),
       "test.yaml:3:26: otelConfig.exporters.tinybird.endpoint: \"\" is not a URL such as "
       "https://host or http://127.0.0.1:8080 (http or https)"},
      {"endpoint without a host", exporters("    datadog: {endpoint: \"https:///x\"}\n"),
       "test.yaml:3:25: otelConfig.exporters.datadog.endpoint: \"https:///x\" has no host"},
      {"data source name", exporters("    tinybird:\n      datasources: {traces: otel-traces}\n"),
       "test.yaml:4:29: otelConfig.exporters.tinybird.datasources.traces: \"otel-traces\" is not "
       "a data source name (letters, digits and _, not starting with a digit)"},
      {"unknown data source key", exporters("    tinybird:\n      datasources: {spans: x}\n"),
       "test.yaml:4:21: otelConfig.exporters.tinybird.datasources.spans: unknown key; the keys "
       "here are logs, traces, gauge, sum, histogram, exponentialHistogram and summary"},
      {"tinybird request size past the largest plan",
       exporters("    tinybird: {maxRequestSize: 200Mi}\n"),
       "test.yaml:3:32: otelConfig.exporters.tinybird.maxRequestSize: is above 100Mi, the largest "
       "request the Events API takes on any plan"},
      {"timeout too short", exporters("    logfire: {timeout: 10ms}\n"),
       "test.yaml:3:24: otelConfig.exporters.logfire.timeout: \"10ms\" is shorter than the "
       "minimum 1s"},
      {"request size too small", exporters("    logfire: {maxRequestSize: 1Ki}\n"),
       "test.yaml:3:31: otelConfig.exporters.logfire.maxRequestSize: \"1Ki\" is smaller than the "
       "minimum 64Ki"},
      {"unknown key names the keys", exporters("    logfire: {token: abc}\n"),
       "test.yaml:3:15: otelConfig.exporters.logfire.token: unknown key; the keys here are "
       "enabled, region, endpoint, timeout, maxRequestSize, existingSecret, secretKey, "
       "tokenFile and queue"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(errorOf(c.yaml), c.message);
    const Validation v = validationOf(c.yaml);
    EXPECT_FALSE(v.valid);
    EXPECT_EQ(v.text, c.message);
  }
}

TEST(VendorExporterConfig, SummaryNamesEnabledSinks) {
  const Config c =
      parseYaml(exporters("    logfire: {enabled: true, tokenFile: /t}\n"), "test.yaml");
  EXPECT_TRUE(sinkEnabled(c, kLogfire));
  EXPECT_NE(summarizeConfig(c, "x.yaml").find("sinks clickhouse (ttl 72h), logfire"),
            std::string::npos)
      << summarizeConfig(c, "x.yaml");
}

}  // namespace
}  // namespace stackhouse::config
