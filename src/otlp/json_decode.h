// OTLP/JSON walkers over a simdjson DOM. Internal to stackhouse_otlp; the public entry points
// are in decode.h.
//
// Why the DOM rather than simdjson's on-demand API: OTLP/JSON objects may carry their fields in
// any order (a ResourceLogs' "resource" after its "scopeLogs"), duplicate keys must resolve to the
// last one, and values are visited more than once; DOM elements allow all of that cheaply, and the
// DOM parser checks the whole document (syntax, UTF-8, nesting depth) without recursion before we
// look at any of it. Its costs: integer literals past 64 bits need a second parse (they are
// widened to doubles, see parse()), and the number -0 reads as the integer 0.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "otlp/decode_context.h"
#include "otlp/value_renderer.h"
#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::otlp::detail {

class JsonDecoder {
 public:
  JsonDecoder();
  JsonDecoder(const JsonDecoder&) = delete;
  JsonDecoder& operator=(const JsonDecoder&) = delete;

  // Each returns false when the call fails (the error is in `ctx`); the caller rolls back.
  bool decodeLogs(DecodeContext& ctx, std::span<const uint8_t> body, telemetry::LogBatch& out);
  bool decodeSpans(DecodeContext& ctx, std::span<const uint8_t> body, telemetry::SpanBatch& out);
  bool decodeMetrics(DecodeContext& ctx, std::span<const uint8_t> body,
                     telemetry::MetricBatch& out);

  // Deepest JSON nesting the parser accepts: room for DecodeLimits::kMaxDepthCap AnyValue levels
  // (four JSON levels each) inside the request envelope.
  static constexpr size_t kMaxJsonDepth = 4 * DecodeLimits::kMaxDepthCap + 64;

  struct Scratch {
    std::vector<KvEntry<simdjson::dom::element>> entries;
    std::string bytes;  // a decoded bytesValue
    ResourceRow resource;
    ScopeRow scope;
    MetricRow metric;
  };

 private:
  // Parses `body` into the DOM; `*root` is then the document's root element.
  bool parse(DecodeContext& ctx, std::span<const uint8_t> body, simdjson::dom::element* root);
  bool parsePadded(const char* data, size_t size, simdjson::dom::element* root,
                   simdjson::error_code* error);
  // Gives back memory a very large request made the parser and buffers grow to.
  void shrinkAfter(size_t bodySize);

  simdjson::dom::parser parser_;
  std::unique_ptr<char[]> padded_;
  size_t paddedCapacity_ = 0;
  std::string sanitized_;  // the body with ill-formed UTF-8 replaced
  std::string widened_;    // the body with big integer literals made doubles
  Scratch scratch_;
};

}  // namespace stackhouse::otlp::detail
