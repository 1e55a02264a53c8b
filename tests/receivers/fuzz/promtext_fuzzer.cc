// libFuzzer target for the scrape body parser and mapping: the first byte picks the format
// (text 0.0.4 or OpenMetrics) and whether a second scrape follows (to exercise staleness and
// start-time state); the rest is the body. Any input either maps into consistent batches or
// fails with a status and leaves the batch as it was; never a crash, hang or unbounded memory.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "receivers/prometheus/scrape_mapper.h"

namespace {

template <typename Batch>
bool consistent(const Batch& b) {
  bool ok = true;
  const size_t n = b.rows();
  b.forEachColumn([&](std::string_view, const auto& column) {
    ok = ok && column.size() == n && column.consistent();
  });
  return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stackhouse::receivers::prometheus;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  TargetIdentity target;
  target.job = "fuzz";
  target.instance = "127.0.0.1:1";
  target.labels = {{"env", "x"}};
  target.honorLabels = (mode & 4) != 0;
  ScrapeMapper mapper(target);
  ScrapeLimits limits;
  limits.sampleLimit = (mode & 8) != 0 ? 50 : 0;
  limits.parse.maxLabelValueBytes = (mode & 16) != 0 ? 16 : 0;
  const Format format = (mode & 1) != 0 ? Format::kOpenMetrics : Format::kText;
  stackhouse::telemetry::MetricBatch batch;
  ScrapeCounts counts;
  const int rounds = (mode & 2) != 0 ? 2 : 1;
  for (int i = 0; i < rounds; ++i) {
    const size_t before = batch.rows();
    auto status = mapper.map(body, format, limits, 1'700'000'000'000'000'000 + i, batch, counts);
    if (!status.isOk()) {
      if (batch.rows() != before) std::abort();  // a failed scrape leaves nothing behind
      mapper.markAllStale(1'700'000'000'000'000'000 + i, batch);
    }
    mapper.appendScrapeSeries(status.isOk(), 0.1, counts, 1'700'000'000'000'000'000 + i, batch);
  }
  batch.forEachKind([](const auto& kind) {
    if (!consistent(kind)) std::abort();
  });
  return 0;
}
