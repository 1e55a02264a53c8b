// AnyValue rendering, shared by the protobuf and JSON decoders through a Source (ProtoSource,
// JsonSource) that reads one encoding's AnyValue, ArrayValue and KeyValueList.
//
// A top-level value becomes text the way pdata's Value.AsString does: strings as they are, bools
// "true"/"false", ints in decimal, doubles as ES6 numbers, bytes in base64, arrays and kvlists as
// compact JSON. Inside that JSON (Go's json.Marshal of Value.AsRaw) strings are quoted, bytes are
// base64 strings, empty values are null, and kvlist keys are sorted with the last of equal keys
// winning, as a Go map would have them.
//
// Rendering recurses once per nesting level, never past DecodeLimits::maxDepth (itself capped),
// so hostile nesting fails cleanly instead of exhausting the stack. Internal to stackhouse_otlp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "otlp/decode_context.h"
#include "otlp/text_format.h"

namespace stackhouse::otlp::detail {

enum class ValueKind : uint8_t { kEmpty, kString, kBool, kInt, kDouble, kBytes, kArray, kKvlist };

// One AnyValue with its oneof resolved (the last member present wins).
template <typename Ref>
struct AnyValueView {
  ValueKind kind = ValueKind::kEmpty;
  std::string_view text;  // kString; kBytes: the raw bytes
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  Ref child{};  // kArray: the ArrayValue; kKvlist: the KeyValueList
};

// A kvlist entry waiting to be sorted.
template <typename Ref>
struct KvEntry {
  std::string_view key;
  Ref value;
  bool hasValue;
  uint32_t seq;  // position in the input, so that the last of equal keys wins
};

// Src provides:
//   using Ref;                      a handle to an encoded AnyValue/ArrayValue/KeyValueList
//   DecodeContext& ctx();
//   std::vector<KvEntry<Ref>>& entries();   scratch stack for sorting kvlists
//   bool readValue(Ref, AnyValueView<Ref>&);
//   bool forEachItem(Ref array, F f);       f(Ref item) -> bool
//   bool forEachEntry(Ref kvlist, F f);     f(std::string_view key, Ref value, bool has) -> bool
template <typename Src>
class ValueRenderer {
 public:
  using Ref = typename Src::Ref;

  explicit ValueRenderer(Src& src) : src_(src), ctx_(src.ctx()) {}

  // Appends Value.AsString of the top-level AnyValue `v` to `out` (the caller commits).
  bool asString(Ref v, Buffer& out) {
    AnyValueView<Ref> val;
    if (!src_.readValue(v, val)) return false;
    switch (val.kind) {
      case ValueKind::kEmpty: return true;
      case ValueKind::kString: ctx_.countInvalidUtf8(appendSanitized(out, val.text)); return true;
      case ValueKind::kBool: appendText(out, val.boolean ? "true" : "false"); return true;
      case ValueKind::kInt: appendInt64(out, val.integer); return true;
      case ValueKind::kDouble: appendDoubleAsString(out, val.number); return true;
      case ValueKind::kBytes:
        appendBase64(out, reinterpret_cast<const uint8_t*>(val.text.data()), val.text.size());
        return true;
      case ValueKind::kArray: return arrayJson(val.child, out, 1);
      case ValueKind::kKvlist: return kvlistJson(val.child, out, 1);
    }
    return true;
  }

 private:
  // `depth` is the nesting level of `v` (a top-level value is 1).
  bool json(Ref v, Buffer& out, size_t depth) {
    if (depth > ctx_.maxDepth()) return ctx_.failDepth();
    AnyValueView<Ref> val;
    if (!src_.readValue(v, val)) return false;
    switch (val.kind) {
      case ValueKind::kEmpty: appendText(out, "null"); return true;
      case ValueKind::kString:
        ctx_.countInvalidUtf8(appendGoJsonString(out, val.text));
        return true;
      case ValueKind::kBool: appendText(out, val.boolean ? "true" : "false"); return true;
      case ValueKind::kInt: appendInt64(out, val.integer); return true;
      case ValueKind::kDouble: appendDoubleAsJson(out, val.number); return true;
      case ValueKind::kBytes:
        appendText(out, "\"");
        appendBase64(out, reinterpret_cast<const uint8_t*>(val.text.data()), val.text.size());
        appendText(out, "\"");
        return true;
      case ValueKind::kArray: return arrayJson(val.child, out, depth);
      case ValueKind::kKvlist: return kvlistJson(val.child, out, depth);
    }
    return true;
  }

  bool arrayJson(Ref array, Buffer& out, size_t depth) {
    appendText(out, "[");
    bool first = true;
    const bool ok = src_.forEachItem(array, [&](Ref item) {
      if (!first) appendText(out, ",");
      first = false;
      return json(item, out, depth + 1);
    });
    if (!ok) return false;
    appendText(out, "]");
    return true;
  }

  bool kvlistJson(Ref kvlist, Buffer& out, size_t depth) {
    auto& entries = src_.entries();
    const size_t base = entries.size();
    uint32_t seq = 0;
    const bool ok = src_.forEachEntry(kvlist, [&](std::string_view key, Ref value, bool has) {
      entries.push_back(KvEntry<Ref>{key, value, has, seq++});
      return true;
    });
    if (!ok) {
      entries.resize(base);
      return false;
    }
    const size_t end = entries.size();
    if (end > base && depth + 1 > ctx_.maxDepth()) {
      entries.resize(base);
      return ctx_.failDepth();
    }
    // std::sort does not allocate (std::stable_sort would); seq makes the order total.
    std::sort(entries.begin() + static_cast<std::ptrdiff_t>(base), entries.end(),
              [](const KvEntry<Ref>& a, const KvEntry<Ref>& b) {
                const int c = a.key.compare(b.key);
                return c != 0 ? c < 0 : a.seq < b.seq;
              });
    appendText(out, "{");
    bool first = true;
    for (size_t i = base; i < end; ++i) {
      if (i + 1 < end && entries[i + 1].key == entries[i].key) continue;  // a later one wins
      // Copy: rendering the value may push onto `entries` and move its storage.
      const KvEntry<Ref> e = entries[i];
      if (!first) appendText(out, ",");
      first = false;
      ctx_.countInvalidUtf8(appendGoJsonString(out, e.key));
      appendText(out, ":");
      if (!e.hasValue) {
        appendText(out, "null");
      } else if (!json(e.value, out, depth + 1)) {
        entries.resize(base);
        return false;
      }
    }
    appendText(out, "}");
    entries.resize(base);
    return true;
  }

  Src& src_;
  DecodeContext& ctx_;
};

// Appends one attribute (key, AsString of value) to the current row of `map`; a key or value
// past its length limit is cut. (Entries past maxAttributes are dropped when the row ends:
// DecodeContext::endAttributes.) Inlined: it runs once per attribute, and a call would cost more
// than its own checks.
template <typename Src>
[[gnu::always_inline]] inline bool appendAttribute(Src& src, std::string_view key,
                                                   typename Src::Ref value, bool hasValue,
                                                   telemetry::MapColumn& map) {
  DecodeContext& ctx = src.ctx();
  StringColumn& keys = map.keys();
  const size_t keyStart = keys.data().size();
  ctx.countInvalidUtf8(appendSanitized(keys.data(), key));
  ctx.limitKey(keys, keyStart);
  keys.commit();
  StringColumn& values = map.values();
  const size_t valueStart = values.data().size();
  if (hasValue && !ValueRenderer<Src>(src).asString(value, values.data())) return false;
  ctx.limitValue(values, valueStart);
  values.commit();
  return true;
}

}  // namespace stackhouse::otlp::detail
