#include "pipeline/record_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::pipeline {
namespace {

using telemetry::Buffer;
using telemetry::LogBatch;
using telemetry::MetricBatch;
using telemetry::Source;

template <typename B>
std::vector<uint8_t> encoded(const B& batch, const RequestKey& key = {7, 9},
                             Source source = Source::kLogs) {
  RecordEncoder encoder;
  const size_t size = encoder.encode(batch, key, source);
  std::vector<uint8_t> out;
  for (const iovec& v : encoder.iov()) {
    const auto* p = static_cast<const uint8_t*>(v.iov_base);
    out.insert(out.end(), p, p + v.iov_len);
  }
  EXPECT_EQ(out.size(), size);
  return out;
}

// Every buffer of the batch, in order: two batches with the same are the same batch.
template <typename B>
std::vector<std::string> buffersOf(const B& batch) {
  std::vector<std::string> out;
  telemetry::visitBatchBuffers(batch, [&](const Buffer& b) {
    out.emplace_back(reinterpret_cast<const char*>(b.data()), b.size());
  });
  return out;
}

template <typename B>
size_t plainBytes(const B& batch) {
  size_t n = 0;
  telemetry::visitBatchBuffers(batch, [&](const Buffer& b) { n += b.size(); });
  return n;
}

// A request's logs: one resource and scope for all of them, a body each, a severity that
// changes now and then, attributes of their own.
void addLogs(LogBatch& b, int rows, const std::string& host) {
  for (int i = 0; i < rows; ++i) {
    b.timestamp.append(1'700'000'000'000'000'000 + i);
    b.traceId.append(i % 3 == 0 ? "" : "4bf92f3577b34da6a3ce929d0e0e4736");
    b.spanId.append("00f067aa0ba902b7");
    b.traceFlags.append(1);
    b.severityText.append(i < rows / 2 ? "INFO" : "ERROR");
    b.severityNumber.append(i < rows / 2 ? 9 : 17);
    b.serviceName.append("checkout");
    b.body.append("order " + std::to_string(i) + " placed");
    b.resourceSchemaUrl.append("");
    b.resourceAttributes.add("service.name", "checkout");
    b.resourceAttributes.add("host.name", host);
    b.resourceAttributes.add("k8s.pod.name", "checkout-7d9f8-abcde");
    b.resourceAttributes.endRow();
    b.scopeSchemaUrl.append("");
    b.scopeName.append("io.opentelemetry.checkout");
    b.scopeVersion.append("1.2.3");
    b.scopeAttributes.endRow();
    b.logAttributes.add("order.id", "o-" + std::to_string(i));
    if (i % 2 == 0) b.logAttributes.add("user.id", "u-1");
    b.logAttributes.endRow();
    b.eventName.append("");
  }
}

TEST(RecordCodec, ALogRequestComesBackAsItWasAndTheRepeatsAreWrittenOnce) {
  LogBatch b;
  addLogs(b, 500, "node-1");
  const std::vector<uint8_t> payload = encoded(b, {7, 9});
  // The resource, the scope, the service and most severities repeat: written once each.
  EXPECT_LT(payload.size() * 2, plainBytes(b));
  EXPECT_EQ(recordKey(payload).hi, 7u);
  EXPECT_EQ(recordKey(payload).lo, 9u);
  LogBatch back;
  ASSERT_TRUE(decodeRecord(payload, 500, back).isOk());
  EXPECT_EQ(buffersOf(back), buffersOf(b));
}

TEST(RecordCodec, ColumnsWithoutRepeatsAndSmallBatchesComeBackAsTheyWere) {
  for (int rows : {0, 1, 2, 3, 7}) {
    LogBatch b;
    addLogs(b, rows, "node-1");
    LogBatch back;
    ASSERT_TRUE(decodeRecord(encoded(b), static_cast<uint64_t>(rows), back).isOk()) << rows;
    EXPECT_EQ(buffersOf(back), buffersOf(b)) << rows;
  }
  // Values that alternate never halve the rows: written as they are.
  LogBatch b;
  for (int i = 0; i < 40; ++i) addLogs(b, 1, i % 2 == 0 ? "a" : "b");
  LogBatch back;
  ASSERT_TRUE(decodeRecord(encoded(b), 40, back).isOk());
  EXPECT_EQ(buffersOf(back), buffersOf(b));
}

TEST(RecordCodec, MapsThatDifferOnlyInAValueOrAnEntryAreNotTakenForEqual) {
  LogBatch b;
  addLogs(b, 4, "node-1");
  // Same keys, another value; one entry fewer; an empty map; the same again.
  b.resourceAttributes.add("service.name", "checkout");
  b.resourceAttributes.add("host.name", "node-2");
  b.resourceAttributes.add("k8s.pod.name", "checkout-7d9f8-abcde");
  b.resourceAttributes.endRow();
  b.resourceAttributes.add("service.name", "checkout");
  b.resourceAttributes.add("host.name", "node-2");
  b.resourceAttributes.endRow();
  b.resourceAttributes.endRow();
  b.resourceAttributes.endRow();
  LogBatch more;
  addLogs(more, 4, "x");
  more.forEachColumn([&](std::string_view name, auto& column) {
    b.forEachColumn([&](std::string_view other, auto& into) {
      if constexpr (std::is_same_v<std::decay_t<decltype(column)>, std::decay_t<decltype(into)>>) {
        if (name == other && name != "ResourceAttributes") into.appendColumn(column);
      }
    });
  });
  ASSERT_TRUE(telemetry::batchConsistent(b));
  LogBatch back;
  ASSERT_TRUE(decodeRecord(encoded(b), 8, back).isOk());
  EXPECT_EQ(buffersOf(back), buffersOf(b));
}

TEST(RecordCodec, AScrapeOfMetricsComesBackAsItWas) {
  MetricBatch b;
  for (int target = 0; target < 3; ++target) {
    for (int metric = 0; metric < 20; ++metric) {
      for (int series = 0; series < 5; ++series) {
        auto& c = b.gauge.common;
        c.resourceAttributes.add("service.name", "node");
        c.resourceAttributes.add("service.instance.id", "10.0.0." + std::to_string(target));
        c.resourceAttributes.endRow();
        c.resourceSchemaUrl.append("");
        c.scopeName.append("stackhouse/prometheus");
        c.scopeVersion.append("");
        c.scopeAttributes.endRow();
        c.scopeDroppedAttrCount.append(0);
        c.scopeSchemaUrl.append("");
        c.serviceName.append("node");
        c.metricName.append("node_metric_" + std::to_string(metric));
        c.metricDescription.append("What metric " + std::to_string(metric) + " counts.");
        c.metricUnit.append("");
        c.attributes.add("cpu", std::to_string(series));
        c.attributes.endRow();
        c.startTimeUnix.append(0);
        c.timeUnix.append(1'700'000'000'000'000'000);
        c.flags.append(series == 4 ? 1 : 0);
        b.gauge.value.append(metric * 10.0 + series);
        auto& e = b.gauge.exemplars;
        if (series == 0) {
          e.filteredAttributes.child().add("trace", "x");
          e.filteredAttributes.child().endRow();
          e.timeUnix.child().append(5);
          e.value.child().append(1.5);
          e.spanId.child().append("00f067aa0ba902b7");
          e.traceId.child().append("4bf92f3577b34da6a3ce929d0e0e4736");
        }
        e.filteredAttributes.endRow();
        e.timeUnix.endRow();
        e.value.endRow();
        e.spanId.endRow();
        e.traceId.endRow();
      }
    }
  }
  // A histogram point too: another kind in the same record.
  auto& h = b.histogram;
  h.common.resourceAttributes.endRow();
  h.common.resourceSchemaUrl.append("");
  h.common.scopeName.append("");
  h.common.scopeVersion.append("");
  h.common.scopeAttributes.endRow();
  h.common.scopeDroppedAttrCount.append(0);
  h.common.scopeSchemaUrl.append("");
  h.common.serviceName.append("node");
  h.common.metricName.append("latency");
  h.common.metricDescription.append("");
  h.common.metricUnit.append("s");
  h.common.attributes.endRow();
  h.common.startTimeUnix.append(1);
  h.common.timeUnix.append(2);
  h.common.flags.append(0);
  h.count.append(3);
  h.sum.append(0.5);
  h.bucketCounts.child().append(1);
  h.bucketCounts.child().append(2);
  h.bucketCounts.endRow();
  h.explicitBounds.child().append(0.1);
  h.explicitBounds.endRow();
  h.exemplars.filteredAttributes.endRow();
  h.exemplars.timeUnix.endRow();
  h.exemplars.value.endRow();
  h.exemplars.spanId.endRow();
  h.exemplars.traceId.endRow();
  h.min.append(0);
  h.max.append(0);
  h.aggregationTemporality.append(2);
  ASSERT_TRUE(telemetry::batchConsistent(b));
  const std::vector<uint8_t> payload = encoded(b, {1, 2}, Source::kPrometheusScrape);
  EXPECT_LT(payload.size() * 2, plainBytes(b));
  MetricBatch back;
  ASSERT_TRUE(decodeRecord(payload, b.rows(), back).isOk());
  EXPECT_EQ(buffersOf(back), buffersOf(b));
  EXPECT_EQ(back.rows(), 301u);
}

// What an earlier version wrote: the source and the buffer count, then every buffer.
template <typename B>
std::vector<uint8_t> encodedBeforeTheRuns(const B& batch, const RequestKey& key, Source source) {
  std::vector<uint8_t> out;
  auto put = [&](uint64_t v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + 8);
  };
  uint64_t buffers = 0;
  telemetry::visitBatchBuffers(batch, [&](const Buffer&) { ++buffers; });
  put(key.hi);
  put(key.lo);
  put(static_cast<uint64_t>(source) | (buffers << 32));
  telemetry::visitBatchBuffers(batch, [&](const Buffer& b) {
    put(b.size());
    out.insert(out.end(), b.data(), b.data() + b.size());
  });
  return out;
}

TEST(RecordCodec, RecordsWrittenBeforeTheRunsAreStillRead) {
  LogBatch b;
  addLogs(b, 50, "node-1");
  LogBatch back;
  ASSERT_TRUE(decodeRecord(encodedBeforeTheRuns(b, {3, 4}, Source::kLogs), 50, back).isOk());
  EXPECT_EQ(buffersOf(back), buffersOf(b));
}

TEST(RecordCodec, ARecordCutShortAtAnyByteIsRefused) {
  LogBatch b;
  addLogs(b, 30, "node-1");
  const std::vector<uint8_t> payload = encoded(b);
  for (size_t n = 0; n < payload.size(); ++n) {
    LogBatch back;
    const Status s = decodeRecord(std::span(payload.data(), n), 30, back);
    ASSERT_FALSE(s.isOk()) << n;
  }
  // And one with bytes after its last column.
  std::vector<uint8_t> longer = payload;
  longer.push_back(0);
  LogBatch back;
  EXPECT_EQ(decodeRecord(longer, 30, back).message(),
            "a queue record does not hold the columns of its signal");
}

// The offset of the first column's tag that is not kPlainColumn (a column in runs).
size_t firstRunsTag(const std::vector<uint8_t>& payload, uint64_t& runs) {
  // Timestamp (plain: one buffer), TraceId (plain here: offsets and data), SpanId (in runs).
  size_t at = 24;
  for (int column = 0; column < 3; ++column) {
    uint64_t tag;
    std::memcpy(&tag, payload.data() + at, 8);
    at += 8;
    if (tag != kPlainColumn) {
      runs = tag;
      return at - 8;
    }
    const int buffers = column == 0 ? 1 : 2;
    for (int i = 0; i < buffers; ++i) {
      uint64_t length;
      std::memcpy(&length, payload.data() + at, 8);
      at += 8 + length;
    }
  }
  return 0;
}

TEST(RecordCodec, RunsThatExpandPastTheRecordOrAreEmptyAreRefused) {
  LogBatch b;
  addLogs(b, 30, "node-1");
  // No span ids: a run of empty values, which only the record's row count bounds.
  b.spanId.clear();
  for (int i = 0; i < 30; ++i) b.spanId.append("");
  const std::vector<uint8_t> payload = encoded(b);
  uint64_t runs = 0;
  const size_t tag = firstRunsTag(payload, runs);
  ASSERT_NE(tag, 0u);
  ASSERT_EQ(runs, 1u);  // SpanId: one (empty) value for all 30 rows
  uint32_t length;
  std::memcpy(&length, payload.data() + tag + 8, 4);
  ASSERT_EQ(length, 30u);
  LogBatch back;
  ASSERT_TRUE(decodeRecord(payload, 30, back).isOk());
  // The run says a billion rows: more than the record holds, refused as it is read (not once a
  // billion empty values have been expanded, and the columns found not to agree).
  std::vector<uint8_t> bad = payload;
  const uint32_t huge = 1'000'000'000;
  std::memcpy(bad.data() + tag + 8, &huge, 4);
  EXPECT_EQ(decodeRecord(bad, 30, back).message(),
            "a queue record does not hold the columns of its signal");
  // A run of no rows.
  const uint32_t none = 0;
  std::memcpy(bad.data() + tag + 8, &none, 4);
  EXPECT_FALSE(decodeRecord(bad, 30, back).isOk());
  // A run count past the record's end.
  bad = payload;
  const uint64_t many = uint64_t{1} << 40;
  std::memcpy(bad.data() + tag, &many, 8);
  EXPECT_FALSE(decodeRecord(bad, 30, back).isOk());
  // Runs on the first column, a fixed-width one, which is never written so.
  bad = payload;
  const uint64_t one = 1;
  std::memcpy(bad.data() + 24, &one, 8);
  EXPECT_FALSE(decodeRecord(bad, 30, back).isOk());
}

TEST(RecordCodec, AnotherSignalsRecordIsRefused) {
  LogBatch b;
  addLogs(b, 10, "node-1");
  telemetry::SpanBatch spans;
  EXPECT_EQ(decodeRecord(encoded(b), 10, spans).message(),
            "a queue record does not hold the columns of its signal");
}

}  // namespace
}  // namespace stackhouse::pipeline
