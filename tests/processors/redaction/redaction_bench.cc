// Cost of the default redaction policy on the ingest benchmark's own payloads (logs with 10
// attributes and ~200-byte bodies, spans with 10 attributes and an event), on one core:
// decode alone against decode + redact, in rows per CPU second, and the redaction's share.
//
//   build/tests/processors/redaction/redaction_bench [--seconds 3] [--records 500]
//
// The payloads carry no secrets, which is the common case the policy must make cheap: every
// value is scanned, none is copied. The logs+content line puts an e-mail address in every record
// so that a column of every batch is rebuilt. The spans+urls lines put a URL in every span's
// http.route: with a file name in its path (hashed: the column is rebuilt), and without.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "otlp/decode.h"
#include "otlp_payloads.h"
#include "processors/redaction/redactor.h"
#include "telemetry/batch_ops.h"

using namespace stackhouse;

namespace {

// This thread's CPU time: the machine may be shared, and waiting for a core is not our cost.
double cpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <typename Batch, typename Decode>
double rowsPerSecond(const std::vector<std::string>& payloads, double seconds,
                     redaction::Redactor* redactor, Decode&& decode) {
  Batch batch;
  uint64_t rows = 0;
  const double start = cpuSeconds();
  size_t i = 0;
  while (cpuSeconds() - start < seconds) {
    telemetry::clearBatch(batch);
    const std::string& p = payloads[i++ % payloads.size()];
    otlp::DecodeStats stats;
    if (!decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(p.data()), p.size()),
                batch, stats)
             .isOk()) {
      std::fprintf(stderr, "decode failed\n");
      std::exit(1);
    }
    if (redactor != nullptr) redactor->process(batch);
    rows += batch.rows();
  }
  return static_cast<double>(rows) / (cpuSeconds() - start);
}

// The payload with an e-mail address in every record's http.route (same length, so the
// protobuf lengths stay valid): every batch then has a column to rebuild.
std::string poisoned(std::string p) {
  const std::string from = "/api/v1/orders/{id}";
  const std::string to = "mail a@example.com!";
  static_assert(sizeof("/api/v1/orders/{id}") == sizeof("mail a@example.com!"));
  for (size_t at = p.find(from); at != std::string::npos; at = p.find(from, at + to.size())) {
    p.replace(at, from.size(), to);
  }
  return p;
}

// The span payload with every http.route ("/api/v1/orders") replaced by a URL of the same length.
std::string withUrls(std::string p, const std::string& url) {
  const std::string from = "/api/v1/orders";
  if (url.size() != from.size()) std::abort();
  for (size_t at = p.find(from); at != std::string::npos; at = p.find(from, at + url.size())) {
    p.replace(at, from.size(), url);
  }
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  int records = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--records") == 0) records = std::atoi(argv[i + 1]);
  }
  redaction::Policy policy = redaction::defaultPolicy();
  policy.hmacKey = "bench-key-0123456789";
  redaction::Redactor redactor(policy);

  std::vector<std::string> logs, spans, poisonedLogs, fileUrlSpans, plainUrlSpans;
  for (int i = 0; i < 16; ++i) {
    logs.push_back(bench::makeLogsRequest(records, 1000 + i));
    spans.push_back(bench::makeSpansRequest(records, 2000 + i));
    poisonedLogs.push_back(poisoned(logs.back()));
    fileUrlSpans.push_back(withUrls(spans.back(), "http://h/a.pdf"));
    plainUrlSpans.push_back(withUrls(spans.back(), "http://h/v1/ab"));
  }
  auto decodeLogs = [](std::span<const uint8_t> b, telemetry::LogBatch& out, otlp::DecodeStats& s) {
    return otlp::decodeLogs(b, otlp::Encoding::kProtobuf, out, s);
  };
  auto decodeSpans = [](std::span<const uint8_t> b, telemetry::SpanBatch& out,
                        otlp::DecodeStats& s) {
    return otlp::decodeSpans(b, otlp::Encoding::kProtobuf, out, s);
  };
  auto report = [&](const char* what, double off, double on) {
    // Per row: 1/on - 1/off seconds of redaction.
    const double usPerRow = (1.0 / on - 1.0 / off) * 1e6;
    std::printf(
        "redaction %-15s decode %9.0f rows/s   decode+redact %9.0f rows/s   redact %.2f us/row "
        "(%.0f%% of decode+redact)\n",
        what, off, on, usPerRow, 100.0 * (1.0 - on / off));
  };
  report("logs", rowsPerSecond<telemetry::LogBatch>(logs, seconds, nullptr, decodeLogs),
         rowsPerSecond<telemetry::LogBatch>(logs, seconds, &redactor, decodeLogs));
  report("logs+content",
         rowsPerSecond<telemetry::LogBatch>(poisonedLogs, seconds, nullptr, decodeLogs),
         rowsPerSecond<telemetry::LogBatch>(poisonedLogs, seconds, &redactor, decodeLogs));
  report("spans", rowsPerSecond<telemetry::SpanBatch>(spans, seconds, nullptr, decodeSpans),
         rowsPerSecond<telemetry::SpanBatch>(spans, seconds, &redactor, decodeSpans));
  report("spans+urls",
         rowsPerSecond<telemetry::SpanBatch>(plainUrlSpans, seconds, nullptr, decodeSpans),
         rowsPerSecond<telemetry::SpanBatch>(plainUrlSpans, seconds, &redactor, decodeSpans));
  report("spans+fileurls",
         rowsPerSecond<telemetry::SpanBatch>(fileUrlSpans, seconds, nullptr, decodeSpans),
         rowsPerSecond<telemetry::SpanBatch>(fileUrlSpans, seconds, &redactor, decodeSpans));
  return 0;
}
