// Test support for the OTLP decoders: a reference mapping from libprotobuf-parsed requests to the
// rows we expect (written independently of src/otlp: std::map for kvlists, printf for doubles),
// a random request generator, OTLP/JSON conversion, and a dump of batches in the same cell format.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "telemetry/columns.h"
#include "telemetry/log_batch.h"
#include "telemetry/metric_batch.h"
#include "telemetry/span_batch.h"

namespace stackhouse::otlp::testing {

namespace pbcommon = opentelemetry::proto::common::v1;
namespace pblogs = opentelemetry::proto::logs::v1;
namespace pbtrace = opentelemetry::proto::trace::v1;
namespace pbmetrics = opentelemetry::proto::metrics::v1;
using LogsRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
using TraceRequest = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using MetricsRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

// ---- cells: one column value of one row, as comparable text

std::string cellString(std::string_view s);
std::string cellInt(int64_t v);
std::string cellUint(uint64_t v);
std::string cellDouble(double v);  // shortest exact %g form; every NaN is "nan"
std::string cellMap(const std::vector<std::pair<std::string, std::string>>& entries);
std::string cellList(const std::vector<std::string>& cells);

using Row = std::map<std::string, std::string>;  // column name -> cell

template <typename T, telemetry::FixedKind K>
std::string cellOf(const telemetry::FixedColumn<T, K>& c, size_t i) {
  if constexpr (std::is_same_v<T, double>) {
    return cellDouble(c.at(i));
  } else if constexpr (std::is_signed_v<T>) {
    return cellInt(c.at(i));
  } else {
    return cellUint(c.at(i));
  }
}
inline std::string cellOf(const telemetry::StringColumn& c, size_t i) {
  return cellString(c.at(i));
}
inline std::string cellOf(const telemetry::MapColumn& c, size_t i) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (auto j = static_cast<size_t>(c.offset(i)); j < static_cast<size_t>(c.offset(i + 1)); ++j) {
    entries.emplace_back(c.keys().at(j), c.values().at(j));
  }
  return cellMap(entries);
}
template <typename Child>
std::string cellOf(const telemetry::ListColumn<Child>& c, size_t i) {
  std::vector<std::string> cells;
  for (auto j = static_cast<size_t>(c.offset(i)); j < static_cast<size_t>(c.offset(i + 1)); ++j) {
    cells.push_back(cellOf(c.child(), j));
  }
  return cellList(cells);
}

template <typename Batch>
std::vector<Row> dumpRows(const Batch& batch) {
  std::vector<Row> rows(batch.rows());
  batch.forEachColumn([&](std::string_view name, const auto& column) {
    for (size_t i = 0; i < rows.size(); ++i) rows[i][std::string(name)] = cellOf(column, i);
  });
  return rows;
}

// Every column has exactly rows() values (offsets included): the batch is consistent.
template <typename Batch>
bool columnsConsistent(const Batch& batch) {
  bool ok = true;
  const size_t n = batch.rows();
  batch.forEachColumn([&](std::string_view, const auto& column) { ok = ok && column.size() == n; });
  return ok;
}

// ---- the reference mapping

// pdata's Value.AsString, and the JSON rendering of nested values (see src/otlp/README.md).
std::string refAsString(const pbcommon::AnyValue& v);
std::string refJson(const pbcommon::AnyValue& v);
std::string refEs6(double v);
std::string refGoJsonQuote(std::string_view s);
std::string refBase64(std::string_view bytes);
std::string refHex(std::string_view bytes);

struct Expected {
  std::vector<Row> rows;
  uint64_t rejected = 0;
};
struct ExpectedMetrics {
  std::vector<Row> gauge, sum, histogram, expHistogram, summary;
  uint64_t rejected = 0;
};

Expected refLogs(const LogsRequest& request);
Expected refSpans(const TraceRequest& request);
ExpectedMetrics refMetrics(const MetricsRequest& request);

// ---- random requests

struct GenOptions {
  int maxDepth = 3;         // AnyValue nesting the generator produces
  double badIdRate = 0.03;  // chance an id has a wrong length
};

class RequestGenerator {
 public:
  explicit RequestGenerator(uint64_t seed, GenOptions options = {}) : rng_(seed), opt_(options) {}

  LogsRequest logs();
  TraceRequest traces();
  MetricsRequest metrics();

  std::string string();
  void anyValue(pbcommon::AnyValue* v, int depth);
  void attributes(google::protobuf::RepeatedPtrField<pbcommon::KeyValue>* kvs, int max);
  std::string id(size_t size);
  double number();
  uint64_t u64();
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

 private:
  void resource(opentelemetry::proto::resource::v1::Resource* r);
  void scope(pbcommon::InstrumentationScope* s);
  void exemplars(google::protobuf::RepeatedPtrField<pbmetrics::Exemplar>* out);

  std::mt19937_64 rng_;
  GenOptions opt_;
};

// ---- OTLP/JSON

// The protobuf JSON mapping of `message` (libprotobuf's MessageToJsonString), with trace and span
// ids turned from base64 into hex as OTLP/JSON requires.
std::string toOtlpJson(const google::protobuf::Message& message, bool snakeCase = false,
                       bool enumsAsInts = false);

// Replaces every -0.0 double in `message` with 0.0. The JSON reader reads the number -0 as the
// integer 0 (simdjson's DOM keeps no sign for it), so JSON comparisons use a normalized request.
void normalizeNegativeZero(google::protobuf::Message* message);

}  // namespace stackhouse::otlp::testing
