// Internal to the config library: how values appear in messages and in describeConfig.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace stackhouse::config {

// `text` as a YAML double-quoted scalar: ", \ and control bytes escaped (\", \\, \n, \t, \xNN),
// other UTF-8 kept. Past maxBytes the text is cut at a character boundary and "..." follows the
// closing quote, so one pasted blob cannot flood an error message.
std::string quoted(std::string_view text, size_t maxBytes = 64);

// "a, b and c" (lastSeparator " and ") or "a, b or c".
std::string joinNames(const std::vector<std::string_view>& names, std::string_view lastSeparator);

}  // namespace stackhouse::config
