#include "common/cpu.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>

namespace stackhouse {
namespace {

constexpr std::string_view kCgroupRoot = "/sys/fs/cgroup";

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<long long> parseInt(std::string_view s) {
  s = trim(s);
  long long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Quota and period in microseconds; a missing, "max" or -1 quota means no limit.
std::optional<int> cpusOf(std::string_view quota, std::string_view period) {
  const std::optional<long long> q = parseInt(quota);
  const std::optional<long long> p = parseInt(period);
  if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;
  return static_cast<int>(std::clamp<long long>((*q + *p - 1) / *p, 1, 1 << 16));
}

std::optional<int> smaller(std::optional<int> a, std::optional<int> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// A cgroup path from /proc/self/cgroup, made safe to append to kCgroupRoot ("" for the root), or
// nullopt when it is not absolute or climbs with "..".
std::optional<std::string> cleanPath(std::string_view path) {
  path = trim(path);
  if (path.empty() || path.front() != '/' || path.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

std::optional<int> v2Limit(const std::string& path,
                           const std::function<std::string(const std::string&)>& read) {
  std::optional<int> limit;
  std::string dir = path;
  for (;;) {
    const std::string cpuMax = read(std::string(kCgroupRoot) + dir + "/cpu.max");
    const std::string_view text = trim(cpuMax);
    const size_t space = text.find(' ');
    if (space != std::string_view::npos) {
      limit = smaller(limit, cpusOf(text.substr(0, space), text.substr(space + 1)));
    }
    if (dir.empty()) return limit;
    dir.resize(dir.rfind('/'));
  }
}

std::optional<int> v1Limit(const std::string& path,
                           const std::function<std::string(const std::string&)>& read) {
  // Inside a container the cpu controller's own cgroup is mounted at the root; on a host, at its
  // path. Both are tried, the process's own path first.
  for (const std::string& dir :
       {std::string(kCgroupRoot) + "/cpu" + path, std::string(kCgroupRoot) + "/cpu"}) {
    const std::string quota = read(dir + "/cpu.cfs_quota_us");
    if (!trim(quota).empty()) return cpusOf(quota, read(dir + "/cpu.cfs_period_us"));
  }
  return std::nullopt;
}

bool hasController(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (list.substr(0, comma) == name) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

std::optional<int> cgroupCpuLimit(std::string_view procSelfCgroup,
                                  const std::function<std::string(const std::string&)>& read) {
  std::optional<int> limit;
  while (!procSelfCgroup.empty()) {
    const size_t eol = procSelfCgroup.find('\n');
    const std::string_view line = procSelfCgroup.substr(0, eol);
    procSelfCgroup.remove_prefix(eol == std::string_view::npos ? procSelfCgroup.size() : eol + 1);
    // "hierarchy-id:controller-list:path"; v2's line is "0::path".
    const size_t first = line.find(':');
    const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::optional<std::string> path = cleanPath(line.substr(second + 1));
    if (!path) continue;
    if (line.substr(0, first) == "0" && controllers.empty()) {
      limit = smaller(limit, v2Limit(*path, read));
    } else if (hasController(controllers, "cpu")) {
      limit = smaller(limit, v1Limit(*path, read));
    }
  }
  return limit;
}

int usableCpus() {
  int cpus = 1;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = std::max(1, CPU_COUNT(&set));
  const std::optional<int> limit = cgroupCpuLimit(readFile("/proc/self/cgroup"), readFile);
  return limit ? std::min(cpus, *limit) : cpus;
}

}  // namespace stackhouse
