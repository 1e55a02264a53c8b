// The deployment docs' snippets, pasted unchanged (testdata/snippets/, each file one snippet as
// the docs print it), alone and pasted together into one values file the way an operator does:
// each parses, routes every source to exactly the sinks the docs say (listed AND enabled), and
// the scrape job is the one the docs describe, with the documented defaults for what it leaves
// out.
//
//   scrape_jobs.yaml                the prometheusScrape block (one job, nginx-ingress)
//   routing_prometheus_scrape.yaml  otelConfig.routing.prometheusScrape: [clickhouse, datadog]
//   routing_full.yaml               the full routing block with its documented defaults
#include <gtest/gtest.h>

#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/with_sections.h"

namespace stackhouse::config {
using namespace ::stackhouse::config::test;

namespace {

using namespace std::chrono_literals;
using receivers::prometheus::ScrapeJobConfig;

std::string snippet(const std::string& name) {
  std::ifstream in(std::string(STACKHOUSE_CONFIG_TESTDATA) + "/snippets/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Pastes `text` into a values file as an operator does: a top-level key the file already has gets
// the snippet's lines below its own (the snippet's header line is not repeated); a new top-level
// key is added at the end. The snippet's lines are not changed.
std::string paste(const std::string& file, const std::string& text) {
  auto blocks = [](const std::string& yaml) {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;  // key, lines
    std::istringstream in(yaml);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] != ' ' && line[0] != '#') {
        out.emplace_back(line.substr(0, line.find(':')), std::vector<std::string>{line});
      } else if (!out.empty()) {
        out.back().second.push_back(line);
      }
    }
    return out;
  };
  auto into = blocks(file);
  for (auto& [key, lines] : blocks(text)) {
    auto it = std::find_if(into.begin(), into.end(), [&](const auto& b) { return b.first == key; });
    if (it == into.end()) {
      into.emplace_back(key, lines);
    } else {
      it->second.insert(it->second.end(), lines.begin() + 1, lines.end());
    }
  }
  std::string out;
  for (const auto& [key, lines] : into) {
    for (const std::string& line : lines) out += line + "\n";
  }
  return out;
}

// The operator's own part of the values file: the vendor sinks they turned on.
constexpr std::string_view kDatadogOn = R"(otelConfig:
  exporters:
    datadog:
      enabled: true
      site: datadoghq.eu
      existingSecret: datadog
      secretKey: api-key
)";
constexpr std::string_view kEveryVendorOn = R"(otelConfig:
  exporters:
    tinybird: {enabled: true, existingSecret: tinybird, secretKey: token}
    datadog: {enabled: true, existingSecret: datadog, secretKey: api-key}
    logfire: {enabled: true, region: eu, existingSecret: logfire, secretKey: token}
)";

struct SnippetCase {
  std::string_view name;
  std::string_view values;            // the operator's file before pasting ("" for none)
  std::vector<std::string> snippets;  // pasted in this order
  bool scraping;                      // prometheusScrape.enabled with the documented job
  std::vector<std::string> traces, metrics, k8sMetrics, k8sEvents, prometheusScrape, logs;
};

TEST(Snippets, EachRoutesAsDocumented) {
  const auto ch = kClickhouse, tb = kTinybird, dd = kDatadog, lf = kLogfire;
  const std::vector<std::string> only{ch};
  const SnippetCase cases[] = {
      // Alone: the defaults route everything to the embedded store, the only sink enabled.
      {"scrape jobs", "", {"scrape_jobs.yaml"}, true, only, only, only, only, only, only},
      // datadog listed but not enabled: nothing for it.
      {"prometheusScrape to datadog, datadog off",
       "",
       {"routing_prometheus_scrape.yaml"},
       false,
       only,
       only,
       only,
       only,
       only,
       only},
      {"the full routing block",
       "",
       {"routing_full.yaml"},
       false,
       only,
       only,
       only,
       only,
       only,
       only},
      // "routing.prometheusScrape: [clickhouse, datadog] sends it to both": with Datadog on,
      // scrapes go to both, and the default lists (which name every sink) reach Datadog too.
      {"scrape jobs to clickhouse and datadog",
       kDatadogOn,
       {"scrape_jobs.yaml", "routing_prometheus_scrape.yaml"},
       true,
       {dd, ch},
       {dd, ch},
       {dd, ch},
       {dd, ch},
       {ch, dd},
       only},
      // The full block with every sink on: what it lists, in its order.
      {"the full routing block, every sink on",
       kEveryVendorOn,
       {"routing_full.yaml", "scrape_jobs.yaml"},
       true,
       {tb, dd, lf, ch},
       {tb, dd, lf, ch},
       {tb, dd, lf, ch},
       {tb, dd, lf, ch},
       only,
       only},
      {"the full routing block, datadog on",
       kDatadogOn,
       {"routing_full.yaml"},
       false,
       {dd, ch},
       {dd, ch},
       {dd, ch},
       {dd, ch},
       only,
       only},
  };
  for (const SnippetCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::string values(c.values);
    for (const std::string& name : c.snippets) values = paste(values, snippet(name));
    SCOPED_TRACE(values);
    Config config;
    try {
      config = parseYaml(values, "values.yaml");
    } catch (const ConfigError& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    EXPECT_EQ(routedSinks(config, "traces"), c.traces);
    EXPECT_EQ(routedSinks(config, "metrics"), c.metrics);
    EXPECT_EQ(routedSinks(config, "k8sMetrics"), c.k8sMetrics);
    EXPECT_EQ(routedSinks(config, "k8sEvents"), c.k8sEvents);
    EXPECT_EQ(routedSinks(config, "prometheusScrape"), c.prometheusScrape);
    EXPECT_EQ(routedSinks(config, "logs"), c.logs);

    const auto& scrape = test::scrape(config);
    EXPECT_EQ(scrape.enabled, c.scraping);
    if (!c.scraping) {
      EXPECT_TRUE(scrape.scrapeJobs.empty());
      continue;
    }
    // The documented job, and the documented defaults for every key it leaves out.
    ASSERT_EQ(scrape.scrapeJobs.size(), 1u);
    ScrapeJobConfig expected;
    expected.jobName = "nginx-ingress";
    expected.scrapeInterval = 30s;
    expected.targets = {"ingress-nginx-controller-metrics.ingress-nginx.svc.cluster.local:10254"};
    EXPECT_EQ(scrape.scrapeJobs[0], expected);
    const ScrapeJobConfig& job = scrape.scrapeJobs[0];
    EXPECT_EQ(job.metricsPath, "/metrics");
    EXPECT_EQ(job.scheme, "http");
    EXPECT_FALSE(job.honorLabels);
    EXPECT_TRUE(job.honorTimestamps);
    EXPECT_TRUE(scrape.self);
    EXPECT_EQ(scrape.scrapeTimeout, 10s);
    EXPECT_EQ(scrape.scrapeInterval, 1min);
  }
}

// The full routing block is the documented defaults: pasting it changes nothing.
TEST(Snippets, TheFullRoutingBlockIsTheDefault) {
  const Config pasted = parseYaml(snippet("routing_full.yaml"), "values.yaml");
  const Config defaults = parseYaml("", "values.yaml");
  EXPECT_EQ(pasted.otelConfig.routing, defaults.otelConfig.routing);
  // The docs' defaults: traces, metrics and the Kubernetes sources to all four sinks.
  const std::vector<std::string> every{kTinybird, kDatadog, kLogfire, kClickhouse};
  EXPECT_EQ(pasted.otelConfig.routing,
            (RoutingConfig{every, every, every, every, {kClickhouse}, {kClickhouse}}));
}

// The snippet files are what the docs print: a paste that changed them would prove nothing.
TEST(Snippets, FilesAreTheDocsText) {
  EXPECT_EQ(snippet("scrape_jobs.yaml"),
            "prometheusScrape:\n"
            "  enabled: true\n"
            "  scrapeJobs:\n"
            "    - jobName: nginx-ingress\n"
            "      scrapeInterval: 30s\n"
            "      targets:\n"
            "        - ingress-nginx-controller-metrics.ingress-nginx.svc.cluster.local:10254\n");
  EXPECT_EQ(snippet("routing_prometheus_scrape.yaml"),
            "otelConfig:\n  routing:\n    prometheusScrape: [clickhouse, datadog]\n");
  // The reference file's own lines (testdata/reference.yaml is config-reference.yaml).
  const std::string reference = snippet("../reference.yaml");
  std::istringstream full(snippet("routing_full.yaml"));
  std::string line;
  std::getline(full, line);
  EXPECT_EQ(line, "otelConfig:");
  std::string body;
  for (; std::getline(full, line);) body += line + "\n";
  EXPECT_NE(reference.find("\n" + body), std::string::npos)
      << "routing_full.yaml is not the reference file's routing block";
}

}  // namespace
}  // namespace stackhouse::config
