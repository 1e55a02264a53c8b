#include "otlp/text_format.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "common/utf8.h"

namespace stackhouse::otlp::detail {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Value of a base64 character in either alphabet, or -1.
int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Whether the ASCII byte needs escaping in Go's encoding/json (HTML escaping on, its default).
constexpr bool needsJsonEscape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&';
}

}  // namespace

void appendHex(Buffer& out, const uint8_t* bytes, size_t n) {
  uint8_t* p = out.extend(n * 2);
  for (size_t i = 0; i < n; ++i) {
    p[2 * i] = static_cast<uint8_t>(kHexDigits[bytes[i] >> 4]);
    p[2 * i + 1] = static_cast<uint8_t>(kHexDigits[bytes[i] & 0xf]);
  }
}

bool decodeHex(std::string_view hex, uint8_t* out, size_t cap, size_t* n) {
  if (hex.size() % 2 != 0 || hex.size() / 2 > cap) return false;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hexValue(hex[i]);
    const int lo = hexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
  }
  *n = hex.size() / 2;
  return true;
}

void appendBase64(Buffer& out, const uint8_t* bytes, size_t n) {
  uint8_t* p = out.extend((n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = uint32_t{bytes[i]} << 16 | uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
    *p++ = static_cast<uint8_t>(kBase64[v >> 18]);
    *p++ = static_cast<uint8_t>(kBase64[(v >> 12) & 63]);
    *p++ = static_cast<uint8_t>(kBase64[(v >> 6) & 63]);
    *p++ = static_cast<uint8_t>(kBase64[v & 63]);
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{bytes[i]} << 16;
    *p++ = static_cast<uint8_t>(kBase64[v >> 18]);
    *p++ = static_cast<uint8_t>(kBase64[(v >> 12) & 63]);
    *p++ = '=';
    *p++ = '=';
  } else if (n - i == 2) {
    const uint32_t v = uint32_t{bytes[i]} << 16 | uint32_t{bytes[i + 1]} << 8;
    *p++ = static_cast<uint8_t>(kBase64[v >> 18]);
    *p++ = static_cast<uint8_t>(kBase64[(v >> 12) & 63]);
    *p++ = static_cast<uint8_t>(kBase64[(v >> 6) & 63]);
    *p++ = '=';
  }
}

bool decodeBase64(std::string_view text, std::string& out) {
  out.clear();
  // Padding is optional; when present it must complete the last group of four.
  size_t len = text.size();
  if (len % 4 == 0 && len > 0 && text[len - 1] == '=') {
    --len;
    if (text[len - 1] == '=') --len;
  }
  if (len % 4 == 1) return false;
  out.reserve(len / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; ++i) {
    const int v = base64Value(text[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

void appendInt64(Buffer& out, int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void appendUint64(Buffer& out, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void appendEs6Double(Buffer& out, double v) {
  // std::to_chars in scientific form gives the shortest digits that round-trip, exactly the
  // digits Go's strconv picks; the plain form is then laid out from those digits (to_chars'
  // own fixed form would print the exact binary value of large numbers instead).
  char sci[40];
  const auto r = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  const std::string_view s(sci, static_cast<size_t>(r.ptr - sci));
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    // Go cleans a two-digit negative exponent "e-07" to "e-7"; positive ones keep two digits.
    const size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') {
      out.append(s.data(), n - 2);
      out.append(s.data() + n - 1, 1);
    } else {
      out.append(s.data(), n);
    }
    return;
  }
  size_t i = 0;
  if (s[0] == '-') {
    out.append("-", 1);
    i = 1;
  }
  char digits[24];
  size_t nd = 0;
  for (; i < s.size() && s[i] != 'e'; ++i) {
    if (s[i] != '.') digits[nd++] = s[i];
  }
  int exp = 0;
  std::from_chars(s.data() + i + 1 + (s[i + 1] == '+' ? 1 : 0), s.data() + s.size(), exp);
  if (nd == 1 && digits[0] == '0') {
    out.append("0", 1);
    return;
  }
  if (exp < 0) {
    out.append("0.", 2);
    for (int z = -1; z > exp; --z) out.append("0", 1);
    out.append(digits, nd);
    return;
  }
  const auto intDigits = static_cast<size_t>(exp) + 1;
  if (nd <= intDigits) {
    out.append(digits, nd);
    for (size_t z = nd; z < intDigits; ++z) out.append("0", 1);
  } else {
    out.append(digits, intDigits);
    out.append(".", 1);
    out.append(digits + intDigits, nd - intDigits);
  }
}

void appendDoubleAsString(Buffer& out, double v) {
  if (std::isnan(v)) {
    appendText(out, "NaN");
  } else if (std::isinf(v)) {
    appendText(out, v > 0 ? "+Inf" : "-Inf");
  } else {
    appendEs6Double(out, v);
  }
}

void appendDoubleAsJson(Buffer& out, double v) {
  if (std::isnan(v)) {
    appendText(out, "\"NaN\"");
  } else if (std::isinf(v)) {
    appendText(out, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    appendEs6Double(out, v);
  }
}

namespace {
// Most telemetry text is ASCII: check that eight bytes at a time before the full UTF-8 check.
bool isAscii(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t acc = 0;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    acc |= word;
  }
  for (; n > 0; --n, ++p) acc |= static_cast<unsigned char>(*p);
  return (acc & 0x8080808080808080ULL) == 0;
}
}  // namespace

size_t appendSanitized(Buffer& out, std::string_view s) {
  if (isAscii(s) || isValidUtf8(s)) {
    out.append(s.data(), s.size());
    return 0;
  }
  size_t replaced = 0;
  size_t i = 0;
  while (i < s.size()) {
    const size_t len = utf8SequenceLength(s.substr(i));
    if (len == 0) {
      appendText(out, "\xEF\xBF\xBD");
      ++replaced;
      ++i;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  return replaced;
}

size_t appendGoJsonString(Buffer& out, std::string_view s) {
  size_t replaced = 0;
  out.append("\"", 1);
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80 && !needsJsonEscape(c)) {
      size_t j = i + 1;
      while (j < n) {
        const auto d = static_cast<unsigned char>(s[j]);
        if (d >= 0x80 || needsJsonEscape(d)) break;
        ++j;
      }
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"': appendText(out, "\\\""); break;
        case '\\': appendText(out, "\\\\"); break;
        case '\b': appendText(out, "\\b"); break;
        case '\f': appendText(out, "\\f"); break;
        case '\n': appendText(out, "\\n"); break;
        case '\r': appendText(out, "\\r"); break;
        case '\t': appendText(out, "\\t"); break;
        default: {
          const char esc[6] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xf]};
          out.append(esc, sizeof esc);
        }
      }
      ++i;
      continue;
    }
    const size_t len = utf8SequenceLength(s.substr(i));
    if (len == 0) {
      appendText(out, "\\ufffd");
      ++replaced;
      ++i;
    } else if (len == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      appendText(out, static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
      i += 3;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
  out.append("\"", 1);
  return replaced;
}

}  // namespace stackhouse::otlp::detail
