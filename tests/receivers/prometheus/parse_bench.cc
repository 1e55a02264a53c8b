// Parser throughput in samples per second on one core, on a real node-exporter 1.5 body
// (tests/fixtures/receivers/prometheus/node_exporter.prom: 505 samples, 57 KB; every collector
// Debian's node-exporter enables by default on a small VM). Run by `make bench`:
//   build/tests/receivers/prometheus/prometheus_parse_bench
// Parse: the TextParser alone (names, labels unescaped, values). ParseAndMap: parse plus the
// mapping into a MetricBatch with series state, as every scrape does (the batch is reused).
// QueueRecord: a scrape's batch written as a queue record (pipeline/record_codec.h), with the
// record's bytes per point against the batch's buffers in full.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>

#include "pipeline/record_codec.h"
#include "receivers/prometheus/scrape_mapper.h"
#include "telemetry/batch_ops.h"

namespace stackhouse::receivers::prometheus {
namespace {

const std::string& body() {
  static const std::string b = [] {
    std::ifstream in(std::string(PROM_FIXTURES_DIR) + "/node_exporter.prom", std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  return b;
}

TargetIdentity nodeTarget() {
  TargetIdentity t;
  t.job = "node";
  t.instance = "10.0.0.1:9100";
  t.scheme = "http";
  t.host = "10.0.0.1";
  t.port = "9100";
  return t;
}

void BM_Parse(benchmark::State& state) {
  const std::string& b = body();
  size_t samples = 0;
  for (auto _ : state) {
    TextParser p(b, Format::kText);
    Entry e;
    double sum = 0;
    while (p.next(e).isOk() && e != Entry::kEnd) {
      if (e == Entry::kSample) {
        ++samples;
        sum += p.value() + static_cast<double>(p.labels().size());
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.SetBytesProcessed(static_cast<int64_t>(b.size() * state.iterations()));
}
BENCHMARK(BM_Parse);

void BM_ParseAndMap(benchmark::State& state) {
  const std::string& b = body();
  ScrapeMapper mapper(nodeTarget());
  telemetry::MetricBatch batch;
  size_t samples = 0;
  int64_t now = 1'700'000'000'000'000'000;
  for (auto _ : state) {
    batch.forEachKind([](auto& kind) { telemetry::clearBatch(kind); });
    ScrapeCounts counts;
    if (!mapper.map(b, Format::kText, {}, now, batch, counts).isOk()) state.SkipWithError("map");
    now += 15'000'000'000;
    samples += counts.samplesScraped;
    benchmark::DoNotOptimize(batch.rows());
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.SetBytesProcessed(static_cast<int64_t>(b.size() * state.iterations()));
}
BENCHMARK(BM_ParseAndMap);

void BM_QueueRecord(benchmark::State& state) {
  ScrapeMapper mapper(nodeTarget());
  telemetry::MetricBatch batch;
  ScrapeCounts counts;
  if (!mapper.map(body(), Format::kText, {}, 1'700'000'000'000'000'000, batch, counts).isOk()) {
    state.SkipWithError("map");
    return;
  }
  size_t inFull = 0;
  telemetry::visitBatchBuffers(batch, [&](const telemetry::Buffer& b) { inFull += 8 + b.size(); });
  pipeline::RecordEncoder encoder;
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = encoder.encode(batch, {1, 2}, telemetry::Source::kPrometheusScrape);
    benchmark::DoNotOptimize(encoder.iov().data());
  }
  const auto points = static_cast<double>(batch.rows());
  state.counters["record_bytes_per_point"] = static_cast<double>(bytes) / points;
  state.counters["in_full_bytes_per_point"] = static_cast<double>(inFull) / points;
  state.SetItemsProcessed(static_cast<int64_t>(batch.rows() * state.iterations()));
}
BENCHMARK(BM_QueueRecord);

}  // namespace
}  // namespace stackhouse::receivers::prometheus

BENCHMARK_MAIN();
