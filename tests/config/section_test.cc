// The extension point of the sinks and receivers (config/section.h): a sink and a receiver the
// config library has never heard of, made here as a new sink or receiver folder would make them,
// are read, checked, routed, compared and printed like the built-in ones once their kinds are
// passed to the parse, and are unknown keys (and an unknown sink name) without them.
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

// A receiver's top-level section, with what receivers' sections have: lists of maps, lists of
// strings, maps whose keys are the user's, and a key checked against a sibling set after it.
struct WatchConfig final : SectionOf<WatchConfig> {
  struct Pod {
    std::string name;
    uint32_t port = 0;  // 0: the pod's own
    bool operator==(const Pod&) const = default;
  };
  bool enabled = false;
  std::vector<std::string> namespaces{"default"};
  std::vector<Pod> pods;
  std::vector<std::pair<std::string, std::string>> labels;
  std::chrono::nanoseconds interval = 30s;
  std::chrono::nanoseconds timeout = 10s;

  void read(SectionReader& in) override {
    in.map({{"enabled", [this](SectionReader& v) { v.boolean(enabled); }},
            {"namespaces", [this](SectionReader& v) { v.stringList(namespaces, "namespaces"); }},
            {"pods",
             [this](SectionReader& v) {
               v.list("a list of pods (- name: ...)", [this](SectionReader& item) {
                 Pod pod;
                 item.map({{"name", [&pod](SectionReader& n) { n.string(pod.name); }},
                           {"port", [&pod](SectionReader& p) { p.count(pod.port, 0, 65535); }}});
                 if (pod.name.empty()) item.error("every pod needs a name", "name");
                 pods.push_back(pod);
               });
             }},
            {"labels",
             [this](SectionReader& v) {
               v.entries("a map of labels", [this](const std::string& name, SectionReader& value) {
                 if (name.starts_with("__")) {
                   value.error("reserved label name");
                   return;
                 }
                 if (auto text = value.scalar("a string")) labels.emplace_back(name, *text);
               });
             }},
            {"timeout",
             [this](SectionReader& v) {
               v.duration(timeout, 1s, std::nullopt);
               if (timeout > interval)
                 v.error("longer than the interval (line " + std::to_string(v.line()) + ")");
             },
             /*afterOthers=*/true},
            {"interval", [this](SectionReader& v) { v.duration(interval, 1s, std::nullopt); }}});
  }
  void describe(SectionWriter& out) const override {
    out.boolean("enabled", enabled);
    out.strings("namespaces", namespaces);
    SectionWriter list = out.list("pods", pods.size());
    for (const Pod& pod : pods) {
      SectionWriter item = list.item();
      item.string("name", pod.name);
      item.number("port", pod.port);
    }
    SectionWriter map = out.nested("labels");
    for (const auto& [name, value] : labels) map.string(quoted(name, std::string::npos), value);
    out.duration("interval", interval);
    out.duration("timeout", timeout);
  }
  bool operator==(const WatchConfig&) const = default;
};

const ExporterKind kAcme = exporterKind<AcmeConfig>("acme");
const ExporterKind* const kAcmeKinds[] = {&kAcme};
const ReceiverKind kWatch = receiverKind<WatchConfig>("acmeWatch");
const ReceiverKind* const kWatchKinds[] = {&kWatch};
const SectionKinds kKinds{kAcmeKinds, kWatchKinds};

std::string errorOf(std::string_view yaml, const SectionKinds& kinds) {
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

TEST(ReceiverSection, DefaultsReadsComparesAndPrints) {
  const Config defaults = defaultConfig(kKinds);
  const auto* watch = defaults.receivers.get<WatchConfig>("acmeWatch");
  ASSERT_NE(watch, nullptr);
  EXPECT_EQ(*watch, WatchConfig());
  EXPECT_EQ(parseConfig("", "test.yaml", kKinds), defaults);

  const Config c = parseConfig(
      "acmeWatch:\n"
      "  timeout: 20s\n"  // checked against the interval below it
      "  enabled: true\n"
      "  namespaces: [web, \"db\"]\n"
      "  pods:\n"
      "    - name: api\n"
      "      port: 8080\n"
      "    - {name: \"odd: name\"}\n"
      "  labels: {env: prod, \"team.name\": core}\n"
      "  interval: 1m\n",
      "test.yaml", kKinds);
  watch = c.receivers.get<WatchConfig>("acmeWatch");
  ASSERT_NE(watch, nullptr);
  EXPECT_TRUE(watch->enabled);
  EXPECT_EQ(watch->namespaces, (std::vector<std::string>{"web", "db"}));
  EXPECT_EQ(watch->pods, (std::vector<WatchConfig::Pod>{{"api", 8080}, {"odd: name", 0}}));
  EXPECT_EQ(watch->labels, (std::vector<std::pair<std::string, std::string>>{
                               {"env", "prod"}, {"team.name", "core"}}));
  EXPECT_EQ(watch->timeout, 20s);
  EXPECT_EQ(watch->interval, 1min);

  // Printed and read back: equal; a copy is equal and independent.
  const std::string printed = describeConfig(c);
  EXPECT_NE(printed.find("acmeWatch:\n  enabled: true\n  namespaces: [\"web\", \"db\"]\n  pods:\n"
                         "    - name: \"api\"\n      port: 8080\n    - name: \"odd: name\"\n"),
            std::string::npos)
      << printed;
  EXPECT_EQ(parseConfig(printed, "printed.yaml", kKinds), c);
  Config copy = c;
  copy.receivers.get<WatchConfig>("acmeWatch")->pods.clear();
  EXPECT_NE(copy, c);
  EXPECT_EQ(parseConfig(describeConfig(copy), "printed.yaml", kKinds), copy);
  EXPECT_EQ(watch->pods.size(), 2u);
}

TEST(ReceiverSection, ErrorsAreReportedWhereTheyAre) {
  EXPECT_EQ(errorOf("acmeWatch:\n"
                    "  timeout: 2m\n"
                    "  pods:\n"
                    "    - port: 99999\n"
                    "    - [1]\n"
                    "  labels: {__x: y, ok: [1]}\n"
                    "  namespaces: web\n",
                    kKinds),
            "test.yaml:4:13: acmeWatch.pods[0].port: \"99999\" is not a whole number from 0 to "
            "65535\n"
            "test.yaml:4:7: acmeWatch.pods[0].name: every pod needs a name\n"
            "test.yaml:5:7: acmeWatch.pods[1]: expected a map with the keys name and port; got a "
            "list\n"
            "test.yaml:5:7: acmeWatch.pods[1].name: every pod needs a name\n"
            "test.yaml:6:12: acmeWatch.labels.__x: reserved label name\n"
            "test.yaml:6:20: acmeWatch.labels.ok: expected a string; got a list\n"
            "test.yaml:7:15: acmeWatch.namespaces: expected a list of namespaces such as "
            "[\"a.b\"]; got \"web\"\n"
            "test.yaml:2:12: acmeWatch.timeout: longer than the interval (line 2)");
  EXPECT_EQ(errorOf("acmeWatch:\n  pods: {name: a}\n", kKinds),
            "test.yaml:2:9: acmeWatch.pods: expected a list of pods (- name: ...); got a map");
  EXPECT_EQ(errorOf("acmeWatch:\n  labels: [a]\n", kKinds),
            "test.yaml:2:11: acmeWatch.labels: expected a map of labels; got a list");
}

TEST(ReceiverSection, WithoutItsKindANewReceiverIsUnknown) {
  EXPECT_EQ(errorOf("acmeWatch: {enabled: true}\n", {}),
            "test.yaml:1:1: acmeWatch: unknown key; the keys here are clickstack and otelConfig");
  EXPECT_EQ(errorOf("acmeWach: {enabled: true}\n", kKinds),
            "test.yaml:1:1: acmeWach: unknown key; did you mean acmeWatch?");
}

}  // namespace
}  // namespace stackhouse::config
