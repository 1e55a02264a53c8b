#include "config/section.h"

#include "config/quote.h"

namespace stackhouse::config {

void SectionReader::addCredentialKeys(std::vector<SectionKey>& keys, CredentialConfig& out,
                                      std::string_view fileKey) {
  keys.push_back({"existingSecret", [&out](SectionReader& v) { v.string(out.existingSecret); }});
  keys.push_back({"secretKey", [&out](SectionReader& v) { v.string(out.secretKey); }});
  keys.push_back({fileKey, [&out](SectionReader& v) { v.string(out.file); }});
}

void SectionReader::checkCredential(bool enabled, const CredentialConfig& c,
                                    std::string_view fileKey) {
  if (!c.existingSecret.empty() && c.secretKey.empty()) {
    error("existingSecret is set but secretKey is empty", "secretKey");
  } else if (!c.existingSecret.empty() && !c.file.empty()) {
    error("set existingSecret and secretKey, or " + std::string(fileKey) + ", not both");
  } else if (enabled && c.existingSecret.empty() && c.file.empty()) {
    error(
        "enabled: true needs a credential: existingSecret and secretKey (a secret under "
        "clickstack.secretsDir), or " +
        std::string(fileKey));
  }
}

void SectionWriter::line(std::string_view key, std::string_view text) {
  if (itemStart_) {
    out_.append(static_cast<size_t>(depth_ - 1) * 2, ' ');
    out_ += "- ";
    itemStart_ = false;
  } else {
    out_.append(static_cast<size_t>(depth_) * 2, ' ');
  }
  out_ += key;
  out_ += ':';
  if (!text.empty()) {
    out_ += ' ';
    out_ += text;
  }
  out_ += '\n';
}

void SectionWriter::boolean(std::string_view key, bool value) {
  line(key, value ? "true" : "false");
}

void SectionWriter::string(std::string_view key, std::string_view value) {
  line(key, quoted(value, std::string::npos));
}

void SectionWriter::duration(std::string_view key, std::chrono::nanoseconds value) {
  line(key, formatDuration(value));
}

void SectionWriter::byteSize(std::string_view key, uint64_t value) {
  line(key, formatByteSize(value));
}

void SectionWriter::queue(const QueueConfig& q) {
  line("queue",
       "{maxSize: " + formatByteSize(q.maxSize) + ", fsync: " +
           (q.fsync == QueueConfig::Fsync::kAlways ? "always" : "never") + ", onFull: " +
           (q.onFull == QueueConfig::OnFull::kBackpressure ? "backpressure" : "dropOldest") + "}");
}

void SectionWriter::credential(const CredentialConfig& c, std::string_view fileKey) {
  string("existingSecret", c.existingSecret);
  string("secretKey", c.secretKey);
  string(fileKey, c.file);
}

void SectionWriter::number(std::string_view key, uint64_t value) {
  line(key, std::to_string(value));
}

void SectionWriter::strings(std::string_view key, const std::vector<std::string>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ", ";
    text += quoted(values[i], std::string::npos);
  }
  text += ']';
  line(key, text);
}

SectionWriter SectionWriter::nested(std::string_view key) {
  line(key, "");
  return SectionWriter(out_, depth_ + 1);
}

SectionWriter SectionWriter::list(std::string_view key, size_t size) {
  line(key, size == 0 ? "[]" : "");
  return SectionWriter(out_, depth_ + 1);
}

SectionWriter SectionWriter::item() {
  SectionWriter out(out_, depth_ + 1);
  out.itemStart_ = true;
  return out;
}

SectionKey ExporterSection::enabledKey() {
  return {"enabled", [this](SectionReader& v) { v.boolean(enabled); }};
}

SectionKey ExporterSection::timeoutKey() {
  return {"timeout", [this](SectionReader& v) {
            v.duration(timeout, std::chrono::seconds(1), std::chrono::minutes(5));
          }};
}

SectionKey ExporterSection::queueKey() {
  return {"queue", [this](SectionReader& v) { v.queue(queue); }};
}

}  // namespace stackhouse::config
