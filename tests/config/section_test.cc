// The extension point of the vendor sinks (config/section.h): a sink the config library has never
// heard of, made here as a new sink folder would make it, is read, checked, routed, compared and
// printed like the built-in ones once its kind is passed to the parse, and is an unknown key and
// an unknown sink name without it.
#include "config/section.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "config/quote.h"

namespace stackhouse::config {
namespace {

using namespace std::chrono_literals;

struct AcmeConfig final : ExporterSectionOf<AcmeConfig> {
  std::string endpoint = "https://intake.acme.example";
  std::string region = "north";
  CredentialConfig key;
  uint64_t maxRequestSize = 1 * kMiB;

  void read(SectionReader& in) override {
    std::vector<SectionKey> keys{
        enabledKey(),
        {"endpoint", [this](SectionReader& v) { v.url(endpoint, false); }},
        {"region",
         [this](SectionReader& v) {
           v.oneOf(region, {"north", "south"}, "a region");
         }},
        // Its own bound, not timeoutKey()'s: a section may narrow the common keys.
        {"timeout", [this](SectionReader& v) { v.duration(timeout, 1s, 60s); }},
        {"maxRequestSize", [this](SectionReader& v) { v.byteSize(maxRequestSize, kKiB); }},
        queueKey()};
    SectionReader::addCredentialKeys(keys, key, "keyFile");
    in.map(keys);
    in.checkCredential(enabled, key, "keyFile");
  }
  void describe(SectionWriter& out) const override {
    out.boolean("enabled", enabled);
    out.string("endpoint", endpoint);
    out.string("region", region);
    out.duration("timeout", timeout);
    out.byteSize("maxRequestSize", maxRequestSize);
    out.queue(queue);
    out.credential(key, "keyFile");
  }
  bool operator==(const AcmeConfig&) const = default;
};

const ExporterKind kAcme = exporterKind<AcmeConfig>("acme");
const ExporterKind* const kKinds[] = {&kAcme};

std::string errorOf(std::string_view yaml, ExporterKinds kinds) {
  try {
    parseConfig(yaml, "test.yaml", kinds);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ExporterSection, DefaultsRouteTheAllSinkSourcesToANewSink) {
  const Config c = defaultConfig(kKinds);
  const std::vector<std::string> every{"acme", "clickhouse"};
  EXPECT_EQ(c.otelConfig.routing.traces, every);
  EXPECT_EQ(c.otelConfig.routing.metrics, every);
  EXPECT_EQ(c.otelConfig.routing.k8sMetrics, every);
  EXPECT_EQ(c.otelConfig.routing.k8sEvents, every);
  EXPECT_EQ(c.otelConfig.routing.logs, std::vector<std::string>{"clickhouse"});
  EXPECT_EQ(c.otelConfig.routing.prometheusScrape, std::vector<std::string>{"clickhouse"});
  ASSERT_NE(c.otelConfig.exporters.vendors.get<AcmeConfig>("acme"), nullptr);
  EXPECT_FALSE(sinkEnabled(c, "acme"));
  EXPECT_EQ(sinkNames(c), (std::vector<std::string_view>{"clickhouse", "acme"}));
  EXPECT_EQ(parseConfig("", "test.yaml", kKinds), c);
}

TEST(ExporterSection, ReadsRoutesComparesAndPrintsANewSink) {
  const Config c = parseConfig(
      "otelConfig:\n"
      "  routing:\n"
      "    logs: [acme]\n"
      "  exporters:\n"
      "    clickhouse: {enabled: false}\n"
      "    acme:\n"
      "      enabled: true\n"
      "      endpoint: http://127.0.0.1:9/\n"
      "      region: south\n"
      "      timeout: 5s\n"
      "      keyFile: /run/acme\n"
      "      queue: {maxSize: 128Mi}\n",
      "test.yaml", kKinds);
  const auto* acme = c.otelConfig.exporters.vendors.get<AcmeConfig>("acme");
  ASSERT_NE(acme, nullptr);
  EXPECT_TRUE(acme->enabled);
  EXPECT_EQ(acme->endpoint, "http://127.0.0.1:9");
  EXPECT_EQ(acme->region, "south");
  EXPECT_EQ(acme->timeout, 5s);
  EXPECT_EQ(acme->key.file, "/run/acme");
  EXPECT_EQ(sinkQueue(c, "acme").maxSize, 128 * kMiB);
  EXPECT_EQ(sinkQueue(c, "acme").onFull, QueueConfig::OnFull::kDropOldest);
  EXPECT_EQ(sinkTimeout(c, "acme"), 5s);
  EXPECT_EQ(routedSinks(c, "logs"), std::vector<std::string>{"acme"});
  EXPECT_EQ(routedSinks(c, "traces"), std::vector<std::string>{"acme"});  // clickhouse is off
  EXPECT_TRUE(anySinkEnabled(c));

  // Printed and read back: equal; a copy is equal and independent.
  EXPECT_EQ(parseConfig(describeConfig(c), "printed.yaml", kKinds), c);
  Config copy = c;
  EXPECT_EQ(copy, c);
  copy.otelConfig.exporters.vendors.get<AcmeConfig>("acme")->region = "north";
  EXPECT_NE(copy, c);
  EXPECT_EQ(acme->region, "south");
}

TEST(ExporterSection, ErrorsAreReportedWhereTheyAre) {
  EXPECT_EQ(errorOf("otelConfig:\n"
                    "  exporters:\n"
                    "    acme:\n"
                    "      enabled: true\n"
                    "      region: west\n"
                    "      endpont: https://x\n"
                    "      timeout: 2m\n",
                    kKinds),
            "test.yaml:5:15: otelConfig.exporters.acme.region: \"west\" is not a region; expected "
            "north or south\n"
            "test.yaml:6:7: otelConfig.exporters.acme.endpont: unknown key; did you mean "
            "endpoint?\n"
            "test.yaml:7:16: otelConfig.exporters.acme.timeout: \"2m\" is longer than the maximum "
            "1m\n"
            "test.yaml:4:7: otelConfig.exporters.acme: enabled: true needs a credential: "
            "existingSecret and secretKey (a secret under clickstack.secretsDir), or keyFile");
  EXPECT_EQ(errorOf("otelConfig:\n  exporters:\n    acme:\n      existingSecret: s\n", kKinds),
            "test.yaml:4:7: otelConfig.exporters.acme.secretKey: existingSecret is set but "
            "secretKey is empty");
  EXPECT_EQ(errorOf("otelConfig:\n  exporters:\n    acme: [1]\n", kKinds).substr(0, 61),
            "test.yaml:3:11: otelConfig.exporters.acme: expected a map wit");
}

TEST(ExporterSection, WithoutItsKindANewSinkIsUnknown) {
  EXPECT_EQ(errorOf("otelConfig:\n  exporters:\n    acme: {enabled: true}\n", {}),
            "test.yaml:3:5: otelConfig.exporters.acme: unknown key; the only key here is "
            "clickhouse");
  EXPECT_EQ(errorOf("otelConfig:\n  routing:\n    logs: [acme]\n", {}),
            "test.yaml:3:12: otelConfig.routing.logs[0]: \"acme\" is not a sink; expected "
            "clickhouse");
  EXPECT_EQ(errorOf("otelConfig:\n  routing:\n    logs: [acm]\n", kKinds),
            "test.yaml:3:12: otelConfig.routing.logs[0]: \"acm\" is not a sink; expected "
            "clickhouse or acme; did you mean acme?");
}

TEST(ExporterSection, NothingToSendToNamesTheKnownSinks) {
  Config c = defaultConfig(kKinds);
  c.otelConfig.exporters.clickhouse.enabled = false;
  EXPECT_FALSE(anySinkEnabled(c));
  EXPECT_EQ(nothingToSendTo(c, true), "otelConfig.exporters.clickhouse is disabled and so is acme");
  EXPECT_EQ(nothingToSendTo(defaultConfig(), true), "otelConfig.exporters.clickhouse is disabled");
}

}  // namespace
}  // namespace stackhouse::config
