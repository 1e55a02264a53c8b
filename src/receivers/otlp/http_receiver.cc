#include "receivers/otlp/http_receiver.h"

#include <functional>

#include "common/log.h"
#include "otlp/encode.h"
#include "receivers/decompress.h"
#include "receivers/otlp/ingestion_key.h"

namespace stackhouse::receivers {

namespace {

using otlp::Encoding;

bool mediaTypeIs(std::string_view contentType, std::string_view expected) {
  // "application/json; charset=utf-8" -> "application/json", case-insensitively.
  const auto semi = contentType.find(';');
  std::string_view type = contentType.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != expected.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != expected[i]) return false;
  }
  return true;
}

std::string_view contentTypeOf(Encoding e) {
  return e == Encoding::kJson ? "application/json" : "application/x-protobuf";
}

http::Response statusResponse(int httpStatus, Encoding encoding, const Status& status) {
  http::Response r;
  r.status = httpStatus;
  r.contentType = contentTypeOf(encoding);
  r.body = otlp::encodeStatus(encoding, grpcStatusCode(status.code()), status.message());
  if (httpStatus == 503 || httpStatus == 429) r.headers.emplace_back("Retry-After", "1");
  return r;
}

// The memory reservation of a request admitted from its header.
struct HeldBody final : http::Admission {
  explicit HeldBody(pipeline::MemoryLimiter::Reservation r) : reservation(std::move(r)) {}
  pipeline::MemoryLimiter::Reservation reservation;
};

}  // namespace

OtlpHttpReceiver::OtlpHttpReceiver(const OtlpHttpOptions& options, pipeline::Pipeline& pipeline)
    : options_(options),
      pipeline_(pipeline),
      logs_(makeMetrics("logs")),
      traces_(makeMetrics("traces")),
      metrics_(makeMetrics("metrics")),
      invalidUtf8_(metrics().counter("stackhouse_receiver_invalid_utf8_total",
                                     "Ill-formed UTF-8 bytes replaced with U+FFFD.",
                                     {{"receiver", "otlp-http"}})),
      memoryRefused_(pipeline::MemoryLimiter::refusedCounter("otlp-http")),
      unauthenticated_(metrics().counter(
          "stackhouse_otlp_unauthenticated_total",
          "OTLP requests refused for a missing or wrong ingestion key.", {{"transport", "http"}})),
      limitCounters_("otlp-http") {}

OtlpHttpReceiver::SignalMetrics OtlpHttpReceiver::makeMetrics(std::string_view signal) {
  auto requests = [&](std::string_view outcome) {
    return &metrics().counter("stackhouse_receiver_requests_total", "OTLP requests by outcome.",
                              {{"receiver", "otlp-http"},
                               {"signal", std::string(signal)},
                               {"outcome", std::string(outcome)}});
  };
  auto records = [&](std::string_view outcome) {
    return &metrics().counter("stackhouse_receiver_records_total",
                              "Log records, spans and metric points by outcome.",
                              {{"receiver", "otlp-http"},
                               {"signal", std::string(signal)},
                               {"outcome", std::string(outcome)}});
  };
  return {requests("accepted"), requests("invalid"), requests("refused"),
          requests("failed"),   records("accepted"), records("rejected")};
}

OtlpHttpReceiver::SignalMetrics* OtlpHttpReceiver::metricsFor(std::string_view path) {
  if (path == "/v1/logs") return &logs_;
  if (path == "/v1/traces") return &traces_;
  if (path == "/v1/metrics") return &metrics_;
  return nullptr;
}

http::AdmitResult OtlpHttpReceiver::admit(const http::RequestHead& head) {
  std::string_view path = head.target;
  path = path.substr(0, path.find('?'));
  SignalMetrics* m = metricsFor(path);
  // Other paths and methods are answered by handle(); nothing to reserve for them.
  if (options_.memoryLimiter == nullptr || m == nullptr || head.method != "POST") {
    return std::unique_ptr<http::Admission>();
  }
  auto admitted = options_.memoryLimiter->admit(head.contentLength.value_or(0), memoryRefused_);
  if (!admitted.isOk()) {
    m->refused->inc();
    const Encoding encoding =
        mediaTypeIs(head.contentType, "application/json") ? Encoding::kJson : Encoding::kProtobuf;
    return statusResponse(503, encoding, admitted.status());
  }
  return std::unique_ptr<http::Admission>(std::make_unique<HeldBody>(std::move(admitted.value())));
}

void OtlpHttpReceiver::handle(http::Request&& request, http::Respond respond) {
  const std::string_view path = request.path();
  SignalMetrics* m = metricsFor(path);
  if (m == nullptr) {
    respond(http::textResponse(
        404, "not found: OTLP/HTTP serves /v1/logs, /v1/traces and /v1/metrics\n"));
    return;
  }
  if (request.method != "POST") {
    auto r = http::textResponse(405, "method not allowed: use POST\n");
    r.headers.emplace_back("Allow", "POST");
    respond(std::move(r));
    return;
  }
  if (!ingestionKeyAccepted(options_.ingestionKey, request.header("authorization"))) {
    unauthenticated_.inc();
    const Encoding encoding = mediaTypeIs(request.header("content-type"), "application/json")
                                  ? Encoding::kJson
                                  : Encoding::kProtobuf;
    auto r = statusResponse(401, encoding,
                            Status(StatusCode::kPermissionDenied,
                                   "this receiver requires the ingestion key: send "
                                   "Authorization: Bearer <key>"));
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    respond(std::move(r));
    return;
  }
  if (m == &logs_) {
    ingest(std::move(request), std::move(respond), otlp::Signal::kLogs, pipeline_.logPool(), *m,
           [](auto body, Encoding e, auto& batch, auto& stats, const auto& limits) {
             return otlp::decodeLogs(body, e, batch, stats, limits);
           });
  } else if (m == &traces_) {
    ingest(std::move(request), std::move(respond), otlp::Signal::kTraces, pipeline_.spanPool(), *m,
           [](auto body, Encoding e, auto& batch, auto& stats, const auto& limits) {
             return otlp::decodeSpans(body, e, batch, stats, limits);
           });
  } else {
    ingest(std::move(request), std::move(respond), otlp::Signal::kMetrics, pipeline_.metricPool(),
           *m, [](auto body, Encoding e, auto& batch, auto& stats, const auto& limits) {
             return otlp::decodeMetrics(body, e, batch, stats, limits);
           });
  }
}

template <typename B, typename Decode>
void OtlpHttpReceiver::ingest(http::Request&& request, http::Respond respond, otlp::Signal signal,
                              pipeline::BatchPool<B>& pool, SignalMetrics& m, Decode&& decode) {
  const std::string_view contentType = request.header("content-type");
  Encoding encoding;
  if (mediaTypeIs(contentType, "application/x-protobuf")) {
    encoding = Encoding::kProtobuf;
  } else if (mediaTypeIs(contentType, "application/json")) {
    encoding = Encoding::kJson;
  } else {
    m.invalid->inc();
    respond(http::textResponse(
        415, "unsupported media type: send application/x-protobuf or application/json\n"));
    return;
  }

  // The body counts against the memory limit until its batch is in the pipeline (whose pending
  // bytes the limiter counts from then on).
  pipeline::MemoryLimiter::Reservation held;
  if (request.admission != nullptr) {
    // Admitted from its header (admit()): a chunked body, or one longer than announced, is
    // counted in full now.
    held = std::move(static_cast<HeldBody&>(*request.admission).reservation);
    if (request.body.size() > held.bytes()) held.grow(request.body.size() - held.bytes());
  } else if (options_.memoryLimiter != nullptr) {
    auto admitted = options_.memoryLimiter->admit(request.body.size(), memoryRefused_);
    if (!admitted.isOk()) {
      m.refused->inc();
      respond(statusResponse(503, encoding, admitted.status()));
      return;
    }
    held = std::move(admitted.value());
  }

  // The body as received, or inflated. Identity bodies were already limited by the server.
  std::string inflated;
  std::string_view body = request.body;
  const std::string_view contentEncoding = request.header("content-encoding");
  if (mediaTypeIs(contentEncoding, "gzip")) {
    const Status s = gunzip(request.body, options_.maxBodyBytes, inflated);
    if (!s.isOk()) {
      m.invalid->inc();
      respond(statusResponse(s.code() == StatusCode::kResourceExhausted ? 413 : 400, encoding, s));
      return;
    }
    body = inflated;
    held.grow(inflated.size());
  } else if (!contentEncoding.empty() && !mediaTypeIs(contentEncoding, "identity")) {
    m.invalid->inc();
    respond(statusResponse(
        415, encoding,
        Status(StatusCode::kUnsupported, "unsupported Content-Encoding: use gzip or identity")));
    return;
  } else if (body.size() > options_.maxBodyBytes) {
    m.invalid->inc();
    respond(statusResponse(413, encoding,
                           resourceExhausted("the body exceeds the limit of " +
                                             std::to_string(options_.maxBodyBytes) + " bytes")));
    return;
  }

  auto batch = pool.acquire();
  otlp::DecodeStats stats;
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  const Status decoded = decode(bytes, encoding, *batch, stats, options_.limits);
  if (!decoded.isOk()) {
    m.invalid->inc();
    log::debug("OTLP request refused",
               log::Fields().add("signal", request.path()).add("error", decoded.message()));
    respond(statusResponse(decoded.code() == StatusCode::kResourceExhausted ? 413 : 400, encoding,
                           decoded));
    return;
  }
  if (stats.invalidUtf8 > 0) invalidUtf8_.inc(stats.invalidUtf8);
  limitCounters_.count(stats);
  countExpired(signal, stats.expired);
  m.recordsRejected->inc(stats.rejected);

  // The answer once the rows are durable (or at once when there are none). `refused`: the
  // pipeline did not take the request at all (full); the client retries either way.
  auto answer = std::make_shared<std::function<void(const Status&, bool)>>(
      [respond = std::move(respond), signal, encoding, rejected = stats.rejected,
       message = otlp::partialSuccessMessage(stats, options_.limits), accepted = stats.accepted,
       &m](const Status& outcome, bool refused) {
        if (!outcome.isOk() && outcome.code() == StatusCode::kInvalidArgument) {
          // The store refused this request's rows for good (see Pipeline): retrying is futile.
          m.invalid->inc();
          respond(statusResponse(400, encoding, outcome));
          return;
        }
        if (!outcome.isOk()) {
          (refused ? m.refused : m.failed)->inc();
          respond(statusResponse(503, encoding, outcome));
          return;
        }
        m.accepted->inc();
        m.recordsAccepted->inc(accepted);
        http::Response r;
        r.status = 200;
        r.contentType = contentTypeOf(encoding);
        r.body = otlp::encodeExportResponse(signal, encoding, rejected, message);
        respond(std::move(r));
      });
  if (stats.accepted == 0) {
    (*answer)(Status::ok(), false);
    return;
  }
  const pipeline::RequestKey key = pipeline_.keyOf(static_cast<uint8_t>(signal), bytes);
  const Status submitted =
      pipeline_.submit(std::move(batch), key, [answer](const Status& s) { (*answer)(s, false); });
  if (!submitted.isOk()) (*answer)(submitted, true);
}

}  // namespace stackhouse::receivers
