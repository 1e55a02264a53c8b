// ASCII case folding, for protocol text: header names, host names, SQL keywords and function
// names, e-mail addresses as account keys, and the search language's case-insensitive matching
// (as ClickHouse's hasTokenCaseInsensitive folds: ASCII letters only, other bytes as they are).
#pragma once

#include <string>
#include <string_view>

namespace stackhouse {

inline std::string asciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace stackhouse
