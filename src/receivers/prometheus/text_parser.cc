#include "receivers/prometheus/text_parser.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "common/utf8.h"

namespace stackhouse::receivers::prometheus {
namespace {

bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }
bool isLabelStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isLabelChar(char c) { return isLabelStart(c) || (c >= '0' && c <= '9'); }

// The metric name at line[pos], or empty when there is none.
std::string_view readMetricName(std::string_view line, size_t& pos) {
  const size_t begin = pos;
  if (pos >= line.size() || !isNameStart(line[pos])) return {};
  while (pos < line.size() && isNameChar(line[pos])) ++pos;
  return line.substr(begin, pos - begin);
}

std::string_view readLabelName(std::string_view line, size_t& pos) {
  const size_t begin = pos;
  if (pos >= line.size() || !isLabelStart(line[pos])) return {};
  while (pos < line.size() && isLabelChar(line[pos])) ++pos;
  return line.substr(begin, pos - begin);
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string quotedForError(std::string_view s) {
  // Names only (they match [a-zA-Z_:][a-zA-Z0-9_:]*); never label values or HELP texts.
  std::string out = "\"";
  out.append(s.substr(0, 128));
  out += '"';
  return out;
}

}  // namespace

Format formatOfContentType(std::string_view contentType) {
  // media-type [; parameters]; case-insensitive type.
  const size_t semi = contentType.find(';');
  std::string_view type = contentType.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return equalsIgnoreCase(type, "application/openmetrics-text") ? Format::kOpenMetrics
                                                                : Format::kText;
}

std::string_view formatName(Format format) {
  return format == Format::kOpenMetrics ? "OpenMetrics 1.0" : "text 0.0.4";
}

std::string_view metricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kUnknown: return "unknown";
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kGaugeHistogram: return "gaugehistogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kInfo: return "info";
    case MetricType::kStateSet: return "stateset";
  }
  return "unknown";
}

bool decimalSecondsToNanos(std::string_view t, int64_t& out) {
  bool negative = false;
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) {
    negative = t.front() == '-';
    t.remove_prefix(1);
  }
  const size_t dot = t.find('.');
  std::string_view whole = t.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : t.substr(dot + 1);
  if ((whole.empty() && frac.empty()) || whole.size() > 10) return false;
  for (char c : whole) {
    if (c < '0' || c > '9') return false;
  }
  for (char c : frac) {
    if (c < '0' || c > '9') return false;
  }
  int64_t seconds = 0;
  for (char c : whole) seconds = seconds * 10 + (c - '0');
  if (seconds > 9'223'372'035) return false;  // past int64 nanoseconds
  int64_t nanos = 0;
  for (size_t i = 0; i < 9; ++i) nanos = nanos * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  const int64_t v = seconds * 1'000'000'000 + nanos;
  out = negative ? -v : v;
  return true;
}

void unescapeHelp(std::string_view raw, Format format, std::string& out) {
  out.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      const char n = raw[i + 1];
      if (n == 'n') {
        out += '\n';
        ++i;
        continue;
      }
      if (n == '\\' || (n == '"' && format == Format::kOpenMetrics)) {
        out += n;
        ++i;
        continue;
      }
    }
    out += c;
  }
}

TextParser::TextParser(std::string_view body, Format format, const ParseLimits& limits)
    : body_(body), format_(format), limits_(limits) {
  if (limits_.maxLabels == 0 || limits_.maxLabels > kMaxLabels) limits_.maxLabels = kMaxLabels;
}

Status TextParser::fail(std::string_view problem) const {
  return invalidArgument("line " + std::to_string(line_) + ": " + std::string(problem));
}

void TextParser::skipBlanks(std::string_view line, size_t& pos) const {
  // The text format separates tokens by any run of blanks; OpenMetrics by exactly one space
  // (checked where it matters: a lenient reading of extra spaces loses nothing).
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
}

std::string_view TextParser::nextToken(std::string_view line, size_t& pos) const {
  skipBlanks(line, pos);
  const size_t begin = pos;
  while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
  return line.substr(begin, pos - begin);
}

Status TextParser::next(Entry& entry) {
  while (true) {
    if (pos_ >= body_.size()) {
      if (format_ == Format::kOpenMetrics && !sawEof_) {
        ++line_;
        return fail("the OpenMetrics body does not end with # EOF");
      }
      entry = Entry::kEnd;
      return Status::ok();
    }
    if (sawEof_) {
      ++line_;
      return fail("content after # EOF");
    }
    const size_t nl = body_.find('\n', pos_);
    const size_t end = nl == std::string_view::npos ? body_.size() : nl;
    std::string_view line = body_.substr(pos_, end - pos_);
    pos_ = nl == std::string_view::npos ? body_.size() : nl + 1;
    ++line_;
    if (!line.empty() && line.back() == '\r' && format_ == Format::kText) line.remove_suffix(1);
    if (line.empty()) {
      if (format_ == Format::kOpenMetrics) return fail("empty line");
      continue;
    }
    if (line[0] == '#') {
      bool produced = false;
      STACKHOUSE_RETURN_IF_ERROR(parseComment(line, entry, produced));
      if (sawEof_) {
        // Only a final newline may follow.
        if (pos_ < body_.size()) {
          ++line_;
          return fail("content after # EOF");
        }
        entry = Entry::kEnd;
        return Status::ok();
      }
      if (produced) return Status::ok();
      continue;
    }
    if (format_ == Format::kText && (line[0] == ' ' || line[0] == '\t')) {
      size_t p = 0;
      skipBlanks(line, p);
      if (p == line.size()) continue;  // a line of blanks
      line.remove_prefix(p);
      if (line[0] == '#') {
        bool produced = false;
        STACKHOUSE_RETURN_IF_ERROR(parseComment(line, entry, produced));
        if (produced) return Status::ok();
        continue;
      }
    }
    STACKHOUSE_RETURN_IF_ERROR(parseSample(line));
    entry = Entry::kSample;
    return Status::ok();
  }
}

Status TextParser::parseComment(std::string_view line, Entry& entry, bool& produced) {
  if (format_ == Format::kOpenMetrics && line == "# EOF") {
    sawEof_ = true;
    return Status::ok();
  }
  size_t pos = 1;
  skipBlanks(line, pos);
  std::string_view keyword = line.substr(pos, std::min<size_t>(4, line.size() - pos));
  Entry kind;
  if (keyword == "HELP") {
    kind = Entry::kHelp;
  } else if (keyword == "TYPE") {
    kind = Entry::kType;
  } else if (keyword == "UNIT") {
    kind = Entry::kUnit;
  } else {
    // Any other comment: the text format ignores it; OpenMetrics has none.
    if (format_ == Format::kOpenMetrics)
      return fail("a comment other than HELP, TYPE, UNIT or EOF");
    return Status::ok();
  }
  pos += 4;
  if (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') {
    if (format_ == Format::kOpenMetrics)
      return fail("a comment other than HELP, TYPE, UNIT or EOF");
    return Status::ok();  // "# HELPER ..." is a plain comment in the text format
  }
  if (kind == Entry::kUnit && format_ == Format::kText) return Status::ok();  // not in 0.0.4
  skipBlanks(line, pos);
  family_ = readMetricName(line, pos);
  if (family_.empty()) return fail("metadata line without a valid metric name");
  if (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') {
    return fail("metadata line without a valid metric name");
  }
  // The rest, after one separating blank (HELP keeps further blanks as part of the text).
  std::string_view rest;
  if (pos < line.size()) rest = line.substr(pos + 1);
  if (kind == Entry::kHelp) {
    if (rest.find('\\') == std::string_view::npos) {
      text_ = rest;
    } else {
      unescapeHelp(rest, format_, scratch_);
      text_ = scratch_;
    }
    if (!isValidUtf8(text_))
      return fail("HELP of " + quotedForError(family_) + " is not valid UTF-8");
  } else if (kind == Entry::kType) {
    size_t p = 0;
    std::string_view t = nextToken(rest, p);
    if (t == "counter") {
      type_ = MetricType::kCounter;
    } else if (t == "gauge") {
      type_ = MetricType::kGauge;
    } else if (t == "histogram") {
      type_ = MetricType::kHistogram;
    } else if (t == "summary") {
      type_ = MetricType::kSummary;
    } else if (t == "untyped" && format_ == Format::kText) {
      type_ = MetricType::kUnknown;
    } else if (t == "unknown" && format_ == Format::kOpenMetrics) {
      type_ = MetricType::kUnknown;
    } else if (t == "gaugehistogram" && format_ == Format::kOpenMetrics) {
      type_ = MetricType::kGaugeHistogram;
    } else if (t == "info" && format_ == Format::kOpenMetrics) {
      type_ = MetricType::kInfo;
    } else if (t == "stateset" && format_ == Format::kOpenMetrics) {
      type_ = MetricType::kStateSet;
    } else {
      return fail("TYPE of " + quotedForError(family_) + " is not a " +
                  std::string(formatName(format_)) + " metric type");
    }
    skipBlanks(rest, p);
    if (p != rest.size()) return fail("text after the TYPE of " + quotedForError(family_));
  } else {
    text_ = rest;
    if (!isValidUtf8(text_))
      return fail("UNIT of " + quotedForError(family_) + " is not valid UTF-8");
  }
  entry = kind;
  produced = true;
  return Status::ok();
}

Status TextParser::parseLabels(std::string_view line, size_t& pos, size_t first, size_t& count) {
  ++pos;  // '{'
  count = 0;
  while (true) {
    skipBlanks(line, pos);
    if (pos >= line.size()) return fail("unterminated label set");
    if (line[pos] == '}') {
      ++pos;
      return Status::ok();
    }
    std::string_view name = readLabelName(line, pos);
    if (name.empty()) return fail("invalid label name");
    if (limits_.maxLabelNameBytes != 0 && name.size() > limits_.maxLabelNameBytes) {
      return resourceExhausted("line " + std::to_string(line_) + ": a label name is " +
                               std::to_string(name.size()) + " bytes, over the limit of " +
                               std::to_string(limits_.maxLabelNameBytes));
    }
    skipBlanks(line, pos);
    if (pos >= line.size() || line[pos] != '=') {
      return fail("expected = after the label name " + quotedForError(name));
    }
    ++pos;
    skipBlanks(line, pos);
    if (pos >= line.size() || line[pos] != '"') {
      return fail("expected a quoted value for the label " + quotedForError(name));
    }
    ++pos;
    const size_t begin = pos;
    bool escaped = false;
    while (pos < line.size() && line[pos] != '"') {
      if (line[pos] == '\\') {
        escaped = true;
        ++pos;
      }
      ++pos;
    }
    if (pos >= line.size()) return fail("unterminated value of the label " + quotedForError(name));
    std::string_view raw = line.substr(begin, pos - begin);
    ++pos;  // closing quote
    if (count >= limits_.maxLabels) {
      return resourceExhausted("line " + std::to_string(line_) + ": more than " +
                               std::to_string(limits_.maxLabels) + " labels in one sample");
    }
    PendingLabel label{name, raw, escaped, 0, 0};
    if (escaped) {
      label.scratchBegin = scratch_.size();
      for (size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '\\' && i + 1 < raw.size()) {
          const char n = raw[++i];
          c = n == 'n' ? '\n' : n;  // \\ \" \n; any other escaped character stands for itself
        }
        scratch_ += c;
      }
      label.scratchEnd = scratch_.size();
    }
    const size_t valueBytes = escaped ? label.scratchEnd - label.scratchBegin : raw.size();
    if (limits_.maxLabelValueBytes != 0 && valueBytes > limits_.maxLabelValueBytes) {
      return resourceExhausted("line " + std::to_string(line_) + ": the value of the label " +
                               quotedForError(name) + " is " + std::to_string(valueBytes) +
                               " bytes, over the limit of " +
                               std::to_string(limits_.maxLabelValueBytes));
    }
    if (first + count < pending_.size()) {
      pending_[first + count] = label;
    } else {
      pending_.push_back(label);
    }
    ++count;
    skipBlanks(line, pos);
    if (pos < line.size() && line[pos] == ',') {
      ++pos;
      continue;
    }
    skipBlanks(line, pos);
    if (pos < line.size() && line[pos] == '}') {
      ++pos;
      return Status::ok();
    }
    if (pos >= line.size()) return fail("unterminated label set");
    return fail("expected , or } after the label " + quotedForError(name));
  }
}

Status TextParser::parseValue(std::string_view token, double& out, std::string_view what) const {
  if (token.empty()) return fail("missing " + std::string(what));
  std::string_view t = token;
  if (t.front() == '+') {
    t.remove_prefix(1);
    if (t.empty() || t.front() == '-' || t.front() == '+')
      return fail("invalid " + std::string(what));
  }
  // Go's ParseFloat, which Prometheus uses, reads Inf, +Inf, -Inf and NaN in any case;
  // from_chars reads inf, infinity and nan in any case too (and no hex without "0x": Go's hex
  // floats are not accepted here, which no exposition library writes).
  const char* b = t.data();
  const char* e = t.data() + t.size();
  auto [p, ec] = std::from_chars(b, e, out, std::chars_format::general);
  if (ec == std::errc::result_out_of_range) {
    // Go returns ±Inf for overflow and ±0 for underflow; do the same.
    const bool negative = t.front() == '-';
    bool small = false;
    for (const char* q = b; q != e; ++q) {
      if (*q == 'e' || *q == 'E') {
        small = q + 1 != e && q[1] == '-';
        break;
      }
    }
    out = small ? (negative ? -0.0 : 0.0)
                : (negative ? -std::numeric_limits<double>::infinity()
                            : std::numeric_limits<double>::infinity());
    return Status::ok();
  }
  if (ec != std::errc() || p != e) return fail("invalid " + std::string(what));
  return Status::ok();
}

Status TextParser::parseTimestamp(std::string_view token, int64_t& out) const {
  if (format_ == Format::kText) {
    // Milliseconds since the epoch, an integer.
    int64_t ms = 0;
    auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), ms);
    if (ec != std::errc() || p != token.data() + token.size()) return fail("invalid timestamp");
    constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max() / 1'000'000;
    if (ms > kMaxMs || ms < -kMaxMs) return fail("timestamp out of range");
    out = ms * 1'000'000;
    return Status::ok();
  }
  // OpenMetrics: seconds, possibly fractional. Whole and fractional digits are read apart so
  // that nanoseconds survive (a double holds about 250 ns of precision at today's times).
  if (decimalSecondsToNanos(token, out)) return Status::ok();
  double seconds = 0;
  STACKHOUSE_RETURN_IF_ERROR(parseValue(token, seconds, "timestamp"));
  if (!std::isfinite(seconds) || std::fabs(seconds) > 9.2e9) return fail("timestamp out of range");
  out = static_cast<int64_t>(std::llround(seconds * 1e9));
  return Status::ok();
}

Status TextParser::parseSample(std::string_view line) {
  size_t pos = 0;
  name_ = readMetricName(line, pos);
  if (name_.empty()) return fail("expected a metric name");
  scratch_.clear();
  labelCount_ = 0;
  hasExemplar_ = false;
  hasTimestamp_ = false;
  size_t afterName = pos;
  if (format_ == Format::kText) skipBlanks(line, afterName);
  if (afterName < line.size() && line[afterName] == '{') {
    pos = afterName;
    STACKHOUSE_RETURN_IF_ERROR(parseLabels(line, pos, 0, labelCount_));
  }
  if (pos >= line.size() || (line[pos] != ' ' && line[pos] != '\t')) {
    return fail("expected a blank and the value after " + quotedForError(name_));
  }
  // Value, optional timestamp, optional exemplar (OpenMetrics: "# {labels} value [ts]").
  valueText_ = nextToken(line, pos);
  STACKHOUSE_RETURN_IF_ERROR(parseValue(valueText_, value_, "sample value"));
  size_t exemplarLabels = 0;
  std::string_view token = nextToken(line, pos);
  if (!token.empty() && token != "#") {
    STACKHOUSE_RETURN_IF_ERROR(parseTimestamp(token, timestampNanos_));
    hasTimestamp_ = true;
    token = nextToken(line, pos);
  }
  if (token == "#") {
    if (format_ != Format::kOpenMetrics) return fail("unexpected text after the sample");
    skipBlanks(line, pos);
    if (pos >= line.size() || line[pos] != '{') return fail("expected the exemplar's label set");
    STACKHOUSE_RETURN_IF_ERROR(parseLabels(line, pos, labelCount_, exemplarLabels));
    // The exemplar's label set: at most 128 UTF-8 characters of names and values together.
    std::string_view exValue = nextToken(line, pos);
    STACKHOUSE_RETURN_IF_ERROR(parseValue(exValue, exemplar_.value, "exemplar value"));
    std::string_view exTs = nextToken(line, pos);
    exemplar_.hasTimestamp = !exTs.empty();
    if (exemplar_.hasTimestamp) {
      STACKHOUSE_RETURN_IF_ERROR(parseTimestamp(exTs, exemplar_.timestampNanos));
    }
    hasExemplar_ = true;
    token = nextToken(line, pos);
  }
  if (!token.empty()) return fail("unexpected text after the sample");

  // The views, now that scratch_ no longer moves.
  const size_t total = labelCount_ + exemplarLabels;
  if (labels_.size() < total) labels_.resize(total);
  for (size_t i = 0; i < total; ++i) {
    const PendingLabel& p = pending_[i];
    std::string_view value =
        p.escaped ? std::string_view(scratch_).substr(p.scratchBegin, p.scratchEnd - p.scratchBegin)
                  : p.raw;
    if (!isValidUtf8(value)) {
      return fail("the value of the label " + quotedForError(p.name) + " is not valid UTF-8");
    }
    labels_[i] = Label{p.name, value};
  }
  if (hasExemplar_) {
    exemplar_.labels = std::span<const Label>(labels_.data() + labelCount_, exemplarLabels);
  }
  return Status::ok();
}

}  // namespace stackhouse::receivers::prometheus
