#include "receivers/otlp/ingestion_key.h"

#include <cstdint>

namespace stackhouse::receivers {

namespace {

bool constantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<uint8_t>(diff | (static_cast<uint8_t>(a[i]) ^ static_cast<uint8_t>(b[i])));
  }
  return diff == 0;
}

}  // namespace

bool ingestionKeyAccepted(std::string_view key, std::string_view authorization) {
  if (key.empty()) return true;
  while (!authorization.empty() && authorization.front() == ' ') authorization.remove_prefix(1);
  while (!authorization.empty() && authorization.back() == ' ') authorization.remove_suffix(1);
  if (authorization.size() > 7) {
    std::string_view scheme = authorization.substr(0, 7);
    if ((scheme[0] == 'B' || scheme[0] == 'b') &&
        (scheme.substr(1) == "earer " || scheme.substr(1) == "EARER ")) {
      std::string_view rest = authorization.substr(7);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      if (constantTimeEqual(rest, key)) return true;
    }
  }
  return constantTimeEqual(authorization, key);
}

}  // namespace stackhouse::receivers
