// Splits a process's stderr into the dumps it contains, for assertions.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace stackhouse::stackdump::testing {

struct ParsedThread {
  std::string header;               // the "Thread ..." line
  std::vector<std::string> frames;  // the "  #n ..." lines
};

struct ParsedDump {
  std::string label;       // from the banner
  bool wellFormed = true;  // banner, "USR2 triggered stack trace:", blank line, in that order
  std::map<std::string, ParsedThread> threads;  // by thread name
  int blocks = 0;                               // "Thread" lines (names may repeat)
  int reportedThreads = -1;  // from the closing line; -1 when the dump has none (yet)
};

inline std::vector<ParsedDump> parseDumps(std::string_view text) {
  std::vector<ParsedDump> dumps;
  ParsedThread* current = nullptr;
  int linesSinceBanner = -1;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) break;  // an unfinished line
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (linesSinceBanner >= 0) ++linesSinceBanner;
    if (line.starts_with("USR2 signal received [")) {
      ParsedDump& dump = dumps.emplace_back();
      const size_t close = line.find(']');
      dump.label = std::string(line.substr(22, close - 22));
      dump.wellFormed = line.substr(close) == "]; dumping thread stacks";
      linesSinceBanner = 0;
      current = nullptr;
      continue;
    }
    if (dumps.empty()) continue;
    ParsedDump& dump = dumps.back();
    if (linesSinceBanner == 1 && line != "USR2 triggered stack trace:") dump.wellFormed = false;
    if (linesSinceBanner == 2 && !line.empty()) dump.wellFormed = false;
    if (line.starts_with("Thread \"")) {
      const size_t quote = line.find("\" (tid ");
      const std::string name(line.substr(8, quote - 8));
      ++dump.blocks;
      current = &dump.threads[name];
      current->header = std::string(line);
    } else if (line.starts_with("  #") && current != nullptr) {
      current->frames.emplace_back(line);
    } else if (line.starts_with("USR2 stack trace done [")) {
      const size_t close = line.find("]: ");
      dump.reportedThreads = std::stoi(std::string(line.substr(close + 3)));
      current = nullptr;
    }
  }
  return dumps;
}

}  // namespace stackhouse::stackdump::testing
