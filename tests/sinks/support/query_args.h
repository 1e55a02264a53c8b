// The arguments of a request target's query string (`/path?a=1&b`), as sent: not percent-decoded,
// a later repeat of a name wins. For the stand-ins' strict checks of the documented parameters.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <string_view>

namespace stackhouse::sinks::testing {

inline std::map<std::string, std::string> queryOf(std::string_view target) {
  std::map<std::string, std::string> q;
  const size_t at = target.find('?');
  if (at == std::string_view::npos) return q;
  std::string_view rest = target.substr(at + 1);
  while (!rest.empty()) {
    const std::string_view pair = rest.substr(0, rest.find('&'));
    rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
    const size_t eq = pair.find('=');
    q[std::string(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
  }
  return q;
}

}  // namespace stackhouse::sinks::testing
