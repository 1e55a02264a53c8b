// Golden files: scrape bodies in tests/fixtures/receivers/prometheus (*.prom in the text format,
// *.om in OpenMetrics) and the rows they become, one cell per line. Set
// STACKHOUSE_UPDATE_GOLDEN=1 to rewrite the expected files (then review the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "otlp/otlp_test_support.h"
#include "receivers/prometheus/scrape_mapper.h"

namespace stackhouse::receivers::prometheus {
namespace {

constexpr int64_t kScrapeNanos = 1700000000000000000;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename Batch>
void dumpTable(std::string& out, std::string_view table, const Batch& batch) {
  const auto rows = otlp::testing::dumpRows(batch);
  for (size_t i = 0; i < rows.size(); ++i) {
    out += std::string(table) + " row " + std::to_string(i) + "\n";
    batch.forEachColumn([&](std::string_view name, const auto&) {
      out += "  " + std::string(name) + " = " + rows[i].at(std::string(name)) + "\n";
    });
  }
}

std::string dumpBatch(const telemetry::MetricBatch& m) {
  std::string out;
  m.forEachKind(
      [&out](const auto& kind) { dumpTable(out, std::decay_t<decltype(kind)>::kTable, kind); });
  return out;
}

TargetIdentity nodeTarget() {
  TargetIdentity t;
  t.job = "node";
  t.instance = "127.0.0.1:9100";
  t.scheme = "http";
  t.host = "127.0.0.1";
  t.port = "9100";
  t.labels = {{"env", "prod"}};
  return t;
}

void checkGolden(const std::string& input, Format format) {
  const std::string dir = std::string(PROM_FIXTURES_DIR) + "/";
  const std::string body = readFile(dir + input);
  ASSERT_FALSE(body.empty()) << input;
  ScrapeMapper mapper(nodeTarget());
  telemetry::MetricBatch batch;
  ScrapeCounts counts;
  Status status = mapper.map(body, format, {}, kScrapeNanos, batch, counts);
  ASSERT_TRUE(status.isOk()) << status.toString();
  mapper.appendScrapeSeries(true, 0.25, counts, kScrapeNanos, batch);
  std::string actual = "samples " + std::to_string(counts.samplesScraped) + ", series added " +
                       std::to_string(counts.seriesAdded) + ", points " +
                       std::to_string(counts.pointsWritten) + ", gauge histograms dropped " +
                       std::to_string(counts.droppedGaugeHistograms) + "\n" + dumpBatch(batch);
  const std::string expectedPath = dir + input.substr(0, input.rfind('.')) + "_expected.txt";
  if (std::getenv("STACKHOUSE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(expectedPath, std::ios::binary) << actual;
  }
  EXPECT_EQ(actual, readFile(expectedPath)) << "golden file " << expectedPath;
  batch.forEachKind([](const auto& kind) { EXPECT_TRUE(otlp::testing::columnsConsistent(kind)); });
}

TEST(PrometheusGolden, TextFormat) { checkGolden("text_basic.prom", Format::kText); }
TEST(PrometheusGolden, OpenMetrics) { checkGolden("openmetrics.om", Format::kOpenMetrics); }

}  // namespace
}  // namespace stackhouse::receivers::prometheus
