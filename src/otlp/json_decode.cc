#include "otlp/json_decode.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "common/utf8.h"
#include "otlp/json_keys.h"
#include "otlp/row_emit.h"

namespace stackhouse::otlp::detail {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
using telemetry::LogBatch;
using telemetry::MetricBatch;
using telemetry::SpanBatch;

constexpr size_t kInitialCapacity = size_t{64} << 10;
// Requests larger than this do not leave their parser and buffer sizes behind.
constexpr size_t kRetainBytes = size_t{16} << 20;

bool isNull(element e) { return e.type() == element_type::NULL_VALUE; }

enum class EnumType : uint8_t { kSeverityNumber, kSpanKind, kStatusCode, kTemporality };

// The value of an enum's name in its .proto ("SEVERITY_NUMBER_INFO2", "SPAN_KIND_SERVER").
bool enumFromName(EnumType type, std::string_view name, int64_t& v) {
  auto strip = [&name](std::string_view prefix) {
    if (name.substr(0, prefix.size()) != prefix) return false;
    name.remove_prefix(prefix.size());
    return true;
  };
  auto pick = [&name, &v](std::initializer_list<std::string_view> names) {
    int64_t i = 0;
    for (std::string_view n : names) {
      if (n == name) {
        v = i;
        return true;
      }
      ++i;
    }
    return false;
  };
  switch (type) {
    case EnumType::kSeverityNumber: {
      if (!strip("SEVERITY_NUMBER_")) return false;
      if (name == "UNSPECIFIED") {
        v = 0;
        return true;
      }
      static constexpr std::string_view kLevels[] = {"TRACE", "DEBUG", "INFO",
                                                     "WARN",  "ERROR", "FATAL"};
      for (int64_t level = 0; level < 6; ++level) {
        const std::string_view base = kLevels[level];
        if (name.substr(0, base.size()) != base) continue;
        const std::string_view rest = name.substr(base.size());
        if (rest.empty()) {
          v = level * 4 + 1;
          return true;
        }
        if (rest.size() == 1 && rest[0] >= '2' && rest[0] <= '4') {
          v = level * 4 + 1 + (rest[0] - '1');
          return true;
        }
      }
      return false;
    }
    case EnumType::kSpanKind:
      return strip("SPAN_KIND_") &&
             pick({"UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"});
    case EnumType::kStatusCode: return strip("STATUS_CODE_") && pick({"UNSET", "OK", "ERROR"});
    case EnumType::kTemporality:
      return strip("AGGREGATION_TEMPORALITY_") && pick({"UNSPECIFIED", "DELTA", "CUMULATIVE"});
  }
  return false;
}

// The first number of a data point that its field cannot hold (a count with no uint64 value,
// a scale or offset outside int32); the point is then rejected.
struct CountProblem {
  const char* message = nullptr;
  Key key = Key::kUnknown;
  const char* want = nullptr;

  void note(const char* m, Key k, const char* w) {
    if (message != nullptr) return;
    message = m;
    key = k;
    want = w;
  }
  explicit operator bool() const { return message != nullptr; }
};

// Reads one encoding's fields for the walkers and the ValueRenderer, reporting type errors as
// "json: <Message>.<field> must be ..." (field names from our table, never the payload).
class JsonSource {
 public:
  using Ref = element;

  JsonSource(DecodeContext& ctx, JsonDecoder::Scratch& scratch) : ctx_(ctx), s_(scratch) {}

  DecodeContext& ctx() { return ctx_; }
  std::vector<KvEntry<element>>& entries() { return s_.entries; }
  JsonDecoder::Scratch& scratch() { return s_; }

  bool typeError(const char* message, Key key, const char* want) {
    return ctx_.fail(std::string(message) + "." + std::string(keyName(key)) + " must be " + want);
  }

  bool getObject(element e, object& out, const char* message, Key key) {
    if (e.get_object().get(out) != simdjson::SUCCESS) return typeError(message, key, "an object");
    return true;
  }
  bool getString(element e, std::string_view& out, const char* message, Key key) {
    if (e.get_string().get(out) != simdjson::SUCCESS) return typeError(message, key, "a string");
    return true;
  }
  bool getBool(element e, bool& out, const char* message, Key key) {
    if (e.get_bool().get(out) != simdjson::SUCCESS) return typeError(message, key, "a boolean");
    return true;
  }

  // The uint64 value of a JSON number (integral, in range) or a string of decimal digits, as the
  // protobuf JSON mapping writes uint64 and fixed64 fields; false when it has none.
  static bool uint64Of(element e, uint64_t& out) {
    switch (e.type()) {
      case element_type::UINT64: out = e.get_uint64().value_unsafe(); return true;
      case element_type::INT64: {
        const int64_t v = e.get_int64().value_unsafe();
        if (v < 0) return false;
        out = static_cast<uint64_t>(v);
        return true;
      }
      case element_type::DOUBLE: {
        const double d = e.get_double().value_unsafe();
        if (!(d >= 0 && d < 18446744073709551616.0) || std::trunc(d) != d) return false;
        out = static_cast<uint64_t>(d);
        return true;
      }
      case element_type::STRING: {
        const std::string_view s = e.get_string().value_unsafe();
        const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
      }
      default: return false;
    }
  }

  bool getUint64(element e, uint64_t& out, const char* message, Key key) {
    if (uint64Of(e, out)) return true;
    return typeError(message, key, "an unsigned 64-bit integer (a number or a decimal string)");
  }

  bool getInt64(element e, int64_t& out, const char* message, Key key) {
    switch (e.type()) {
      case element_type::INT64: out = e.get_int64().value_unsafe(); return true;
      case element_type::UINT64: {
        const uint64_t v = e.get_uint64().value_unsafe();
        if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) break;
        out = static_cast<int64_t>(v);
        return true;
      }
      case element_type::DOUBLE: {
        const double d = e.get_double().value_unsafe();
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || std::trunc(d) != d) {
          break;
        }
        out = static_cast<int64_t>(d);
        return true;
      }
      case element_type::STRING: {
        const std::string_view s = e.get_string().value_unsafe();
        const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) break;
        return true;
      }
      default: break;
    }
    return typeError(message, key, "a signed 64-bit integer (a number or a decimal string)");
  }

  // AnyValue.intValue. Senders whose numbers are doubles (every JavaScript SDK: JSON.stringify)
  // write int64 values past 2^53 as the double they became, 2^63 as 9223372036854776000 and
  // 1e21 as 1e+21. Such a number is kept, not refused: as an int when it is an int64 integer,
  // otherwise as the double it is (kind kDouble), which renders as the sender's own text and as
  // the protobuf encoding of that value (a double_value) is stored. Only a wrong JSON type fails.
  bool getIntValue(element e, AnyValueView<element>& out) {
    out.kind = ValueKind::kInt;
    switch (e.type()) {
      case element_type::INT64: out.integer = e.get_int64().value_unsafe(); return true;
      case element_type::UINT64:
      case element_type::DOUBLE: {
        const double d = e.type() == element_type::UINT64
                             ? static_cast<double>(e.get_uint64().value_unsafe())
                             : e.get_double().value_unsafe();
        keepNumber(d, out);
        return true;
      }
      case element_type::STRING: {
        const std::string_view s = e.get_string().value_unsafe();
        const auto r = std::from_chars(s.data(), s.data() + s.size(), out.integer);
        if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) return true;
        double d = 0;
        if (!decimalString(s, d)) break;
        keepNumber(d, out);
        return true;
      }
      default: break;
    }
    return typeError("AnyValue", Key::kIntValue, "an integer (a number or a decimal string)");
  }

  // NumberDataPoint.asInt and Exemplar.asInt, for the Float64 Value column: any number, as
  // exactly as a double holds it. Past int64 (see getIntValue) it is the double it was sent as.
  bool getIntAsDouble(element e, double& out, const char* message, Key key) {
    switch (e.type()) {
      case element_type::INT64:
        out = static_cast<double>(e.get_int64().value_unsafe());
        return true;
      case element_type::UINT64:
        out = static_cast<double>(e.get_uint64().value_unsafe());
        return true;
      case element_type::DOUBLE: out = e.get_double().value_unsafe(); return true;
      case element_type::STRING: {
        const std::string_view s = e.get_string().value_unsafe();
        int64_t i = 0;
        const auto r = std::from_chars(s.data(), s.data() + s.size(), i);
        if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) {
          out = static_cast<double>(i);
          return true;
        }
        if (decimalString(s, out)) return true;
        break;
      }
      default: break;
    }
    return typeError(message, key, "an integer (a number or a decimal string)");
  }

  // A count (HistogramDataPoint.count, bucketCounts, zeroCount, ...): a uint64 as getUint64
  // reads it. A number that has no uint64 value (negative, fractional, 2^64 or more) cannot be
  // stored faithfully: it is noted in `problem` (the data point is then rejected on its own, OTLP
  // partial success) and `out` is 0. Only a wrong JSON type fails the call.
  bool getCount(element e, uint64_t& out, const char* message, Key key, CountProblem& problem) {
    if (uint64Of(e, out)) return true;
    // A number, or a decimal string, without a uint64 value: the point alone is refused. Any
    // other JSON type fails the call.
    double ignored = 0;
    const element_type t = e.type();
    const bool number =
        t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE ||
        (t == element_type::STRING && decimalString(e.get_string().value_unsafe(), ignored));
    if (!number) {
      return typeError(message, key, "an unsigned 64-bit integer (a number or a decimal string)");
    }
    out = 0;
    problem.note(message, key, "an unsigned 64-bit integer");
    return true;
  }

  // ExponentialHistogramDataPoint.scale and the buckets' offset: a number outside int32, or
  // fractional, is noted in `problem` as a count is (`out` is 0).
  bool getPointInt32(element e, int32_t& out, const char* message, Key key, CountProblem& problem) {
    double d = 0;
    if (!getIntAsDouble(e, d, message, key)) return false;
    if (d >= -2147483648.0 && d <= 2147483647.0 && std::trunc(d) == d) {
      out = static_cast<int32_t>(d);
    } else {
      out = 0;
      problem.note(message, key, "a signed 32-bit integer");
    }
    return true;
  }

  bool getUint32(element e, uint32_t& out, const char* message, Key key) {
    uint64_t v = 0;
    if (!getUint64(e, v, message, key)) return false;
    if (v > std::numeric_limits<uint32_t>::max()) {
      return typeError(message, key, "an unsigned 32-bit integer");
    }
    out = static_cast<uint32_t>(v);
    return true;
  }

  bool getInt32(element e, int32_t& out, const char* message, Key key) {
    int64_t v = 0;
    if (!getInt64(e, v, message, key)) return false;
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
      return typeError(message, key, "a signed 32-bit integer");
    }
    out = static_cast<int32_t>(v);
    return true;
  }

  // A double: a JSON number, or a string "NaN", "Infinity", "-Infinity" or a decimal number.
  bool getDouble(element e, double& out, const char* message, Key key) {
    switch (e.type()) {
      case element_type::DOUBLE: out = e.get_double().value_unsafe(); return true;
      case element_type::INT64:
        out = static_cast<double>(e.get_int64().value_unsafe());
        return true;
      case element_type::UINT64:
        out = static_cast<double>(e.get_uint64().value_unsafe());
        return true;
      case element_type::STRING: {
        const std::string_view s = e.get_string().value_unsafe();
        if (s == "NaN") {
          out = std::numeric_limits<double>::quiet_NaN();
          return true;
        }
        if (s == "Infinity" || s == "-Infinity") {
          out = s[0] == '-' ? -std::numeric_limits<double>::infinity()
                            : std::numeric_limits<double>::infinity();
          return true;
        }
        const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() ||
            !std::isfinite(out)) {
          break;
        }
        return true;
      }
      default: break;
    }
    return typeError(message, key, "a double (a number, \"NaN\", \"Infinity\" or \"-Infinity\")");
  }

  // An enum: its number, or its name as in the .proto.
  bool getEnum(element e, EnumType type, int64_t& out, const char* message, Key key) {
    if (e.type() == element_type::STRING) {
      if (enumFromName(type, e.get_string().value_unsafe(), out)) return true;
      return typeError(message, key, "a known enum name or an integer");
    }
    int32_t v = 0;
    if (!getInt32(e, v, message, key)) return false;
    out = v;
    return true;
  }

  // A trace or span id: a hex string (any case). A string that is not hex, or of the wrong
  // length, makes the record rejected, not the request failed.
  bool getId(element e, IdBytes& id, const char* message, Key key) {
    std::string_view hex;
    if (!getString(e, hex, message, key)) return false;
    id = IdBytes{};
    if (hex.size() > 2 * sizeof id.bytes) {
      id.size = (hex.size() + 1) / 2;
      return true;
    }
    size_t n = 0;
    if (!decodeHex(hex, id.bytes, sizeof id.bytes, &n)) {
      id.malformed = true;
      return true;
    }
    id.size = n;
    return true;
  }

  // Calls f(element) for each item of the array `e` (null: none).
  template <typename F>
  bool forEachIn(element e, const char* message, Key key, F&& f) {
    if (isNull(e)) return true;
    array items;
    if (e.get_array().get(items) != simdjson::SUCCESS) return typeError(message, key, "an array");
    for (element item : items) {
      if (!f(item)) return false;
    }
    return true;
  }

  // --- the ValueRenderer's interface

  bool readValue(element v, AnyValueView<element>& out) {
    if (isNull(v)) return true;
    object obj;
    if (v.get_object().get(obj) != simdjson::SUCCESS) {
      return ctx_.fail("an AnyValue must be an object");
    }
    for (auto field : obj) {
      const Key key = lookupKey(field.key);
      const element val = field.value;
      if (key == Key::kUnknown || isNull(val)) continue;
      switch (key) {
        case Key::kStringValue:
          if (!getString(val, out.text, "AnyValue", key)) return false;
          out.kind = ValueKind::kString;
          break;
        case Key::kBoolValue:
          if (!getBool(val, out.boolean, "AnyValue", key)) return false;
          out.kind = ValueKind::kBool;
          break;
        case Key::kIntValue:
          if (!getIntValue(val, out)) return false;
          break;
        case Key::kDoubleValue:
          if (!getDouble(val, out.number, "AnyValue", key)) return false;
          out.kind = ValueKind::kDouble;
          break;
        case Key::kArrayValue:
        case Key::kKvlistValue:
          if (val.type() != element_type::OBJECT) return typeError("AnyValue", key, "an object");
          out.kind = key == Key::kArrayValue ? ValueKind::kArray : ValueKind::kKvlist;
          out.child = val;
          break;
        case Key::kBytesValue: {
          std::string_view b64;
          if (!getString(val, b64, "AnyValue", key)) return false;
          if (!decodeBase64(b64, s_.bytes)) {
            return typeError("AnyValue", key, "base64 (standard or URL-safe alphabet)");
          }
          out.kind = ValueKind::kBytes;
          out.text = s_.bytes;
          break;
        }
        default: break;
      }
    }
    return true;
  }

  // The "values" array of an ArrayValue or KeyValueList object (the last one, if repeated).
  bool valuesOf(element container, element& values, bool& has, const char* message) {
    object obj;
    if (container.get_object().get(obj) != simdjson::SUCCESS) {
      return ctx_.fail(std::string(message) + " must be an object");
    }
    has = false;
    for (auto field : obj) {
      if (lookupKey(field.key) == Key::kValues && !isNull(field.value)) {
        values = field.value;
        has = true;
      }
    }
    return true;
  }

  template <typename F>
  bool forEachItem(element arrayValue, F&& f) {
    element values;
    bool has = false;
    if (!valuesOf(arrayValue, values, has, "ArrayValue")) return false;
    return !has || forEachIn(values, "ArrayValue", Key::kValues, f);
  }

  template <typename F>
  bool forEachEntry(element kvlistValue, F&& f) {
    element values;
    bool has = false;
    if (!valuesOf(kvlistValue, values, has, "KeyValueList")) return false;
    return !has || forEachIn(values, "KeyValueList", Key::kValues, [&](element kv) {
      std::string_view key;
      element value;
      bool hasValue = false;
      return readKeyValue(kv, key, value, hasValue) && f(key, value, hasValue);
    });
  }

  bool readKeyValue(element kv, std::string_view& key, element& value, bool& has) {
    object obj;
    if (kv.get_object().get(obj) != simdjson::SUCCESS) {
      return ctx_.fail("a KeyValue must be an object");
    }
    has = false;
    for (auto field : obj) {
      const Key k = lookupKey(field.key);
      if (k == Key::kKey) {
        if (!isNull(field.value) && !getString(field.value, key, "KeyValue", k)) return false;
      } else if (k == Key::kValue) {
        value = field.value;
        has = !isNull(field.value);
      }
    }
    return true;
  }

  // Appends each KeyValue of the attributes array `e` to the current row of `map`.
  bool appendAttributes(element e, const char* message, telemetry::MapColumn& map) {
    return forEachIn(e, message, Key::kAttributes, [&](element kv) {
      std::string_view key;
      element value;
      bool has = false;
      return readKeyValue(kv, key, value, has) && appendAttribute(*this, key, value, has, map);
    });
  }

 private:
  // An int64 integer as kInt, anything else as kDouble.
  static void keepNumber(double d, AnyValueView<element>& out) {
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && std::trunc(d) == d) {
      out.kind = ValueKind::kInt;
      out.integer = static_cast<int64_t>(d);
    } else {
      out.kind = ValueKind::kDouble;
      out.number = d;
    }
  }

  // A string holding a finite decimal number ("1e21", "-9223372036854775809").
  static bool decimalString(std::string_view s, double& out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(out);
  }

  DecodeContext& ctx_;
  JsonDecoder::Scratch& s_;
};

// Remembers the last element seen for each field of one object; absent and null fields stay
// unset. Walkers read an object once into this, then act on it, so that duplicate keys resolve
// to the last one and field order does not matter.
struct Fields {
  static constexpr size_t kSize = static_cast<size_t>(Key::kBytesValue) + 1;
  // Uninitialised until present: a walker builds one of these per record.
  union Slot {
    Slot() {}
    element value;
  };
  Slot slots[kSize];
  bool present[kSize] = {};

  bool has(Key k) const { return present[static_cast<size_t>(k)]; }
  element operator[](Key k) const { return slots[static_cast<size_t>(k)].value; }
  void set(Key k, element e) {
    slots[static_cast<size_t>(k)].value = e;
    present[static_cast<size_t>(k)] = true;
  }
};
static_assert(std::is_trivially_copyable_v<element> && std::is_trivially_destructible_v<element>);

// A set of keys, as two 64-bit masks.
class KeySet {
 public:
  KeySet(std::initializer_list<Key> keys) {
    for (Key k : keys)
      bits_[static_cast<size_t>(k) / 64] |= uint64_t{1} << (static_cast<size_t>(k) % 64);
  }
  bool contains(Key k) const {
    return (bits_[static_cast<size_t>(k) / 64] >> (static_cast<size_t>(k) % 64) & 1) != 0;
  }

 private:
  uint64_t bits_[2] = {};
};
static_assert(Fields::kSize <= 128);

// Reads the fields of `e` (an object) into `out`, keeping only those in `wanted`.
bool readFields(JsonSource& src, element e, const char* message, const KeySet& wanted,
                Fields& out) {
  object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) {
    return src.ctx().fail(std::string("a ") + message + " must be an object");
  }
  for (auto field : obj) {
    const Key k = lookupKey(field.key);
    if (k == Key::kUnknown || !wanted.contains(k) || isNull(field.value)) continue;
    out.set(k, field.value);
  }
  return true;
}

bool readResource(JsonSource& src, const Fields& container, const char* message, ResourceRow& row) {
  DecodeContext& ctx = src.ctx();
  row.clear();
  std::string_view schemaUrl;
  if (container.has(Key::kSchemaUrl) &&
      !src.getString(container[Key::kSchemaUrl], schemaUrl, message, Key::kSchemaUrl)) {
    return false;
  }
  if (container.has(Key::kResource)) {
    Fields f;
    if (!readFields(src, container[Key::kResource], "Resource", {Key::kAttributes}, f)) {
      return false;
    }
    if (f.has(Key::kAttributes) &&
        !src.appendAttributes(f[Key::kAttributes], "Resource", row.attributes)) {
      return false;
    }
  }
  src.ctx().endAttributes(row.attributes);
  row.finish(ctx, schemaUrl);
  return true;
}

bool readScope(JsonSource& src, const Fields& container, const char* message, ScopeRow& row) {
  DecodeContext& ctx = src.ctx();
  row.clear();
  std::string_view name;
  std::string_view version;
  std::string_view schemaUrl;
  if (container.has(Key::kSchemaUrl) &&
      !src.getString(container[Key::kSchemaUrl], schemaUrl, message, Key::kSchemaUrl)) {
    return false;
  }
  if (container.has(Key::kScope)) {
    Fields f;
    if (!readFields(src, container[Key::kScope], "InstrumentationScope",
                    {Key::kName, Key::kVersion, Key::kAttributes, Key::kDroppedAttributesCount},
                    f)) {
      return false;
    }
    const char* m = "InstrumentationScope";
    if (f.has(Key::kName) && !src.getString(f[Key::kName], name, m, Key::kName)) return false;
    if (f.has(Key::kVersion) && !src.getString(f[Key::kVersion], version, m, Key::kVersion)) {
      return false;
    }
    if (f.has(Key::kDroppedAttributesCount) &&
        !src.getUint32(f[Key::kDroppedAttributesCount], row.droppedAttributesCount, m,
                       Key::kDroppedAttributesCount)) {
      return false;
    }
    if (f.has(Key::kAttributes) && !src.appendAttributes(f[Key::kAttributes], m, row.attributes)) {
      return false;
    }
  }
  src.ctx().endAttributes(row.attributes);
  ctx.appendString(row.text, name);
  ctx.appendString(row.text, version);
  ctx.appendString(row.text, schemaUrl);
  return true;
}

// Walks request → ResourceX → ScopeX → records, calling record(element) for each record.
template <typename Record>
bool walkRequest(JsonSource& src, element root, Key resourcesKey, const char* resourceMessage,
                 Key scopesKey, const char* scopeMessage, Key recordsKey, Record&& record) {
  Fields top;
  if (!readFields(src, root, "request", {resourcesKey}, top)) return false;
  if (!top.has(resourcesKey)) return true;
  JsonDecoder::Scratch& s = src.scratch();
  return src.forEachIn(top[resourcesKey], "request", resourcesKey, [&](element resource) {
    Fields rf;
    if (!src.ctx().nextResource() ||
        !readFields(src, resource, resourceMessage, {Key::kResource, scopesKey, Key::kSchemaUrl},
                    rf) ||
        !readResource(src, rf, resourceMessage, s.resource)) {
      return false;
    }
    if (!rf.has(scopesKey)) return true;
    return src.forEachIn(rf[scopesKey], resourceMessage, scopesKey, [&](element scope) {
      Fields sf;
      if (!readFields(src, scope, scopeMessage, {Key::kScope, recordsKey, Key::kSchemaUrl}, sf) ||
          !readScope(src, sf, scopeMessage, s.scope)) {
        return false;
      }
      return !sf.has(recordsKey) || src.forEachIn(sf[recordsKey], scopeMessage, recordsKey, record);
    });
  });
}

// ---- logs

bool decodeLogRecord(JsonSource& src, element e, LogBatch& b) {
  DecodeContext& ctx = src.ctx();
  const char* m = "LogRecord";
  Fields f;
  if (!readFields(
          src, e, m,
          {Key::kTimeUnixNano, Key::kObservedTimeUnixNano, Key::kSeverityNumber, Key::kSeverityText,
           Key::kBody, Key::kAttributes, Key::kFlags, Key::kTraceId, Key::kSpanId, Key::kEventName},
          f)) {
    return false;
  }
  const size_t rows = b.rows();
  LogFields<element> lf;
  if ((f.has(Key::kTimeUnixNano) &&
       !src.getUint64(f[Key::kTimeUnixNano], lf.time, m, Key::kTimeUnixNano)) ||
      (f.has(Key::kObservedTimeUnixNano) &&
       !src.getUint64(f[Key::kObservedTimeUnixNano], lf.observed, m, Key::kObservedTimeUnixNano)) ||
      (f.has(Key::kSeverityNumber) &&
       !src.getEnum(f[Key::kSeverityNumber], EnumType::kSeverityNumber, lf.severityNumber, m,
                    Key::kSeverityNumber)) ||
      (f.has(Key::kSeverityText) &&
       !src.getString(f[Key::kSeverityText], lf.severityText, m, Key::kSeverityText)) ||
      (f.has(Key::kFlags) && !src.getUint32(f[Key::kFlags], lf.flags, m, Key::kFlags)) ||
      (f.has(Key::kTraceId) && !src.getId(f[Key::kTraceId], lf.traceId, m, Key::kTraceId)) ||
      (f.has(Key::kSpanId) && !src.getId(f[Key::kSpanId], lf.spanId, m, Key::kSpanId)) ||
      (f.has(Key::kEventName) &&
       !src.getString(f[Key::kEventName], lf.eventName, m, Key::kEventName))) {
    return false;
  }
  if (f.has(Key::kBody)) {
    lf.body = f[Key::kBody];
    lf.hasBody = true;
  }
  if (f.has(Key::kAttributes) && !src.appendAttributes(f[Key::kAttributes], m, b.logAttributes)) {
    return false;
  }
  const bool ok = emitLog(src, b, rows, src.scratch().resource, src.scratch().scope, lf);
  return ctx.nextRecord() && ok;
}

// ---- spans

bool decodeEvent(JsonSource& src, element e, SpanBatch& b) {
  const char* m = "Span.Event";
  Fields f;
  if (!readFields(src, e, m, {Key::kTimeUnixNano, Key::kName, Key::kAttributes}, f)) return false;
  uint64_t time = 0;
  std::string_view name;
  if ((f.has(Key::kTimeUnixNano) &&
       !src.getUint64(f[Key::kTimeUnixNano], time, m, Key::kTimeUnixNano)) ||
      (f.has(Key::kName) && !src.getString(f[Key::kName], name, m, Key::kName)) ||
      (f.has(Key::kAttributes) &&
       !src.appendAttributes(f[Key::kAttributes], m, b.eventsAttributes.child()))) {
    return false;
  }
  emitEvent(src.ctx(), b, time, name);
  return true;
}

bool decodeLink(JsonSource& src, element e, SpanBatch& b, IdProblem& problem) {
  const char* m = "Span.Link";
  Fields f;
  if (!readFields(src, e, m, {Key::kTraceId, Key::kSpanId, Key::kTraceState, Key::kAttributes},
                  f)) {
    return false;
  }
  IdBytes traceId;
  IdBytes spanId;
  std::string_view traceState;
  if ((f.has(Key::kTraceId) && !src.getId(f[Key::kTraceId], traceId, m, Key::kTraceId)) ||
      (f.has(Key::kSpanId) && !src.getId(f[Key::kSpanId], spanId, m, Key::kSpanId)) ||
      (f.has(Key::kTraceState) &&
       !src.getString(f[Key::kTraceState], traceState, m, Key::kTraceState)) ||
      (f.has(Key::kAttributes) &&
       !src.appendAttributes(f[Key::kAttributes], m, b.linksAttributes.child()))) {
    return false;
  }
  emitLink(src.ctx(), b, traceId, spanId, traceState, problem);
  return true;
}

bool decodeSpan(JsonSource& src, element e, SpanBatch& b) {
  DecodeContext& ctx = src.ctx();
  const char* m = "Span";
  Fields f;
  if (!readFields(src, e, m,
                  {Key::kTraceId, Key::kSpanId, Key::kTraceState, Key::kParentSpanId, Key::kName,
                   Key::kKind, Key::kStartTimeUnixNano, Key::kEndTimeUnixNano, Key::kAttributes,
                   Key::kEvents, Key::kLinks, Key::kStatus},
                  f)) {
    return false;
  }
  const size_t rows = b.rows();
  SpanFields sf;
  if ((f.has(Key::kTraceId) && !src.getId(f[Key::kTraceId], sf.traceId, m, Key::kTraceId)) ||
      (f.has(Key::kSpanId) && !src.getId(f[Key::kSpanId], sf.spanId, m, Key::kSpanId)) ||
      (f.has(Key::kParentSpanId) &&
       !src.getId(f[Key::kParentSpanId], sf.parentSpanId, m, Key::kParentSpanId)) ||
      (f.has(Key::kTraceState) &&
       !src.getString(f[Key::kTraceState], sf.traceState, m, Key::kTraceState)) ||
      (f.has(Key::kName) && !src.getString(f[Key::kName], sf.name, m, Key::kName)) ||
      (f.has(Key::kKind) &&
       !src.getEnum(f[Key::kKind], EnumType::kSpanKind, sf.kind, m, Key::kKind)) ||
      (f.has(Key::kStartTimeUnixNano) &&
       !src.getUint64(f[Key::kStartTimeUnixNano], sf.start, m, Key::kStartTimeUnixNano)) ||
      (f.has(Key::kEndTimeUnixNano) &&
       !src.getUint64(f[Key::kEndTimeUnixNano], sf.end, m, Key::kEndTimeUnixNano))) {
    return false;
  }
  if (f.has(Key::kStatus)) {
    Fields st;
    if (!readFields(src, f[Key::kStatus], "Status", {Key::kMessage, Key::kCode}, st) ||
        (st.has(Key::kMessage) &&
         !src.getString(st[Key::kMessage], sf.statusMessage, "Status", Key::kMessage)) ||
        (st.has(Key::kCode) && !src.getEnum(st[Key::kCode], EnumType::kStatusCode, sf.statusCode,
                                            "Status", Key::kCode))) {
      return false;
    }
  }
  if ((f.has(Key::kAttributes) &&
       !src.appendAttributes(f[Key::kAttributes], m, b.spanAttributes)) ||
      (f.has(Key::kEvents) &&
       !src.forEachIn(f[Key::kEvents], m, Key::kEvents,
                      [&](element ev) { return decodeEvent(src, ev, b); })) ||
      (f.has(Key::kLinks) && !src.forEachIn(f[Key::kLinks], m, Key::kLinks, [&](element link) {
        return decodeLink(src, link, b, sf.linkProblem);
      }))) {
    return false;
  }
  const bool ok = emitSpan(ctx, b, rows, src.scratch().resource, src.scratch().scope, sf);
  return ctx.nextRecord() && ok;
}

// ---- metrics

// The value oneof of a NumberDataPoint or an Exemplar: asDouble or asInt. With both present
// (a malformed oneof) asInt wins, whatever the key order; protobuf would keep the last.
bool readNumberValue(JsonSource& src, const Fields& f, const char* m, double& value) {
  if (f.has(Key::kAsDouble) && !src.getDouble(f[Key::kAsDouble], value, m, Key::kAsDouble)) {
    return false;
  }
  return !f.has(Key::kAsInt) || src.getIntAsDouble(f[Key::kAsInt], value, m, Key::kAsInt);
}

// Rolls back and rejects the data point begun at `rows` that has a CountProblem.
template <typename KindBatch>
bool rejectForCount(DecodeContext& ctx, KindBatch& b, size_t rows, const CountProblem& p) {
  telemetry::truncateBatch(b, rows);
  if (ctx.stats().firstRejection.empty()) {
    ctx.reject("data point",
               std::string(p.message) + "." + std::string(keyName(p.key)) + " is not " + p.want);
  } else {
    ctx.reject("data point", {});
  }
  return ctx.nextRecord();
}

bool decodeExemplars(JsonSource& src, const Fields& point, const char* m,
                     telemetry::ExemplarColumns& e, IdProblem& problem) {
  if (!point.has(Key::kExemplars)) return true;
  return src.forEachIn(point[Key::kExemplars], m, Key::kExemplars, [&](element ex) {
    const char* em = "Exemplar";
    Fields f;
    if (!readFields(src, ex, em,
                    {Key::kTimeUnixNano, Key::kAsDouble, Key::kAsInt, Key::kSpanId, Key::kTraceId,
                     Key::kFilteredAttributes},
                    f)) {
      return false;
    }
    ExemplarFields x;
    if ((f.has(Key::kTimeUnixNano) &&
         !src.getUint64(f[Key::kTimeUnixNano], x.time, em, Key::kTimeUnixNano)) ||
        (f.has(Key::kSpanId) && !src.getId(f[Key::kSpanId], x.spanId, em, Key::kSpanId)) ||
        (f.has(Key::kTraceId) && !src.getId(f[Key::kTraceId], x.traceId, em, Key::kTraceId))) {
      return false;
    }
    if (!readNumberValue(src, f, em, x.value)) return false;
    if (f.has(Key::kFilteredAttributes) &&
        !src.forEachIn(f[Key::kFilteredAttributes], em, Key::kFilteredAttributes, [&](element kv) {
          std::string_view key;
          element value;
          bool has = false;
          return src.readKeyValue(kv, key, value, has) &&
                 appendAttribute(src, key, value, has, e.filteredAttributes.child());
        })) {
      return false;
    }
    emitExemplar(src.ctx(), e, x, problem);
    return true;
  });
}

// The fields every data point has: times, flags, attributes (appended to c.attributes).
bool readPointCommon(JsonSource& src, const Fields& f, const char* m,
                     telemetry::MetricPointCommon& c, PointFields& p) {
  return (!f.has(Key::kStartTimeUnixNano) ||
          src.getUint64(f[Key::kStartTimeUnixNano], p.start, m, Key::kStartTimeUnixNano)) &&
         (!f.has(Key::kTimeUnixNano) ||
          src.getUint64(f[Key::kTimeUnixNano], p.time, m, Key::kTimeUnixNano)) &&
         (!f.has(Key::kFlags) || src.getUint32(f[Key::kFlags], p.flags, m, Key::kFlags)) &&
         (!f.has(Key::kAttributes) || src.appendAttributes(f[Key::kAttributes], m, c.attributes));
}

template <typename KindBatch, typename Extra>
bool decodeNumberPoint(JsonSource& src, element e, KindBatch& b, const MetricBatch& m,
                       Extra&& extra) {
  DecodeContext& ctx = src.ctx();
  const char* mn = "NumberDataPoint";
  Fields f;
  if (!readFields(src, e, mn,
                  {Key::kAttributes, Key::kStartTimeUnixNano, Key::kTimeUnixNano, Key::kAsDouble,
                   Key::kAsInt, Key::kExemplars, Key::kFlags},
                  f)) {
    return false;
  }
  const size_t rows = b.rows();
  PointFields p;
  double value = 0;
  if (!readNumberValue(src, f, mn, value) || !readPointCommon(src, f, mn, b.common, p) ||
      !decodeExemplars(src, f, mn, b.exemplars, p.exemplarProblem)) {
    return false;
  }
  JsonDecoder::Scratch& s = src.scratch();
  if (beginPointRow(ctx, b, rows, s.resource, s.scope, s.metric, p)) {
    b.value.append(value);
    endExemplars(b.exemplars);
    extra(b);
    if (!finishPoint(ctx, m)) return false;
  }
  return ctx.nextRecord();
}

bool getOptionalDouble(JsonSource& src, const Fields& f, Key k, const char* m, double& out) {
  return !f.has(k) || src.getDouble(f[k], out, m, k);
}

bool decodeHistogramPoint(JsonSource& src, element e, MetricBatch& m, int32_t temporality) {
  DecodeContext& ctx = src.ctx();
  telemetry::HistogramBatch& b = m.histogram;
  const char* mn = "HistogramDataPoint";
  Fields f;
  if (!readFields(src, e, mn,
                  {Key::kAttributes, Key::kStartTimeUnixNano, Key::kTimeUnixNano, Key::kCount,
                   Key::kSum, Key::kBucketCounts, Key::kExplicitBounds, Key::kExemplars,
                   Key::kFlags, Key::kMin, Key::kMax},
                  f)) {
    return false;
  }
  const size_t rows = b.rows();
  PointFields p;
  CountProblem countProblem;
  uint64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  if (!readPointCommon(src, f, mn, b.common, p) ||
      (f.has(Key::kCount) && !src.getCount(f[Key::kCount], count, mn, Key::kCount, countProblem)) ||
      !getOptionalDouble(src, f, Key::kSum, mn, sum) ||
      !getOptionalDouble(src, f, Key::kMin, mn, min) ||
      !getOptionalDouble(src, f, Key::kMax, mn, max) ||
      (f.has(Key::kBucketCounts) && !src.forEachIn(f[Key::kBucketCounts], mn, Key::kBucketCounts,
                                                   [&](element v) {
                                                     uint64_t c = 0;
                                                     if (!src.getCount(v, c, mn, Key::kBucketCounts,
                                                                       countProblem))
                                                       return false;
                                                     b.bucketCounts.child().append(c);
                                                     return true;
                                                   })) ||
      (f.has(Key::kExplicitBounds) &&
       !src.forEachIn(f[Key::kExplicitBounds], mn, Key::kExplicitBounds,
                      [&](element v) {
                        double d = 0;
                        if (!src.getDouble(v, d, mn, Key::kExplicitBounds)) return false;
                        b.explicitBounds.child().append(d);
                        return true;
                      })) ||
      !decodeExemplars(src, f, mn, b.exemplars, p.exemplarProblem)) {
    return false;
  }
  if (countProblem) return rejectForCount(ctx, b, rows, countProblem);
  JsonDecoder::Scratch& s = src.scratch();
  if (beginPointRow(ctx, b, rows, s.resource, s.scope, s.metric, p)) {
    b.count.append(count);
    b.sum.append(sum);
    b.bucketCounts.endRow();
    b.explicitBounds.endRow();
    endExemplars(b.exemplars);
    b.min.append(min);
    b.max.append(max);
    b.aggregationTemporality.append(temporality);
    if (!finishPoint(ctx, m)) return false;
  }
  return ctx.nextRecord();
}

bool decodeBuckets(JsonSource& src, const Fields& point, Key which, int32_t& offset,
                   telemetry::UInt64ListColumn& counts, CountProblem& problem) {
  if (!point.has(which)) return true;
  const char* m = "ExponentialHistogramDataPoint.Buckets";
  Fields f;
  if (!readFields(src, point[which], m, {Key::kOffset, Key::kBucketCounts}, f)) return false;
  return (!f.has(Key::kOffset) ||
          src.getPointInt32(f[Key::kOffset], offset, m, Key::kOffset, problem)) &&
         (!f.has(Key::kBucketCounts) ||
          src.forEachIn(f[Key::kBucketCounts], m, Key::kBucketCounts, [&](element v) {
            uint64_t c = 0;
            if (!src.getCount(v, c, m, Key::kBucketCounts, problem)) return false;
            counts.child().append(c);
            return true;
          }));
}

bool decodeExpHistogramPoint(JsonSource& src, element e, MetricBatch& m, int32_t temporality) {
  DecodeContext& ctx = src.ctx();
  telemetry::ExpHistogramBatch& b = m.expHistogram;
  const char* mn = "ExponentialHistogramDataPoint";
  Fields f;
  if (!readFields(src, e, mn,
                  {Key::kAttributes, Key::kStartTimeUnixNano, Key::kTimeUnixNano, Key::kCount,
                   Key::kSum, Key::kScale, Key::kZeroCount, Key::kPositive, Key::kNegative,
                   Key::kFlags, Key::kExemplars, Key::kMin, Key::kMax},
                  f)) {
    return false;
  }
  const size_t rows = b.rows();
  PointFields p;
  CountProblem countProblem;
  uint64_t count = 0;
  uint64_t zeroCount = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  int32_t scale = 0;
  int32_t positiveOffset = 0;
  int32_t negativeOffset = 0;
  if (!readPointCommon(src, f, mn, b.common, p) ||
      (f.has(Key::kCount) && !src.getCount(f[Key::kCount], count, mn, Key::kCount, countProblem)) ||
      (f.has(Key::kZeroCount) &&
       !src.getCount(f[Key::kZeroCount], zeroCount, mn, Key::kZeroCount, countProblem)) ||
      (f.has(Key::kScale) &&
       !src.getPointInt32(f[Key::kScale], scale, mn, Key::kScale, countProblem)) ||
      !getOptionalDouble(src, f, Key::kSum, mn, sum) ||
      !getOptionalDouble(src, f, Key::kMin, mn, min) ||
      !getOptionalDouble(src, f, Key::kMax, mn, max) ||
      !decodeBuckets(src, f, Key::kPositive, positiveOffset, b.positiveBucketCounts,
                     countProblem) ||
      !decodeBuckets(src, f, Key::kNegative, negativeOffset, b.negativeBucketCounts,
                     countProblem) ||
      !decodeExemplars(src, f, mn, b.exemplars, p.exemplarProblem)) {
    return false;
  }
  if (countProblem) return rejectForCount(ctx, b, rows, countProblem);
  JsonDecoder::Scratch& s = src.scratch();
  if (beginPointRow(ctx, b, rows, s.resource, s.scope, s.metric, p)) {
    b.count.append(count);
    b.sum.append(sum);
    b.scale.append(scale);
    b.zeroCount.append(zeroCount);
    b.positiveOffset.append(positiveOffset);
    b.positiveBucketCounts.endRow();
    b.negativeOffset.append(negativeOffset);
    b.negativeBucketCounts.endRow();
    endExemplars(b.exemplars);
    b.min.append(min);
    b.max.append(max);
    b.aggregationTemporality.append(temporality);
    if (!finishPoint(ctx, m)) return false;
  }
  return ctx.nextRecord();
}

bool decodeSummaryPoint(JsonSource& src, element e, MetricBatch& m) {
  DecodeContext& ctx = src.ctx();
  telemetry::SummaryBatch& b = m.summary;
  const char* mn = "SummaryDataPoint";
  Fields f;
  if (!readFields(src, e, mn,
                  {Key::kAttributes, Key::kStartTimeUnixNano, Key::kTimeUnixNano, Key::kCount,
                   Key::kSum, Key::kQuantileValues, Key::kFlags},
                  f)) {
    return false;
  }
  const size_t rows = b.rows();
  PointFields p;
  CountProblem countProblem;
  uint64_t count = 0;
  double sum = 0;
  if (!readPointCommon(src, f, mn, b.common, p) ||
      (f.has(Key::kCount) && !src.getCount(f[Key::kCount], count, mn, Key::kCount, countProblem)) ||
      !getOptionalDouble(src, f, Key::kSum, mn, sum) ||
      (f.has(Key::kQuantileValues) &&
       !src.forEachIn(f[Key::kQuantileValues], mn, Key::kQuantileValues, [&](element qv) {
         const char* qm = "SummaryDataPoint.ValueAtQuantile";
         Fields q;
         double quantile = 0;
         double value = 0;
         if (!readFields(src, qv, qm, {Key::kQuantile, Key::kValue}, q) ||
             !getOptionalDouble(src, q, Key::kQuantile, qm, quantile) ||
             !getOptionalDouble(src, q, Key::kValue, qm, value)) {
           return false;
         }
         b.quantile.child().append(quantile);
         b.quantileValue.child().append(value);
         return true;
       }))) {
    return false;
  }
  if (countProblem) return rejectForCount(ctx, b, rows, countProblem);
  JsonDecoder::Scratch& s = src.scratch();
  if (beginPointRow(ctx, b, rows, s.resource, s.scope, s.metric, p)) {
    b.count.append(count);
    b.sum.append(sum);
    b.quantile.endRow();
    b.quantileValue.endRow();
    if (!finishPoint(ctx, m)) return false;
  }
  return ctx.nextRecord();
}

bool decodeMetric(JsonSource& src, element e, MetricBatch& m) {
  DecodeContext& ctx = src.ctx();
  const char* mn = "Metric";
  // The data oneof: with several members present (malformed), the last in key order wins.
  object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return ctx.fail("a Metric must be an object");
  Key kind = Key::kUnknown;
  element data;
  Fields f;
  for (auto field : obj) {
    const Key k = lookupKey(field.key);
    if (isNull(field.value)) continue;
    switch (k) {
      case Key::kName:
      case Key::kDescription:
      case Key::kUnit: f.set(k, field.value); break;
      case Key::kGauge:
      case Key::kSum:
      case Key::kHistogram:
      case Key::kExponentialHistogram:
      case Key::kSummary:
        kind = k;
        data = field.value;
        break;
      default: break;
    }
  }
  std::string_view name;
  std::string_view description;
  std::string_view unit;
  if ((f.has(Key::kName) && !src.getString(f[Key::kName], name, mn, Key::kName)) ||
      (f.has(Key::kDescription) &&
       !src.getString(f[Key::kDescription], description, mn, Key::kDescription)) ||
      (f.has(Key::kUnit) && !src.getString(f[Key::kUnit], unit, mn, Key::kUnit))) {
    return false;
  }
  JsonDecoder::Scratch& s = src.scratch();
  s.metric.clear();
  ctx.appendString(s.metric.text, name);
  ctx.appendString(s.metric.text, description);
  ctx.appendString(s.metric.text, unit);
  if (kind == Key::kUnknown) return true;  // no data: nothing to store

  const char* dm = kind == Key::kGauge       ? "Gauge"
                   : kind == Key::kSum       ? "Sum"
                   : kind == Key::kHistogram ? "Histogram"
                   : kind == Key::kSummary   ? "Summary"
                                             : "ExponentialHistogram";
  Fields d;
  if (!readFields(src, data, dm,
                  {Key::kDataPoints, Key::kAggregationTemporality, Key::kIsMonotonic}, d)) {
    return false;
  }
  int64_t temporality = 0;
  bool monotonic = false;
  if (kind != Key::kGauge && kind != Key::kSummary && d.has(Key::kAggregationTemporality) &&
      !src.getEnum(d[Key::kAggregationTemporality], EnumType::kTemporality, temporality, dm,
                   Key::kAggregationTemporality)) {
    return false;
  }
  if (kind == Key::kSum && d.has(Key::kIsMonotonic) &&
      !src.getBool(d[Key::kIsMonotonic], monotonic, dm, Key::kIsMonotonic)) {
    return false;
  }
  if (!d.has(Key::kDataPoints)) return true;
  const auto t = static_cast<int32_t>(temporality);
  return src.forEachIn(d[Key::kDataPoints], dm, Key::kDataPoints, [&](element point) {
    switch (kind) {
      case Key::kGauge:
        return decodeNumberPoint(src, point, m.gauge, m, [](telemetry::GaugeBatch&) {});
      case Key::kSum:
        return decodeNumberPoint(src, point, m.sum, m, [&](telemetry::SumBatch& b) {
          b.aggregationTemporality.append(t);
          b.isMonotonic.append(monotonic ? 1 : 0);
        });
      case Key::kHistogram: return decodeHistogramPoint(src, point, m, t);
      case Key::kExponentialHistogram: return decodeExpHistogramPoint(src, point, m, t);
      default: return decodeSummaryPoint(src, point, m);
    }
  });
}

}  // namespace

JsonDecoder::JsonDecoder() {
  // A failed allocation here is retried (and reported) by the first parse.
  const simdjson::error_code ignored = parser_.allocate(kInitialCapacity, kMaxJsonDepth);
  (void)ignored;
}

bool JsonDecoder::parsePadded(const char* data, size_t size, element* root,
                              simdjson::error_code* error) {
  const size_t need = size + simdjson::SIMDJSON_PADDING;
  if (need > paddedCapacity_) {
    padded_ = std::make_unique<char[]>(need);
    paddedCapacity_ = need;
  }
  std::memcpy(padded_.get(), data, size);
  std::memset(padded_.get() + size, 0, simdjson::SIMDJSON_PADDING);
  if (parser_.max_depth() != kMaxJsonDepth) {
    *error = parser_.allocate(size > kInitialCapacity ? size : kInitialCapacity, kMaxJsonDepth);
    if (*error != simdjson::SUCCESS) return false;
  }
  *error = parser_.parse(padded_.get(), size, false).get(*root);
  return *error == simdjson::SUCCESS;
}

namespace {

// Whether the integer literal `digits` (no sign) is past what simdjson's DOM stores: uint64 for
// non-negative numbers, int64 for negative ones.
bool pastInt64Range(std::string_view digits, bool negative) {
  const std::string_view limit = negative ? "9223372036854775808" : "18446744073709551615";
  return digits.size() > limit.size() || (digits.size() == limit.size() && digits > limit);
}

// Copies JSON text, turning integer literals past 64 bits into doubles ("1e20" written out as
// 100000000000000000000, as JavaScript's JSON.stringify does) by appending ".0", which simdjson's
// DOM then parses as a double. String contents are left alone.
void widenBigIntegers(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size() + 64);
  size_t i = 0;
  const size_t n = in.size();
  while (i < n) {
    const char c = in[i];
    if (c == '"') {
      size_t j = i + 1;
      while (j < n && in[j] != '"') j += in[j] == '\\' ? 2 : 1;
      j = j < n ? j + 1 : n;
      out.append(in, i, j - i);
      i = j;
      continue;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t j = i;
      bool integer = true;
      while (j < n) {
        const char d = in[j];
        if (d == '.' || d == 'e' || d == 'E') {
          integer = false;
        } else if (!(d == '-' || d == '+' || (d >= '0' && d <= '9'))) {
          break;
        }
        ++j;
      }
      out.append(in, i, j - i);
      const bool negative = c == '-';
      if (integer &&
          pastInt64Range(in.substr(i + (negative ? 1 : 0), j - i - (negative ? 1 : 0)), negative)) {
        out += ".0";
      }
      i = j;
      continue;
    }
    out += c;
    ++i;
  }
}

}  // namespace

bool JsonDecoder::parse(DecodeContext& ctx, std::span<const uint8_t> body, element* root) {
  std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  simdjson::error_code error = simdjson::SUCCESS;
  if (parsePadded(text.data(), text.size(), root, &error)) return true;
  // Slow paths, only for documents the first parse refused:
  if (error == simdjson::UTF8_ERROR) {
    // JSON text must be UTF-8; like protobuf strings, ill-formed bytes become U+FFFD (counted).
    // Outside a string they leave the document malformed, and the next parse says so.
    sanitized_.clear();
    ctx.countInvalidUtf8(appendUtf8Sanitized(sanitized_, text));
    text = sanitized_;
    if (parsePadded(text.data(), text.size(), root, &error)) return true;
  }
  if (error == simdjson::NUMBER_ERROR) {
    // Integer literals past 64 bits: read them as doubles. The walkers keep them where the
    // field can hold the double (AnyValue.intValue, asInt), reject the data point where it is a
    // count, and refuse the request, naming the field, elsewhere.
    widenBigIntegers(text, widened_);
    simdjson::error_code second = simdjson::SUCCESS;
    if (parsePadded(widened_.data(), widened_.size(), root, &second)) return true;
  }
  if (error == simdjson::MEMALLOC || error == simdjson::CAPACITY) {
    return ctx.failResourceExhausted(std::string("cannot parse the document: ") +
                                     simdjson::error_message(error));
  }
  return ctx.fail(std::string("malformed JSON: ") + simdjson::error_message(error));
}

void JsonDecoder::shrinkAfter(size_t bodySize) {
  if (bodySize <= kRetainBytes) return;
  parser_ = simdjson::dom::parser{};
  const simdjson::error_code ignored = parser_.allocate(kInitialCapacity, kMaxJsonDepth);
  (void)ignored;
  padded_.reset();
  paddedCapacity_ = 0;
  sanitized_ = std::string{};
  widened_ = std::string{};
}

bool JsonDecoder::decodeLogs(DecodeContext& ctx, std::span<const uint8_t> body, LogBatch& out) {
  if (body.empty()) return true;
  element root;
  scratch_.entries.clear();
  JsonSource src(ctx, scratch_);
  const bool ok = parse(ctx, body, &root) &&
                  walkRequest(src, root, Key::kResourceLogs, "ResourceLogs", Key::kScopeLogs,
                              "ScopeLogs", Key::kLogRecords,
                              [&](element record) { return decodeLogRecord(src, record, out); });
  shrinkAfter(body.size());
  return ok;
}

bool JsonDecoder::decodeSpans(DecodeContext& ctx, std::span<const uint8_t> body, SpanBatch& out) {
  if (body.empty()) return true;
  element root;
  scratch_.entries.clear();
  JsonSource src(ctx, scratch_);
  const bool ok =
      parse(ctx, body, &root) &&
      walkRequest(src, root, Key::kResourceSpans, "ResourceSpans", Key::kScopeSpans, "ScopeSpans",
                  Key::kSpans, [&](element span) { return decodeSpan(src, span, out); });
  shrinkAfter(body.size());
  return ok;
}

bool JsonDecoder::decodeMetrics(DecodeContext& ctx, std::span<const uint8_t> body,
                                MetricBatch& out) {
  if (body.empty()) return true;
  element root;
  scratch_.entries.clear();
  JsonSource src(ctx, scratch_);
  const bool ok = parse(ctx, body, &root) &&
                  walkRequest(src, root, Key::kResourceMetrics, "ResourceMetrics",
                              Key::kScopeMetrics, "ScopeMetrics", Key::kMetrics,
                              [&](element metric) { return decodeMetric(src, metric, out); });
  shrinkAfter(body.size());
  return ok;
}

}  // namespace stackhouse::otlp::detail
