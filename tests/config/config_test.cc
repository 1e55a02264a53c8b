#include "config/config.h"

#include <gtest/gtest.h>

#include <functional>

#include "config/validate.h"
#include "config/with_sections.h"
#include "parse_error.h"

namespace stackhouse::config {
using namespace ::stackhouse::config::test;
namespace {

using namespace std::chrono_literals;

const std::string kTestdata = STACKHOUSE_CONFIG_TESTDATA;

using testing::errorOf;
using testing::validationOf;

TEST(Config, Defaults) {
  const Config c = defaults();
  EXPECT_TRUE(c.clickstack.enabled);
  EXPECT_EQ(c.clickstack.dataDir, "./data");
  EXPECT_EQ(c.clickstack.hyperdx.listen, (Endpoint{"127.0.0.1", 8080}));
  EXPECT_EQ(c.otelConfig.receivers.otlp.grpc.endpoint, (Endpoint{"127.0.0.1", 4317}));
  EXPECT_EQ(c.otelConfig.receivers.otlp.http.endpoint, (Endpoint{"127.0.0.1", 4318}));
  EXPECT_EQ(c.otelConfig.receivers.otlp.http.maxRequestBodySize, 64 * kMiB);
  EXPECT_EQ(c.otelConfig.receivers.otlp.grpc.maxRecvMsgSizeMiB, 0u);
  EXPECT_EQ(c.otelConfig.receivers.otlp.grpc.maxConcurrentStreams, 100u);
  const OtlpLimitsConfig& limits = c.otelConfig.receivers.otlp.limits;
  EXPECT_EQ(limits.maxResourcesPerRequest, 10000u);
  EXPECT_EQ(limits.maxRecordsPerRequest, 100000u);
  EXPECT_EQ(limits.maxAttributesPerRecord, 128u);
  EXPECT_EQ(limits.maxAttributeKeyLength, kKiB);
  EXPECT_EQ(limits.maxAttributeValueLength, 64 * kKiB);
  EXPECT_EQ(limits.maxValueDepth, 32u);
  EXPECT_EQ(c.otelConfig.admin.endpoint, (Endpoint{"127.0.0.1", 8888}));
  const std::vector<std::string> every{kTinybird, kDatadog, kLogfire, kClickhouse};
  EXPECT_EQ(c.otelConfig.routing.traces, every);
  EXPECT_EQ(c.otelConfig.routing.metrics, every);
  EXPECT_EQ(c.otelConfig.routing.k8sMetrics, every);
  EXPECT_EQ(c.otelConfig.routing.k8sEvents, every);
  EXPECT_EQ(c.otelConfig.routing.prometheusScrape, std::vector<std::string>{kClickhouse});
  EXPECT_EQ(c.otelConfig.routing.logs, std::vector<std::string>{kClickhouse});
  EXPECT_TRUE(c.otelConfig.exporters.clickhouse.enabled);
  EXPECT_EQ(c.otelConfig.exporters.clickhouse.ttl, 72h);
  EXPECT_FALSE(tinybird(c.otelConfig.exporters).enabled);
  EXPECT_FALSE(datadog(c.otelConfig.exporters).enabled);
  EXPECT_FALSE(logfire(c.otelConfig.exporters).enabled);
  EXPECT_EQ(c.otelConfig.processors.batch.sendBatchSize, 50000u);
  EXPECT_EQ(c.otelConfig.processors.batch.timeout, 200ms);
  EXPECT_EQ(c.otelConfig.processors.batch.sendBatchMaxBytes, 256 * kMiB);
  EXPECT_EQ(c.otelConfig.processors.memoryLimiter, (MemoryLimiterConfig{0, 0}));
}

TEST(Config, SinkEnabled) {
  Config c = defaults();
  EXPECT_TRUE(sinkEnabled(c, kClickhouse));
  EXPECT_FALSE(sinkEnabled(c, kDatadog));
  c.clickstack.enabled = false;  // no embedded store: nothing for the clickhouse sink to write to
  EXPECT_FALSE(sinkEnabled(c, kClickhouse));
}

struct ValidCase {
  std::string_view name;
  std::string_view yaml;
  std::function<void(Config&)> expect;  // applied to the defaults gives the expected Config
};

TEST(ParseConfig, ValidCases) {
  const ValidCase cases[] = {
      {"empty file", "", [](Config&) {}},
      {"only comments", "# nothing here\n\n# at all\n", [](Config&) {}},
      {"empty document", "---\n", [](Config&) {}},
      {"empty documents around the one", "---\nclickstack: {enabled: false}\n---\n",
       [](Config& c) { c.clickstack.enabled = false; }},
      {"empty map", "{}\n", [](Config&) {}},
      {"section with no value", "clickstack:\notelConfig:\n  processors:\n    batch:\n",
       [](Config&) {}},
      {"booleans in every YAML 1.2 spelling",
       "clickstack:\n  enabled: False\n"
       "otelConfig:\n  exporters:\n    clickhouse: {enabled: TRUE}\n",
       [](Config& c) { c.clickstack.enabled = false; }},
      {"collector mode", "clickstack:\n  enabled: false\n",
       [](Config& c) { c.clickstack.enabled = false; }},
      {"a remote ClickHouse cluster, every key",
       "otelConfig:\n  exporters:\n    clickhouse:\n"
       "      endpoint: https://ch.example.com:8443/\n      database: telemetry_2\n"
       "      username: \"ingest\"\n      existingSecret: ch\n      secretKey: password\n"
       "      clusterName: prod-eu_1\n      createSchema: false\n"
       "      tls: {caFile: /etc/ssl/ch-ca.pem}\n      compression: gzip\n      timeout: 1.5s\n",
       [](Config& c) {
         auto& ch = c.otelConfig.exporters.clickhouse;
         ch.endpoint = "https://ch.example.com:8443";  // the trailing / dropped
         ch.database = "telemetry_2";
         ch.username = "ingest";
         ch.existingSecret = "ch";
         ch.secretKey = "password";
         ch.clusterName = "prod-eu_1";
         ch.createSchema = false;
         ch.tlsCaFile = "/etc/ssl/ch-ca.pem";
         ch.compression = HttpCompression::kGzip;
         ch.timeout = std::chrono::milliseconds(1500);
       }},
      {"a remote ClickHouse over http, IPv6, no compression, no password",
       "otelConfig:\n  exporters:\n    clickhouse:\n"
       "      endpoint: \"http://[::1]:8123\"\n      compression: none\n",
       [](Config& c) {
         c.otelConfig.exporters.clickhouse.endpoint = "http://[::1]:8123";
         c.otelConfig.exporters.clickhouse.compression = HttpCompression::kNone;
       }},
      {"https without verification",
       "otelConfig:\n  exporters:\n    clickhouse:\n"
       "      endpoint: https://ch\n      tls: {insecureSkipVerify: true}\n",
       [](Config& c) {
         c.otelConfig.exporters.clickhouse.endpoint = "https://ch";
         c.otelConfig.exporters.clickhouse.tlsInsecureSkipVerify = true;
       }},
      {"disk budget", "clickstack:\n  clickhouse:\n    persistence: {dataSize: 64Mi}\n",
       [](Config& c) { c.clickstack.persistence.dataSize = 64 * kMiB; }},
      // Only enabled sinks' queues count against the log budget: the disabled vendors' 2Gi not.
      {"log budget", "clickstack:\n  clickhouse:\n    persistence: {logSize: 2Gi}\n",
       [](Config& c) { c.clickstack.persistence.logSize = 2 * kGiB; }},
      {"UI port is free when clickstack is off",
       "clickstack:\n  enabled: false\n  hyperdx: {listen: \"127.0.0.1:8888\"}\n",
       [](Config& c) {
         c.clickstack.enabled = false;
         c.clickstack.hyperdx.listen.port = 8888;
       }},
      {"dataDir plain and unusual", "clickstack:\n  dataDir: /srv/stack house/données\n",
       [](Config& c) { c.clickstack.dataDir = "/srv/stack house/données"; }},
      {"IPv6 and port 0",
       "otelConfig:\n  receivers:\n    otlp:\n      http:\n        endpoint: \"[::1]:0\"\n",
       [](Config& c) {
         c.otelConfig.receivers.otlp.http.endpoint = {"::1", 0};
       }},
      {"OTLP/gRPC on its own port, and both OTLP receivers on port 0",
       "otelConfig:\n  receivers:\n    otlp:\n      grpc: {endpoint: \"0.0.0.0:0\"}\n"
       "      http: {endpoint: \"127.0.0.1:0\"}\n"
       "      auth: {existingSecret: otlp, secretKey: key}\n",
       [](Config& c) {
         c.otelConfig.receivers.otlp.grpc.endpoint = {"0.0.0.0", 0};
         c.otelConfig.receivers.otlp.http.endpoint = {"127.0.0.1", 0};
         c.otelConfig.receivers.otlp.auth = {"otlp", "key"};
       }},
      {"seed user with a plain password",
       "clickstack:\n  hyperdx:\n    seedUser: {email: a@b.c, password: \"long enough pw\"}\n",
       [](Config& c) {
         c.clickstack.hyperdx.seedUser.email = "a@b.c";
         c.clickstack.hyperdx.seedUser.password = "long enough pw";
       }},
      {"UI beyond loopback behind an ingress",
       "clickstack:\n  hyperdx:\n    listen: 0.0.0.0:8080\n"
       "    ingress: {enabled: true, host: observe.example.com}\n",
       [](Config& c) {
         c.clickstack.hyperdx.listen = {"0.0.0.0", 8080};
         c.clickstack.hyperdx.ingress = {true, "observe.example.com"};
       }},
      {"UI beyond loopback with TLS on its listener",
       "clickstack:\n  hyperdx:\n    listen: 0.0.0.0:8443\n"
       "    tls: {certFile: /etc/stackhouse/ui.crt, keyFile: /etc/stackhouse/ui.key}\n",
       [](Config& c) {
         c.clickstack.hyperdx.listen = {"0.0.0.0", 8443};
         c.clickstack.hyperdx.tls = {"/etc/stackhouse/ui.crt", "/etc/stackhouse/ui.key"};
       }},
      {"a tunnel beside a loopback UI",
       "clickstack:\n  hyperdx:\n    exposure: {tailscale: {enabled: true}}\n",
       [](Config& c) { c.clickstack.hyperdx.exposure.tailscale = true; }},
      {"memory limit only; the spike from the machine",
       "otelConfig:\n  processors:\n    memoryLimiter: {limitMiB: 512}\n",
       [](Config& c) { c.otelConfig.processors.memoryLimiter.limitMiB = 512; }},
      {"every interface", "otelConfig:\n  admin:\n    endpoint: 0.0.0.0:9999\n",
       [](Config& c) {
         c.otelConfig.admin.endpoint = {"0.0.0.0", 9999};
       }},
      {"quoted size and duration",
       "otelConfig:\n  processors:\n    batch: {sendBatchMaxBytes: \"1Gi\", timeout: '1.5s'}\n",
       [](Config& c) {
         c.otelConfig.processors.batch.sendBatchMaxBytes = kGiB;
         c.otelConfig.processors.batch.timeout = 1500ms;
       }},
      {"lowest limits",
       "otelConfig:\n  exporters:\n    clickhouse: {ttl: 1h}\n  processors:\n"
       "    batch: {sendBatchSize: 1, timeout: 1ms, sendBatchMaxBytes: 1Ki}\n"
       "  receivers: {otlp: {http: {maxRequestBodySize: 1024}}}\n",
       [](Config& c) {
         c.otelConfig.exporters.clickhouse.ttl = 1h;
         c.otelConfig.processors.batch = {1, 1ms, 1024};
         c.otelConfig.receivers.otlp.http.maxRequestBodySize = 1024;
       }},
      {"highest limits",
       "otelConfig:\n  exporters:\n    clickhouse: {ttl: 87600h}\n  processors:\n"
       "    batch: {sendBatchSize: 1000000, timeout: 60s}\n",
       [](Config& c) {
         c.otelConfig.exporters.clickhouse.ttl = 87600h;
         c.otelConfig.processors.batch.sendBatchSize = 1'000'000;
         c.otelConfig.processors.batch.timeout = 60s;
       }},
      {"ttl of 15 days", "otelConfig: {exporters: {clickhouse: {ttl: 360h}}}\n",
       [](Config& c) { c.otelConfig.exporters.clickhouse.ttl = 360h; }},
      {"ttl 0: no retention", "otelConfig: {exporters: {clickhouse: {ttl: 0}}}\n",
       [](Config& c) { c.otelConfig.exporters.clickhouse.ttl = 0s; }},
      {"ttl 0s", "otelConfig: {exporters: {clickhouse: {ttl: 0s}}}\n",
       [](Config& c) { c.otelConfig.exporters.clickhouse.ttl = 0s; }},
      {"future skew: default 1h, 0 to 744h",
       "otelConfig: {receivers: {otlp: {limits: {maxFutureSkew: 744h}}}}\n",
       [](Config& c) { c.otelConfig.receivers.otlp.limits.maxFutureSkew = 744h; }},
      {"no future skew", "otelConfig: {receivers: {otlp: {limits: {maxFutureSkew: 0s}}}}\n",
       [](Config& c) { c.otelConfig.receivers.otlp.limits.maxFutureSkew = 0s; }},
      {"routing to nowhere, block lists, anchors",
       "otelConfig:\n  routing:\n    traces: []\n    logs: &both\n      - clickhouse\n"
       "      - datadog\n    metrics: *both\n",
       [](Config& c) {
         c.otelConfig.routing.traces = {};
         c.otelConfig.routing.logs = {kClickhouse, kDatadog};
         c.otelConfig.routing.metrics = {kClickhouse, kDatadog};
       }},
      {"the reference's routing and exporters snippet, pasted",
       "otelConfig:\n"
       "  routing:\n"
       "    traces: [tinybird, datadog, logfire, clickhouse]\n"
       "    metrics: [tinybird, datadog, logfire, clickhouse]\n"
       "    k8sMetrics: [tinybird, datadog, logfire, clickhouse]\n"
       "    k8sEvents: [tinybird, datadog, logfire, clickhouse]\n"
       "    prometheusScrape: [clickhouse]\n"
       "    logs: [clickhouse]\n"
       "  exporters:\n"
       "    clickhouse:\n"
       "      enabled: true\n"
       "      ttl: 72h\n"
       "    tinybird: {enabled: false}\n"
       "    datadog: {enabled: false}\n"
       "    logfire: {enabled: false}\n",
       [](Config&) {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Config expected = defaults();
    c.expect(expected);
    Config parsed;
    ASSERT_NO_THROW(parsed = parseYaml(c.yaml, "test.yaml")) << errorOf(c.yaml);
    EXPECT_EQ(describeConfig(parsed), describeConfig(expected));
    EXPECT_EQ(parsed, expected);
    // stackhouse validate: the summary, or, with no sink left to send to (start-up refuses it),
    // the reason.
    const Validation v = validationOf(c.yaml);
    if (anySinkEnabled(expected)) {
      EXPECT_TRUE(v.valid) << v.text;
      EXPECT_EQ(v.text, summarizeConfig(expected, "test.yaml"));
    } else {
      EXPECT_FALSE(v.valid);
      EXPECT_EQ(v.text.rfind("test.yaml: nothing to send to: ", 0), 0u) << v.text;
    }
  }
}

struct InvalidCase {
  std::string_view name;
  std::string_view yaml;
  std::string_view message;
};

TEST(ParseConfig, InvalidCases) {
  const InvalidCase cases[] = {
      // Exposure and authentication.
      {"UI beyond loopback without an ingress",
       "clickstack:\n  hyperdx:\n    listen: 0.0.0.0:8080\n",
       "test.yaml:3:13: clickstack.hyperdx.listen: \"0.0.0.0:8080\" is beyond loopback; the UI "
       "listens there only with clickstack.hyperdx.ingress.enabled: true or clickstack.hyperdx.tls "
       "(for a tunnel, keep it on loopback)"},
      {"public OTLP/HTTP receiver without an ingestion key",
       "otelConfig:\n  receivers:\n    otlp:\n      http: {endpoint: \"10.0.0.5:4318\"}\n",
       "test.yaml:4:24: otelConfig.receivers.otlp.http.endpoint: \"10.0.0.5:4318\" is beyond "
       "loopback and no ingestion key is configured: set otelConfig.receivers.otlp.auth."
       "existingSecret and secretKey"},
      {"ingestion key without its secretKey",
       "otelConfig:\n  receivers:\n    otlp:\n      auth: {existingSecret: otlp}\n",
       "test.yaml:4:13: otelConfig.receivers.otlp.auth: set both existingSecret and secretKey, or "
       "neither"},
      {"seed user with both password sources",
       "clickstack:\n  hyperdx:\n    seedUser: {password: x, existingSecret: s}\n",
       "test.yaml:3:15: clickstack.hyperdx.seedUser: set password or existingSecret, not both"},
      {"seed user without an e-mail address",
       "clickstack:\n  hyperdx:\n    seedUser: {email: admin}\n",
       "test.yaml:3:15: clickstack.hyperdx.seedUser.email: \"admin\" is not an e-mail address"},
      {"TLS certificate without its key", "clickstack:\n  hyperdx:\n    tls: {certFile: a}\n",
       "test.yaml:3:10: clickstack.hyperdx.tls: set both certFile and keyFile, or neither"},
      {"TLS with an unknown key",
       "clickstack:\n  hyperdx:\n    tls: {certFile: a, keyFile: b, caFile: c}\n",
       "test.yaml:3:36: clickstack.hyperdx.tls.caFile: unknown key; the keys here are certFile and "
       "keyFile"},
      // A remote ClickHouse.
      {"ClickHouse endpoint that is not http(s)",
       "otelConfig:\n  exporters:\n    clickhouse: {endpoint: \"tcp://ch:9000\"}\n",
       "test.yaml:3:28: otelConfig.exporters.clickhouse.endpoint: \"tcp://ch:9000\" is not an "
       "http(s) URL such as http://clickhouse:8123 or https://ch.example.com:8443"},
      {"ClickHouse endpoint with credentials",
       "otelConfig:\n  exporters:\n    clickhouse: {endpoint: \"http://u:p@ch:8123\"}\n",
       "test.yaml:3:28: otelConfig.exporters.clickhouse.endpoint: \"http://u:p@ch:8123\" holds "
       "credentials; give the user in username and the password through existingSecret and "
       "secretKey"},
      {"ClickHouse endpoint with a query",
       "otelConfig:\n  exporters:\n    clickhouse: {endpoint: \"http://ch:8123/?user=x\"}\n",
       "test.yaml:3:28: otelConfig.exporters.clickhouse.endpoint: \"http://ch:8123/?user=x\" has a "
       "path, query or fragment; give only the scheme, host and port such as "
       "http://clickhouse:8123 or https://ch.example.com:8443"},
      {"ClickHouse endpoint with a bad port",
       "otelConfig:\n  exporters:\n    clickhouse: {endpoint: \"http://ch:99999\"}\n",
       "test.yaml:3:28: otelConfig.exporters.clickhouse.endpoint: \"http://ch:99999\" has a port "
       "that is not a number from 1 to 65535"},
      {"ClickHouse endpoint without a host",
       "otelConfig:\n  exporters:\n    clickhouse: {endpoint: \"https://:8443\"}\n",
       "test.yaml:3:28: otelConfig.exporters.clickhouse.endpoint: \"https://:8443\" has no host "
       "such as http://clickhouse:8123 or https://ch.example.com:8443"},
      {"database that needs quoting",
       "otelConfig:\n  exporters:\n    clickhouse: {database: \"otel; DROP\"}\n",
       "test.yaml:3:28: otelConfig.exporters.clickhouse.database: \"otel; DROP\" is not a database "
       "name (letters, digits and _, not starting with a digit)"},
      {"database of the engine's own",
       "otelConfig:\n  exporters:\n    clickhouse: {database: system}\n",
       "test.yaml:3:28: otelConfig.exporters.clickhouse.database: \"system\" is reserved; name "
       "the telemetry database otherwise"},
      {"database of the schema views",
       "otelConfig:\n  exporters:\n    clickhouse: {database: stackhouse}\n",
       "test.yaml:3:28: otelConfig.exporters.clickhouse.database: \"stackhouse\" is reserved; "
       "name the telemetry database otherwise"},
      {"empty user name", "otelConfig:\n  exporters:\n    clickhouse: {username: \"\"}\n",
       "test.yaml:3:28: otelConfig.exporters.clickhouse.username: \"\" is not a user name (empty "
       "or "
       "a control character)"},
      {"cluster name with a space",
       "otelConfig:\n  exporters:\n    clickhouse: {endpoint: \"http://ch\", clusterName: \"a "
       "b\"}\n",
       "test.yaml:3:54: otelConfig.exporters.clickhouse.clusterName: \"a b\" is not a cluster name "
       "(letters, digits, _ and -)"},
      {"cluster on the embedded store",
       "otelConfig:\n  exporters:\n    clickhouse: {clusterName: c1}\n",
       "test.yaml:3:17: otelConfig.exporters.clickhouse.clusterName: needs a remote endpoint "
       "(http(s)://host:8123); the embedded store is one server"},
      {"TLS with an http endpoint",
       "otelConfig:\n  exporters:\n    clickhouse:\n      endpoint: http://ch:8123\n"
       "      tls: {caFile: ca.pem}\n",
       "test.yaml:4:7: otelConfig.exporters.clickhouse.tls: is set but the endpoint "
       "\"http://ch:8123\" is not https"},
      {"TLS CA and no verification",
       "otelConfig:\n  exporters:\n    clickhouse:\n      endpoint: https://ch\n"
       "      tls: {caFile: ca.pem, insecureSkipVerify: true}\n",
       "test.yaml:4:7: otelConfig.exporters.clickhouse.tls: set caFile or insecureSkipVerify, not "
       "both"},
      {"ClickHouse password secret without its key",
       "otelConfig:\n  exporters:\n    clickhouse: {endpoint: \"http://ch\", existingSecret: ch}\n",
       "test.yaml:3:17: otelConfig.exporters.clickhouse: set both existingSecret and secretKey, or "
       "neither"},
      {"unknown compression", "otelConfig:\n  exporters:\n    clickhouse: {compression: lz4}\n",
       "test.yaml:3:31: otelConfig.exporters.clickhouse.compression: \"lz4\" is not none, gzip or "
       "zstd"},
      {"timeout too long", "otelConfig:\n  exporters:\n    clickhouse: {timeout: 1h}\n",
       "test.yaml:3:27: otelConfig.exporters.clickhouse.timeout: \"1h\" is longer than the maximum "
       "10m"},
      {"disk budget too small", "clickstack:\n  clickhouse:\n    persistence: {dataSize: 1Mi}\n",
       "test.yaml:3:29: clickstack.clickhouse.persistence.dataSize: \"1Mi\" is smaller than the "
       "minimum "
       "64Mi"},
      // Unknown keys.
      {"misspelt top-level key", "clickstak:\n  enabled: true\n",
       "test.yaml:1:1: clickstak: unknown key; did you mean clickstack?"},
      {"unrelated top-level key", "server:\n  port: 80\n",
       "test.yaml:1:1: server: unknown key; the keys here are clickstack, otelConfig and "
       "prometheusScrape"},
      {"transposed letters", "clickstack:\n  dataDri: /x\n",
       "test.yaml:2:3: clickstack.dataDri: unknown key; did you mean dataDir?"},
      {"wrong case", "clickstack:\n  DATADIR: /x\n",
       "test.yaml:2:3: clickstack.DATADIR: unknown key; did you mean dataDir?"},
      {"snake case from another tool",
       "otelConfig:\n  processors:\n    batch:\n      send_batch_size: 10\n",
       "test.yaml:4:7: otelConfig.processors.batch.send_batch_size: unknown key; the keys here are "
       "sendBatchSize, timeout and sendBatchMaxBytes"},
      {"the Collector's row cap is not ours",
       "otelConfig:\n  processors:\n    batch:\n      sendBatchMaxSize: 10\n",
       "test.yaml:4:7: otelConfig.processors.batch.sendBatchMaxSize: unknown key; the keys here "
       "are sendBatchSize, timeout and sendBatchMaxBytes"},
      {"unknown routing source", "otelConfig:\n  routing:\n    trace: [clickhouse]\n",
       "test.yaml:3:5: otelConfig.routing.trace: unknown key; did you mean traces?"},
      {"unknown exporter", "otelConfig:\n  exporters:\n    splunk: {enabled: true}\n",
       "test.yaml:3:5: otelConfig.exporters.splunk: unknown key; the keys here are clickhouse, "
       "tinybird, datadog and logfire"},
      {"a vendor exporter's unknown setting",
       "otelConfig:\n  exporters:\n    datadog: {enabled: false, apiKey: x}\n",
       "test.yaml:3:31: otelConfig.exporters.datadog.apiKey: unknown key; the keys here are "
       "enabled, "
       "site, endpoint, timeout, existingSecret, secretKey, apiKeyFile and queue"},
      {"spike not below the limit",
       "otelConfig:\n  processors:\n    memoryLimiter: {limitMiB: 512, spikeLimitMiB: 512}\n",
       "test.yaml:3:51: otelConfig.processors.memoryLimiter.spikeLimitMiB: 512 is not below "
       "limitMiB "
       "(512); the soft limit is limitMiB - spikeLimitMiB"},
      {"engine limit below the minimum",
       "otelConfig:\n  processors:\n    memoryLimiter: {engineLimitMiB: 64}\n",
       "test.yaml:3:37: otelConfig.processors.memoryLimiter.engineLimitMiB: 64 is below the "
       "minimum "
       "128 (0 leaves the engine its default, 90% of RAM)"},
      {"memory limit in other units",
       "otelConfig:\n  processors:\n    memoryLimiter: {limitMiB: 2Gi}\n",
       "test.yaml:3:31: otelConfig.processors.memoryLimiter.limitMiB: \"2Gi\" is not a whole "
       "number "
       "from 0 to 1048576"},
      {"unknown OTLP/gRPC setting",
       "otelConfig:\n  receivers:\n    otlp:\n      grpc: {endpoint: \"127.0.0.1:4317\", tls: "
       "{}}\n",
       "test.yaml:4:42: otelConfig.receivers.otlp.grpc.tls: unknown key; the keys here are "
       "endpoint, maxRecvMsgSizeMiB and maxConcurrentStreams"},
      {"OTLP limit of zero",
       "otelConfig:\n  receivers:\n    otlp:\n      limits: {maxRecordsPerRequest: 0}\n",
       "test.yaml:4:38: otelConfig.receivers.otlp.limits.maxRecordsPerRequest: \"0\" is not a "
       "whole "
       "number from 1 to 100000000"},
      {"OTLP nesting depth past the cap",
       "otelConfig:\n  receivers:\n    otlp:\n      limits: {maxValueDepth: 1000}\n",
       "test.yaml:4:31: otelConfig.receivers.otlp.limits.maxValueDepth: \"1000\" is not a whole "
       "number from 1 to 256"},
      {"OTLP value length that is not a size",
       "otelConfig:\n  receivers:\n    otlp:\n      limits: {maxAttributeValueLength: lots}\n",
       "test.yaml:4:41: otelConfig.receivers.otlp.limits.maxAttributeValueLength: \"lots\" is not "
       "a "
       "size such as 64Mi or 1G"},
      {"unknown OTLP limit", "otelConfig:\n  receivers:\n    otlp:\n      limits: {maxSpans: 1}\n",
       "test.yaml:4:16: otelConfig.receivers.otlp.limits.maxSpans: unknown key; the keys here are "
       "maxResourcesPerRequest, maxRecordsPerRequest, maxAttributesPerRecord, "
       "maxAttributeKeyLength, "
       "maxAttributeValueLength, maxValueDepth and maxFutureSkew"},
      {"gRPC message size past grpc's",
       "otelConfig:\n  receivers:\n    otlp:\n      grpc: {maxRecvMsgSizeMiB: 4096}\n",
       "test.yaml:4:33: otelConfig.receivers.otlp.grpc.maxRecvMsgSizeMiB: \"4096\" is not a whole "
       "number from 0 to 2047"},
      {"no gRPC streams",
       "otelConfig:\n  receivers:\n    otlp:\n      grpc: {maxConcurrentStreams: 0}\n",
       "test.yaml:4:36: otelConfig.receivers.otlp.grpc.maxConcurrentStreams: \"0\" is not a whole "
       "number from 1 to 1000000"},
      {"OTLP/gRPC endpoint that is not one",
       "otelConfig:\n  receivers:\n    otlp:\n      grpc: {endpoint: \"4317\"}\n",
       "test.yaml:4:24: otelConfig.receivers.otlp.grpc.endpoint: \"4317\" is not an endpoint such "
       "as 127.0.0.1:4318 (missing :port)"},
      {"OTLP/gRPC on the OTLP/HTTP port",
       "otelConfig:\n  receivers:\n    otlp:\n      grpc: {endpoint: \"0.0.0.0:4318\"}\n"
       "      auth: {existingSecret: otlp, secretKey: key}\n",
       "test.yaml:4:24: otelConfig.receivers.otlp.grpc.endpoint: \"0.0.0.0:4318\" takes the port "
       "of "
       "otelConfig.receivers.otlp.http.endpoint (127.0.0.1:4318); each listener needs its own "
       "port"},
      {"queues beyond the log budget",
       "clickstack:\n  clickhouse:\n    persistence: {logSize: 3Gi}\notelConfig:\n  exporters:\n"
       "    datadog: {enabled: true, apiKeyFile: /k, queue: {maxSize: 1536Mi}}\n",
       "test.yaml:3:28: clickstack.clickhouse.persistence.logSize: 3Gi cannot hold the enabled "
       "sinks' queues (clickhouse 2Gi + datadog 1536Mi = 3584Mi): raise logSize or lower "
       "otelConfig.exporters.<sink>.queue.maxSize"},
      {"log budget below its floor",
       "clickstack:\n  clickhouse:\n    persistence: {logSize: 1Mi}\n",
       "test.yaml:3:28: clickstack.clickhouse.persistence.logSize: \"1Mi\" is smaller than the "
       "minimum 64Mi"},
      // Duplicates.
      {"duplicate key", "clickstack:\n  enabled: true\n  enabled: false\n",
       "test.yaml:3:3: clickstack.enabled: duplicate key (first set at line 2, column 3)"},
      {"duplicate section", "otelConfig: {}\nclickstack: {}\notelConfig: {}\n",
       "test.yaml:3:1: otelConfig: duplicate key (first set at line 1, column 1)"},
      {"duplicate in a flow map",
       "otelConfig: {admin: {endpoint: \"127.0.0.1:1\", endpoint: \"127.0.0.1:2\"}}\n",
       "test.yaml:1:47: otelConfig.admin.endpoint: duplicate key (first set at line 1, column 22)"},
      // Wrong shapes.
      {"the file is a scalar", "hello\n",
       "test.yaml:1:1: expected a map with the keys clickstack, otelConfig and prometheusScrape; "
       "got \"hello\""},
      {"the file is a list", "- clickstack\n",
       "test.yaml:1:1: expected a map with the keys clickstack, otelConfig and prometheusScrape; "
       "got a list"},
      {"scalar where a map goes", "clickstack: true\n",
       "test.yaml:1:13: clickstack: expected a map with the keys enabled, dataDir, hyperdx, "
       "secretsDir and clickhouse; got "
       "\"true\""},
      {"list where a map goes", "otelConfig:\n  - routing\n",
       "test.yaml:2:3: otelConfig: expected a map with the keys receivers, admin, routing, "
       "exporters and processors; got a list"},
      {"map where a boolean goes", "clickstack:\n  enabled:\n    value: true\n",
       "test.yaml:3:5: clickstack.enabled: expected true or false; got a map"},
      {"list where an endpoint goes", "otelConfig:\n  admin:\n    endpoint: [127.0.0.1, 8888]\n",
       "test.yaml:3:15: otelConfig.admin.endpoint: expected an endpoint such as 127.0.0.1:4318; "
       "got a list"},
      {"key with no value", "otelConfig:\n  exporters:\n    clickhouse:\n      ttl:\n",
       "test.yaml:4:7: otelConfig.exporters.clickhouse.ttl: expected a duration such as 72h; got "
       "no value"},
      // A null has no useful position of its own (an empty value's is the next line): the key's.
      {"explicit null", "clickstack:\n  dataDir: ~\n",
       "test.yaml:2:3: clickstack.dataDir: expected a directory path; got no value"},
      {"a list as a key", "? [a, b]\n: 1\n", "test.yaml:1:3: a key must be a name; got a list"},
      // Booleans.
      {"YAML 1.1 boolean", "clickstack:\n  enabled: yes\n",
       "test.yaml:2:12: clickstack.enabled: \"yes\" is not true or false"},
      {"quoted boolean", "clickstack:\n  enabled: \"false\"\n",
       "test.yaml:2:12: clickstack.enabled: \"false\" is a string, not a boolean; write true or "
       "false without quotes"},
      // Strings.
      {"empty dataDir", "clickstack:\n  dataDir: \"\"\n",
       "test.yaml:2:12: clickstack.dataDir: expected a directory path; got \"\""},
      {"NUL in dataDir", "clickstack:\n  dataDir: \"a\\0b\"\n",
       "test.yaml:2:12: clickstack.dataDir: \"a\\x00b\" contains a NUL byte; expected a directory "
       "path"},
      // Durations.
      {"ttl in days", "otelConfig:\n  exporters:\n    clickhouse:\n      ttl: 3 days\n",
       "test.yaml:4:12: otelConfig.exporters.clickhouse.ttl: \"3 days\" is not a duration such as "
       "72h (there is no day unit: write 72h for 3 days)"},
      {"ttl without unit", "otelConfig:\n  exporters:\n    clickhouse:\n      ttl: 3600\n",
       "test.yaml:4:12: otelConfig.exporters.clickhouse.ttl: \"3600\" is not a duration such as "
       "72h (missing unit: ns, us, ms, s, m or h)"},
      {"ttl too short", "otelConfig:\n  exporters:\n    clickhouse:\n      ttl: 30m\n",
       "test.yaml:4:12: otelConfig.exporters.clickhouse.ttl: \"30m\" is shorter than the minimum "
       "1h"},
      {"future skew past 31 days",
       "otelConfig:\n  receivers:\n    otlp:\n      limits:\n        maxFutureSkew: 745h\n",
       "test.yaml:5:24: otelConfig.receivers.otlp.limits.maxFutureSkew: \"745h\" is longer than "
       "the maximum 744h"},
      {"negative future skew",
       "otelConfig:\n  receivers:\n    otlp:\n      limits:\n        maxFutureSkew: -1h\n",
       "test.yaml:5:24: otelConfig.receivers.otlp.limits.maxFutureSkew: \"-1h\" is shorter than "
       "the minimum 0s"},
      {"negative ttl", "otelConfig:\n  exporters:\n    clickhouse:\n      ttl: -72h\n",
       "test.yaml:4:12: otelConfig.exporters.clickhouse.ttl: \"-72h\" is shorter than the minimum "
       "1h"},
      {"ttl with a fraction of a second",
       "otelConfig:\n  exporters:\n    clickhouse:\n      ttl: 1h0.5s\n",
       "test.yaml:4:12: otelConfig.exporters.clickhouse.ttl: \"1h0.5s\" is not a whole number of "
       "seconds"},
      {"batch timeout zero", "otelConfig:\n  processors:\n    batch:\n      timeout: 0s\n",
       "test.yaml:4:16: otelConfig.processors.batch.timeout: \"0s\" is shorter than the minimum "
       "1ms"},
      {"batch timeout too long", "otelConfig:\n  processors:\n    batch:\n      timeout: 2m\n",
       "test.yaml:4:16: otelConfig.processors.batch.timeout: \"2m\" is longer than the maximum 1m"},
      // Row counts.
      {"batch of zero rows", "otelConfig:\n  processors:\n    batch:\n      sendBatchSize: 0\n",
       "test.yaml:4:22: otelConfig.processors.batch.sendBatchSize: \"0\" is not a whole number "
       "from 1 to 1000000"},
      {"batch too large", "otelConfig:\n  processors:\n    batch:\n      sendBatchSize: 1000001\n",
       "test.yaml:4:22: otelConfig.processors.batch.sendBatchSize: \"1000001\" is not a whole "
       "number from 1 to 1000000"},
      {"batch size in exponent form",
       "otelConfig:\n  processors:\n    batch:\n      sendBatchSize: 5e4\n",
       "test.yaml:4:22: otelConfig.processors.batch.sendBatchSize: \"5e4\" is not a whole number "
       "from 1 to 1000000"},
      {"batch size as a size",
       "otelConfig:\n  processors:\n    batch:\n      sendBatchSize: 64Ki\n",
       "test.yaml:4:22: otelConfig.processors.batch.sendBatchSize: \"64Ki\" is not a whole number "
       "from 1 to 1000000"},
      {"quoted batch size",
       "otelConfig:\n  processors:\n    batch:\n      sendBatchSize: \"50000\"\n",
       "test.yaml:4:22: otelConfig.processors.batch.sendBatchSize: \"50000\" is a string, not a "
       "number; write a whole number from 1 to 1000000 without quotes"},
      // User query bounds.
      {"query time below a second",
       "clickstack:\n  hyperdx:\n    query:\n      maxExecutionTime: 500ms\n",
       "test.yaml:4:25: clickstack.hyperdx.query.maxExecutionTime: \"500ms\" is shorter than the "
       "minimum 1s"},
      {"query memory too small", "clickstack:\n  hyperdx:\n    query:\n      maxMemoryUsage: 1Mi\n",
       "test.yaml:4:23: clickstack.hyperdx.query.maxMemoryUsage: \"1Mi\" is smaller than the "
       "minimum 16Mi"},
      {"no concurrent queries", "clickstack:\n  hyperdx:\n    query:\n      maxConcurrent: 0\n",
       "test.yaml:4:22: clickstack.hyperdx.query.maxConcurrent: \"0\" is not a whole number from 1 "
       "to 256"},
      // Sizes.
      {"size with a B", "otelConfig:\n  processors:\n    batch:\n      sendBatchMaxBytes: 1GB\n",
       "test.yaml:4:26: otelConfig.processors.batch.sendBatchMaxBytes: \"1GB\" is not a size such "
       "as 64Mi or 1G (unknown suffix \"GB\"; suffixes are Ki Mi Gi Ti Pi Ei and k M G T P E)"},
      {"size below the minimum",
       "otelConfig:\n  processors:\n    batch:\n      sendBatchMaxBytes: 512\n",
       "test.yaml:4:26: otelConfig.processors.batch.sendBatchMaxBytes: \"512\" is smaller than the "
       "minimum 1Ki"},
      {"milli instead of mega",
       "otelConfig:\n  receivers:\n    otlp:\n      http:\n        maxRequestBodySize: 512m\n",
       "test.yaml:5:29: otelConfig.receivers.otlp.http.maxRequestBodySize: \"512m\" is not a whole "
       "number of bytes (m means milli; write M for 10^6 or Mi for 2^20)"},
      {"negative size",
       "otelConfig:\n  receivers:\n    otlp:\n      http:\n        maxRequestBodySize: -1Mi\n",
       "test.yaml:5:29: otelConfig.receivers.otlp.http.maxRequestBodySize: \"-1Mi\" is not a size "
       "such as 64Mi or 1G (sizes cannot be negative)"},
      // Endpoints.
      {"host name", "otelConfig:\n  admin:\n    endpoint: example.com:8888\n",
       "test.yaml:3:15: otelConfig.admin.endpoint: \"example.com:8888\" is not an endpoint such as "
       "127.0.0.1:4318 (the host must be an IP address or localhost)"},
      {"port only", "clickstack:\n  hyperdx:\n    listen: 8080\n",
       "test.yaml:3:13: clickstack.hyperdx.listen: \"8080\" is not an endpoint such as "
       "127.0.0.1:4318 (missing :port)"},
      {"Go-style every-interface", "clickstack:\n  hyperdx:\n    listen: \":8080\"\n",
       "test.yaml:3:13: clickstack.hyperdx.listen: \":8080\" is not an endpoint such as "
       "127.0.0.1:4318 (the host is missing; 0.0.0.0 listens on every interface)"},
      {"port out of range",
       "otelConfig:\n  receivers: {otlp: {http: {endpoint: \"127.0.0.1:70000\"}}}\n",
       "test.yaml:2:39: otelConfig.receivers.otlp.http.endpoint: \"127.0.0.1:70000\" is not an "
       "endpoint such as 127.0.0.1:4318 (the port must be a number from 0 to 65535)"},
      {"IPv6 without brackets", "otelConfig:\n  admin:\n    endpoint: \"::1:8888\"\n",
       "test.yaml:3:15: otelConfig.admin.endpoint: \"::1:8888\" is not an endpoint such as "
       "127.0.0.1:4318 (write an IPv6 address in brackets, such as [::1]:4318)"},
      {"two listeners on one port", "otelConfig:\n  admin:\n    endpoint: 127.0.0.1:4318\n",
       "test.yaml:3:15: otelConfig.admin.endpoint: \"127.0.0.1:4318\" takes the port of "
       "otelConfig.receivers.otlp.http.endpoint (127.0.0.1:4318); each listener needs its own "
       "port"},
      {"a wildcard takes the port on every address",
       "clickstack:\n  hyperdx:\n    listen: 0.0.0.0:8888\n    ingress: {enabled: true}\n",
       "test.yaml:3:13: clickstack.hyperdx.listen: \"0.0.0.0:8888\" takes the port of "
       "otelConfig.admin.endpoint (127.0.0.1:8888); each listener needs its own port"},
      {"the later of two set listeners is blamed",
       "otelConfig:\n  admin: {endpoint: \"localhost:9000\"}\n"
       "  receivers: {otlp: {http: {endpoint: \"[::1]:9000\"}}}\n",
       "test.yaml:3:39: otelConfig.receivers.otlp.http.endpoint: \"[::1]:9000\" takes the port of "
       "otelConfig.admin.endpoint (localhost:9000); each listener needs its own port"},
      // Routing.
      {"misspelt sink", "otelConfig:\n  routing:\n    logs: [clickhous]\n",
       "test.yaml:3:12: otelConfig.routing.logs[0]: \"clickhous\" is not a sink; expected "
       "clickhouse, tinybird, datadog or logfire; did you mean clickhouse?"},
      {"unknown sink", "otelConfig:\n  routing:\n    traces:\n      - clickhouse\n      - jaeger\n",
       "test.yaml:5:9: otelConfig.routing.traces[1]: \"jaeger\" is not a sink; expected "
       "clickhouse, tinybird, datadog or logfire"},
      {"sink name instead of a list", "otelConfig:\n  routing:\n    logs: clickhouse\n",
       "test.yaml:3:11: otelConfig.routing.logs: expected a list of sinks such as [clickhouse]; "
       "got \"clickhouse\""},
      {"sink listed twice",
       "otelConfig:\n  routing:\n    metrics: [clickhouse, datadog, clickhouse]\n",
       "test.yaml:3:36: otelConfig.routing.metrics[2]: clickhouse is listed twice"},
      {"nested list", "otelConfig:\n  routing:\n    logs: [[clickhouse]]\n",
       "test.yaml:3:12: otelConfig.routing.logs[0]: expected a sink (clickhouse, tinybird, datadog "
       "or logfire); got a list"},
      // The vendor exporters' own cases are in vendor_exporters_config_test.cc.
      {"bad boolean for a vendor exporter",
       "otelConfig:\n  exporters:\n    tinybird: {enabled: on}\n",
       "test.yaml:3:25: otelConfig.exporters.tinybird.enabled: \"on\" is not true or false"},
      // YAML itself.
      {"unclosed flow list", "clickstack:\n  enabled: [true\n",
       "test.yaml:3:1: invalid YAML: end of sequence flow not found"},
      {"tab indentation", "clickstack:\n\tenabled: true\n",
       "test.yaml:2:9: invalid YAML: illegal map value (the line is indented with a tab; YAML "
       "indents with spaces)"},
      {"bad indentation", "clickstack:\n    enabled: true\n  dataDir: x\n",
       "test.yaml:3:3: invalid YAML: end of map not found"},
      {"two documents", "clickstack: {}\n---\notelConfig: {}\n",
       "test.yaml:3:1: a second YAML document; the file must hold one"},
      // Several errors are reported together, in file order.
      {"every error at once",
       "clickstack:\n  enabeld: true\n  dataDir: \"\"\notelConfig:\n  exporters:\n"
       "    clickhouse: {ttl: 3d}\n",
       "test.yaml:2:3: clickstack.enabeld: unknown key; did you mean enabled?\n"
       "test.yaml:3:12: clickstack.dataDir: expected a directory path; got \"\"\n"
       "test.yaml:6:23: otelConfig.exporters.clickhouse.ttl: \"3d\" is not a duration such as 72h "
       "(there is no day unit: write 72h for 3 days)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(errorOf(c.yaml), c.message);
    const Validation v = validationOf(c.yaml);  // stackhouse validate: every error, the same text
    EXPECT_FALSE(v.valid);
    EXPECT_EQ(v.text, c.message);
  }
}

TEST(ParseConfig, ErrorListIsBounded) {
  std::string yaml;
  for (int i = 0; i < 25; ++i) yaml += "unknown" + std::to_string(i) + ": 1\n";
  std::string message = errorOf(yaml);
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 20);
  EXPECT_TRUE(message.ends_with("\ntest.yaml: 5 more errors not shown")) << message;
}

TEST(ParseConfig, LongValuesAreCutInMessages) {
  std::string message = errorOf("clickstack:\n  enabled: " + std::string(500, 'x') + "\n");
  EXPECT_EQ(message, "test.yaml:2:12: clickstack.enabled: \"" + std::string(64, 'x') +
                         "\"... is not true or false");
}

// The whole reference file, verbatim (a copy of the key set operators paste): every key is
// accepted, and its values are this build's defaults.
TEST(ReferenceFile, EveryKeyIsAcceptedWithItsDefault) {
  Config expected = defaults();
  receivers::prometheus::ScrapeJobConfig job;
  job.jobName = "nginx-ingress";
  job.scrapeInterval = std::chrono::seconds(30);
  job.targets = {"ingress-nginx-controller-metrics.ingress-nginx.svc.cluster.local:10254"};
  scrape(expected).scrapeJobs.push_back(job);
  EXPECT_EQ(loadFile(kTestdata + "/reference.yaml"), expected);
}

TEST(LoadConfig, EveryKey) {
  Config expected = defaults();
  expected.clickstack.enabled = false;
  expected.clickstack.dataDir = "/var/lib/stackhouse";
  expected.clickstack.secretsDir = "/etc/stackhouse/secrets";
  expected.clickstack.hyperdx.seedUser = {"ops@example.com", "", "hyperdx", "ADMIN_PASSWORD",
                                          "Ops"};
  expected.clickstack.hyperdx.ingress = {true, "observe.example.com"};
  expected.clickstack.hyperdx.exposure = {true, true};
  expected.clickstack.hyperdx.listen = {"::1", 9080};
  expected.clickstack.hyperdx.query.maxExecutionTime = std::chrono::seconds(90);
  expected.clickstack.hyperdx.query.maxMemoryUsage = 512 * kMiB;
  expected.clickstack.hyperdx.query.maxConcurrent = 8;
  expected.otelConfig.receivers.otlp.grpc.endpoint = {"0.0.0.0", 14317};
  expected.otelConfig.receivers.otlp.grpc.maxRecvMsgSizeMiB = 8;
  expected.otelConfig.receivers.otlp.grpc.maxConcurrentStreams = 16;
  expected.otelConfig.receivers.otlp.http = {{"0.0.0.0", 14318}, 16 * kMiB};
  expected.otelConfig.receivers.otlp.limits = {500, 20000, 64, 256, 4 * kKiB, 8, 5min};
  expected.otelConfig.receivers.otlp.auth = {"otlp", "INGEST_KEY"};
  expected.otelConfig.admin.endpoint = {"localhost", 0};
  expected.otelConfig.routing = {.traces = {kClickhouse},
                                 .metrics = {kDatadog},
                                 .k8sMetrics = {},
                                 .k8sEvents = {kLogfire, kTinybird},
                                 .prometheusScrape = {},
                                 .logs = {kClickhouse, kDatadog}};
  expected.otelConfig.exporters.clickhouse = {false, 360h};
  expected.otelConfig.processors.batch = {8192, 1500ms, 1'000'000'000};
  expected.otelConfig.processors.memoryLimiter = {1024, 256, 768};
  Config loaded = loadFile(kTestdata + "/all_keys.yaml");
  EXPECT_EQ(describeConfig(loaded), describeConfig(expected));
  EXPECT_EQ(loaded, expected);
}

TEST(LoadConfig, UnreadableFiles) {
  try {
    loadFile(kTestdata + "/missing.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              kTestdata + "/missing.yaml: cannot open: No such file or directory");
  }
  try {
    loadFile(kTestdata);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), kTestdata + ": cannot read: Is a directory");
  }
}

TEST(DescribeConfig, Defaults) {
  EXPECT_EQ(describeConfig(defaults()),
            "clickstack:\n"
            "  enabled: true\n"
            "  dataDir: \"./data\"\n"
            "  secretsDir: \"/var/run/secrets/stackhouse\"\n"
            "  clickhouse:\n"
            "    persistence: {dataSize: 50Gi, logSize: 10Gi}\n"
            "  hyperdx:\n"
            "    seedUser:\n"
            "      email: \"admin@yourcompany.com\"\n"
            "      existingSecret: \"\"\n"
            "      secretKey: \"HYPERDX_ADMIN_PASSWORD\"\n"
            "      teamName: \"Your Team\"\n"
            "    ingress:\n"
            "      enabled: false\n"
            "      host: \"\"\n"
            "    exposure:\n"
            "      tailscale: {enabled: false}\n"
            "      cloudflareTunnel: {enabled: false}\n"
            "    listen: \"127.0.0.1:8080\"\n"
            "    query:\n"
            "      maxExecutionTime: 30s\n"
            "      maxMemoryUsage: 1Gi\n"
            "      maxConcurrent: 4\n"
            "    tls:\n"
            "      certFile: \"\"\n"
            "      keyFile: \"\"\n"
            "otelConfig:\n"
            "  receivers:\n"
            "    otlp:\n"
            "      grpc:\n"
            "        endpoint: \"127.0.0.1:4317\"\n"
            "        maxRecvMsgSizeMiB: 0\n"
            "        maxConcurrentStreams: 100\n"
            "      http:\n"
            "        endpoint: \"127.0.0.1:4318\"\n"
            "        maxRequestBodySize: 64Mi\n"
            "      limits:\n"
            "        maxResourcesPerRequest: 10000\n"
            "        maxRecordsPerRequest: 100000\n"
            "        maxAttributesPerRecord: 128\n"
            "        maxAttributeKeyLength: 1Ki\n"
            "        maxAttributeValueLength: 64Ki\n"
            "        maxValueDepth: 32\n"
            "        maxFutureSkew: 1h\n"
            "      auth:\n"
            "        existingSecret: \"\"\n"
            "        secretKey: \"\"\n"
            "  admin:\n"
            "    endpoint: \"127.0.0.1:8888\"\n"
            "  routing:\n"
            "    traces: [tinybird, datadog, logfire, clickhouse]\n"
            "    metrics: [tinybird, datadog, logfire, clickhouse]\n"
            "    k8sMetrics: [tinybird, datadog, logfire, clickhouse]\n"
            "    k8sEvents: [tinybird, datadog, logfire, clickhouse]\n"
            "    prometheusScrape: [clickhouse]\n"
            "    logs: [clickhouse]\n"
            "  exporters:\n"
            "    clickhouse:\n"
            "      endpoint: \"\"\n"
            "      database: \"otel\"\n"
            "      username: \"default\"\n"
            "      existingSecret: \"\"\n"
            "      secretKey: \"\"\n"
            "      clusterName: \"\"\n"
            "      createSchema: true\n"
            "      tls: {caFile: \"\", insecureSkipVerify: false}\n"
            "      compression: zstd\n"
            "      timeout: 30s\n"
            "      enabled: true\n"
            "      ttl: 72h\n"
            "      queue: {maxSize: 2Gi, fsync: always, onFull: backpressure}\n"
            "    tinybird:\n"
            "      enabled: false\n"
            "      endpoint: \"https://api.tinybird.co\"\n"
            "      existingSecret: \"\"\n"
            "      secretKey: \"\"\n"
            "      tokenFile: \"\"\n"
            "      datasources:\n"
            "        logs: \"otel_logs\"\n"
            "        traces: \"otel_traces\"\n"
            "        gauge: \"otel_metrics_gauge\"\n"
            "        sum: \"otel_metrics_sum\"\n"
            "        histogram: \"otel_metrics_histogram\"\n"
            "        exponentialHistogram: \"otel_metrics_exponential_histogram\"\n"
            "        summary: \"otel_metrics_summary\"\n"
            "      wait: true\n"
            "      timeout: 30s\n"
            "      maxRequestSize: 10Mi\n"
            "      queue: {maxSize: 2Gi, fsync: always, onFull: dropOldest}\n"
            "    datadog:\n"
            "      enabled: false\n"
            "      site: \"datadoghq.com\"\n"
            "      existingSecret: \"\"\n"
            "      secretKey: \"\"\n"
            "      apiKeyFile: \"\"\n"
            "      endpoint: \"\"\n"
            "      timeout: 30s\n"
            "      queue: {maxSize: 2Gi, fsync: always, onFull: dropOldest}\n"
            "    logfire:\n"
            "      enabled: false\n"
            "      region: \"us\"\n"
            "      endpoint: \"\"\n"
            "      existingSecret: \"\"\n"
            "      secretKey: \"\"\n"
            "      tokenFile: \"\"\n"
            "      timeout: 30s\n"
            "      maxRequestSize: 4Mi\n"
            "      queue: {maxSize: 2Gi, fsync: always, onFull: dropOldest}\n"
            "  processors:\n"
            "    batch:\n"
            "      sendBatchSize: 50000\n"
            "      timeout: 200ms\n"
            "      sendBatchMaxBytes: 256Mi\n"
            "    memoryLimiter: {limitMiB: 0, spikeLimitMiB: 0, engineLimitMiB: 0}\n"
            "    redaction:\n"
            "      enabled: true\n"
            "      action: mask\n"
            "      rules: {}\n"
            "      allowListMode: false\n"
            "      allowedKeys: []\n"
            "      ignoredKeys: []\n"
            "      allowedValues: []\n"
            "      blockedKeys: []\n"
            "      urlKeys: []\n"
            "      fileNameKeys: []\n"
            "      safeQueryKeys: []\n"
            "      urls:\n"
            "        hashHosts: false\n"
            "prometheusScrape:\n"
            "  enabled: false\n"
            "  self: true\n"
            "  scrapeInterval: 1m\n"
            "  scrapeTimeout: 10s\n"
            "  bodySizeLimit: 64Mi\n"
            "  maxConcurrentScrapes: 64\n"
            "  scrapeJobs: []\n");
}

TEST(DescribeConfig, ReadsBackAsTheSameConfig) {
  Config c = loadFile(kTestdata + "/all_keys.yaml");
  c.clickstack.dataDir = "/odd \"dir\"\\with\ttabs: and # marks";
  EXPECT_EQ(parseYaml(describeConfig(c), "described.yaml"), c);
  EXPECT_EQ(parseYaml(describeConfig(defaults()), "described.yaml"), defaults());
}

// stackhouse validate on the files of testdata: a summary line for a valid one, every error of
// an invalid one, and a file that cannot be read.
TEST(Validate, Files) {
  const Validation built = validateConfigFile(kTestdata + "/reference.yaml", test::kinds());
  EXPECT_TRUE(built.valid);
  EXPECT_EQ(built.text, kTestdata +
                            "/reference.yaml: valid; OTLP/gRPC 127.0.0.1:4317, OTLP/HTTP "
                            "127.0.0.1:4318, API 127.0.0.1:8080, admin 127.0.0.1:8888; sinks "
                            "clickhouse (ttl 72h); redaction on");
  // Every key set, and no sink left to send to: it parses, and start-up would refuse it.
  const Validation all = validateConfigFile(kTestdata + "/all_keys.yaml", test::kinds());
  EXPECT_FALSE(all.valid);
  EXPECT_EQ(all.text, kTestdata +
                          "/all_keys.yaml: nothing to send to: the collector role "
                          "(clickstack.enabled: false, or `stackhouse collector`) has no embedded "
                          "store; set otelConfig.exporters.clickhouse.endpoint (a remote "
                          "ClickHouse, with exporters.clickhouse.enabled) or enable "
                          "otelConfig.exporters.tinybird, datadog or logfire");

  const Validation budget = validateConfigFile(kTestdata + "/queue_budget.yaml", test::kinds());
  EXPECT_FALSE(budget.valid);
  try {
    loadFile(kTestdata + "/queue_budget.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(budget.text, e.what());
  }
  EXPECT_EQ(budget.text, kTestdata +
                             "/queue_budget.yaml:5:16: clickstack.clickhouse.persistence.logSize: "
                             "1Gi cannot hold the enabled sinks' queues (clickhouse 2Gi = 2Gi): "
                             "raise logSize or lower otelConfig.exporters.<sink>.queue.maxSize");

  const Validation missing = validateConfigFile(kTestdata + "/missing.yaml", test::kinds());
  EXPECT_FALSE(missing.valid);
  EXPECT_EQ(missing.text, kTestdata + "/missing.yaml: cannot open: No such file or directory");
}

TEST(Validate, SummaryNamesWhatWouldRun) {
  Config c = defaults();
  c.otelConfig.processors.redaction.enabled = false;
  c.otelConfig.exporters.clickhouse.ttl = std::chrono::hours(360);
  EXPECT_EQ(summarizeConfig(c, "x.yaml"),
            "x.yaml: valid; OTLP/gRPC 127.0.0.1:4317, OTLP/HTTP 127.0.0.1:4318, API "
            "127.0.0.1:8080, admin 127.0.0.1:8888; sinks clickhouse (ttl 360h); redaction OFF");
}

}  // namespace
}  // namespace stackhouse::config
