// The remote ClickHouse sink's cost, beside the embedded store's, on this machine.
//
// Scale: one group of 50,000 log rows per iteration (15 attributes a row, ~200-byte bodies, 8
// resource attributes: the DESIGN's measured shape). Reported: rows/s (items_per_second) and,
// for the encoders, bytes produced per row (counter bytes_per_row).
//   Encode/native          the Native block alone
//   Encode/zstd, /gzip     the block and its compression (what the sink sends)
//   Insert/embedded        ChdbSink: Arrow into the embedded engine
//   Insert/remote          ClickhouseHttpSink through the stand-in: encode, zstd, HTTP, the
//                          stand-in's decompression and temporary file, the same engine's insert
// The stand-in runs in the same process on the same 2 cores: Insert/remote is a bound on the
// sink's own overhead, not a ClickHouse server's speed.
//
//   build/tests/sinks/clickhouse/clickhouse_sink_bench --benchmark_min_time=3
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <random>

#include "sinks/clickhouse/chdb_sink.h"
#include "sinks/clickhouse/clickhouse_http_sink.h"
#include "sinks/clickhouse/clickhouse_standin.h"
#include "sinks/clickhouse/native_encoder.h"
#include "store/chdb_store.h"
#include "support/log_rows.h"
#include "support/temp_dir.h"

namespace stackhouse::sinks::clickhouse {
namespace {

constexpr int kRows = 50'000;

const telemetry::LogBatch& group() {
  static const telemetry::LogBatch batch = [] {
    telemetry::LogBatch b;
    std::mt19937 rng(42);
    const int64_t now = 1'765'000'000'000'000'000;
    stackhouse::testing::Attrs resource;
    for (int k = 0; k < 8; ++k)
      resource.emplace_back("res.key" + std::to_string(k), "value-" + std::to_string(k));
    for (int i = 0; i < kRows; ++i) {
      stackhouse::testing::Attrs attrs;
      for (int k = 0; k < 15; ++k) {
        attrs.emplace_back("attr.key" + std::to_string(k), std::to_string(rng() % 100000));
      }
      std::string body(200, 'x');
      for (char& c : body) c = static_cast<char>('a' + rng() % 26);
      stackhouse::testing::appendLogRow(b, {.timestamp = now + int64_t{i} * 1'000'000,
                                            .body = body,
                                            .service = i % 3 ? "checkout" : "cart",
                                            .attributes = attrs,
                                            .resource = resource});
    }
    return b;
  }();
  return batch;
}

void encode(benchmark::State& state, http::Compression c) {
  const telemetry::LogBatch& b = group();
  std::string out, packed;
  for (auto _ : state) {
    out.clear();
    appendNativeBlock(out, b);
    if (c != http::Compression::kNone) {
      if (!http::compress(c, out, packed, compressionLevel(c)).isOk())
        state.SkipWithError("compress");
    } else {
      packed = out;
    }
    benchmark::DoNotOptimize(packed.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.counters["bytes_per_row"] = static_cast<double>(packed.size()) / kRows;
}

struct Env {
  stackhouse::testing::TempDir dir;
  std::unique_ptr<store::ChdbStore> store;
  std::unique_ptr<stackhouse::testing::ClickhouseStandin> standin;
};

Env& env() {
  static Env* e = [] {
    auto* x = new Env();
    x->store = std::move(store::ChdbStore::open({x->dir.path() + "/db", 0}).value());
    x->standin = std::move(stackhouse::testing::ClickhouseStandin::start(
                               {x->dir.path() + "/db", x->dir.path(), "default", "", 0})
                               .value());
    return x;
  }();
  return *e;
}

void insertEmbedded(benchmark::State& state) {
  ChdbSink sink(*env().store);
  const telemetry::LogBatch* parts[] = {&group()};
  int n = 0;
  for (auto _ : state) {
    Status s = sink.writeLogs(parts, "bench-e-" + std::to_string(n++), pipeline::Attempt::kFirst);
    if (!s.isOk()) state.SkipWithError(s.message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

void insertRemote(benchmark::State& state) {
  HttpSinkOptions o;
  o.endpoint = env().standin->url();
  o.database = "bench";
  o.ttlSeconds = 0;
  o.timeout = std::chrono::seconds(120);
  auto sink = ClickhouseHttpSink::create(o);
  const telemetry::LogBatch* parts[] = {&group()};
  if (!sink.value()->ensureSchema().isOk()) state.SkipWithError("schema");
  int n = 0;
  for (auto _ : state) {
    Status s =
        sink.value()->writeLogs(parts, "bench-r-" + std::to_string(n++), pipeline::Attempt::kFirst);
    if (!s.isOk()) state.SkipWithError(s.message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

BENCHMARK_CAPTURE(encode, native, http::Compression::kNone)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, zstd, http::Compression::kZstd)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(encode, gzip, http::Compression::kGzip)->Unit(benchmark::kMillisecond);
BENCHMARK(insertEmbedded)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(insertRemote)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace stackhouse::sinks::clickhouse

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::fflush(stdout);
  _exit(0);  // the engine has no shutdown call
}
