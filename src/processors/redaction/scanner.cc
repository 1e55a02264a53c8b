#include "processors/redaction/scanner.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace stackhouse::redaction {

namespace {

inline bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool isAlpha(unsigned char c) { return static_cast<unsigned char>((c | 0x20) - 'a') < 26u; }
inline bool isAlnum(unsigned char c) { return isAlpha(c) || isDigit(c); }
inline bool isWord(unsigned char c) { return isAlnum(c) || c == '_'; }
inline bool isUpperOrDigit(unsigned char c) { return (c >= 'A' && c <= 'Z') || isDigit(c); }
inline bool isB64Url(unsigned char c) { return isAlnum(c) || c == '-' || c == '_'; }
inline bool isB64(unsigned char c) { return isAlnum(c) || c == '+' || c == '/' || c == '='; }
// RFC 6750 b64token.
inline bool isTokenChar(unsigned char c) {
  return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
         c == '=';
}
inline bool isSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
// Where a URL ends in running text (and in JSON string content: quotes and escapes).
inline bool isUrlEnd(unsigned char c) {
  return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\' || c == '`' ||
         c == 0x7f;
}
// Where an assigned value (password=...) ends.
inline bool isValueEnd(unsigned char c) {
  return c <= ' ' || c == ';' || c == '&' || c == ',' || c == '"' || c == '\'' || c == '<' ||
         c == '>' || c == '\\' || c == ')' || c == ']' || c == '}' || c == 0x7f;
}
inline bool isKeyChar(unsigned char c) { return isWord(c) || c == '.' || c == '-'; }

// No word character right before i (an escape such as \n counts as a boundary).
inline bool boundaryBefore(std::string_view s, size_t i) {
  return i == 0 || !isWord(static_cast<unsigned char>(s[i - 1])) || (i >= 2 && s[i - 2] == '\\');
}
inline bool boundaryAfter(std::string_view s, size_t j) {
  return j >= s.size() || !isWord(static_cast<unsigned char>(s[j]));
}

bool startsWithCi(std::string_view s, size_t i, std::string_view lowerLiteral) {
  if (s.size() - i < lowerLiteral.size()) return false;
  for (size_t k = 0; k < lowerLiteral.size(); ++k) {
    char c = s[i + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lowerLiteral[k]) return false;
  }
  return true;
}

bool startsWith(std::string_view s, size_t i, std::string_view literal) {
  return s.size() - i >= literal.size() && s.compare(i, literal.size(), literal) == 0;
}

// Whether the base64 text decodes to something with a ':' (user:password).
bool base64HasColon(std::string_view b64) {
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : b64) {
    const unsigned char c = static_cast<unsigned char>(ch);
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (isDigit(c))
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      break;  // padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (((acc >> bits) & 0xff) == ':') return true;
    }
  }
  return false;
}

inline int hexValue(unsigned char c) {
  if (isDigit(c)) return c - '0';
  const unsigned char l = c | 0x20;
  return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
}

// Percent-decodes `s` into `out` (at most `cap` bytes); false when it does not fit. A '%' not
// followed by two hex digits is kept as it is.
bool percentDecode(std::string_view s, char* out, size_t cap, size_t& n) {
  n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (n == cap) return false;
    int hi, lo;
    if (s[i] == '%' && i + 2 < s.size() &&
        (hi = hexValue(static_cast<unsigned char>(s[i + 1]))) >= 0 &&
        (lo = hexValue(static_cast<unsigned char>(s[i + 2]))) >= 0) {
      out[n++] = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out[n++] = s[i];
    }
  }
  return true;
}

bool isHashName(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) {
           return isDigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

// Where the extension of a URL path segment (decoded) starts: the last '.', after a non-empty
// name, followed by 1-10 letters and digits of which one at least is a letter (so "v1.2" and
// "1.0.3" are versions, not files). npos when the segment is no file name.
size_t fileExtensionDot(std::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::string_view::npos;
  const size_t ext = name.size() - dot - 1;
  if (ext < 1 || ext > 10) return std::string_view::npos;
  bool letter = false;
  for (size_t k = dot + 1; k < name.size(); ++k) {
    const unsigned char c = static_cast<unsigned char>(name[k]);
    if (!isAlnum(c)) return std::string_view::npos;
    letter |= isAlpha(c);
  }
  return letter ? dot : std::string_view::npos;
}

// HTTP methods, as a request line or a span name writes them before a target ("GET /x").
bool isHttpMethod(std::string_view w) {
  static constexpr std::string_view kMethods[] = {"GET",  "POST",    "PUT",     "PATCH", "DELETE",
                                                  "HEAD", "OPTIONS", "CONNECT", "TRACE"};
  for (std::string_view m : kMethods) {
    if (w == m) return true;
  }
  return false;
}

bool luhn(const uint8_t* digits, size_t n) {
  unsigned sum = 0;
  for (size_t i = 0; i < n; ++i) {
    unsigned d = digits[n - 1 - i];
    if (i % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 == 0;
}

// Issuer prefixes of the card networks (Visa, Mastercard, Amex, Diners, JCB, Discover,
// UnionPay, Maestro): a 13-19 digit number outside these is an id, not a card.
bool cardPrefix(const uint8_t* d, size_t n) {
  const unsigned two = d[0] * 10u + d[1];
  const unsigned four = two * 100u + d[2] * 10u + d[3];
  switch (d[0]) {
    case 4: return n == 13 || n == 16 || n == 19;
    case 5: return (two >= 51 && two <= 55 && n == 16) || (two >= 50 && n >= 12);  // MC, Maestro
    case 2: return four >= 2221 && four <= 2720 && n == 16;
    case 3:
      return (two == 34 || two == 37) ? n == 15
                                      : (two == 35 || two == 36 || two == 38 || two == 30);
    case 6:
      return four == 6011 || two == 65 || two == 62 || (four >= 6440 && four <= 6499) || two == 67;
    default: return false;
  }
}

}  // namespace

bool Scanner::allowedValue(std::string_view text) const {
  const auto& v = policy_.allowedValues;
  return !v.empty() && std::find(v.begin(), v.end(), text) != v.end();
}

bool Scanner::emit(Rule rule, std::string_view s, size_t b, size_t e, uint32_t base,
                   std::string_view mask, Edits& out) const {
  const std::string_view text = s.substr(b, e - b);
  if (text == mask || allowedValue(text)) return false;
  Edit edit{};
  edit.begin = base + static_cast<uint32_t>(b);
  edit.end = base + static_cast<uint32_t>(e);
  edit.rule = rule;
  if (policy_.rule(rule).action == Action::kHash && mask == kMask) {
    std::memcpy(edit.text, "h:", 2);
    hmac_.hex(text, edit.text + 2, 16);
    edit.length = 18;
  } else {
    std::memcpy(edit.text, mask.data(), mask.size());
    edit.length = static_cast<uint8_t>(mask.size());
  }
  out.push_back(edit);
  return true;
}

Edit Scanner::blockedValue(std::string_view value, uint32_t begin, uint32_t end,
                           bool quoted) const {
  Edit edit{};
  edit.begin = begin;
  edit.end = end;
  edit.rule = Rule::kBlockedKeys;
  size_t n = 0;
  if (quoted) edit.text[n++] = '"';
  if (policy_.rule(Rule::kBlockedKeys).action == Action::kHash) {
    std::memcpy(edit.text + n, "h:", 2);
    hmac_.hex(value, edit.text + n + 2, 16);
    n += 18;
  } else {
    std::memcpy(edit.text + n, kMask.data(), kMask.size());
    n += kMask.size();
  }
  if (quoted) edit.text[n++] = '"';
  edit.length = static_cast<uint8_t>(n);
  return edit;
}

// The bytes at which a detector may start (see TextScan::run).
constexpr std::array<bool, 256> kTriggers = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view(":=@?-BbJAy/")) t[c] = true;
  for (unsigned char c = '0'; c <= '9'; ++c) t[c] = true;
  return t;
}();

// One left-to-right pass over free text. Each detector starts at a trigger byte and returns
// where the scan goes on; `floor_` (the end of the last edit) keeps edits from overlapping.
class TextScan {
 public:
  TextScan(const Scanner& sc, std::string_view s, uint32_t base, Edits& out)
      : sc_(sc), p_(sc.policy_), s_(s), base_(base), out_(out) {}

  void run() {
    const size_t n = s_.size();
    const auto* bytes = reinterpret_cast<const unsigned char*>(s_.data());
    size_t i = 0;
    while (i < n) {
      // Most bytes start nothing: skip them with one table look-up each.
      while (i < n && !kTriggers[bytes[i]]) ++i;
      if (i == n) break;
      const unsigned char c = bytes[i];
      size_t next = i + 1;
      switch (c) {
        case ':':
          if (i + 2 < n && s_[i + 1] == '/' && s_[i + 2] == '/') {
            next = url(i);
          } else {
            next = assignment(i);
          }
          break;
        case '=': next = assignment(i); break;
        case '@': next = email(i); break;
        case '?': next = pathQuery(i); break;
        case '/': next = requestTarget(i); break;
        case '-': next = privateKey(i); break;
        case 'B':
        case 'b': next = bearerOrBasic(i); break;
        case 'J': next = jwt(i); break;
        case 'A': next = awsOrGcp(i); break;
        case 'y': next = gcpOAuth(i); break;
        default:
          if (isDigit(c)) next = card(i);
          break;
      }
      i = std::max(next, i + 1);
    }
  }

 private:
  bool on(Rule r) const { return p_.enabled(r); }
  bool emit(Rule r, size_t b, size_t e, std::string_view mask = kMask) {
    if (b < floor_) return false;
    if (!sc_.emit(r, s_, b, e, base_, mask, out_)) return false;
    floor_ = e;
    return true;
  }

  size_t url(size_t i) {
    size_t sb = i;
    while (sb > floor_ && (isAlnum(static_cast<unsigned char>(s_[sb - 1])) || s_[sb - 1] == '+' ||
                           s_[sb - 1] == '.' || s_[sb - 1] == '-')) {
      --sb;
    }
    if (sb == i || !isAlpha(static_cast<unsigned char>(s_[sb]))) return i + 3;
    return urlFrom(i + 3);
  }

  // From the authority of a URL; returns its end.
  size_t urlFrom(size_t a) {
    const size_t n = s_.size();
    size_t ae = a;
    size_t at = std::string_view::npos;
    while (ae < n && !isUrlEnd(static_cast<unsigned char>(s_[ae])) && s_[ae] != '/' &&
           s_[ae] != '?' && s_[ae] != '#') {
      if (s_[ae] == '@') at = ae;
      ++ae;
    }
    if (at != std::string_view::npos && at > a && on(Rule::kUrlUserinfo)) {
      emit(Rule::kUrlUserinfo, a, at, kRedactedUserinfo);
    }
    if (p_.hashUrlHosts) host(at == std::string_view::npos ? a : at + 1, ae);
    return target(ae);
  }

  // The host of an authority [b, e) (userinfo excluded): hashed, port kept. IP literals stay.
  void host(size_t b, size_t e) {
    size_t he = b;
    if (b < e && s_[b] == '[') return;  // IPv6
    bool ipv4 = true;
    while (he < e && s_[he] != ':') {
      ipv4 &= isDigit(static_cast<unsigned char>(s_[he])) || s_[he] == '.';
      ++he;
    }
    if (he == b || ipv4 || b < floor_) return;
    const std::string_view name = s_.substr(b, he - b);
    char lower[256];
    if (name.size() > sizeof lower || isHashName(name) || sc_.allowedValue(name)) return;
    for (size_t k = 0; k < name.size(); ++k) {
      const char c = name[k];
      lower[k] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
    pushHash(Rule::kUrlUserinfo, b, he, std::string_view(lower, name.size()));
  }

 public:
  // A URL's path from p (at its first '/', or anywhere in it), then its query and fragment;
  // returns where the URL ends. Path segments that are file names are hashed (fileSegment).
  size_t target(size_t p) {
    const size_t n = s_.size();
    while (p < n && !isUrlEnd(static_cast<unsigned char>(s_[p])) && s_[p] != '?' && s_[p] != '#') {
      if (s_[p] == '/') {
        ++p;
        continue;
      }
      size_t e = p;
      while (e < n && !isUrlEnd(static_cast<unsigned char>(s_[e])) && s_[e] != '/' &&
             s_[e] != '?' && s_[e] != '#') {
        ++e;
      }
      if (on(Rule::kFileNames)) fileSegment(p, e);
      p = e;
    }
    if (p < n && (s_[p] == '?' || s_[p] == '#')) p = query(p + 1);
    return p;
  }

  // key=value&key=value from q (after '?' or '#'); returns the end.
  size_t query(size_t q) {
    const size_t n = s_.size();
    while (q < n) {
      size_t k = q;
      while (q < n && s_[q] != '=' && s_[q] != '&' && s_[q] != '#' &&
             !isUrlEnd(static_cast<unsigned char>(s_[q])))
        ++q;
      const std::string_view key = s_.substr(k, q - k);
      if (q < n && s_[q] == '=') {
        const size_t v = ++q;
        while (q < n && s_[q] != '&' && s_[q] != '#' &&
               !isUrlEnd(static_cast<unsigned char>(s_[q])))
          ++q;
        if (q > v && on(Rule::kUrlQuery) && !safeKey(key)) emit(Rule::kUrlQuery, v, q, kRedacted);
      }
      if (q < n && (s_[q] == '&' || s_[q] == '#')) {
        ++q;
        continue;
      }
      break;
    }
    return q;
  }

 private:
  // One path segment [b, e): a file name (with an extension, after percent-decoding) has its name
  // replaced by the hash a file-name key's value gets (so the two correlate), extension kept.
  // Route templates ({id}, :id), versions (v1.2) and hashes stay.
  void fileSegment(size_t b, size_t e) {
    // A URL in running text may end in punctuation: "see https://x/a.pdf." ends with the pdf.
    if (e == s_.size() || isUrlEnd(static_cast<unsigned char>(s_[e]))) {
      while (e > b && std::strchr(".,;:!)]}", s_[e - 1]) != nullptr) --e;
    }
    if (e == b || b < floor_) return;
    // Most segments (/v1, /orders, ids) have neither a dot nor an escape: done at once.
    if (std::memchr(s_.data() + b, '.', e - b) == nullptr &&
        std::memchr(s_.data() + b, '%', e - b) == nullptr) {
      return;
    }
    const std::string_view raw = s_.substr(b, e - b);
    char decoded[256];
    size_t dn = 0;
    // A segment too long to decode here is judged (and hashed) as written.
    const std::string_view segment =
        percentDecode(raw, decoded, sizeof decoded, dn) ? std::string_view(decoded, dn) : raw;
    const size_t dot = fileExtensionDot(segment);
    if (dot == std::string_view::npos) return;
    const std::string_view name = segment.substr(0, dot);
    if (name.front() == '{' || name.front() == ':' || name.front() == '*' || name.front() == '<' ||
        isHashName(name) || sc_.allowedValue(segment)) {
      return;
    }
    // The extension is kept when it is written plainly (no escapes after the last raw dot).
    const size_t rawDot = raw.rfind('.');
    const bool plainExtension =
        rawDot != std::string_view::npos && raw.substr(rawDot + 1) == segment.substr(dot + 1);
    pushHash(Rule::kFileNames, b, plainExtension ? b + rawDot : e, name);
  }

  // Replaces s_[b, e) with the first 12 hex digits of the HMAC of `text`.
  void pushHash(Rule rule, size_t b, size_t e, std::string_view text) {
    Edit edit{};
    edit.begin = base_ + static_cast<uint32_t>(b);
    edit.end = base_ + static_cast<uint32_t>(e);
    edit.rule = rule;
    sc_.hmac_.hex(text, edit.text, 12);
    edit.length = 12;
    out_.push_back(edit);
    floor_ = e;
  }

  // "GET /files/report.pdf": a target after an HTTP method, in span names and request lines.
  size_t requestTarget(size_t i) {
    if (i < 2 || s_[i - 1] != ' ' || (!on(Rule::kFileNames) && !on(Rule::kUrlQuery))) return i + 1;
    size_t w = i - 1;
    while (w > floor_ && w + 8 > i && s_[w - 1] >= 'A' && s_[w - 1] <= 'Z') --w;
    if (w == i - 1 || !boundaryBefore(s_, w) || !isHttpMethod(s_.substr(w, i - 1 - w))) {
      return i + 1;
    }
    return target(i);
  }

  bool safeKey(std::string_view key) const {
    for (const std::string& safe : p_.safeQueryKeys) {
      if (globMatch(safe, key)) return true;
    }
    return false;
  }

  // "GET /search?q=..." : a '?' inside a token that starts with '/'.
  size_t pathQuery(size_t i) {
    if (!on(Rule::kUrlQuery)) return i + 1;
    size_t t = i;
    while (t > floor_ && !isUrlEnd(static_cast<unsigned char>(s_[t - 1])) && s_[t - 1] != '=') --t;
    if (t == i || s_[t] != '/') return i + 1;
    return target(t);
  }

  // password=..., "client_secret": "...", Pwd=...; AccountKey=...
  size_t assignment(size_t i) {
    if (!on(Rule::kConnectionStrings) && !on(Rule::kCloudKeys)) return i + 1;
    size_t j = i;
    while (j > floor_ && s_[j - 1] == ' ') --j;
    if (j > floor_ && (s_[j - 1] == '"' || s_[j - 1] == '\'')) --j;
    if (j > floor_ + 1 && s_[j - 1] == '\\') --j;  // \" inside JSON string content
    const size_t we = j;
    while (j > floor_ && we - j <= 64 && isKeyChar(static_cast<unsigned char>(s_[j - 1]))) --j;
    if (j == we || we - j > 64) return i + 1;
    Rule rule;
    if (!KeyPolicy::isCredentialWord(s_.substr(j, we - j), rule) || !on(rule)) return i + 1;
    const size_t n = s_.size();
    size_t v = i + 1;
    while (v < n && s_[v] == ' ') ++v;
    if (v + 1 < n && s_[v] == '\\' && s_[v + 1] == '"') v += 2;
    char quote = 0;
    if (v < n && (s_[v] == '"' || s_[v] == '\'')) quote = s_[v++];
    size_t ve = v;
    while (ve < n && s_[ve] != '\\' &&
           (quote != 0 ? s_[ve] != quote : !isValueEnd(static_cast<unsigned char>(s_[ve])))) {
      ++ve;
    }
    if (ve == v) return i + 1;
    const std::string_view value = s_.substr(v, ve - v);
    if (value == kRedacted || value == kMask || value.starts_with("h:")) return ve;
    // "password: Bearer abc" is the bearer rule's; "secret=https://..." keeps scanning the URL.
    if (startsWithCi(s_, v, "bearer ") || startsWithCi(s_, v, "basic ")) return v;
    emit(rule, v, ve);
    return ve;
  }

  size_t email(size_t i) {
    if (!on(Rule::kEmails)) return i + 1;
    size_t l = i;
    while (l > floor_) {
      const unsigned char c = static_cast<unsigned char>(s_[l - 1]);
      if (!(isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-')) break;
      --l;
    }
    if (l >= 1 && l < i && s_[l - 1] == '\\') ++l;  // the letter of an escape such as \n
    while (l < i && (s_[l] == '.' || s_[l] == '-')) ++l;
    if (l == i) return i + 1;
    const size_t n = s_.size();
    size_t r = i + 1;
    while (r < n && (isAlnum(static_cast<unsigned char>(s_[r])) || s_[r] == '-' || s_[r] == '.')) {
      if (s_[r] == '.' && r + 1 < n && s_[r + 1] == '.') break;
      ++r;
    }
    while (r > i + 1 && (s_[r - 1] == '.' || s_[r - 1] == '-')) --r;
    const size_t dot = s_.substr(i + 1, r - i - 1).rfind('.');
    if (dot == std::string_view::npos || dot == 0) return i + 1;
    const size_t lastDot = i + 1 + dot;
    for (size_t k = lastDot + 1; k < r; ++k) {
      if (!isAlpha(static_cast<unsigned char>(s_[k]))) return i + 1;
    }
    if (r - lastDot - 1 < 2) return i + 1;
    emit(Rule::kEmails, l, r);
    return r;
  }

  size_t privateKey(size_t i) {
    if (!startsWith(s_, i, "-----BEGIN ")) return i + 1;
    const size_t header = s_.find("-----", i + 11);
    if (header == std::string_view::npos || header - i > 80) return i + 1;
    const std::string_view label = s_.substr(i + 11, header - i - 11);
    if (label.find("PRIVATE KEY") == std::string_view::npos) return header + 5;
    if (!on(Rule::kPrivateKeys)) return header + 5;
    size_t end = s_.size();
    const size_t footer = s_.find("-----END ", header + 5);
    if (footer != std::string_view::npos) {
      const size_t close = s_.find("-----", footer + 9);
      end = close == std::string_view::npos ? s_.size() : close + 5;
    }
    // Inside JSON string content the block may end in the middle of an escape: never cut one.
    if (end < s_.size() && end > 0 && s_[end - 1] == '\\') --end;
    emit(Rule::kPrivateKeys, i, end);
    return end;
  }

  size_t bearerOrBasic(size_t i) {
    if (!boundaryBefore(s_, i)) return i + 1;
    const size_t n = s_.size();
    if (startsWithCi(s_, i, "bearer ") && on(Rule::kBearerTokens)) {
      size_t v = i + 7;
      while (v < n && s_[v] == ' ') ++v;
      size_t e = v;
      bool digit = false;
      while (e < n && isTokenChar(static_cast<unsigned char>(s_[e])))
        digit |= isDigit(static_cast<unsigned char>(s_[e++]));
      if (e - v >= 20 || (e - v >= 8 && digit)) {
        emit(Rule::kBearerTokens, v, e);
        return e;
      }
      return v;
    }
    if (startsWithCi(s_, i, "basic ") && on(Rule::kBasicAuth)) {
      size_t v = i + 6;
      while (v < n && s_[v] == ' ') ++v;
      size_t e = v;
      while (e < n && isB64(static_cast<unsigned char>(s_[e]))) ++e;
      if (e - v >= 4 && base64HasColon(s_.substr(v, e - v))) {
        emit(Rule::kBasicAuth, v, e);
        return e;
      }
      return v;
    }
    return i + 1;
  }

  // Triggered on the 'J' of "eyJ" (base64 of '{"'): 'J' is rare in text, 'e' is not.
  size_t jwt(size_t j) {
    if (j < 2 || s_[j - 1] != 'y' || s_[j - 2] != 'e') return j + 1;
    const size_t i = j - 2;
    if (!on(Rule::kJwts) || i < floor_ ||
        !(i == 0 || !isB64Url(static_cast<unsigned char>(s_[i - 1])))) {
      return j + 1;
    }
    const size_t n = s_.size();
    size_t e = i;
    while (e < n && isB64Url(static_cast<unsigned char>(s_[e]))) ++e;
    if (e - i < 10 || e >= n || s_[e] != '.') return e;
    size_t f = ++e;
    while (e < n && isB64Url(static_cast<unsigned char>(s_[e]))) ++e;
    if (e - f < 2 || e >= n || s_[e] != '.') return e;
    ++e;
    while (e < n && isB64Url(static_cast<unsigned char>(s_[e]))) ++e;
    emit(Rule::kJwts, i, e);
    return e;
  }

  size_t awsOrGcp(size_t i) {
    if (!on(Rule::kCloudKeys) || !boundaryBefore(s_, i)) return i + 1;
    const size_t n = s_.size();
    if (n - i >= 20) {
      static constexpr std::string_view kAwsPrefixes[] = {
          "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA", "ABIA", "ACCA"};
      for (std::string_view prefix : kAwsPrefixes) {
        if (!startsWith(s_, i, prefix)) continue;
        size_t e = i + 4;
        while (e < n && isUpperOrDigit(static_cast<unsigned char>(s_[e]))) ++e;
        if (e - i == 20 && boundaryAfter(s_, e)) {
          emit(Rule::kCloudKeys, i, e);
          return e;
        }
        return e;
      }
    }
    if (startsWith(s_, i, "AIza")) {
      size_t e = i + 4;
      while (e < n && isB64Url(static_cast<unsigned char>(s_[e]))) ++e;
      if (e - i == 39) {
        emit(Rule::kCloudKeys, i, e);
        return e;
      }
      return e;
    }
    return i + 1;
  }

  size_t gcpOAuth(size_t i) {
    if (!on(Rule::kCloudKeys) || !startsWith(s_, i, "ya29.") || !boundaryBefore(s_, i))
      return i + 1;
    const size_t n = s_.size();
    size_t e = i + 5;
    while (e < n && isB64Url(static_cast<unsigned char>(s_[e]))) ++e;
    if (e - i - 5 >= 20) emit(Rule::kCloudKeys, i, e);
    return e;
  }

  size_t card(size_t i) {
    const size_t n = s_.size();
    // Ids, hashes and versions: a digit inside a word or after '.' is not a card's start.
    if (!boundaryBefore(s_, i) || (i > 0 && s_[i - 1] == '.')) {
      size_t e = i;
      while (e < n && isAlnum(static_cast<unsigned char>(s_[e]))) ++e;
      return e;
    }
    uint8_t digits[20];
    uint8_t groups[8];
    size_t count = 0, groupCount = 0, groupLen = 0;
    size_t e = i;
    char sep = 0;
    while (e < n) {
      const unsigned char c = static_cast<unsigned char>(s_[e]);
      if (isDigit(c)) {
        if (count == 20) break;
        digits[count++] = static_cast<uint8_t>(c - '0');
        ++groupLen;
        ++e;
      } else if ((c == ' ' || c == '-') && (sep == 0 || sep == c) && e + 1 < n &&
                 isDigit(static_cast<unsigned char>(s_[e + 1])) && groupCount < 7) {
        sep = static_cast<char>(c);
        groups[groupCount++] = static_cast<uint8_t>(groupLen);
        groupLen = 0;
        ++e;
      } else {
        break;
      }
    }
    groups[groupCount++] = static_cast<uint8_t>(groupLen);
    if (!on(Rule::kCardNumbers) || count < 13 || count > 19 || !boundaryAfter(s_, e) ||
        (e < n && s_[e] == '.' && e + 1 < n && isDigit(static_cast<unsigned char>(s_[e + 1])))) {
      while (e < n && isAlnum(static_cast<unsigned char>(s_[e]))) ++e;
      return e;
    }
    bool grouped = groupCount == 1;
    if (!grouped && groups[0] == 4) {
      // 4-4-4-4(-3), or Amex 4-6-5 / Diners 4-6-4.
      grouped = true;
      for (size_t g = 1; g + 1 < groupCount; ++g) grouped &= groups[g] == 4;
      grouped &= groups[groupCount - 1] >= 1 && groups[groupCount - 1] <= 4;
      if (!grouped && groupCount == 3 && groups[1] == 6 && (groups[2] == 5 || groups[2] == 4))
        grouped = true;
    }
    if (grouped && cardPrefix(digits, count) && luhn(digits, count)) emit(Rule::kCardNumbers, i, e);
    return e;
  }

  const Scanner& sc_;
  const Policy& p_;
  std::string_view s_;
  uint32_t base_;
  Edits& out_;
  size_t floor_ = 0;
};

void Scanner::scanText(std::string_view s, uint32_t base, Edits& out) const {
  TextScan(*this, s, base, out).run();
}

void Scanner::scanUrlValue(std::string_view value, bool bareQuery, Edits& out) const {
  scanUrlAt(value, 0, bareQuery, out);
}

void Scanner::scanUrlAt(std::string_view value, uint32_t base, bool bareQuery, Edits& out) const {
  TextScan scan(*this, value, base, out);
  if (bareQuery) {
    scan.query(value.front() == '?' ? 1 : 0);
    return;
  }
  // A full URL is found by the text scan; a target (/path?query) or a path is read as one.
  if (value.find("://") == std::string_view::npos) {
    const size_t q = value.find('?');
    if (value.front() == '/' || q != std::string_view::npos) {
      if (value.front() == '/') {
        scan.target(0);
      } else {
        scan.query(q + 1);
      }
      return;
    }
  }
  scan.run();
}

void Scanner::hashPath(std::string_view value, Edits& out) const { hashPathAt(value, 0, out); }

void Scanner::hashPathAt(std::string_view s, uint32_t base, Edits& out) const {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    if (s[i] == '/' || s[i] == '\\') {
      ++i;
      continue;
    }
    size_t e = i;
    while (e < n && s[e] != '/' && s[e] != '\\') ++e;
    const std::string_view part = s.substr(i, e - i);
    // Kept: ".", "..", drive letters, and components that are already hashes.
    const bool keep = part == "." || part == ".." || (part.size() == 2 && part[1] == ':') ||
                      (part.size() == 12 && std::all_of(part.begin(), part.end(), [](char c) {
                         return isDigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
                       }));
    size_t nameEnd = e;
    if (e == n) {
      // The extension of the last component: a short alphanumeric tail after the last dot.
      const size_t dot = part.rfind('.');
      if (dot != std::string_view::npos && dot > 0 && part.size() - dot - 1 >= 1 &&
          part.size() - dot - 1 <= 10 &&
          std::all_of(part.begin() + static_cast<std::ptrdiff_t>(dot) + 1, part.end(),
                      [](char c) { return isAlnum(static_cast<unsigned char>(c)); })) {
        nameEnd = i + dot;
      }
    }
    const std::string_view name = s.substr(i, nameEnd - i);
    const bool hashed = name.size() == 12 && std::all_of(name.begin(), name.end(), [](char c) {
                          return isDigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
                        });
    if (!keep && !hashed && !allowedValue(part)) {
      Edit edit{};
      edit.begin = base + static_cast<uint32_t>(i);
      edit.end = base + static_cast<uint32_t>(nameEnd);
      edit.rule = Rule::kFileNames;
      hmac_.hex(name, edit.text, 12);
      edit.length = 12;
      out.push_back(edit);
    }
    i = e;
  }
}

// A recursive-descent walk over JSON text (maps and arrays rendered by the decoders, or JSON
// that a service logged). Keys are classified like attribute keys; string contents go through
// the value rules. Any syntax error aborts the walk and the caller scans the text as text.
class JsonWalk {
 public:
  JsonWalk(const Scanner& sc, std::string_view s, KeyCache& cache, Edits& out)
      : sc_(sc), s_(s), cache_(cache), out_(out) {}

  bool run() {
    ws();
    if (!value(KeyClass::kScan, {}, 0)) return false;
    ws();
    return p_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 32;

  void ws() {
    while (p_ < s_.size() && isSpace(static_cast<unsigned char>(s_[p_]))) ++p_;
  }

  bool string(size_t& b, size_t& e) {
    if (p_ >= s_.size() || s_[p_] != '"') return false;
    b = ++p_;
    while (p_ < s_.size() && s_[p_] != '"') p_ += s_[p_] == '\\' ? 2 : 1;
    if (p_ >= s_.size()) return false;
    e = p_++;
    return true;
  }

  bool value(KeyClass kc, std::string_view key, int depth) {
    if (depth > kMaxDepth || p_ >= s_.size()) return false;
    const size_t vb = p_;
    if (kc == KeyClass::kBlocked || kc == KeyClass::kNotAllowed) {
      if (!value(KeyClass::kIgnored, key, depth + 1)) return false;
      const std::string_view v = s_.substr(vb, p_ - vb);
      if (v != "\"****\"" && !(v.starts_with("\"h:") && v.size() == 21) && !sc_.allowedValue(v)) {
        out_.push_back(
            sc_.blockedValue(v, static_cast<uint32_t>(vb), static_cast<uint32_t>(p_), true));
      }
      return true;
    }
    const char c = s_[p_];
    if (c == '{') {
      ++p_;
      ws();
      if (p_ < s_.size() && s_[p_] == '}') {
        ++p_;
        return true;
      }
      while (true) {
        ws();
        size_t kb, ke;
        if (!string(kb, ke)) return false;
        ws();
        if (p_ >= s_.size() || s_[p_] != ':') return false;
        ++p_;
        ws();
        // Nested keys are classified by their dotted path (document.text, headers.cookie), so
        // the attribute-key patterns apply inside bodies as they do to flattened attributes.
        const std::string_view childKey = s_.substr(kb, ke - kb);
        const size_t pathMark = pathLength_;
        if (pathLength_ != 0 && pathLength_ + 1 + childKey.size() <= sizeof path_) {
          path_[pathLength_++] = '.';
        } else {
          pathLength_ = 0;
        }
        if (pathLength_ + childKey.size() <= sizeof path_) {
          std::memcpy(path_ + pathLength_, childKey.data(), childKey.size());
          pathLength_ += childKey.size();
        }
        const std::string_view childPath(path_, pathLength_);
        KeyClass child =
            kc == KeyClass::kIgnored ? KeyClass::kIgnored : cache_.classify(sc_.keys_, childPath);
        // Allow-list mode governs attribute keys, not the structure inside a value.
        if (child == KeyClass::kNotAllowed) child = KeyClass::kScan;
        const bool ok = value(child, childPath, depth + 1);
        pathLength_ = pathMark;
        if (!ok) return false;
        ws();
        if (p_ < s_.size() && s_[p_] == ',') {
          ++p_;
          continue;
        }
        if (p_ < s_.size() && s_[p_] == '}') {
          ++p_;
          return true;
        }
        return false;
      }
    }
    if (c == '[') {
      ++p_;
      ws();
      if (p_ < s_.size() && s_[p_] == ']') {
        ++p_;
        return true;
      }
      while (true) {
        ws();
        if (!value(kc, key, depth + 1)) return false;
        ws();
        if (p_ < s_.size() && s_[p_] == ',') {
          ++p_;
          continue;
        }
        if (p_ < s_.size() && s_[p_] == ']') {
          ++p_;
          return true;
        }
        return false;
      }
    }
    if (c == '"') {
      size_t b, e;
      if (!string(b, e)) return false;
      if (e == b) return true;
      const std::string_view content = s_.substr(b, e - b);
      const auto base = static_cast<uint32_t>(b);
      switch (kc) {
        case KeyClass::kIgnored: break;
        case KeyClass::kUrl: sc_.scanUrlAt(content, base, false, out_); break;
        case KeyClass::kFileName: sc_.hashPathAt(content, base, out_); break;
        default: sc_.scanText(content, base, out_); break;
      }
      return true;
    }
    // Numbers, true, false, null.
    while (p_ < s_.size() && s_[p_] != ',' && s_[p_] != '}' && s_[p_] != ']' &&
           !isSpace(static_cast<unsigned char>(s_[p_]))) {
      ++p_;
    }
    return p_ > vb;
  }

  const Scanner& sc_;
  std::string_view s_;
  KeyCache& cache_;
  Edits& out_;
  size_t p_ = 0;
  char path_[256];
  size_t pathLength_ = 0;
};

void Scanner::scanValue(std::string_view value, KeyCache& cache, Edits& out) const {
  size_t first = 0;
  while (first < value.size() && isSpace(static_cast<unsigned char>(value[first]))) ++first;
  if (first < value.size() && (value[first] == '{' || value[first] == '[')) {
    const size_t mark = out.size();
    if (JsonWalk(*this, value, cache, out).run()) return;
    out.resize(mark);
  }
  scanText(value, 0, out);
}

void Scanner::scanForKey(KeyClass keyClass, std::string_view key, std::string_view value,
                         KeyCache& cache, Edits& out) const {
  if (value.empty()) return;
  switch (keyClass) {
    case KeyClass::kScan: scanValue(value, cache, out); break;
    case KeyClass::kUrl: scanUrlValue(value, key.ends_with("query"), out); break;
    case KeyClass::kFileName: hashPath(value, out); break;
    default: break;
  }
}

}  // namespace stackhouse::redaction
