// JsonWriter: appends JSON text to a caller-owned string. No allocation beyond the string's
// growth, no DOM. Used for our own logs, API responses and attribute values rendered as JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace stackhouse {

// Appends `value` as a JSON string literal (quotes included). Invalid UTF-8 bytes are replaced by
// U+FFFD so that the output is always valid JSON.
void appendJsonString(std::string& out, std::string_view value);
// Appends a double the way JSON allows: NaN and infinities become strings ("NaN", "Infinity",
// "-Infinity"), as the OTLP/JSON mapping does.
void appendJsonDouble(std::string& out, double value);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& beginObject() { return openContainer('{'); }
  JsonWriter& endObject() { return closeContainer('}'); }
  JsonWriter& beginArray() { return openContainer('['); }
  JsonWriter& endArray() { return closeContainer(']'); }
  JsonWriter& key(std::string_view name) {
    separate();
    appendJsonString(out_, name);
    out_ += ':';
    first_ = true;  // the value that follows needs no comma
    return *this;
  }
  JsonWriter& value(std::string_view v) {
    separate();
    appendJsonString(out_, v);
    return *this;
  }
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  JsonWriter& value(bool v) {
    separate();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonWriter& value(int64_t v) {
    separate();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& value(uint64_t v) {
    separate();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(double v) {
    separate();
    appendJsonDouble(out_, v);
    return *this;
  }
  JsonWriter& null() {
    separate();
    out_ += "null";
    return *this;
  }
  // Appends already-encoded JSON as the next value.
  JsonWriter& raw(std::string_view json) {
    separate();
    out_ += json;
    return *this;
  }

  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

 private:
  void separate() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  JsonWriter& openContainer(char bracket) {
    separate();
    out_ += bracket;
    first_ = true;
    return *this;
  }
  JsonWriter& closeContainer(char bracket) {
    out_ += bracket;
    first_ = false;
    return *this;
  }

  std::string& out_;
  bool first_ = true;
};

}  // namespace stackhouse
