#include "receivers/otlp/http_receiver.h"

#include <functional>
#include <optional>

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

// An error answer: google.rpc.Status in the request's encoding, the HTTP status from the one
// table (common/status.h) unless the caller decides it (401).
http::Response statusResponse(Encoding encoding, const Status& status, int httpStatus = 0) {
  http::Response r;
  r.status = httpStatus != 0 ? httpStatus : httpStatusCode(status.code());
  r.contentType = contentTypeOf(encoding);
  r.body = otlp::encodeStatus(encoding, grpcStatusCode(status.code()), status.message());
  if (r.status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

Encoding encodingOf(std::string_view contentType) {
  return mediaTypeIs(contentType, "application/json") ? Encoding::kJson : Encoding::kProtobuf;
}

std::optional<otlp::Signal> signalOf(std::string_view path) {
  if (path == "/v1/logs") return otlp::Signal::kLogs;
  if (path == "/v1/traces") return otlp::Signal::kTraces;
  if (path == "/v1/metrics") return otlp::Signal::kMetrics;
  return std::nullopt;
}

// What a request admitted from its header holds until its records are queued: room in the
// routed queues and its body's share of the memory limit.
struct HeldBody final : http::Admission {
  pipeline::Admission queued;
  pipeline::MemoryLimiter::Reservation reservation;
};

}  // namespace

OtlpHttpReceiver::OtlpHttpReceiver(const OtlpHttpOptions& options, pipeline::Pipeline& pipeline)
    : options_(options), core_("otlp-http", "http", pipeline, options.limits) {}

http::AdmitResult OtlpHttpReceiver::admit(const http::RequestHead& head) {
  std::string_view path = head.target;
  path = path.substr(0, path.find('?'));
  const std::optional<otlp::Signal> signal = signalOf(path);
  // Other paths and methods are answered by handle(); nothing to reserve for them.
  if (!signal || head.method != "POST") return std::unique_ptr<http::Admission>();
  // A full queue: refused before the body is read (or, with Expect: 100-continue, sent).
  auto held = std::make_unique<HeldBody>();
  auto queued = core_.admit(*signal, head.contentLength.value_or(0));
  if (!queued.isOk()) return statusResponse(encodingOf(head.contentType), queued.status());
  held->queued = std::move(queued.value());
  if (options_.memoryLimiter != nullptr) {
    auto admitted =
        options_.memoryLimiter->admit(head.contentLength.value_or(0), core_.memoryRefused());
    if (!admitted.isOk()) {
      core_.countRefused(*signal);
      return statusResponse(encodingOf(head.contentType), admitted.status());
    }
    held->reservation = std::move(admitted.value());
  }
  return std::unique_ptr<http::Admission>(std::move(held));
}

void OtlpHttpReceiver::handle(http::Request&& request, http::Respond respond) {
  const std::optional<otlp::Signal> signal = signalOf(request.path());
  if (!signal) {
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
    core_.countUnauthenticated();
    auto r = statusResponse(encodingOf(request.header("content-type")),
                            Status(StatusCode::kPermissionDenied,
                                   "this receiver requires the ingestion key: send "
                                   "Authorization: Bearer <key>"),
                            401);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    respond(std::move(r));
    return;
  }
  ingest(std::move(request), std::move(respond), *signal);
}

void OtlpHttpReceiver::ingest(http::Request&& request, http::Respond respond, otlp::Signal signal) {
  const std::string_view contentType = request.header("content-type");
  Encoding encoding;
  if (mediaTypeIs(contentType, "application/x-protobuf")) {
    encoding = Encoding::kProtobuf;
  } else if (mediaTypeIs(contentType, "application/json")) {
    encoding = Encoding::kJson;
  } else {
    core_.countInvalid(signal);
    respond(http::textResponse(
        415, "unsupported media type: send application/x-protobuf or application/json\n"));
    return;
  }

  // The body counts against the memory limit until its batch is in the pipeline (whose pending
  // bytes the limiter counts from then on).
  pipeline::MemoryLimiter::Reservation held;
  pipeline::Admission queued;
  if (request.admission != nullptr) {
    // Admitted from its header (admit()): a chunked body, or one longer than announced, is
    // counted in full now.
    auto& admitted = static_cast<HeldBody&>(*request.admission);
    queued = std::move(admitted.queued);
    held = std::move(admitted.reservation);
    if (options_.memoryLimiter != nullptr && request.body.size() > held.bytes()) {
      held.grow(request.body.size() - held.bytes());
    }
  } else if (options_.memoryLimiter != nullptr) {
    auto admitted = options_.memoryLimiter->admit(request.body.size(), core_.memoryRefused());
    if (!admitted.isOk()) {
      core_.countRefused(signal);
      respond(statusResponse(encoding, admitted.status()));
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
      core_.countInvalid(signal);
      respond(statusResponse(encoding, s));
      return;
    }
    body = inflated;
    held.grow(inflated.size());
  } else if (!contentEncoding.empty() && !mediaTypeIs(contentEncoding, "identity")) {
    core_.countInvalid(signal);
    respond(statusResponse(encoding, Status(StatusCode::kUnsupported,
                                            "unsupported Content-Encoding: use gzip or identity")));
    return;
  } else if (body.size() > options_.maxBodyBytes) {
    core_.countInvalid(signal);
    respond(statusResponse(encoding,
                           resourceExhausted("the body exceeds the limit of " +
                                             std::to_string(options_.maxBodyBytes) + " bytes")));
    return;
  }

  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  core_.ingest(
      signal, encoding, bytes,
      [respond = std::move(respond), signal, encoding](ExportResult result) {
        if (!result.status.isOk()) {
          respond(statusResponse(encoding, result.status));
          return;
        }
        http::Response r;
        r.status = 200;
        r.contentType = contentTypeOf(encoding);
        r.body = otlp::encodeExportResponse(signal, encoding, result.rejected, result.message);
        respond(std::move(r));
      },
      std::move(queued));
}

}  // namespace stackhouse::receivers
