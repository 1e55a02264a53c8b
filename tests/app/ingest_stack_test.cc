// IngestStack, the ingest side every role shares, without an embedded store (the collector
// role): its lifecycle (open, start, stop twice; open and destroy without start), what it writes
// into the data directory, and the start-up refusals.
#include "app/ingest_stack.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "config/config.h"
#include "receivers/receiver_factory.h"
#include "sinks/sink_factory.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace stackhouse::app {
namespace {

// Every listener on a free port; the remote ClickHouse on a port nothing listens on (the sink
// contacts nothing until it sends, and a refused send is retried from the queue). `tail` goes
// after otelConfig's keys: its exporters, then any top-level section.
config::Config collectorConfig(const std::string& dataDir, std::string_view tail) {
  config::Config config = config::parseConfig(
      "clickstack: {enabled: false}\n"
      "otelConfig:\n"
      "  receivers: {otlp: {grpc: {endpoint: \"127.0.0.1:0\"}, http: {endpoint: "
      "\"127.0.0.1:0\"}}}\n"
      "  admin: {endpoint: \"127.0.0.1:0\"}\n" +
          std::string(tail),
      "test.yaml", receivers::sectionKinds(sinks::exporterKinds()));
  config.clickstack.dataDir = dataDir;
  return config;
}

constexpr std::string_view kRemote =
    "  exporters: {clickhouse: {endpoint: \"http://127.0.0.1:1\", timeout: 1s}}\n";

TEST(IngestStack, OpensStartsAcceptsAndStopsTwiceWithoutAStore) {
  testing::TempDir dir;
  const std::string dataDir = dir.path() + "/data";
  const config::Config config = collectorConfig(dataDir, kRemote);
  auto stack = IngestStack::open(config, nullptr, 0);
  ASSERT_TRUE(stack.isOk()) << stack.status().toString();
  EXPECT_EQ(stack.value()->otlpHttpPort(), 0);
  ASSERT_TRUE(stack.value()->startReceivers().isOk());
  ASSERT_NE(stack.value()->otlpHttpPort(), 0);
  EXPECT_NE(stack.value()->otlpGrpcPort(), 0);

  // Acknowledged once queued for the remote sink, which is down.
  testing::HttpClient client(stack.value()->otlpHttpPort());
  const auto reply = client.post("/v1/logs", "application/json",
                                 R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)"
                                 R"({"body":{"stringValue":"queued"}}]}]}]})");
  EXPECT_EQ(reply.status, 200) << reply.body;

  stack.value()->stop();
  stack.value()->stop();
  // The queue and the ledger, nothing of a store.
  EXPECT_TRUE(std::filesystem::is_directory(dataDir + "/queue/clickhouse"));
  EXPECT_TRUE(std::filesystem::exists(dataDir + "/request-ledger"));
  EXPECT_FALSE(std::filesystem::exists(dataDir + "/clickhouse"));
}

TEST(IngestStack, DestroyedWithoutStart) {
  testing::TempDir dir;
  const config::Config config = collectorConfig(dir.path() + "/data", kRemote);
  auto stack = IngestStack::open(config, nullptr, 0);
  ASSERT_TRUE(stack.isOk()) << stack.status().toString();
  stack.value().reset();
}

TEST(IngestStack, RefusesWithNothingToSendToAndCreatesNothing) {
  testing::TempDir dir;
  const std::string dataDir = dir.path() + "/data";
  const config::Config config = collectorConfig(dataDir, "");
  auto stack = IngestStack::open(config, nullptr, 0);
  ASSERT_FALSE(stack.isOk());
  EXPECT_EQ(stack.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(stack.status().message().find("nothing to send to"), std::string::npos)
      << stack.status().message();
  EXPECT_NE(stack.status().message().find("otelConfig.exporters.clickhouse.endpoint"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dataDir));
}

TEST(IngestStack, TheEmbeddedClickhouseSinkNeedsAStore) {
  testing::TempDir dir;
  config::Config config = collectorConfig(dir.path() + "/data", "");
  config.clickstack.enabled = true;  // the embedded store, but none is passed
  auto stack = IngestStack::open(config, nullptr, 0);
  ASSERT_FALSE(stack.isOk());
  EXPECT_EQ(stack.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(stack.status().message().find("cannot create the sink clickhouse"), std::string::npos)
      << stack.status().message();
}

// The receivers of the registry (receivers/registry.cc) are made from their own sections, started
// with the OTLP listeners, and expose their state route; a configuration read without their
// sections cannot start them, and says which.
TEST(IngestStack, MakesTheRegistryReceiversFromTheirSections) {
  testing::TempDir dir;
  const config::Config config =
      collectorConfig(dir.path() + "/data", std::string(kRemote) +
                                                "prometheusScrape:\n"
                                                "  enabled: true\n"
                                                "  self: false\n"
                                                "  scrapeJobs: [{jobName: nothing-there, "
                                                "targets: [\"127.0.0.1:9\"]}]\n");
  auto stack = IngestStack::open(config, nullptr, 0);
  ASSERT_TRUE(stack.isOk()) << stack.status().toString();
  ASSERT_TRUE(stack.value()->startReceivers().isOk());
  const auto routes = stack.value()->stateRoutes();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].path, "/api/v1/scrape/targets");
  const std::string state = routes[0].receiver->stateJson();
  EXPECT_NE(state.find("\"job\":\"nothing-there\""), std::string::npos) << state;
  EXPECT_NE(state.find("127.0.0.1:9"), std::string::npos) << state;
  stack.value()->stop();

  testing::TempDir other;
  config::Config without = collectorConfig(other.path() + "/data", kRemote);
  without.receivers = {};  // read without the receivers' sections
  auto refused = IngestStack::open(without, nullptr, 0);
  ASSERT_FALSE(refused.isOk());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find(
                "cannot start the receiver prometheusScrape: the configuration was read without "
                "its section"),
            std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace stackhouse::app
