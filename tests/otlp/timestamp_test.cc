// The record-time rules of DecodeLimits::checkTimes (README.md, "Timestamps"), at both ends of
// each column's range and of the accepted window, over protobuf and OTLP/JSON alike.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "otlp/decode.h"
#include "otlp/encode.h"
#include "otlp_test_support.h"

namespace stackhouse::otlp {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kNow = 1'800'000'000 * kSecond;  // 2027-01-15
constexpr uint64_t kSkew = 3600 * kSecond;
constexpr uint64_t kRetention = 72 * 3600 * kSecond;

std::span<const uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The receivers' rules at a fixed receive time: 1h skew, 72h retention.
DecodeLimits checked() {
  DecodeLimits l;
  l.checkTimes = true;
  l.nowNanos = kNow;
  l.maxFutureSkewNanos = kSkew;
  l.retentionNanos = kRetention;
  return l;
}

// No skew and no retention: only the columns' own range applies.
DecodeLimits rangeOnly() {
  DecodeLimits l = checked();
  l.maxFutureSkewNanos = UINT64_MAX;
  l.retentionNanos = 0;
  return l;
}

struct Outcome {
  DecodeStats stats;
  std::vector<int64_t> times;  // the row times stored
};

const Encoding kEncodings[] = {Encoding::kProtobuf, Encoding::kJson};
const char* nameOf(Encoding e) { return e == Encoding::kJson ? "json" : "protobuf"; }

std::string encode(const google::protobuf::Message& m, Encoding e) {
  return e == Encoding::kJson ? testing::toOtlpJson(m) : m.SerializeAsString();
}

Outcome logs(const testing::LogsRequest& req, Encoding e, const DecodeLimits& limits) {
  Outcome o;
  telemetry::LogBatch b;
  const Status st = decodeLogs(bytesOf(encode(req, e)), e, b, o.stats, limits);
  EXPECT_TRUE(st.isOk()) << st.toString();
  for (size_t i = 0; i < b.rows(); ++i) o.times.push_back(b.timestamp.at(i));
  return o;
}

testing::LogsRequest logRequest(uint64_t time, uint64_t observed = 0) {
  testing::LogsRequest req;
  auto* lr = req.add_resource_logs()->add_scope_logs()->add_log_records();
  lr->set_time_unix_nano(time);
  lr->set_observed_time_unix_nano(observed);
  lr->mutable_body()->set_string_value("x");
  return req;
}

// One record: stored with `stored` as its time, rejected (message containing `why`), or expired.
void expectStored(const Outcome& o, uint64_t stored) {
  EXPECT_EQ(o.stats.rejected, 0u) << o.stats.firstRejection;
  EXPECT_EQ(o.stats.expired, 0u);
  ASSERT_EQ(o.times.size(), 1u);
  EXPECT_EQ(static_cast<uint64_t>(o.times[0]), stored);
}
void expectRejected(const Outcome& o, const std::string& why) {
  EXPECT_EQ(o.stats.rejected, 1u);
  EXPECT_EQ(o.stats.expired, 0u);
  EXPECT_TRUE(o.times.empty());
  EXPECT_NE(o.stats.firstRejection.find(why), std::string::npos) << o.stats.firstRejection;
}
void expectExpired(const Outcome& o) {
  EXPECT_EQ(o.stats.rejected, 0u) << o.stats.firstRejection;
  EXPECT_EQ(o.stats.expired, 1u);
  EXPECT_TRUE(o.times.empty());
}

TEST(Timestamps, LogTimeFallsBackToObservedThenToTheReceiveTime) {
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    expectStored(logs(logRequest(kNow - 5, kNow - 1), e, checked()), kNow - 5);
    expectStored(logs(logRequest(0, kNow - 1), e, checked()), kNow - 1);
    expectStored(logs(logRequest(0, 0), e, checked()), kNow);
    // An observed time far ahead is not stored when the record has a time of its own.
    expectStored(logs(logRequest(kNow, UINT64_MAX), e, checked()), kNow);
    // ... but names itself when it is the one that would be stored.
    expectRejected(logs(logRequest(0, kNow + kSkew + 1), e, checked()),
                   "log record 0: observed_time_unix_nano is more than 3600 s ahead");
  }
}

TEST(Timestamps, LogTimeWithinTheSkewAndTheRetention) {
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    expectStored(logs(logRequest(kNow + kSkew), e, checked()), kNow + kSkew);
    expectRejected(logs(logRequest(kNow + kSkew + 1), e, checked()),
                   "time_unix_nano is more than 3600 s ahead of the receive time (limit "
                   "otelConfig.receivers.otlp.limits.maxFutureSkew)");
    expectStored(logs(logRequest(kNow - kRetention), e, checked()), kNow - kRetention);
    expectExpired(logs(logRequest(kNow - kRetention - 1), e, checked()));
    expectExpired(logs(logRequest(1), e, checked()));
  }
}

TEST(Timestamps, LogTimeAtBothEndsOfTheColumns) {
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    // The epoch is the first time DateTime and DateTime64(9) both hold; without a retention it
    // is stored.
    expectStored(logs(logRequest(1), e, rangeOnly()), 1);
    // TimestampTime is a DateTime: it ends at 2^32 - 1 s.
    expectStored(logs(logRequest(kMaxDateTimeNanos), e, rangeOnly()), kMaxDateTimeNanos);
    expectRejected(logs(logRequest(kMaxDateTimeNanos + 1), e, rangeOnly()),
                   "time_unix_nano is after 2106-02-07T06:28:15Z");
    expectRejected(logs(logRequest(uint64_t{INT64_MAX}), e, rangeOnly()), "2106");
    expectRejected(logs(logRequest(UINT64_MAX), e, rangeOnly()), "2106");
    // 300 years from now is past the columns; 10 years, past the skew.
    expectRejected(logs(logRequest(kNow + uint64_t{300} * 366 * 86400 * kSecond), e, checked()),
                   "2106");
    expectRejected(logs(logRequest(kNow + uint64_t{10} * 366 * 86400 * kSecond), e, checked()),
                   "ahead of the receive time");
  }
}

TEST(Timestamps, OnlyTheBadRecordsOfARequestAreRefused) {
  testing::LogsRequest req;
  auto* sl = req.add_resource_logs()->add_scope_logs();
  for (uint64_t t : {kNow, uint64_t{1}, kNow + 2 * kSkew, kNow - 1, UINT64_MAX, uint64_t{0}}) {
    auto* lr = sl->add_log_records();
    lr->set_time_unix_nano(t);
  }
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    const Outcome o = logs(req, e, checked());
    EXPECT_EQ(o.stats.accepted, 3u);
    EXPECT_EQ(o.stats.rejected, 2u);
    EXPECT_EQ(o.stats.expired, 1u);
    EXPECT_EQ(o.times, (std::vector<int64_t>{int64_t(kNow), int64_t(kNow - 1), int64_t(kNow)}));
    EXPECT_EQ(o.stats.firstRejection.rfind("log record 2: time_unix_nano is more than", 0), 0u)
        << o.stats.firstRejection;
    const std::string message = partialSuccessMessage(o.stats, checked());
    EXPECT_NE(message.find("1 record was older than the retention of 259200 s on arrival and "
                           "dropped (otelConfig.exporters.clickhouse.ttl"),
              std::string::npos)
        << message;
  }
}

TEST(Timestamps, UncheckedTimesAreStoredAsSent) {
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    expectStored(logs(logRequest(UINT64_MAX), e, DecodeLimits{}), UINT64_MAX);
    expectStored(logs(logRequest(0, 0), e, DecodeLimits{}), 0);
  }
}

// ---- spans

testing::TraceRequest spanRequest(uint64_t start, uint64_t end,
                                  std::optional<uint64_t> event = std::nullopt) {
  testing::TraceRequest req;
  auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  s->set_name("op");
  s->set_start_time_unix_nano(start);
  s->set_end_time_unix_nano(end);
  if (event) s->add_events()->set_time_unix_nano(*event);
  return req;
}

Outcome spans(const testing::TraceRequest& req, Encoding e, const DecodeLimits& limits,
              std::vector<uint64_t>* durations = nullptr) {
  Outcome o;
  telemetry::SpanBatch b;
  const Status st = decodeSpans(bytesOf(encode(req, e)), e, b, o.stats, limits);
  EXPECT_TRUE(st.isOk()) << st.toString();
  for (size_t i = 0; i < b.rows(); ++i) {
    o.times.push_back(b.timestamp.at(i));
    if (durations != nullptr) durations->push_back(b.duration.at(i));
  }
  return o;
}

TEST(Timestamps, SpanStartAndEnd) {
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    std::vector<uint64_t> durations;
    expectStored(spans(spanRequest(kNow - 10, kNow), e, checked(), &durations), kNow - 10);
    expectStored(spans(spanRequest(kNow, kNow), e, checked(), &durations), kNow);
    EXPECT_EQ(durations, (std::vector<uint64_t>{10, 0}));
    expectRejected(spans(spanRequest(0, kNow), e, checked()),
                   "span 0: start_time_unix_nano is 0: the record has no time");
    expectRejected(spans(spanRequest(kNow, kNow - 1), e, checked()),
                   "span 0: end_time_unix_nano is before start_time_unix_nano");
    expectRejected(spans(spanRequest(kNow, 0), e, checked()), "end_time_unix_nano is before");
    // Window: start and end at most the skew ahead; start not past the retention.
    expectStored(spans(spanRequest(kNow + kSkew, kNow + kSkew), e, checked()), kNow + kSkew);
    expectRejected(spans(spanRequest(kNow + kSkew + 1, kNow + kSkew + 1), e, checked()),
                   "start_time_unix_nano is more than 3600 s ahead");
    expectRejected(spans(spanRequest(kNow, kNow + kSkew + 1), e, checked()),
                   "end_time_unix_nano is more than 3600 s ahead");
    expectStored(spans(spanRequest(kNow - kRetention, kNow), e, checked()), kNow - kRetention);
    expectExpired(spans(spanRequest(kNow - kRetention - 1, kNow), e, checked()));
  }
}

TEST(Timestamps, SpanTimesAtBothEndsOfTheColumns) {
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    expectStored(spans(spanRequest(1, 1), e, rangeOnly()), 1);
    // Timestamp also goes into toDateTime(Timestamp) (the TTL, the trace-id table): 2106.
    expectStored(spans(spanRequest(kMaxDateTimeNanos, kMaxDateTimeNanos), e, rangeOnly()),
                 kMaxDateTimeNanos);
    expectRejected(spans(spanRequest(kMaxDateTimeNanos + 1, kMaxDateTimeNanos + 1), e, rangeOnly()),
                   "start_time_unix_nano is after 2106-02-07T06:28:15Z");
    // The end only makes Duration (UInt64): any end a DateTime64(9) holds gives a duration
    // that fits; past it, the duration would not come from a representable time.
    std::vector<uint64_t> durations;
    expectStored(spans(spanRequest(1, kMaxDateTime64Nanos), e, rangeOnly(), &durations), 1);
    EXPECT_EQ(durations, (std::vector<uint64_t>{kMaxDateTime64Nanos - 1}));
    expectRejected(spans(spanRequest(1, kMaxDateTime64Nanos + 1), e, rangeOnly()),
                   "end_time_unix_nano is after 2262-04-11T23:47:16Z");
    expectRejected(spans(spanRequest(1, UINT64_MAX), e, rangeOnly()), "end_time_unix_nano");
  }
}

TEST(Timestamps, SpanEventTimes) {
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    expectStored(spans(spanRequest(kNow, kNow, 0), e, checked()), kNow);  // 0: the epoch
    expectStored(spans(spanRequest(kNow, kNow, kNow + kSkew), e, checked()), kNow);
    expectRejected(spans(spanRequest(kNow, kNow, kNow + kSkew + 1), e, checked()),
                   "span 0: events.time_unix_nano is more than 3600 s ahead");
    expectStored(spans(spanRequest(1, 1, kMaxDateTime64Nanos), e, rangeOnly()), 1);
    expectRejected(spans(spanRequest(1, 1, kMaxDateTime64Nanos + 1), e, rangeOnly()),
                   "events.time_unix_nano is after 2262-04-11T23:47:16Z");
    // A rejected span's event does not leak into the next span's check.
    testing::TraceRequest two = spanRequest(kNow, kNow, UINT64_MAX);
    *two.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans() =
        spanRequest(kNow, kNow).resource_spans(0).scope_spans(0).spans(0);
    const Outcome o = spans(two, e, checked());
    EXPECT_EQ(o.stats.rejected, 1u);
    EXPECT_EQ(o.stats.accepted, 1u);
  }
}

// ---- metric points

testing::MetricsRequest gaugeRequest(uint64_t start, uint64_t time,
                                     std::optional<uint64_t> exemplar = std::nullopt) {
  testing::MetricsRequest req;
  auto* m = req.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name("g");
  auto* p = m->mutable_gauge()->add_data_points();
  p->set_start_time_unix_nano(start);
  p->set_time_unix_nano(time);
  p->set_as_double(1);
  if (exemplar) p->add_exemplars()->set_time_unix_nano(*exemplar);
  return req;
}

testing::MetricsRequest histogramRequest(uint64_t start, uint64_t time) {
  testing::MetricsRequest req;
  auto* m = req.add_resource_metrics()->add_scope_metrics()->add_metrics();
  m->set_name("h");
  auto* p = m->mutable_histogram()->add_data_points();
  p->set_start_time_unix_nano(start);
  p->set_time_unix_nano(time);
  p->set_count(1);
  return req;
}

Outcome points(const testing::MetricsRequest& req, Encoding e, const DecodeLimits& limits) {
  Outcome o;
  telemetry::MetricBatch b;
  const Status st = decodeMetrics(bytesOf(encode(req, e)), e, b, o.stats, limits);
  EXPECT_TRUE(st.isOk()) << st.toString();
  for (size_t i = 0; i < b.gauge.rows(); ++i) o.times.push_back(b.gauge.common.timeUnix.at(i));
  for (size_t i = 0; i < b.histogram.rows(); ++i) {
    o.times.push_back(b.histogram.common.timeUnix.at(i));
  }
  return o;
}

TEST(Timestamps, MetricPointTimes) {
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    expectStored(points(gaugeRequest(0, kNow), e, checked()), kNow);  // start 0: unknown
    expectStored(points(gaugeRequest(kNow, kNow), e, checked()), kNow);
    expectRejected(points(gaugeRequest(0, 0), e, checked()),
                   "data point 0: time_unix_nano is 0: the record has no time");
    expectRejected(points(gaugeRequest(kNow + 1, kNow), e, checked()),
                   "data point 0: start_time_unix_nano is after time_unix_nano");
    expectRejected(points(histogramRequest(kNow + 1, kNow), e, checked()),
                   "start_time_unix_nano is after time_unix_nano");
    expectStored(points(gaugeRequest(0, kNow + kSkew), e, checked()), kNow + kSkew);
    expectRejected(points(gaugeRequest(0, kNow + kSkew + 1), e, checked()),
                   "time_unix_nano is more than 3600 s ahead");
    expectStored(points(histogramRequest(0, kNow - kRetention), e, checked()), kNow - kRetention);
    expectExpired(points(gaugeRequest(0, kNow - kRetention - 1), e, checked()));
    expectExpired(points(histogramRequest(0, 1), e, checked()));
  }
}

TEST(Timestamps, MetricTimesAtBothEndsOfTheColumns) {
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    expectStored(points(gaugeRequest(0, 1), e, rangeOnly()), 1);
    expectStored(points(gaugeRequest(0, kMaxDateTimeNanos), e, rangeOnly()), kMaxDateTimeNanos);
    expectRejected(points(gaugeRequest(0, kMaxDateTimeNanos + 1), e, rangeOnly()),
                   "time_unix_nano is after 2106-02-07T06:28:15Z");
    expectRejected(points(gaugeRequest(0, UINT64_MAX), e, rangeOnly()), "2106");
  }
}

TEST(Timestamps, ExemplarTimes) {
  for (Encoding e : kEncodings) {
    SCOPED_TRACE(nameOf(e));
    expectStored(points(gaugeRequest(0, kNow, kNow + kSkew), e, checked()), kNow);
    expectRejected(points(gaugeRequest(0, kNow, kNow + kSkew + 1), e, checked()),
                   "data point 0: exemplars.time_unix_nano is more than 3600 s ahead");
    expectStored(points(gaugeRequest(0, 1, kMaxDateTime64Nanos), e, rangeOnly()), 1);
    expectRejected(points(gaugeRequest(0, 1, kMaxDateTime64Nanos + 1), e, rangeOnly()),
                   "exemplars.time_unix_nano is after 2262-04-11T23:47:16Z");
  }
}

}  // namespace
}  // namespace stackhouse::otlp
