#include "config/quote.h"

namespace stackhouse::config {

std::string quoted(std::string_view text, size_t maxBytes) {
  bool cut = false;
  if (text.size() > maxBytes) {
    size_t end = maxBytes;
    // Back up over UTF-8 continuation bytes so a character is never split.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
    cut = true;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (byte < 0x20 || byte == 0x7F) {
          out += "\\x";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  if (cut) out += "...";
  return out;
}

std::string joinNames(const std::vector<std::string_view>& names, std::string_view lastSeparator) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? lastSeparator : std::string_view(", ");
    out += names[i];
  }
  return out;
}

}  // namespace stackhouse::config
