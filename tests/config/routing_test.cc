// otelConfig.routing and each sink's queue block: which sinks a source reaches (listed AND
// enabled), and the queue keys with their errors.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/with_sections.h"
#include "parse_error.h"

namespace stackhouse::config {
using namespace ::stackhouse::config::test;
namespace {

using testing::errorOf;

struct RoutingCase {
  std::string_view name;
  std::string_view yaml;
  // Expected sinks per source, in otelConfig.routing order of sources.
  std::vector<std::string> traces, metrics, k8sMetrics, k8sEvents, prometheusScrape, logs;
};

TEST(Routing, ListedAndEnabled) {
  const std::vector<std::string> ch{kClickhouse};
  const std::vector<std::string> none;
  const RoutingCase cases[] = {
      // Defaults: every list names every sink, or [clickhouse]; only clickhouse is enabled.
      {"defaults", "", ch, ch, ch, ch, ch, ch},
      // Listed but not enabled: nothing.
      {"clickhouse disabled", "otelConfig: {exporters: {clickhouse: {enabled: false}}}\n", none,
       none, none, none, none, none},
      {"no embedded store", "clickstack: {enabled: false}\n", none, none, none, none, none, none},
      // Enabled but not listed: nothing for that source.
      {"logs routed nowhere", "otelConfig: {routing: {logs: []}}\n", ch, ch, ch, ch, ch, none},
      {"traces to the planned sinks only", "otelConfig: {routing: {traces: [datadog, tinybird]}}\n",
       none, ch, ch, ch, ch, ch},
      // Overrides keep their order.
      {"metrics relisted", "otelConfig: {routing: {metrics: [clickhouse, logfire]}}\n", ch, ch, ch,
       ch, ch, ch},
  };
  for (const RoutingCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Config config = parseYaml(c.yaml, "test.yaml");
    EXPECT_EQ(routedSinks(config, "traces"), c.traces);
    EXPECT_EQ(routedSinks(config, "metrics"), c.metrics);
    EXPECT_EQ(routedSinks(config, "k8sMetrics"), c.k8sMetrics);
    EXPECT_EQ(routedSinks(config, "k8sEvents"), c.k8sEvents);
    EXPECT_EQ(routedSinks(config, "prometheusScrape"), c.prometheusScrape);
    EXPECT_EQ(routedSinks(config, "logs"), c.logs);
    EXPECT_TRUE(routedSinks(config, "nosuchsource").empty());
  }
}

TEST(Routing, UnknownSinkNamesAreErrorsWithTheirPlace) {
  EXPECT_EQ(errorOf("otelConfig:\n  routing:\n    logs: [clickhouse, clickhous]\n"),
            "test.yaml:3:24: otelConfig.routing.logs[1]: \"clickhous\" is not a sink; expected "
            "clickhouse, tinybird, datadog or logfire; did you mean clickhouse?");
  EXPECT_EQ(errorOf("otelConfig:\n  routing:\n    traces: [s3]\n"),
            "test.yaml:3:14: otelConfig.routing.traces[0]: \"s3\" is not a sink; expected "
            "clickhouse, tinybird, datadog or logfire");
}

TEST(Queue, DefaultsAndValues) {
  const QueueConfig d = defaults().otelConfig.exporters.clickhouse.queue;
  EXPECT_EQ(d.maxSize, 2 * kGiB);
  EXPECT_EQ(d.fsync, QueueConfig::Fsync::kAlways);
  EXPECT_EQ(d.onFull, QueueConfig::OnFull::kBackpressure);
  const Config c = parseYaml(
      "otelConfig:\n  exporters:\n    clickhouse:\n"
      "      queue: {maxSize: 512Mi, fsync: never, onFull: dropOldest}\n",
      "test.yaml");
  const QueueConfig& q = c.otelConfig.exporters.clickhouse.queue;
  EXPECT_EQ(q.maxSize, 512 * kMiB);
  EXPECT_EQ(q.fsync, QueueConfig::Fsync::kNever);
  EXPECT_EQ(q.onFull, QueueConfig::OnFull::kDropOldest);
  // The reference's own line.
  EXPECT_EQ(parseYaml("otelConfig:\n  exporters:\n    clickhouse:\n"
                      "      queue: {maxSize: 2Gi, fsync: always, onFull: backpressure}\n",
                      "test.yaml"),
            defaults());
}

TEST(Queue, BadValuesAreErrorsWithTheirPlace) {
  const std::string head = "otelConfig:\n  exporters:\n    clickhouse:\n      queue: ";
  EXPECT_EQ(errorOf(head + "{fsync: sometimes}\n"),
            "test.yaml:4:22: otelConfig.exporters.clickhouse.queue.fsync: \"sometimes\" is not one "
            "of always or never");
  EXPECT_EQ(errorOf(head + "{onFull: block}\n"),
            "test.yaml:4:23: otelConfig.exporters.clickhouse.queue.onFull: \"block\" is not one of "
            "backpressure or dropOldest");
  EXPECT_NE(errorOf(head + "{maxSize: 1Mi}\n").find("smaller than the minimum 64Mi"),
            std::string::npos)
      << errorOf(head + "{maxSize: 1Mi}\n");
  EXPECT_NE(errorOf(head + "{maxsize: 1Gi}\n").find("test.yaml:4:15: "), std::string::npos)
      << errorOf(head + "{maxsize: 1Gi}\n");
}

}  // namespace
}  // namespace stackhouse::config
