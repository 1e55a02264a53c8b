// Golden files: OTLP/JSON requests in tests/fixtures/otlp and the rows they must become, dumped
// one cell per line. Set STACKHOUSE_UPDATE_GOLDEN=1 to rewrite the expected files (then review
// the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "otlp/decode.h"
#include "otlp_test_support.h"

namespace stackhouse::otlp {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename Batch>
void dumpTable(std::string& out, std::string_view table, const Batch& batch) {
  const auto rows = testing::dumpRows(batch);
  for (size_t i = 0; i < rows.size(); ++i) {
    out += std::string(table) + " row " + std::to_string(i) + "\n";
    batch.forEachColumn([&](std::string_view name, const auto&) {
      out += "  " + std::string(name) + " = " + rows[i].at(std::string(name)) + "\n";
    });
  }
}

std::string dumpStats(const DecodeStats& s) {
  return "accepted " + std::to_string(s.accepted) + ", rejected " + std::to_string(s.rejected) +
         ", invalid utf-8 " + std::to_string(s.invalidUtf8) +
         ", first rejection: " + s.firstRejection + "\n";
}

void checkGolden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(OTLP_FIXTURES_DIR) + "/" + name + "_expected.txt";
  if (std::getenv("STACKHOUSE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
  }
  EXPECT_EQ(actual, readFile(path)) << "golden file " << path;
}

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Golden, Logs) {
  const std::string body = readFile(std::string(OTLP_FIXTURES_DIR) + "/logs_request.json");
  ASSERT_FALSE(body.empty());
  telemetry::LogBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeLogs(bytesOf(body), Encoding::kJson, batch, stats).isOk());
  std::string out = dumpStats(stats);
  dumpTable(out, telemetry::LogBatch::kTable, batch);
  checkGolden("logs", out);
}

TEST(Golden, Traces) {
  const std::string body = readFile(std::string(OTLP_FIXTURES_DIR) + "/traces_request.json");
  ASSERT_FALSE(body.empty());
  telemetry::SpanBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeSpans(bytesOf(body), Encoding::kJson, batch, stats).isOk());
  std::string out = dumpStats(stats);
  dumpTable(out, telemetry::SpanBatch::kTable, batch);
  checkGolden("traces", out);
}

TEST(Golden, Metrics) {
  const std::string body = readFile(std::string(OTLP_FIXTURES_DIR) + "/metrics_request.json");
  ASSERT_FALSE(body.empty());
  telemetry::MetricBatch batch;
  DecodeStats stats;
  ASSERT_TRUE(decodeMetrics(bytesOf(body), Encoding::kJson, batch, stats).isOk());
  std::string out = dumpStats(stats);
  batch.forEachKind([&](const auto& kind) { dumpTable(out, kind.kTable, kind); });
  checkGolden("metrics", out);
}

}  // namespace
}  // namespace stackhouse::otlp
