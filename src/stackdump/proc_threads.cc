#include "stackdump/proc_threads.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace stackhouse::stackdump::detail {
namespace {

// Reads a small /proc file whole (they report a size of 0, so read until end of file).
std::string readSmallFile(const std::string& path) {
  std::string text;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fd);
  return text;
}

std::string taskPath(pid_t tid, std::string_view file) {
  std::string path = "/proc/self/task/";
  path += std::to_string(tid);
  path += '/';
  path += file;
  return path;
}

// The value of "Key:\t<value>" lines, leading blanks removed; empty when the key is missing.
std::string_view field(std::string_view text, std::string_view key) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      line.remove_prefix(key.size() + 1);
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      return line;
    }
    at = end + 1;
  }
  return {};
}

bool parseHex(std::string_view text, std::uint64_t& value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::vector<pid_t> listThreads() {
  std::vector<pid_t> tids;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return tids;
  while (const dirent* entry = readdir(dir)) {
    pid_t tid = 0;
    const std::string_view name(entry->d_name);
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), tid);
    if (error == std::errc() && end == name.data() + name.size() && tid > 0) tids.push_back(tid);
  }
  closedir(dir);
  // The main thread first, whatever its tid: once pids wrap around, threads started later can
  // have lower tids than the process's own.
  const pid_t main = getpid();
  std::sort(tids.begin(), tids.end(),
            [main](pid_t a, pid_t b) { return a == main ? b != main : b != main && a < b; });
  return tids;
}

std::string readThreadName(pid_t tid) {
  std::string name = readSmallFile(taskPath(tid, "comm"));
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

ThreadStatus parseThreadStatus(std::string_view text) {
  ThreadStatus status;
  const std::string_view state = field(text, "State");
  if (state.empty()) return status;
  status.state = state.front();
  status.valid = parseHex(field(text, "SigBlk"), status.blocked) &&
                 parseHex(field(text, "SigPnd"), status.pending);
  return status;
}

ThreadStatus readThreadStatus(pid_t tid) {
  return parseThreadStatus(readSmallFile(taskPath(tid, "status")));
}

}  // namespace stackhouse::stackdump::detail
