#!/usr/bin/env bash
# make bench: the benchmarks, in one run on this machine. Results go to stdout and to
# build/bench-results.txt; docs/benchmarks.md records them with the command.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out=build/bench-results.txt
{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m) $(nproc) cores"
  if [ -x build/tests/otlp/otlp_decode_bench ]; then
    build/tests/otlp/otlp_decode_bench --benchmark_min_time=0.5
  fi
  if [ -x build/tests/receivers/prometheus/prometheus_parse_bench ]; then
    build/tests/receivers/prometheus/prometheus_parse_bench --benchmark_min_time=0.5
  fi
  if [ -x build/tests/processors/redaction/redaction_bench ]; then
    build/tests/processors/redaction/redaction_bench --seconds 3
  fi
  build/bench/ingest_bench --server build/stackhouse --seconds "${BENCH_SECONDS:-15}" \
    --clients "${BENCH_CLIENTS:-4}" --records 500
  # The overload phase again with the server on CPU 0 and its clients on the others: what the
  # server keeps under overload without sharing its cores with the load generator.
  if [ "$(nproc)" -ge 2 ]; then
    build/bench/ingest_bench --server build/stackhouse --clients "${BENCH_CLIENTS:-4}" \
      --records 500 --only overload --server-cpu 0
  fi
  # SIGUSR2 stack dumps under load, each held to its one-second budget (the same scenario as the
  # end-to-end test, which allows three times that beside other tests).
  if command -v node >/dev/null; then
    STACKHOUSE_BIN="$root/build/stackhouse" STACKHOUSE_DUMP_TIMING=strict \
      node --test --test-reporter=spec tests/e2e/stackdump.test.mjs
  fi
  # 200 targets of node-exporter size every 15 s, against the idle server (about 8 minutes): a
  # window of 330 s holds at least one 5-minute rollup and the merges that follow the inserts,
  # which a one-minute window can miss; the idle server's cost is flat, 30 s measure it.
  if command -v node >/dev/null; then
    node bench/prom_scrape_bench.mjs --seconds "${BENCH_SCRAPE_SECONDS:-330}" --idle-seconds 30
  fi
  if [ -x build/bench/search_bench_load ]; then
    node bench/search_bench.mjs
  fi
  node bench/trace_bench.mjs
  # 100 alerts a minute, idle then evaluating, each for this long (wall time).
  if [ -x build/bench/alert_eval_bench ]; then
    build/bench/alert_eval_bench --seconds "${BENCH_ALERT_SECONDS:-180}" --alerts 100
  fi
  if [ -x build/bench/metrics_bench_load ]; then
    node bench/metrics_bench.mjs
  fi
} 2>&1 | tee "$out"
