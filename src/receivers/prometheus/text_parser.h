// A pull parser for the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0 text.
//
// The parser walks one scrape body (already inflated) line by line and hands out entries: the
// metadata lines (HELP, TYPE, UNIT) and the samples. Names, label names and label values are
// views into the body; only label values and HELP texts with escapes are unescaped, into a
// scratch buffer the parser reuses. A sample's labels stay valid until the next call of next().
// Nothing is allocated per sample once the scratch buffers have grown to the largest line.
//
// Errors name the line and the problem ("line 12: label value of \"path\" is not valid UTF-8"),
// and end the parse: the scrape of that target fails as a whole, as it does in Prometheus.
// Limits on label counts and lengths (ParseLimits) fail it the same way. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace stackhouse::receivers::prometheus {

enum class Format : unsigned char { kText, kOpenMetrics };

// The format of a response by its Content-Type: application/openmetrics-text is OpenMetrics,
// anything else (text/plain; version=0.0.4, or none) the classic text format, as Prometheus reads
// it.
Format formatOfContentType(std::string_view contentType);
std::string_view formatName(Format format);

// What a scrape asks for: OpenMetrics 1.0.0 first, then 0.0.1, then the text format, as
// Prometheus's default scrape protocols order them.
inline constexpr std::string_view kAcceptHeader =
    "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;"
    "q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

enum class MetricType : unsigned char {
  kUnknown,  // untyped (text) or unknown (OpenMetrics), and series without a TYPE line
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateSet,
};
std::string_view metricTypeName(MetricType type);

struct Label {
  std::string_view name;
  std::string_view value;
};

struct ParseLimits {
  size_t maxLabels = 0;           // labels per sample; 0: kMaxLabels
  size_t maxLabelNameBytes = 0;   // 0: no limit below the line's
  size_t maxLabelValueBytes = 0;  // 0: no limit below the line's
};

// The hard bound behind ParseLimits::maxLabels.
inline constexpr size_t kMaxLabels = 1024;

struct Exemplar {
  std::span<const Label> labels;
  double value = 0;
  bool hasTimestamp = false;
  int64_t timestampNanos = 0;
};

enum class Entry : unsigned char { kEnd, kHelp, kType, kUnit, kSample };

class TextParser {
 public:
  // `body` must outlive the parser; nothing is copied.
  TextParser(std::string_view body, Format format, const ParseLimits& limits = {});
  TextParser(const TextParser&) = delete;
  TextParser& operator=(const TextParser&) = delete;

  // Reads the next entry. kEnd once the body is done (for OpenMetrics: at `# EOF`, which must be
  // there). An error status (kInvalidArgument, or kResourceExhausted for a limit) ends the parse.
  Status next(Entry& entry);

  // After kHelp, kType, kUnit: the family the line is about.
  std::string_view familyName() const { return family_; }
  // After kHelp (unescaped) and kUnit.
  std::string_view text() const { return text_; }
  // After kType.
  MetricType type() const { return type_; }

  // After kSample.
  std::string_view name() const { return name_; }
  std::span<const Label> labels() const { return {labels_.data(), labelCount_}; }
  double value() const { return value_; }
  // The value as written (for _created, whose nanoseconds a double would round).
  std::string_view valueText() const { return valueText_; }
  bool hasTimestamp() const { return hasTimestamp_; }
  int64_t timestampNanos() const { return timestampNanos_; }
  // The sample's exemplar (OpenMetrics only), or null.
  const Exemplar* exemplar() const { return hasExemplar_ ? &exemplar_ : nullptr; }

  // The 1-based line of the last entry.
  size_t line() const { return line_; }
  Format format() const { return format_; }

 private:
  struct PendingLabel {
    std::string_view name;
    std::string_view raw;  // the value as written, between the quotes
    bool escaped;          // raw holds escapes; the value is in scratch_
    size_t scratchBegin;
    size_t scratchEnd;
  };

  Status fail(std::string_view problem) const;
  Status parseComment(std::string_view line, Entry& entry, bool& produced);
  Status parseSample(std::string_view line);
  // Reads `{name="value",...}` at line[pos] (pos at '{') into pending_[first..]; pos ends after
  // '}'. Returns the number of labels read.
  Status parseLabels(std::string_view line, size_t& pos, size_t first, size_t& count);
  Status parseValue(std::string_view token, double& out, std::string_view what) const;
  Status parseTimestamp(std::string_view token, int64_t& out) const;
  void skipBlanks(std::string_view line, size_t& pos) const;
  std::string_view nextToken(std::string_view line, size_t& pos) const;

  std::string_view body_;
  Format format_;
  ParseLimits limits_;
  size_t pos_ = 0;
  size_t line_ = 0;
  bool sawEof_ = false;

  std::string_view family_;
  std::string_view text_;
  MetricType type_ = MetricType::kUnknown;

  std::string_view name_;
  double value_ = 0;
  std::string_view valueText_;
  bool hasTimestamp_ = false;
  int64_t timestampNanos_ = 0;
  bool hasExemplar_ = false;
  Exemplar exemplar_;
  size_t labelCount_ = 0;  // the sample's; the exemplar's follow in labels_

  std::vector<PendingLabel> pending_;  // reused
  std::vector<Label> labels_;          // reused
  std::string scratch_;                // unescaped values, reused
};

// Seconds since the epoch written as a decimal ("1520430000.123456789") to nanoseconds, exactly;
// false when the text is not such a number (the caller then falls back to the double value).
bool decimalSecondsToNanos(std::string_view text, int64_t& out);

// Unescapes a HELP text (\\ and \n; OpenMetrics also \") into `out`.
void unescapeHelp(std::string_view raw, Format format, std::string& out);

}  // namespace stackhouse::receivers::prometheus
