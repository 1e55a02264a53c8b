// Structured logs: one JSON object per line on stdout.
//
//   {"ts":"2026-11-25T21:53:31.123Z","level":"info","thread":"insert","msg":"store opened",...}
//
// Messages and field values are operational metadata chosen by our own code: never request
// payloads, attribute values, credentials, file names or URLs with queries. Each line is written
// with one write(2), so lines from different threads never interleave.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace stackhouse::log {

enum class Level : unsigned char { kDebug, kInfo, kWarn, kError };

// Extra key/value pairs of one line, rendered as JSON as they are added.
class Fields {
 public:
  Fields& add(std::string_view key, std::string_view value);
  Fields& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  Fields& add(std::string_view key, int64_t value);
  Fields& add(std::string_view key, uint64_t value);
  Fields& add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
  Fields& add(std::string_view key, double value);
  Fields& add(std::string_view key, bool value);
  const std::string& json() const { return json_; }

 private:
  std::string json_;  // ,"k":v,"k2":v2
};

void setMinLevel(Level level);
bool enabled(Level level);
// Redirects output (tests); -1 restores stdout.
void setOutputFd(int fd);
void write(Level level, std::string_view msg, const Fields& fields = Fields());

inline void debug(std::string_view msg, const Fields& f = Fields()) {
  write(Level::kDebug, msg, f);
}
inline void info(std::string_view msg, const Fields& f = Fields()) { write(Level::kInfo, msg, f); }
inline void warn(std::string_view msg, const Fields& f = Fields()) { write(Level::kWarn, msg, f); }
inline void error(std::string_view msg, const Fields& f = Fields()) {
  write(Level::kError, msg, f);
}

}  // namespace stackhouse::log
