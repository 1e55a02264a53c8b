#include "common/json_writer.h"

#include <charconv>
#include <cmath>

#include "common/utf8.h"

namespace stackhouse {

namespace {
constexpr char kHex[] = "0123456789abcdef";
}

void appendJsonString(std::string& out, std::string_view value) {
  out += '"';
  size_t i = 0;
  const size_t n = value.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      // Copy the run of plain ASCII in one go.
      size_t j = i + 1;
      while (j < n) {
        const auto d = static_cast<unsigned char>(value[j]);
        if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
        ++j;
      }
      out.append(value.data() + i, j - i);
      i = j;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
      }
      ++i;
      continue;
    }
    const size_t len = utf8SequenceLength(value.substr(i));
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(value.data() + i, len);
      i += len;
    }
  }
  out += '"';
}

void appendJsonDouble(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "\"NaN\"";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  out.append(buf, end);
}

}  // namespace stackhouse
