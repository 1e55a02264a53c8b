// The scrape receiver alone, without the store: a ScrapeManager scraping the given targets
// (bench/prom_scrape_bench.mjs serves them and runs this) into an output that counts and drops
// the batches. Prints its CPU share (getrusage over the window) and resident memory above the
// process's own before scraping started, so that the scraper's cost can be told apart from the
// store's in the full-server measurement.
//   prometheus_scrape_bench --interval 15 --seconds 45 PORT...
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "receivers/prometheus/scrape_manager.h"

namespace {

using namespace stackhouse;
using namespace stackhouse::receivers::prometheus;

class CountingOutput : public ScrapeOutput {
 public:
  pipeline::PooledBatch<telemetry::MetricBatch> acquire() override { return pool_.acquire(); }
  Status submit(pipeline::PooledBatch<telemetry::MetricBatch> batch) override {
    rows_ += batch->rows();
    return Status::ok();
  }
  uint64_t rows() const { return rows_.load(); }

 private:
  pipeline::BatchPool<telemetry::MetricBatch> pool_;
  std::atomic<uint64_t> rows_{0};
};

double residentMiB() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int interval = 15, seconds = 45;
  std::vector<ScrapeTarget> targets;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
      interval = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atoi(argv[++i]);
    } else {
      ScrapeTarget t;
      t.identity.job = "node";
      t.identity.instance = std::string("127.0.0.1:") + argv[i];
      t.identity.scheme = "http";
      t.identity.host = "127.0.0.1";
      t.identity.port = argv[i];
      t.url = t.urlNoQuery = "http://" + t.identity.instance + "/metrics";
      t.interval = std::chrono::seconds(interval);
      t.timeout = std::chrono::seconds(10);
      t.bodySizeLimit = 64 << 20;
      targets.push_back(std::move(t));
    }
  }
  const size_t n = targets.size();
  CountingOutput out;
  const double idleMiB = residentMiB();
  ScrapeManager manager(std::move(targets), {}, out);
  if (!manager.start().isOk()) return 1;
  std::this_thread::sleep_for(std::chrono::seconds(interval + 2));  // every target scraped once
  const double cpu0 = cpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t rows0 = out.rows();
  double maxMiB = 0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(seconds)) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    maxMiB = std::max(maxMiB, residentMiB());
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = (cpuSeconds() - cpu0) / wall;
  const uint64_t rows = out.rows() - rows0;
  manager.stop();
  std::printf(
      "  scraper alone (no store): %zu targets, %.0f rows/s, cpu %.1f%% of one core, rss +%.0f "
      "MiB above its idle %.0f MiB (max)\n",
      n, static_cast<double>(rows) / wall, cpu * 100, maxMiB - idleMiB, idleMiB);
  return 0;
}
