// UTF-8 validation helpers shared by the decoders and the JSON writer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace stackhouse {

// Length of the well-formed UTF-8 sequence at the start of `s` (1..4), or 0 when the first bytes
// are not a well-formed sequence (overlongs, surrogates and code points past U+10FFFF included).
size_t utf8SequenceLength(std::string_view s);

// True when the whole of `s` is well-formed UTF-8. Fast path for ASCII.
bool isValidUtf8(std::string_view s);

// Appends `s` to `out`, replacing each ill-formed byte with U+FFFD. Returns how many were replaced.
size_t appendUtf8Sanitized(std::string& out, std::string_view s);

}  // namespace stackhouse
