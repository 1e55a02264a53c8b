// Decode throughput of realistic OTLP requests, protobuf and JSON, into reused batches.
//
// Scale: one request of 500 records per iteration. Logs carry 10 attributes and ~200-byte string
// bodies under a resource of 8 attributes; spans carry 10 attributes, every fifth one an event,
// every tenth a link; metrics are 500 gauge/sum/histogram points with 4 attributes. Reported:
// records/s (items_per_second) and input MB/s (bytes_per_second).
//
//   build-otlp/tests/otlp/otlp_decode_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <random>
#include <span>
#include <string>

#include "otlp/decode.h"
#include "otlp_test_support.h"
#include "telemetry/batch_ops.h"

namespace stackhouse::otlp {
namespace {

namespace pbc = testing::pbcommon;
constexpr int kRecords = 500;

void setString(pbc::KeyValue* kv, const char* key, std::string value) {
  kv->set_key(key);
  kv->mutable_value()->set_string_value(std::move(value));
}

void realisticResource(opentelemetry::proto::resource::v1::Resource* r) {
  setString(r->add_attributes(), "service.name", "checkout");
  setString(r->add_attributes(), "service.version", "2.14.1");
  setString(r->add_attributes(), "service.namespace", "shop");
  setString(r->add_attributes(), "host.name", "ip-10-0-12-34.eu-west-1.compute.internal");
  setString(r->add_attributes(), "k8s.pod.name", "checkout-7d9f8c6b5-x2k4q");
  setString(r->add_attributes(), "k8s.namespace.name", "production");
  setString(r->add_attributes(), "telemetry.sdk.language", "go");
  setString(r->add_attributes(), "telemetry.sdk.version", "1.28.0");
}

std::string randomId(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Ten attributes: strings, ints, a double and a bool, as instrumentation libraries emit them.
void realisticAttributes(google::protobuf::RepeatedPtrField<pbc::KeyValue>* a, std::mt19937_64& rng,
                         int i) {
  setString(a->Add(), "http.request.method", i % 3 == 0 ? "POST" : "GET");
  setString(a->Add(), "url.path", "/api/v2/cart/" + std::to_string(rng() % 100000) + "/items");
  setString(a->Add(), "user_agent.original",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36");
  setString(a->Add(), "client.address",
            "10.0." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256));
  setString(a->Add(), "code.function", "github.com/shop/checkout/internal/cart.(*Service).Add");
  auto* status = a->Add();
  status->set_key("http.response.status_code");
  status->mutable_value()->set_int_value(i % 17 == 0 ? 500 : 200);
  auto* size = a->Add();
  size->set_key("http.response.body.size");
  size->mutable_value()->set_int_value(static_cast<int64_t>(rng() % 20000));
  auto* duration = a->Add();
  duration->set_key("duration_ms");
  duration->mutable_value()->set_double_value(static_cast<double>(rng() % 100000) / 100.0);
  auto* cached = a->Add();
  cached->set_key("cache.hit");
  cached->mutable_value()->set_bool_value(rng() % 2 == 0);
  setString(a->Add(), "session.id", std::to_string(rng()));
}

std::string body200(std::mt19937_64& rng) {
  std::string s = "order " + std::to_string(rng() % 1000000) + " accepted for customer " +
                  std::to_string(rng() % 100000) +
                  ": 3 items, total 129.90 EUR, payment authorised by provider adyen, "
                  "shipping to DE-10115 with carrier dhl, estimated delivery in 2 business days";
  s.resize(200, '.');
  return s;
}

testing::LogsRequest makeLogs() {
  std::mt19937_64 rng(1);
  testing::LogsRequest req;
  auto* rl = req.add_resource_logs();
  realisticResource(rl->mutable_resource());
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("github.com/shop/checkout/internal/log");
  sl->mutable_scope()->set_version("1.0.0");
  for (int i = 0; i < kRecords; ++i) {
    auto* lr = sl->add_log_records();
    lr->set_time_unix_nano(1700000000000000000ull + static_cast<uint64_t>(i) * 1000003);
    lr->set_observed_time_unix_nano(lr->time_unix_nano() + 5000);
    lr->set_severity_number(testing::pblogs::SEVERITY_NUMBER_INFO);
    lr->set_severity_text("INFO");
    lr->mutable_body()->set_string_value(body200(rng));
    realisticAttributes(lr->mutable_attributes(), rng, i);
    lr->set_trace_id(randomId(rng, 16));
    lr->set_span_id(randomId(rng, 8));
    lr->set_flags(1);
  }
  return req;
}

testing::TraceRequest makeSpans() {
  std::mt19937_64 rng(2);
  testing::TraceRequest req;
  auto* rs = req.add_resource_spans();
  realisticResource(rs->mutable_resource());
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp");
  ss->mutable_scope()->set_version("0.53.0");
  const std::string traceId = randomId(rng, 16);
  for (int i = 0; i < kRecords; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(traceId);
    s->set_span_id(randomId(rng, 8));
    s->set_parent_span_id(randomId(rng, 8));
    s->set_name(i % 2 == 0 ? "GET /api/v2/cart/{id}/items" : "SELECT shop.cart_items");
    s->set_kind(i % 2 == 0 ? testing::pbtrace::Span::SPAN_KIND_SERVER
                           : testing::pbtrace::Span::SPAN_KIND_CLIENT);
    s->set_start_time_unix_nano(1700000000000000000ull + static_cast<uint64_t>(i) * 1000003);
    s->set_end_time_unix_nano(s->start_time_unix_nano() + rng() % 50000000);
    realisticAttributes(s->mutable_attributes(), rng, i);
    if (i % 5 == 0) {
      auto* e = s->add_events();
      e->set_time_unix_nano(s->start_time_unix_nano() + 1000);
      e->set_name("exception");
      setString(e->add_attributes(), "exception.type", "context.deadlineExceededError");
      setString(e->add_attributes(), "exception.message", "context deadline exceeded");
    }
    if (i % 10 == 0) {
      auto* l = s->add_links();
      l->set_trace_id(randomId(rng, 16));
      l->set_span_id(randomId(rng, 8));
    }
    s->mutable_status()->set_code(i % 17 == 0 ? testing::pbtrace::Status::STATUS_CODE_ERROR
                                              : testing::pbtrace::Status::STATUS_CODE_UNSET);
  }
  return req;
}

testing::MetricsRequest makeMetrics() {
  std::mt19937_64 rng(3);
  testing::MetricsRequest req;
  auto* rm = req.add_resource_metrics();
  realisticResource(rm->mutable_resource());
  auto* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name("go.opentelemetry.io/contrib/instrumentation/runtime");
  auto attrs = [&](google::protobuf::RepeatedPtrField<pbc::KeyValue>* a, int i) {
    setString(a->Add(), "http.request.method", i % 2 == 0 ? "GET" : "POST");
    setString(a->Add(), "http.route", "/api/v2/cart/{id}/items");
    setString(a->Add(), "server.address", "checkout.production.svc");
    auto* code = a->Add();
    code->set_key("http.response.status_code");
    code->mutable_value()->set_int_value(200 + i % 5);
  };
  for (int m = 0; m < 10; ++m) {
    auto* metric = sm->add_metrics();
    metric->set_name("http.server.metric." + std::to_string(m));
    metric->set_unit("ms");
    for (int p = 0; p < kRecords / 10; ++p) {
      const uint64_t t = 1700000000000000000ull + static_cast<uint64_t>(p) * 1000000000;
      if (m % 3 == 0) {
        auto* dp = metric->mutable_gauge()->add_data_points();
        attrs(dp->mutable_attributes(), p);
        dp->set_time_unix_nano(t);
        dp->set_as_double(static_cast<double>(rng() % 10000) / 10);
      } else if (m % 3 == 1) {
        auto* sum = metric->mutable_sum();
        sum->set_is_monotonic(true);
        sum->set_aggregation_temporality(testing::pbmetrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        auto* dp = sum->add_data_points();
        attrs(dp->mutable_attributes(), p);
        dp->set_start_time_unix_nano(1699990000000000000ull);
        dp->set_time_unix_nano(t);
        dp->set_as_int(static_cast<int64_t>(rng() % 1000000));
      } else {
        auto* h = metric->mutable_histogram();
        h->set_aggregation_temporality(testing::pbmetrics::AGGREGATION_TEMPORALITY_DELTA);
        auto* dp = h->add_data_points();
        attrs(dp->mutable_attributes(), p);
        dp->set_time_unix_nano(t);
        dp->set_count(100);
        dp->set_sum(1234.5);
        for (double b : {5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0}) {
          dp->add_explicit_bounds(b);
        }
        for (int b = 0; b < 9; ++b) dp->add_bucket_counts(rng() % 20);
        dp->set_min(0.5);
        dp->set_max(999.0);
      }
    }
  }
  return req;
}

template <typename Batch, typename Decode>
void runDecode(benchmark::State& state, const std::string& body, Decode&& decode) {
  Decoder decoder;
  Batch batch;
  DecodeStats stats;
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  size_t rows = 0;
  for (auto _ : state) {
    if constexpr (std::is_same_v<Batch, telemetry::MetricBatch>) {
      batch.forEachKind([](auto& kind) { telemetry::clearBatch(kind); });
    } else {
      telemetry::clearBatch(batch);
    }
    const Status st = decode(decoder, bytes, batch, stats);
    if (!st.isOk()) {
      state.SkipWithError(st.message().c_str());
      return;
    }
    rows = batch.rows();
    benchmark::DoNotOptimize(batch);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(rows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
  state.counters["request_bytes"] = static_cast<double>(body.size());
}

template <typename Request>
std::string encode(const Request& request, Encoding e) {
  return e == Encoding::kJson ? testing::toOtlpJson(request) : request.SerializeAsString();
}

void BM_Logs(benchmark::State& state, Encoding e) {
  runDecode<telemetry::LogBatch>(
      state, encode(makeLogs(), e),
      [e](Decoder& d, auto b, auto& batch, auto& s) { return d.decodeLogs(b, e, batch, s); });
}
void BM_Spans(benchmark::State& state, Encoding e) {
  runDecode<telemetry::SpanBatch>(
      state, encode(makeSpans(), e),
      [e](Decoder& d, auto b, auto& batch, auto& s) { return d.decodeSpans(b, e, batch, s); });
}
void BM_Metrics(benchmark::State& state, Encoding e) {
  runDecode<telemetry::MetricBatch>(
      state, encode(makeMetrics(), e),
      [e](Decoder& d, auto b, auto& batch, auto& s) { return d.decodeMetrics(b, e, batch, s); });
}

BENCHMARK_CAPTURE(BM_Logs, protobuf, Encoding::kProtobuf);
BENCHMARK_CAPTURE(BM_Logs, json, Encoding::kJson);
BENCHMARK_CAPTURE(BM_Spans, protobuf, Encoding::kProtobuf);
BENCHMARK_CAPTURE(BM_Spans, json, Encoding::kJson);
BENCHMARK_CAPTURE(BM_Metrics, protobuf, Encoding::kProtobuf);
BENCHMARK_CAPTURE(BM_Metrics, json, Encoding::kJson);

}  // namespace
}  // namespace stackhouse::otlp

BENCHMARK_MAIN();
