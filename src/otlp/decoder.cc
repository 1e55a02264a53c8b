#include <array>

#include "otlp/decode.h"
#include "otlp/decode_context.h"
#include "otlp/json_decode.h"
#include "otlp/proto_decode.h"
#include "otlp/row_emit.h"
#include "telemetry/batch_ops.h"

namespace stackhouse::otlp {

struct Decoder::Impl {
  detail::ProtoScratch proto;
  detail::JsonDecoder json;
};

namespace {

using telemetry::LogBatch;
using telemetry::MetricBatch;
using telemetry::SpanBatch;

// Row counts before a call, to roll the batch back to.
using Rows = std::array<size_t, 5>;

Rows rowsOf(const LogBatch& b) { return {b.rows()}; }
Rows rowsOf(const SpanBatch& b) { return {b.rows()}; }
Rows rowsOf(const MetricBatch& m) {
  return {m.gauge.rows(), m.sum.rows(), m.histogram.rows(), m.expHistogram.rows(),
          m.summary.rows()};
}

void rollBack(LogBatch& b, const Rows& r) { telemetry::truncateBatch(b, r[0]); }
void rollBack(SpanBatch& b, const Rows& r) { telemetry::truncateBatch(b, r[0]); }
void rollBack(MetricBatch& m, const Rows& r) {
  telemetry::truncateBatch(m.gauge, r[0]);
  telemetry::truncateBatch(m.sum, r[1]);
  telemetry::truncateBatch(m.histogram, r[2]);
  telemetry::truncateBatch(m.expHistogram, r[3]);
  telemetry::truncateBatch(m.summary, r[4]);
}

size_t bytesOf(const LogBatch& b) { return telemetry::batchBytes(b); }
size_t bytesOf(const SpanBatch& b) { return telemetry::batchBytes(b); }
size_t bytesOf(const MetricBatch& m) { return detail::metricBatchBytes(m); }

// Runs one decode, restoring the batch and the stats when it fails.
template <typename Batch, typename Decode>
Status run(Encoding encoding, Batch& out, DecodeStats& stats, const DecodeLimits& limits,
           Decode&& decode) {
  const Rows rows = rowsOf(out);
  // A failed call leaves no trace in `stats`. The snapshot is taken with the rejection text moved
  // aside, so that it copies counters only (no allocation per call).
  const bool hadRejection = !stats.firstRejection.empty();
  std::string text = std::move(stats.firstRejection);
  const DecodeStats before = stats;
  stats.firstRejection = std::move(text);
  detail::DecodeContext ctx(limits, stats, encoding == Encoding::kJson ? "json" : "protobuf");
  ctx.setStartBytes(bytesOf(out));
  if (decode(ctx)) return Status::ok();
  rollBack(out, rows);
  text = std::move(stats.firstRejection);
  stats = before;
  if (hadRejection) stats.firstRejection = std::move(text);
  return ctx.error();
}

}  // namespace

Decoder::Decoder() : impl_(std::make_unique<Impl>()) {}
Decoder::~Decoder() = default;

Status Decoder::decodeLogs(std::span<const uint8_t> body, Encoding encoding, LogBatch& out,
                           DecodeStats& stats, const DecodeLimits& limits) {
  return run(encoding, out, stats, limits, [&](detail::DecodeContext& ctx) {
    if (encoding == Encoding::kJson) return impl_->json.decodeLogs(ctx, body, out);
    ctx.setBody(body.data());
    return detail::decodeLogsProto(ctx, impl_->proto, body, out);
  });
}

Status Decoder::decodeSpans(std::span<const uint8_t> body, Encoding encoding, SpanBatch& out,
                            DecodeStats& stats, const DecodeLimits& limits) {
  return run(encoding, out, stats, limits, [&](detail::DecodeContext& ctx) {
    if (encoding == Encoding::kJson) return impl_->json.decodeSpans(ctx, body, out);
    ctx.setBody(body.data());
    return detail::decodeSpansProto(ctx, impl_->proto, body, out);
  });
}

Status Decoder::decodeMetrics(std::span<const uint8_t> body, Encoding encoding, MetricBatch& out,
                              DecodeStats& stats, const DecodeLimits& limits) {
  return run(encoding, out, stats, limits, [&](detail::DecodeContext& ctx) {
    if (encoding == Encoding::kJson) return impl_->json.decodeMetrics(ctx, body, out);
    ctx.setBody(body.data());
    return detail::decodeMetricsProto(ctx, impl_->proto, body, out);
  });
}

namespace {
Decoder& threadDecoder() {
  thread_local Decoder decoder;
  return decoder;
}
}  // namespace

Status decodeLogs(std::span<const uint8_t> body, Encoding encoding, LogBatch& out,
                  DecodeStats& stats, const DecodeLimits& limits) {
  return threadDecoder().decodeLogs(body, encoding, out, stats, limits);
}

Status decodeSpans(std::span<const uint8_t> body, Encoding encoding, SpanBatch& out,
                   DecodeStats& stats, const DecodeLimits& limits) {
  return threadDecoder().decodeSpans(body, encoding, out, stats, limits);
}

Status decodeMetrics(std::span<const uint8_t> body, Encoding encoding, MetricBatch& out,
                     DecodeStats& stats, const DecodeLimits& limits) {
  return threadDecoder().decodeMetrics(body, encoding, out, stats, limits);
}

}  // namespace stackhouse::otlp
