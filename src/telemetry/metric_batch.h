// Metric points as the columns of the five otel_metrics_* tables, one batch per point kind.
// A MetricBatch holds all five, since one OTLP request can carry every kind.
#pragma once

#include <string_view>
#include <utility>

#include "telemetry/columns.h"

namespace stackhouse::telemetry {

// Columns every metric table has: resource, scope, metric identity and the point's own
// attributes, times and flags.
struct MetricPointCommon {
  MapColumn resourceAttributes;
  StringColumn resourceSchemaUrl;
  StringColumn scopeName;
  StringColumn scopeVersion;
  MapColumn scopeAttributes;
  UInt32Column scopeDroppedAttrCount;
  StringColumn scopeSchemaUrl;
  StringColumn serviceName;
  StringColumn metricName;
  StringColumn metricDescription;
  StringColumn metricUnit;
  MapColumn attributes;
  TimestampColumn startTimeUnix;
  TimestampColumn timeUnix;
  UInt32Column flags;

  template <typename F>
  void forEachColumn(F&& f) {
    f("ResourceAttributes", resourceAttributes);
    f("ResourceSchemaUrl", resourceSchemaUrl);
    f("ScopeName", scopeName);
    f("ScopeVersion", scopeVersion);
    f("ScopeAttributes", scopeAttributes);
    f("ScopeDroppedAttrCount", scopeDroppedAttrCount);
    f("ScopeSchemaUrl", scopeSchemaUrl);
    f("ServiceName", serviceName);
    f("MetricName", metricName);
    f("MetricDescription", metricDescription);
    f("MetricUnit", metricUnit);
    f("Attributes", attributes);
    f("StartTimeUnix", startTimeUnix);
    f("TimeUnix", timeUnix);
    f("Flags", flags);
  }
};

// The Exemplars Nested columns (gauge, sum, histogram, exponential histogram).
struct ExemplarColumns {
  MapListColumn filteredAttributes;
  TimestampListColumn timeUnix;
  Float64ListColumn value;  // as_double, or as_int converted
  StringListColumn spanId;
  StringListColumn traceId;

  template <typename F>
  void forEachColumn(F&& f) {
    f("Exemplars.FilteredAttributes", filteredAttributes);
    f("Exemplars.TimeUnix", timeUnix);
    f("Exemplars.Value", value);
    f("Exemplars.SpanId", spanId);
    f("Exemplars.TraceId", traceId);
  }
};

#define STACKHOUSE_CONST_FOR_EACH_COLUMN(Type)                                         \
  template <typename F>                                                                \
  void forEachColumn(F&& f) const {                                                    \
    const_cast<Type*>(this)->forEachColumn(                                            \
        [&](std::string_view name, auto& column) { f(name, std::as_const(column)); }); \
  }                                                                                    \
  size_t rows() const { return common.timeUnix.size(); }

struct GaugeBatch {
  static constexpr std::string_view kTable = "otel_metrics_gauge";
  MetricPointCommon common;
  Float64Column value;  // as_double, or as_int converted
  ExemplarColumns exemplars;

  template <typename F>
  void forEachColumn(F&& f) {
    common.forEachColumn(f);
    f("Value", value);
    exemplars.forEachColumn(f);
  }
  STACKHOUSE_CONST_FOR_EACH_COLUMN(GaugeBatch)
};

struct SumBatch {
  static constexpr std::string_view kTable = "otel_metrics_sum";
  MetricPointCommon common;
  Float64Column value;
  ExemplarColumns exemplars;
  Int32Column aggregationTemporality;  // the OTLP enum value: 0 unspecified, 1 delta, 2 cumulative
  BoolColumn isMonotonic;

  template <typename F>
  void forEachColumn(F&& f) {
    common.forEachColumn(f);
    f("Value", value);
    exemplars.forEachColumn(f);
    f("AggregationTemporality", aggregationTemporality);
    f("IsMonotonic", isMonotonic);
  }
  STACKHOUSE_CONST_FOR_EACH_COLUMN(SumBatch)
};

struct HistogramBatch {
  static constexpr std::string_view kTable = "otel_metrics_histogram";
  MetricPointCommon common;
  UInt64Column count;
  Float64Column sum;
  UInt64ListColumn bucketCounts;
  Float64ListColumn explicitBounds;
  ExemplarColumns exemplars;
  Float64Column min;  // 0 when absent
  Float64Column max;  // 0 when absent
  Int32Column aggregationTemporality;

  template <typename F>
  void forEachColumn(F&& f) {
    common.forEachColumn(f);
    f("Count", count);
    f("Sum", sum);
    f("BucketCounts", bucketCounts);
    f("ExplicitBounds", explicitBounds);
    exemplars.forEachColumn(f);
    f("Min", min);
    f("Max", max);
    f("AggregationTemporality", aggregationTemporality);
  }
  STACKHOUSE_CONST_FOR_EACH_COLUMN(HistogramBatch)
};

struct ExpHistogramBatch {
  static constexpr std::string_view kTable = "otel_metrics_exponential_histogram";
  MetricPointCommon common;
  UInt64Column count;
  Float64Column sum;
  Int32Column scale;
  UInt64Column zeroCount;
  Int32Column positiveOffset;
  UInt64ListColumn positiveBucketCounts;
  Int32Column negativeOffset;
  UInt64ListColumn negativeBucketCounts;
  ExemplarColumns exemplars;
  Float64Column min;
  Float64Column max;
  Int32Column aggregationTemporality;

  template <typename F>
  void forEachColumn(F&& f) {
    common.forEachColumn(f);
    f("Count", count);
    f("Sum", sum);
    f("Scale", scale);
    f("ZeroCount", zeroCount);
    f("PositiveOffset", positiveOffset);
    f("PositiveBucketCounts", positiveBucketCounts);
    f("NegativeOffset", negativeOffset);
    f("NegativeBucketCounts", negativeBucketCounts);
    exemplars.forEachColumn(f);
    f("Min", min);
    f("Max", max);
    f("AggregationTemporality", aggregationTemporality);
  }
  STACKHOUSE_CONST_FOR_EACH_COLUMN(ExpHistogramBatch)
};

struct SummaryBatch {
  static constexpr std::string_view kTable = "otel_metrics_summary";
  MetricPointCommon common;
  UInt64Column count;
  Float64Column sum;
  Float64ListColumn quantile;       // ValueAtQuantiles.Quantile
  Float64ListColumn quantileValue;  // ValueAtQuantiles.Value

  template <typename F>
  void forEachColumn(F&& f) {
    common.forEachColumn(f);
    f("Count", count);
    f("Sum", sum);
    f("ValueAtQuantiles.Quantile", quantile);
    f("ValueAtQuantiles.Value", quantileValue);
  }
  STACKHOUSE_CONST_FOR_EACH_COLUMN(SummaryBatch)
};

#undef STACKHOUSE_CONST_FOR_EACH_COLUMN

struct MetricBatch {
  GaugeBatch gauge;
  SumBatch sum;
  HistogramBatch histogram;
  ExpHistogramBatch expHistogram;
  SummaryBatch summary;

  // Calls f(batch) for each of the five point batches.
  template <typename F>
  void forEachKind(F&& f) {
    f(gauge);
    f(sum);
    f(histogram);
    f(expHistogram);
    f(summary);
  }
  template <typename F>
  void forEachKind(F&& f) const {
    f(gauge);
    f(sum);
    f(histogram);
    f(expHistogram);
    f(summary);
  }
  size_t rows() const {
    return gauge.rows() + sum.rows() + histogram.rows() + expHistogram.rows() + summary.rows();
  }
};

}  // namespace stackhouse::telemetry
