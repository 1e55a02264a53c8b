// prometheusScrape: valid sections and the defaults they give, and invalid ones with their
// file:line:column messages.
#include <gtest/gtest.h>

#include "config/parse_error.h"
#include "config/with_sections.h"

namespace stackhouse::config {
using namespace ::stackhouse::config::test;
namespace {

using receivers::prometheus::PrometheusScrapeConfig;
using receivers::prometheus::ScrapeJobConfig;
using testing::errorOf;

TEST(PrometheusScrapeConfig, Defaults) {
  const Config d = defaults();
  const PrometheusScrapeConfig& p = scrape(d);
  EXPECT_FALSE(p.enabled);
  EXPECT_TRUE(p.self);
  EXPECT_EQ(p.scrapeInterval, std::chrono::minutes(1));
  EXPECT_EQ(p.scrapeTimeout, std::chrono::seconds(10));
  EXPECT_EQ(p.bodySizeLimit, 64ull << 20);
  EXPECT_EQ(p.maxConcurrentScrapes, 64u);
  EXPECT_TRUE(p.scrapeJobs.empty());
}

TEST(PrometheusScrapeConfig, OperatorSnippetPastesUnchanged) {
  const Config c = parseYaml(
      "prometheusScrape:\n"
      "  enabled: true\n"
      "  scrapeJobs:\n"
      "    - jobName: nginx-ingress\n"
      "      scrapeInterval: 30s\n"
      "      targets:\n"
      "        - ingress-nginx-controller-metrics.ingress-nginx.svc.cluster.local:10254\n",
      "test.yaml");
  ASSERT_EQ(scrape(c).scrapeJobs.size(), 1u);
  const ScrapeJobConfig& j = scrape(c).scrapeJobs[0];
  EXPECT_TRUE(scrape(c).enabled);
  EXPECT_EQ(j.jobName, "nginx-ingress");
  EXPECT_EQ(j.scrapeInterval, std::chrono::seconds(30));
  EXPECT_EQ(j.scrapeTimeout.count(), 0);  // the section's 10s, capped by the interval
  EXPECT_EQ(j.metricsPath, "/metrics");
  EXPECT_EQ(j.scheme, "http");
  EXPECT_FALSE(j.honorLabels);
  EXPECT_TRUE(j.honorTimestamps);
  EXPECT_EQ(j.targets.size(), 1u);
}

TEST(PrometheusScrapeConfig, EveryJobKey) {
  const Config c = parseYaml(
      "prometheusScrape:\n"
      "  enabled: true\n"
      "  self: false\n"
      "  scrapeInterval: 15s\n"
      "  scrapeTimeout: 5s\n"
      "  bodySizeLimit: 8Mi\n"
      "  maxConcurrentScrapes: 8\n"
      "  scrapeJobs:\n"
      "    - jobName: blackbox\n"
      "      scrapeInterval: 20s\n"
      "      scrapeTimeout: 2s\n"
      "      metricsPath: /probe\n"
      "      scheme: https\n"
      "      params: {module: [http_2xx], target: example.com}\n"
      "      honorLabels: true\n"
      "      honorTimestamps: false\n"
      "      targets: [\"a:1\", \"[::1]:2\"]\n"
      "      labels: {env: prod, team: core}\n"
      "      sampleLimit: 1000\n"
      "      labelLimit: 30\n"
      "      labelNameLengthLimit: 100\n"
      "      labelValueLengthLimit: 200\n"
      "      bodySizeLimit: 1Mi\n"
      "      bearerToken: {existingSecret: scrape, secretKey: token}\n"
      "      tls: {caFile: /ca.pem, certFile: /c.pem, keyFile: /k.pem, serverName: x, "
      "insecureSkipVerify: true}\n"
      "    - jobName: basic\n"
      "      targets: [\"b:9100\"]\n"
      "      basicAuth: {username: u, passwordFile: /pw}\n",
      "test.yaml");
  const PrometheusScrapeConfig& p = scrape(c);
  EXPECT_FALSE(p.self);
  EXPECT_EQ(p.maxConcurrentScrapes, 8u);
  ASSERT_EQ(p.scrapeJobs.size(), 2u);
  const ScrapeJobConfig& j = p.scrapeJobs[0];
  EXPECT_EQ(j.scrapeTimeout, std::chrono::seconds(2));
  EXPECT_EQ(j.params.size(), 2u);
  EXPECT_EQ(j.params[1].second, std::vector<std::string>{"example.com"});
  EXPECT_EQ(j.labels[1], (std::pair<std::string, std::string>{"team", "core"}));
  EXPECT_EQ(j.bearerToken.secretKey, "token");
  EXPECT_TRUE(j.tls.insecureSkipVerify);
  EXPECT_EQ(j.bodySizeLimit, 1ull << 20);
  EXPECT_EQ(p.scrapeJobs[1].basicAuth.password.file, "/pw");
  // --print-config reads back as the same configuration.
  EXPECT_EQ(parseYaml(describeConfig(c), "described.yaml"), c);
}

struct Bad {
  const char* name;
  const char* yaml;
  const char* message;
};

TEST(PrometheusScrapeConfig, InvalidCases) {
  const Bad cases[] = {
      {"unknown key", "prometheusScrape:\n  enable: true\n",
       "test.yaml:2:3: prometheusScrape.enable: unknown key; did you mean enabled?"},
      {"jobs not a list", "prometheusScrape:\n  scrapeJobs: {jobName: a}\n",
       "test.yaml:2:15: prometheusScrape.scrapeJobs: expected a list of jobs (- jobName: ...); got "
       "a map"},
      {"job without a name", "prometheusScrape:\n  scrapeJobs:\n    - targets: [a:1]\n",
       "test.yaml:3:7: prometheusScrape.scrapeJobs[0].jobName: every job needs a jobName"},
      {"job without targets", "prometheusScrape:\n  scrapeJobs:\n    - jobName: a\n",
       "test.yaml:3:7: prometheusScrape.scrapeJobs[0].targets: every job needs at least one "
       "target"},
      {"misspelt job key",
       "prometheusScrape:\n  scrapeJobs:\n    - jobName: a\n      target: [a:1]\n",
       "test.yaml:4:7: prometheusScrape.scrapeJobs[0].target: unknown key; did you mean targets?\n"
       "test.yaml:3:7: prometheusScrape.scrapeJobs[0].targets: every job needs at least one "
       "target"},
      {"target with a scheme",
       "prometheusScrape:\n  scrapeJobs:\n    - jobName: a\n      targets: [\"http://a:1\"]\n",
       "test.yaml:4:17: prometheusScrape.scrapeJobs[0].targets[0]: \"http://a:1\" is not a target "
       "such as host:9100 (a host and a port, no scheme or path)"},
      {"target without a port",
       "prometheusScrape:\n  scrapeJobs:\n    - jobName: a\n      targets:\n        - node\n",
       "test.yaml:5:11: prometheusScrape.scrapeJobs[0].targets[0]: \"node\" is not a target such "
       "as host:9100 (a host and a port, no scheme or path)"},
      {"duplicate target",
       "prometheusScrape:\n  scrapeJobs:\n    - jobName: a\n      targets: [a:1, a:1]\n",
       "test.yaml:4:22: prometheusScrape.scrapeJobs[0].targets[1]: \"a:1\" is listed twice"},
      {"duplicate job",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, targets: [a:1]}\n"
       "    - {jobName: a, targets: [b:1]}\n",
       "test.yaml:4:7: prometheusScrape.scrapeJobs[1].jobName: \"a\" is the name of another job "
       "(line 3); job names must be unique"},
      {"self job name",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: stackhouse, targets: [a:1]}\n",
       "test.yaml:3:7: prometheusScrape.scrapeJobs[0].jobName: \"stackhouse\" is the job of "
       "prometheusScrape.self; choose another name"},
      {"bad interval",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, scrapeInterval: 30, targets: [a:1]}\n",
       "test.yaml:3:36: prometheusScrape.scrapeJobs[0].scrapeInterval: \"30\" is not a duration"},
      {"timeout above interval",
       "prometheusScrape:\n  scrapeJobs:\n    - jobName: a\n      scrapeInterval: 15s\n"
       "      scrapeTimeout: 20s\n      targets: [a:1]\n",
       "test.yaml:5:22: prometheusScrape.scrapeJobs[0].scrapeTimeout: 20s is longer than the "
       "scrape "
       "interval 15s"},
      {"bad scheme",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, scheme: ftp, targets: [a:1]}\n",
       "test.yaml:3:28: prometheusScrape.scrapeJobs[0].scheme: \"ftp\" is not http or https"},
      {"bad path",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, metricsPath: \"m?x=1\", targets: "
       "[a:1]}\n",
       "test.yaml:3:33: prometheusScrape.scrapeJobs[0].metricsPath: \"m?x=1\" is not a URL path "
       "such as /metrics (query parameters go in params)"},
      {"bad label name",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, labels: {1x: y}, targets: [a:1]}\n",
       "test.yaml:3:29: prometheusScrape.scrapeJobs[0].labels.1x: not a label name "
       "([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"},
      {"job label",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, labels: {job: y}, targets: [a:1]}\n",
       "test.yaml:3:29: prometheusScrape.scrapeJobs[0].labels.job: job and instance are set by the "
       "scrape itself"},
      {"basic auth without a password",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, basicAuth: {username: u}, targets: "
       "[a:1]}\n",
       "test.yaml:3:31: prometheusScrape.scrapeJobs[0].basicAuth: set passwordFile or "
       "existingSecret + secretKey, exactly one"},
      {"bearer token secret without its key",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, bearerToken: {existingSecret: s}, "
       "targets: [a:1]}\n",
       "test.yaml:3:33: prometheusScrape.scrapeJobs[0].bearerToken: existingSecret needs its "
       "secretKey"},
      {"both auths",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, targets: [a:1], bearerToken: {file: "
       "/t}, basicAuth: {username: u, passwordFile: /p}}\n",
       "test.yaml:3:7: prometheusScrape.scrapeJobs[0]: set basicAuth or bearerToken, not both"},
      {"tls over http",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, targets: [a:1], tls: {caFile: /c}}\n",
       "test.yaml:3:41: prometheusScrape.scrapeJobs[0].tls: tls is set but the scheme is \"http\""},
      {"half a client certificate",
       "prometheusScrape:\n  scrapeJobs:\n    - {jobName: a, scheme: https, targets: [a:1], tls: "
       "{certFile: /c}}\n",
       "test.yaml:3:56: prometheusScrape.scrapeJobs[0].tls: a client certificate needs both "
       "certFile and keyFile"},
      {"concurrency out of range", "prometheusScrape:\n  maxConcurrentScrapes: 0\n",
       "test.yaml:2:25: prometheusScrape.maxConcurrentScrapes"},
  };
  for (const Bad& c : cases) {
    const std::string message = errorOf(c.yaml);
    EXPECT_EQ(message.substr(0, std::string_view(c.message).size()), c.message) << c.name;
  }
}

}  // namespace
}  // namespace stackhouse::config
