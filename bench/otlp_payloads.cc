#include "otlp_payloads.h"

#include <chrono>
#include <cstring>
#include <random>

namespace stackhouse::bench {

namespace {

class Writer {
 public:
  std::string out;

  void varint(uint64_t v) {
    while (v >= 0x80) {
      out += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v);
  }
  void tag(int field, int wire) {
    varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire));
  }
  void bytes(int field, std::string_view s) {
    tag(field, 2);
    varint(s.size());
    out += s;
  }
  void uint(int field, uint64_t v) {
    tag(field, 0);
    varint(v);
  }
  void fixed64(int field, uint64_t v) {
    tag(field, 1);
    char b[8];
    std::memcpy(b, &v, 8);
    out.append(b, 8);
  }
  void fixed32(int field, uint32_t v) {
    tag(field, 5);
    char b[4];
    std::memcpy(b, &v, 4);
    out.append(b, 4);
  }
};

std::string stringValue(std::string_view s) {
  Writer w;
  w.bytes(1, s);
  return w.out;
}
std::string intValue(int64_t v) {
  Writer w;
  w.uint(3, static_cast<uint64_t>(v));
  return w.out;
}
std::string keyValue(std::string_view key, const std::string& anyValue) {
  Writer w;
  w.bytes(1, key);
  w.bytes(2, anyValue);
  return w.out;
}

std::string randomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string resource(std::string_view service) {
  Writer w;
  w.bytes(1, keyValue("service.name", stringValue(service)));
  w.bytes(1, keyValue("service.version", stringValue("2.14.1")));
  w.bytes(1, keyValue("deployment.environment", stringValue("production")));
  w.bytes(1, keyValue("host.name", stringValue("checkout-7d9f8b6c5-x2k4q")));
  w.bytes(1, keyValue("k8s.namespace.name", stringValue("shop")));
  return w.out;
}

std::string scope() {
  Writer w;
  w.bytes(1, "io.opentelemetry.checkout");
  w.bytes(2, "1.32.0");
  return w.out;
}

int64_t nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* const kWords[] = {"order",     "payment",  "cart",    "user",      "session",
                              "inventory", "shipping", "request", "completed", "processed",
                              "validated", "queued",   "retry",   "latency",   "upstream",
                              "cache",     "miss",     "hit",     "database",  "timeout"};

std::string sentence(std::mt19937_64& rng, size_t target) {
  std::string s;
  while (s.size() < target) {
    if (!s.empty()) s += ' ';
    s += kWords[rng() % (sizeof kWords / sizeof kWords[0])];
  }
  return s;
}

}  // namespace

std::string makeLogsRequest(int records, uint64_t seed, std::string_view service) {
  std::mt19937_64 rng(seed);
  const int64_t base = nowNanos();
  Writer scopeLogs;
  scopeLogs.bytes(1, scope());
  static const char* const kSeverity[] = {"DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR"};
  static const int kSeverityNumber[] = {5, 9, 9, 9, 13, 17};
  for (int i = 0; i < records; ++i) {
    Writer r;
    const int sev = static_cast<int>(rng() % 6);
    r.fixed64(1, static_cast<uint64_t>(base + i * 1000));
    r.fixed64(11, static_cast<uint64_t>(base + i * 1000 + 50));
    r.uint(2, static_cast<uint64_t>(kSeverityNumber[sev]));
    r.bytes(3, kSeverity[sev]);
    r.bytes(5, stringValue(sentence(rng, 200)));
    r.bytes(6, keyValue("http.request.method", stringValue(rng() % 2 ? "GET" : "POST")));
    r.bytes(6, keyValue("http.route", stringValue("/api/v1/orders/{id}")));
    r.bytes(6, keyValue("http.response.status_code", intValue(rng() % 10 ? 200 : 503)));
    r.bytes(6, keyValue("user.id", stringValue("u-" + std::to_string(rng() % 100000))));
    r.bytes(6, keyValue("order.id", stringValue("o-" + std::to_string(rng() % 10000000))));
    r.bytes(6, keyValue("tenant", stringValue("tenant-" + std::to_string(rng() % 50))));
    r.bytes(6, keyValue("code.function", stringValue("OrderService.process")));
    r.bytes(6, keyValue("code.lineno", intValue(static_cast<int64_t>(rng() % 2000))));
    r.bytes(6, keyValue("thread.name", stringValue("worker-" + std::to_string(rng() % 16))));
    r.bytes(6, keyValue("duration_ms", intValue(static_cast<int64_t>(rng() % 5000))));
    r.fixed32(8, 1);
    r.bytes(9, randomBytes(rng, 16));
    r.bytes(10, randomBytes(rng, 8));
    scopeLogs.bytes(2, r.out);
  }
  Writer resourceLogs;
  resourceLogs.bytes(1, resource(service));
  resourceLogs.bytes(2, scopeLogs.out);
  Writer req;
  req.bytes(1, resourceLogs.out);
  return req.out;
}

std::string makeSpansRequest(int spans, uint64_t seed, std::string_view service) {
  std::mt19937_64 rng(seed);
  const int64_t base = nowNanos();
  Writer scopeSpans;
  scopeSpans.bytes(1, scope());
  std::string traceId = randomBytes(rng, 16);
  std::string parent;
  for (int i = 0; i < spans; ++i) {
    if (i % 10 == 0) {
      traceId = randomBytes(rng, 16);
      parent.clear();
    }
    Writer s;
    const std::string spanId = randomBytes(rng, 8);
    s.bytes(1, traceId);
    s.bytes(2, spanId);
    if (!parent.empty()) s.bytes(4, parent);
    s.bytes(5, i % 10 == 0 ? "POST /api/v1/orders" : "SELECT orders");
    s.uint(6, i % 10 == 0 ? 2 : 3);
    const int64_t start = base + i * 10000;
    s.fixed64(7, static_cast<uint64_t>(start));
    s.fixed64(8, static_cast<uint64_t>(start + 1000 + static_cast<int64_t>(rng() % 5'000'000)));
    s.bytes(9, keyValue("http.request.method", stringValue("POST")));
    s.bytes(9, keyValue("http.route", stringValue("/api/v1/orders")));
    s.bytes(9, keyValue("http.response.status_code", intValue(200)));
    s.bytes(9, keyValue("db.system", stringValue("postgresql")));
    s.bytes(9, keyValue("db.statement", stringValue("SELECT * FROM orders WHERE id = $1")));
    s.bytes(9, keyValue("net.peer.name", stringValue("orders-db.shop.svc")));
    s.bytes(9, keyValue("user.id", stringValue("u-" + std::to_string(rng() % 100000))));
    s.bytes(9, keyValue("order.id", stringValue("o-" + std::to_string(rng() % 10000000))));
    s.bytes(9, keyValue("tenant", stringValue("tenant-" + std::to_string(rng() % 50))));
    s.bytes(9, keyValue("retry.count", intValue(static_cast<int64_t>(rng() % 3))));
    Writer event;
    event.fixed64(1, static_cast<uint64_t>(start + 500));
    event.bytes(2, "cache.lookup");
    event.bytes(3, keyValue("cache.hit", stringValue(rng() % 2 ? "true" : "false")));
    s.bytes(11, event.out);
    Writer status;
    status.uint(3, rng() % 20 == 0 ? 2 : 1);
    s.bytes(15, status.out);
    scopeSpans.bytes(2, s.out);
    if (i % 10 == 0) parent = spanId;
  }
  Writer resourceSpans;
  resourceSpans.bytes(1, resource(service));
  resourceSpans.bytes(2, scopeSpans.out);
  Writer req;
  req.bytes(1, resourceSpans.out);
  return req.out;
}

}  // namespace stackhouse::bench
