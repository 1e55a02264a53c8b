#include "sinks/support/redaction_corpus.h"

#include <chrono>
#include <stdexcept>
#include <utility>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/decode.h"
#include "processors/redaction/redactor.h"

namespace stackhouse::sinks::testing {
namespace {

namespace pbcommon = opentelemetry::proto::common::v1;
using KeyValues = google::protobuf::RepeatedPtrField<pbcommon::KeyValue>;

struct Secret {
  const char* text;
  const char* needle;
};

// The same samples as tests/e2e/redaction.test.mjs.
constexpr Secret kSecrets[] = {
    {"Authorization: Bearer abcdef0123456789abcdefXYZ", "abcdef0123456789abcdefXYZ"},
    {"jwt "
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "dozjgNryP4J3jVmNHl0w5N"},
    {"key AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"},
    {"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
     "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"},
    {"Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"},
    {"Server=db;User Id=app;Password=Hunter2Secret;", "Hunter2Secret"},
    {"mail jane.doe@example.com", "jane.doe@example.com"},
    {"card 4111 1111 1111 1111", "4111 1111 1111 1111"},
    {"fetch https://bob:pw123xyz@files.example.com/x", "pw123xyz"},
    {"GET https://files.example.com/doc?name=acme-contract-q3", "acme-contract-q3"},
    {"GET https://files.example-customer.com/Customer_Q3_financials_CONFIDENTIAL.pdf?sig=s1g",
     "Customer_Q3_financials_CONFIDENTIAL"},
};

const std::pair<const char*, const char*> kKeyed[] = {
    {"gen_ai.prompt", "summarise the confidential XYZZY-DOC"},
    {"http.request.header.authorization", "Token plugh-credential"},
    {"db.password", "plover-pass"},
    {"document.content", "page one of the FROTZ report"},
};
constexpr const char* kFilePath = "/srv/customers/acme-corp/invoice-0042.pdf";
constexpr const char* kBenign = "GET /healthz 200 3ms 123e4567-e89b-12d3-a456-426614174000";

std::string sensitiveText() {
  std::string text;
  for (const Secret& s : kSecrets) {
    if (!text.empty()) text += " | ";
    text += s.text;
  }
  return text;
}

void add(KeyValues* kvs, const std::string& key, const std::string& value) {
  auto* kv = kvs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

void sensitiveAttrs(KeyValues* kvs, const std::string& prefix) {
  add(kvs, prefix + ".note", sensitiveText());
  add(kvs, prefix + ".benign", kBenign);
  add(kvs, "file.path", kFilePath);
  for (const auto& [k, v] : kKeyed) add(kvs, k, v);
}

template <typename ResourceX>
void resourceAndScope(ResourceX* r, pbcommon::InstrumentationScope* scope) {
  add(r->mutable_resource()->mutable_attributes(), "service.name", "checkout");
  sensitiveAttrs(r->mutable_resource()->mutable_attributes(), "res");
  scope->set_name("redaction-corpus");
  scope->set_version("1.0.0");
  sensitiveAttrs(scope->mutable_attributes(), "scope");
}

uint64_t nowNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void check(const Status& st) {
  if (!st.isOk()) throw std::runtime_error("redaction corpus: " + st.toString());
}

}  // namespace

const std::vector<std::string>& redactionNeedles() {
  static const std::vector<std::string> needles = [] {
    std::vector<std::string> n;
    for (const Secret& s : kSecrets) n.emplace_back(s.needle);
    for (const char* k : {"XYZZY-DOC", "plugh-credential", "plover-pass", "FROTZ", "acme-corp",
                          "invoice-0042", "customers"}) {
      n.emplace_back(k);
    }
    return n;
  }();
  return needles;
}

std::vector<std::string> needlesIn(std::string_view text) {
  std::vector<std::string> found;
  for (const std::string& n : redactionNeedles()) {
    if (text.find(n) != std::string_view::npos) found.push_back(n);
  }
  return found;
}

RedactedBatches redactedCorpus(bool redact) {
  const uint64_t now = nowNanos();
  RedactedBatches out;
  otlp::DecodeStats stats;

  opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest logs;
  auto* rl = logs.add_resource_logs();
  auto* sl = rl->add_scope_logs();
  resourceAndScope(rl, sl->mutable_scope());
  auto* record = sl->add_log_records();
  record->set_time_unix_nano(now);
  record->set_severity_text("INFO");
  record->set_severity_number(opentelemetry::proto::logs::v1::SEVERITY_NUMBER_INFO);
  record->mutable_body()->set_string_value(sensitiveText() + " " + kBenign);
  sensitiveAttrs(record->mutable_attributes(), "log");
  check(otlp::decodeLogs(bytesOf(logs.SerializeAsString()), otlp::Encoding::kProtobuf, out.logs,
                         stats));

  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest traces;
  auto* rs = traces.add_resource_spans();
  auto* ss = rs->add_scope_spans();
  resourceAndScope(rs, ss->mutable_scope());
  auto* span = ss->add_spans();
  span->set_trace_id(
      std::string("\x5b\x8e\xff\xf7\x98\x03\x81\x03\xd2\x69\xb6\x33\x81\x3f\xc6\x0c", 16));
  span->set_span_id(std::string("\xee\xe1\x9b\x7e\xc3\xc1\xb1\x74", 8));
  span->set_name(
      "GET https://files.example-customer.com/Customer_Q3_financials_CONFIDENTIAL.pdf?name="
      "acme-contract-q3");
  span->set_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER);
  span->set_start_time_unix_nano(now);
  span->set_end_time_unix_nano(now + 1'000'000);
  sensitiveAttrs(span->mutable_attributes(), "span");
  add(span->mutable_attributes(), "url.full",
      "https://bob:pw123xyz@files.example.com/doc/Customer_Q3_financials_CONFIDENTIAL.pdf?name="
      "acme-contract-q3&page=2");
  auto* event = span->add_events();
  event->set_time_unix_nano(now + 10);
  event->set_name("exception");
  sensitiveAttrs(event->mutable_attributes(), "event");
  auto* link = span->add_links();
  link->set_trace_id(std::string(16, '\x0a'));
  link->set_span_id(std::string(8, '\x0b'));
  sensitiveAttrs(link->mutable_attributes(), "link");
  span->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  span->mutable_status()->set_message(sensitiveText());
  check(otlp::decodeSpans(bytesOf(traces.SerializeAsString()), otlp::Encoding::kProtobuf, out.spans,
                          stats));

  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest metrics;
  auto* rm = metrics.add_resource_metrics();
  auto* sm = rm->add_scope_metrics();
  resourceAndScope(rm, sm->mutable_scope());
  auto* gauge = sm->add_metrics();
  gauge->set_name("queue.depth");
  auto* gp = gauge->mutable_gauge()->add_data_points();
  gp->set_time_unix_nano(now);
  gp->set_as_double(3);
  sensitiveAttrs(gp->mutable_attributes(), "point");
  auto* sum = sm->add_metrics();
  sum->set_name("requests");
  sum->mutable_sum()->set_is_monotonic(true);
  sum->mutable_sum()->set_aggregation_temporality(
      opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_DELTA);
  auto* sp = sum->mutable_sum()->add_data_points();
  sp->set_start_time_unix_nano(now - 10'000'000'000);
  sp->set_time_unix_nano(now);
  sp->set_as_int(7);
  sensitiveAttrs(sp->mutable_attributes(), "point");
  auto* histogram = sm->add_metrics();
  histogram->set_name("latency");
  histogram->mutable_histogram()->set_aggregation_temporality(
      opentelemetry::proto::metrics::v1::AGGREGATION_TEMPORALITY_DELTA);
  auto* hp = histogram->mutable_histogram()->add_data_points();
  hp->set_start_time_unix_nano(now - 10'000'000'000);
  hp->set_time_unix_nano(now);
  hp->set_count(3);
  hp->set_sum(0.6);
  hp->add_bucket_counts(1);
  hp->add_bucket_counts(2);
  hp->add_explicit_bounds(0.25);
  sensitiveAttrs(hp->mutable_attributes(), "point");
  auto* summary = sm->add_metrics();
  summary->set_name("sizes");
  auto* qp = summary->mutable_summary()->add_data_points();
  qp->set_time_unix_nano(now);
  qp->set_count(2);
  qp->set_sum(5);
  sensitiveAttrs(qp->mutable_attributes(), "point");
  check(otlp::decodeMetrics(bytesOf(metrics.SerializeAsString()), otlp::Encoding::kProtobuf,
                            out.metrics, stats));

  if (!redact) return out;
  redaction::Policy policy = redaction::defaultPolicy();
  policy.hmacKey = "sink-tests-hmac-key";
  redaction::Redactor redactor(std::move(policy));
  redactor.process(out.logs);
  redactor.process(out.spans);
  redactor.process(out.metrics);
  return out;
}

}  // namespace stackhouse::sinks::testing
