#include "common/log.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>

#include "common/json_writer.h"

namespace stackhouse::log {

namespace {
std::atomic<Level> gMinLevel{Level::kInfo};
std::atomic<int> gFd{STDOUT_FILENO};

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

void appendTimestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf, n);
  char frac[8];
  snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
  out += frac;
}
}  // namespace

Fields& Fields::add(std::string_view key, std::string_view value) {
  json_ += ',';
  appendJsonString(json_, key);
  json_ += ':';
  appendJsonString(json_, value);
  return *this;
}
Fields& Fields::add(std::string_view key, int64_t value) {
  json_ += ',';
  appendJsonString(json_, key);
  json_ += ':';
  json_ += std::to_string(value);
  return *this;
}
Fields& Fields::add(std::string_view key, uint64_t value) {
  json_ += ',';
  appendJsonString(json_, key);
  json_ += ':';
  json_ += std::to_string(value);
  return *this;
}
Fields& Fields::add(std::string_view key, double value) {
  json_ += ',';
  appendJsonString(json_, key);
  json_ += ':';
  appendJsonDouble(json_, value);
  return *this;
}
Fields& Fields::add(std::string_view key, bool value) {
  json_ += ',';
  appendJsonString(json_, key);
  json_ += value ? ":true" : ":false";
  return *this;
}

void setMinLevel(Level level) { gMinLevel.store(level, std::memory_order_relaxed); }
bool enabled(Level level) { return level >= gMinLevel.load(std::memory_order_relaxed); }
void setOutputFd(int fd) { gFd.store(fd < 0 ? STDOUT_FILENO : fd); }

void write(Level level, std::string_view msg, const Fields& fields) {
  if (!enabled(level)) return;
  const int savedErrno = errno;
  std::string line;
  line.reserve(128 + msg.size() + fields.json().size());
  line += "{\"ts\":\"";
  appendTimestamp(line);
  line += "\",\"level\":\"";
  line += levelName(level);
  line += "\",\"thread\":";
  char name[16] = {0};
  pthread_getname_np(pthread_self(), name, sizeof name);
  appendJsonString(line, name);
  line += ",\"msg\":";
  appendJsonString(line, msg);
  line += fields.json();
  line += "}\n";
  const int fd = gFd.load();
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  errno = savedErrno;
}

}  // namespace stackhouse::log
